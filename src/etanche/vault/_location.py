"""Where a vault lives: a directory (SQLite) or a PostgreSQL URL, and its key file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import Engine, create_engine, event

from etanche.errors import UsageError
from etanche.vault._reconnect import wait_for_primary, window_s

SQLITE_FILE = "vault.sqlite"
KEY_FILE = "keys.json"


@dataclass(frozen=True, slots=True)
class PoolOptions:
    """The PostgreSQL connection pool of one process (SQLAlchemy ``QueuePool``).

    One engine per process holds it: the service's request sessions all borrow
    from the same pool, so ``size + overflow`` bounds the server's connections
    per service process.
    """

    size: int = 10
    overflow: int = 20
    recycle_s: int = 1800  # below the usual idle timeouts of proxies and poolers
    timeout_s: int = 30


@dataclass(frozen=True, slots=True)
class VaultLocation:
    """A parsed ``--vault`` value plus the key file that goes with it."""

    url: str
    keyfile: Path | None  # the passphrase key file; None: a PostgreSQL vault under custody
    directory: Path | None  # set for SQLite vaults
    pool: PoolOptions = PoolOptions()

    @property
    def is_sqlite(self) -> bool:
        return self.directory is not None

    @property
    def sqlite_path(self) -> Path:
        if self.directory is None:
            raise UsageError("vault: not a SQLite vault")
        return self.directory / SQLITE_FILE

    @property
    def passphrase_file(self) -> Path:
        """The passphrase key file, which a PostgreSQL vault names apart."""
        if self.keyfile is None:
            raise UsageError(
                "keyfile: a passphrase PostgreSQL vault needs --keyfile "
                "(the key file is kept apart from the database)"
            )
        return self.keyfile

    def describe(self) -> str:
        """Printable without credentials."""
        if self.directory is not None:
            return str(self.directory)
        head, _, tail = self.url.partition("@")
        return f"postgresql://…@{tail}" if tail else head


def parse_location(
    vault: str, keyfile: str | Path | None = None, *, pool: PoolOptions | None = None
) -> VaultLocation:
    """A directory path means SQLite; ``postgresql://`` means PostgreSQL (psycopg 3)."""
    if not vault:
        raise UsageError("vault: no location given (use --vault or ETANCHE_VAULT)")
    if vault.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        # A key file only serves passphrase vaults (tests, benchmarks): the service's
        # custody needs none, and it is kept apart from the database when given.
        rest = _multi_host(vault.split("://", 1)[1])
        key_path = Path(keyfile) if keyfile is not None else None
        return VaultLocation(f"postgresql+psycopg://{rest}", key_path, None, pool or PoolOptions())
    if "://" in vault:
        raise UsageError("vault: expected a directory or a postgresql:// URL")
    directory = Path(vault).expanduser().resolve()
    key_path = Path(keyfile) if keyfile is not None else directory / KEY_FILE
    return VaultLocation(f"sqlite:///{directory / SQLITE_FILE}", key_path, directory)


def _multi_host(rest: str) -> str:
    """libpq's ``user@h1:p1,h2:p2/db?…`` as SQLAlchemy spells it: ``user@/db?host=h1:p1&host=…``.

    A high-availability formation is reached through every node's address;
    libpq tries them in turn and ``target_session_attrs=read-write`` keeps the primary.
    """
    head, _, tail = rest.partition("/")
    creds, at, hosts = head.rpartition("@")
    if "," not in hosts:
        return rest
    database, _, query = tail.partition("?")
    pairs = [("host", host) for host in hosts.split(",") if host]
    pairs += parse_qsl(query, keep_blank_values=True)
    return f"{creds}{at}/{database}?{urlencode(pairs, safe=':')}"


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    """WAL for concurrent readers; secure_delete so freed pages hold no old bytes."""
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA secure_delete=ON",
        "PRAGMA busy_timeout=5000",
        "PRAGMA cache_size=-131072",  # 128 MiB of page cache: random-key B-trees at 500 k rows
    ):
        cursor.execute(pragma)
    cursor.close()


def make_engine(location: VaultLocation) -> Engine:
    """An engine with the right per-backend settings."""
    if location.is_sqlite:
        engine = create_engine(location.url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # a dead primary: pooled connections are pinged and dropped, new ones wait for the next
    pool = location.pool
    engine = create_engine(
        location.url,
        pool_pre_ping=True,
        pool_size=pool.size,
        max_overflow=pool.overflow,
        pool_recycle=pool.recycle_s,
        pool_timeout=pool.timeout_s,
    )
    wait_for_primary(engine, window_s())
    return engine
