"""A consistent copy of the vault's database, and loading one into an empty target.

SQLite copies through its online backup API (readers and writers carry on); PostgreSQL
through ``pg_dump`` in custom format on a snapshot exported by the transaction that
also counts the rows, so the counts are those of the copy. Loading uses the backup
API again, or ``pg_restore`` into an empty database. The copy holds what the
database holds: ciphertexts, wrapped keys and the audit log, never a clear value.
"""

from __future__ import annotations

import glob
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Connection, MetaData, func, inspect, select

from etanche._files import private_dir, write_private
from etanche.errors import UsageError, VaultError, VaultExists
from etanche.vault._location import VaultLocation, make_engine
from etanche.vault._schema import patients, specimens

__all__ = [
    "copy_database",
    "database_empty",
    "drop_restored",
    "load_database",
    "pg_tool",
    "row_counts",
    "schema_revision",
]


def pg_tool(name: str) -> str:
    """``pg_dump``/``pg_restore`` from PATH, or Debian's newest PostgreSQL bin folder."""
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / name).exists():
            return str(Path(folder) / name)
    raise UsageError(f"{name}: not found (install the PostgreSQL client tools)")


def _libpq_url(location: VaultLocation) -> str:
    return "postgresql://" + location.url.split("://", 1)[1]


def _counts(conn: Connection) -> dict[str, int]:
    def count(query: object) -> int:
        return int(conn.execute(query).scalar_one())  # type: ignore[call-overload]

    every = select(func.count()).select_from(patients)
    return {
        "patients": count(every.where(patients.c.erased_at.is_(None))),
        "erased": count(every.where(patients.c.erased_at.is_not(None))),
        "specimens": count(select(func.count()).select_from(specimens)),
    }


def row_counts(location: VaultLocation) -> dict[str, int]:
    """Live patients, tombstones and specimens of a vault (a restore's check)."""
    engine = make_engine(location)
    try:
        with engine.connect() as conn:
            return _counts(conn)
    finally:
        engine.dispose()


def schema_revision(location: VaultLocation) -> str:
    """The Alembic revision the database is at (a backup's manifest names it)."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(location)
    try:
        with engine.connect() as conn:
            return str(MigrationContext.configure(conn).get_current_revision())
    finally:
        engine.dispose()


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, check=False)  # noqa: S603 (our argv)
    if result.returncode != 0:
        # pg tools' stderr names objects, never row values; keep its first line only
        first = result.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
        raise VaultError(f"{what}: failed ({first[0] if first else result.returncode})")


def copy_database(location: VaultLocation, dest: Path) -> dict[str, int]:
    """Write a consistent copy of the database to ``dest`` (0600); its row counts."""
    write_private(dest, b"")
    if location.is_sqlite:
        source = sqlite3.connect(location.sqlite_path)
        target = sqlite3.connect(dest)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        return row_counts(VaultLocation(f"sqlite:///{dest}", dest, dest.parent))
    engine = make_engine(location)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                snapshot = str(conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one())
                counts = _counts(conn)
                _run(
                    [
                        pg_tool("pg_dump"),
                        "--format=custom",
                        "--no-owner",
                        f"--snapshot={snapshot}",
                        f"--file={dest}",
                        _libpq_url(location),
                    ],
                    "pg_dump",
                )
        return counts
    finally:
        engine.dispose()


def load_database(location: VaultLocation, source: Path) -> None:
    """Load a copy made by ``copy_database`` into an empty target (a new folder or an
    empty PostgreSQL database); an existing vault there is refused."""
    if location.is_sqlite:
        if location.sqlite_path.exists():
            raise VaultExists(f"vault {location.describe()}: already exists")
        assert location.directory is not None
        private_dir(location.directory)
        write_private(location.sqlite_path, b"")
        copy = sqlite3.connect(source)
        target = sqlite3.connect(location.sqlite_path)
        try:
            copy.backup(target)
        finally:
            copy.close()
            target.close()
        return
    if not database_empty(location):
        raise VaultExists(f"vault {location.describe()}: the target database is not empty")
    _run(
        [
            pg_tool("pg_restore"),
            "--no-owner",
            "--exit-on-error",
            f"--dbname={_libpq_url(location)}",
            str(source),
        ],
        "pg_restore",
    )


def database_empty(location: VaultLocation) -> bool:
    """Whether a PostgreSQL target has no table (a new SQLite folder is always empty)."""
    if location.is_sqlite:
        return not location.sqlite_path.exists()
    engine = make_engine(location)
    try:
        with engine.connect() as conn:
            return not inspect(conn).get_table_names()
    finally:
        engine.dispose()


def drop_restored(location: VaultLocation) -> None:
    """Drop every table of a scratch PostgreSQL database a drill loaded (empty before)."""
    engine = make_engine(location)
    try:
        meta = MetaData()
        meta.reflect(engine)
        meta.drop_all(engine)
    finally:
        engine.dispose()
