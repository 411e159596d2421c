"""How answers of the service look on a terminal."""

from __future__ import annotations

from typing import Any

from rich.table import Table


def summary_table(rows: list[dict[str, Any]]) -> Table:
    table = Table("birth name", "first names", "birth date", "sex", "NIR", "lab")
    table.add_column("id", no_wrap=True)
    for row in rows:
        table.add_row(
            row["birth_name"],
            " ".join(row["first_names"]),
            row["birth_date"],
            row["sex"],
            row["nir"] or "",
            row["lab"],
            row["id"],
        )
    return table
