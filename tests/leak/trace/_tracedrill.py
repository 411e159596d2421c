"""Helpers of the trace drills: the ground (network, exports, identifier) and tables."""

from __future__ import annotations

import random
from dataclasses import dataclass

from etanche.leak.trace import (
    ExportModel,
    MemoryIdentifier,
    canonical_row,
    keyed_order,
    new_export_mark,
    render_row,
)
from etanche.synth import SynthConfig, generate

COLUMNS = (
    "birth_name",
    "first_names",
    "birth_date",
    "sex",
    "nir",
    "address_line",
    "postcode",
    "city",
    "phone",
    "email",
    "blood_group",
)


@dataclass
class Ground:
    rows: dict[str, dict[str, str]]  # patient id -> canonical row
    exports: list[ExportModel]
    identifier: MemoryIdentifier

    def rendered(self, export: ExportModel) -> list[tuple[str, dict[str, str]]]:
        """The export's rows as it wrote them, in its order."""
        order = keyed_order(sorted(export.rows), export.mark)
        return [(pid, render_row(self.rows[pid], mark=export.mark, row_key=pid)) for pid in order]


def table(rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> list[list[str]]:
    return [[r.get(c, "") for c in columns] for r in rows]


def make_ground(
    patients: int = 1500, exports: int = 100, scope: int = 600, seed: int = 17
) -> Ground:
    """``exports`` exports of ``scope`` random patients each, one in ten without NFD."""
    network = generate(SynthConfig(patients=patients, labs=3, seed=seed))
    rows = {p.id: canonical_row(p) for p in network.patients()}
    ids = sorted(rows)
    rng = random.Random(seed)
    models = []
    for i in range(exports):
        marks = None if i % 10 else {"phone", "case", "street", "nir", "order"}
        mark = new_export_mark(marks)
        models.append(
            ExportModel(mark.export_id, f"recipient {i}", mark, frozenset(rng.sample(ids, scope)))
        )
    return Ground(rows, models, MemoryIdentifier(rows))
