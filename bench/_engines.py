"""The benchmarks' engines: SQLite in a temporary folder, or PostgreSQL.

Every vault benchmark takes ``--engine sqlite|postgresql|both`` and measures the
same work on each. PostgreSQL is the URL given with ``--url`` (an empty database),
or else a throw-away server this process starts and removes, the same way the
test suite does (``tests/_postgres.py``, the one copy of that code: this module
only puts ``tests/`` on the import path). With ``both``, the JSON output is
``{"sqlite": {...}, "postgresql": {...}}``, each measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from _common import update_doc
from etanche.vault import VaultLocation, parse_location

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _postgres import running_server  # tests/_postgres.py

ENGINES = ("sqlite", "postgresql")
# (result for the JSON, docs/benchmarks.md section name, its markdown)
Measured = tuple[dict[str, Any], str, str]


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engine",
        choices=(*ENGINES, "both"),
        default="sqlite",
        help="database engine (both: one after the other, reported side by side)",
    )
    parser.add_argument(
        "--url", help="PostgreSQL URL of an empty database (default: a throw-away server)"
    )


@contextmanager
def vault_location(engine: str, url: str | None, scratch: Path) -> Iterator[VaultLocation]:
    """Where a fresh benchmark vault goes; its key file stays in ``scratch``."""
    if engine == "sqlite":
        yield parse_location(str(scratch / "vault"))
    elif url:
        yield parse_location(url, scratch / "keys.json")
    else:
        with running_server() as server:
            yield parse_location(server.create_database("bench"), scratch / "keys.json")


def settle(engine: Engine) -> None:
    """After a bulk load, PostgreSQL plans on fresh statistics (autovacuum would run
    ANALYZE within a minute or so); SQLite needs nothing. Both sides of a figure
    live in the same database, so both get it."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def section(name: str, engine: str) -> str:
    """The docs section of a figure: the SQLite ones keep their historical names."""
    return name if engine == "sqlite" else f"{name}-{engine}"


def run_engines(
    args: argparse.Namespace,
    measure: Callable[[VaultLocation, str], Measured],
    *,
    write_doc: bool = True,
) -> dict[str, Any]:
    """Measure on each chosen engine, print the result(s), update the docs."""
    chosen = ENGINES if args.engine == "both" else (args.engine,)
    results: dict[str, dict[str, Any]] = {}
    for engine in chosen:
        with (
            tempfile.TemporaryDirectory(prefix="etanche-bench-") as tmp,
            vault_location(engine, args.url, Path(tmp)) as where,
        ):
            result, name, markdown = measure(where, engine)
        results[engine] = {"engine": engine, **result}
        if write_doc:
            update_doc(name, markdown)
    output: dict[str, Any] = results if len(results) > 1 else results[chosen[0]]
    if args.json:
        print(json.dumps(output))
    else:
        for engine, result in results.items():
            print(f"[{engine}]")
            for key, value in result.items():
                print(f"{key:>22}: {value}")
    return output
