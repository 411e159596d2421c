"""Every setting Étanche reads from the environment, in one place.

The CLI (a client of the service) and the service process read their settings
here and nowhere else, so ``docs/settings.md`` can list them all and a test can
check that none is undocumented. No secret lives here: the service's keys come
from custody (token or custodian shares), never from an environment variable.
This module imports nothing heavy: ``etanche --help`` loads it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from etanche.errors import UsageError

__all__ = [
    "DEFAULT_SERVICE",
    "DEFAULT_VERIFY_INTERVAL",
    "ENVIRONMENT",
    "STAFF_NAMINGS",
    "Settings",
    "current",
    "secret_from_environment",
]

DEFAULT_SERVICE = "http://127.0.0.1:8000"
DEFAULT_VERIFY_INTERVAL = 3600.0  # seconds: a rollback raises its alert within the hour
DEFAULT_LINKAGE_THRESHOLD = 0.95  # match probability of a pair worth an officer's review
DEFAULT_LINKAGE_MEMORY_MB = 3000
DEFAULT_DB_RECONNECT = 30.0  # seconds: pg_auto_failover's default timers fail over within it
DEFAULT_DB_POOL = (10, 20, 1800)  # pool size, overflow, recycle seconds (PostgreSQL)

# name -> what it sets (docs/settings.md lists the same names; tests/test_docs.py checks)
ENVIRONMENT: dict[str, str] = {
    "ETANCHE_SERVICE": "address of the running service: http://host:port or unix:/path.sock",
    "ETANCHE_TOKEN": "a personal API token (etk_…) instead of the saved login session",
    "ETANCHE_SESSION_FILE": "where `etanche login` keeps the session (default ~/.config/etanche)",
    "ETANCHE_USER": "user name for a non-interactive `etanche login`",
    "ETANCHE_PASSWORD": "password for a non-interactive `etanche login` or `etanche init`",
    "ETANCHE_TOTP": "TOTP code for a non-interactive `etanche login`",
    "ETANCHE_NEW_PASSWORD": "password of an account created by `etanche users add`",
    "ETANCHE_ADMIN_USER": "user name of the first account (`etanche init`)",
    "ETANCHE_ADMIN_NAME": "full name of the first account (`etanche init`)",
    "ETANCHE_VAULT": "vault location for the service and bootstrap commands (directory or URL)",
    "ETANCHE_CUSTODY": "custody folder of the service (default: the vault folder + '-custody')",
    "ETANCHE_RULES": "alert rules file (YAML) of the service",
    "ETANCHE_RETENTION": "retention rules file (YAML) of the service, over the packaged defaults",
    "ETANCHE_VERIFY_INTERVAL": "seconds between the service's own `vault verify` runs "
    "(default 3600; 0: never)",
    "ETANCHE_PURGE_INTERVAL": "seconds between the service's own retention purges "
    "(default 0: never; 86400: daily)",
    "ETANCHE_SHRED_LEDGER": "the shred ledger: every erased patient id, kept apart from the "
    "backups and re-applied by a restore (default: the vault folder + '-shred-ledger.jsonl')",
    "ETANCHE_WITNESSES": "witness list of the service: '<vkey> <url>' lines; each head is cosigned",
    "ETANCHE_WITNESS_QUORUM": "how many listed witnesses must cosign for the log to be witnessed",
    "ETANCHE_TRUSTED_PROXIES": "comma-separated proxy addresses whose X-Forwarded-For is believed",
    "ETANCHE_PDF_FONT_DIR": "folder of the DejaVu fonts used in PDF letters and reports",
    "ETANCHE_ACCESS_REPORT_STAFF": "staff in an access report: 'pseudonym' (default) or 'named'",
    "ETANCHE_LINKAGE_THRESHOLD": "match probability from which a linked pair enters the "
    "identity review queue (default 0.95)",
    "ETANCHE_LINKAGE_MEMORY_MB": "memory limit of the in-memory DuckDB of a linkage run "
    "(default 3000; it never spills to disk)",
    "ETANCHE_DB_RECONNECT_S": "seconds an operation waits for a PostgreSQL primary after a lost "
    "connection or a failover before it fails (default 30)",
    "ETANCHE_DB_POOL_SIZE": "PostgreSQL connections the service keeps open (default 10)",
    "ETANCHE_DB_MAX_OVERFLOW": "extra PostgreSQL connections the service may open under load "
    "(default 20)",
    "ETANCHE_DB_POOL_RECYCLE": "seconds after which a pooled PostgreSQL connection is replaced "
    "(default 1800)",
    "ETANCHE_DEBUG": "print tracebacks of internal errors (developers only)",
}


@dataclass(frozen=True)
class Settings:
    """A snapshot of the environment, read once per command or process."""

    service: str = DEFAULT_SERVICE
    token: str | None = None
    session_file: Path | None = None
    user: str | None = None
    password: str | None = None
    totp: str | None = None
    new_password: str | None = None
    admin_user: str | None = None
    admin_name: str | None = None
    vault: str | None = None
    custody: str | None = None
    rules: str | None = None
    retention: str | None = None
    verify_interval: float = DEFAULT_VERIFY_INTERVAL
    purge_interval: float = 0.0
    shred_ledger: str | None = None
    witnesses: str | None = None
    witness_quorum: int = 1
    trusted_proxies: tuple[str, ...] = ()
    pdf_font_dir: str | None = None
    access_report_staff: str = "pseudonym"
    linkage_threshold: float = DEFAULT_LINKAGE_THRESHOLD
    linkage_memory_mb: int = DEFAULT_LINKAGE_MEMORY_MB
    db_reconnect_s: float = DEFAULT_DB_RECONNECT
    db_pool_size: int = DEFAULT_DB_POOL[0]
    db_max_overflow: int = DEFAULT_DB_POOL[1]
    db_pool_recycle: int = DEFAULT_DB_POOL[2]
    debug: bool = False

    @property
    def session_path(self) -> Path:
        """Where the login session is saved (0600, folder 0700)."""
        if self.session_file is not None:
            return self.session_file
        return Path.home() / ".config" / "etanche" / "session"


def secret_from_environment(name: str) -> str | None:
    """A sink's credential, by the variable name its rules file gives (SMTP, webhook)."""
    return os.environ.get(name) or None


def _get(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _addresses(value: str | None) -> tuple[str, ...]:
    """Comma-separated addresses; none by default (no client may claim another address)."""
    return tuple(a.strip() for a in (value or "").split(",") if a.strip())


def _seconds(name: str, default: float) -> float:
    """A non-negative number of seconds, or the default when unset."""
    value = _get(name)
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise UsageError(f"{name}: expected a number of seconds, 0 or more")
    return seconds


def _probability(name: str, default: float) -> float:
    """A probability strictly between 0 and 1, or the default when unset."""
    value = _get(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 < number < 1:
        raise UsageError(f"{name}: expected a probability between 0 and 1 (exclusive)")
    return number


def _count(value: str | None, name: str, default: int) -> int:
    if value is None:
        return default
    if not value.isdigit():
        raise UsageError(f"{name}: expected a whole number")
    return int(value)


STAFF_NAMINGS = ("pseudonym", "named")


def _staff_naming(value: str | None) -> str:
    """How an access report shows staff: a stable per-report pseudonym, or their name."""
    if value is None:
        return STAFF_NAMINGS[0]
    if value.lower() not in STAFF_NAMINGS:
        raise UsageError("ETANCHE_ACCESS_REPORT_STAFF: expected pseudonym or named")
    return value.lower()


def current() -> Settings:
    """The settings of this process, from its environment."""
    session = _get("ETANCHE_SESSION_FILE")
    return Settings(
        service=_get("ETANCHE_SERVICE") or DEFAULT_SERVICE,
        token=_get("ETANCHE_TOKEN"),
        session_file=Path(session).expanduser() if session else None,
        user=_get("ETANCHE_USER"),
        password=os.environ.get("ETANCHE_PASSWORD") or None,
        totp=_get("ETANCHE_TOTP"),
        new_password=os.environ.get("ETANCHE_NEW_PASSWORD") or None,
        admin_user=_get("ETANCHE_ADMIN_USER"),
        admin_name=_get("ETANCHE_ADMIN_NAME"),
        vault=_get("ETANCHE_VAULT"),
        custody=_get("ETANCHE_CUSTODY"),
        rules=_get("ETANCHE_RULES"),
        retention=_get("ETANCHE_RETENTION"),
        verify_interval=_seconds("ETANCHE_VERIFY_INTERVAL", DEFAULT_VERIFY_INTERVAL),
        purge_interval=_seconds("ETANCHE_PURGE_INTERVAL", 0.0),
        shred_ledger=_get("ETANCHE_SHRED_LEDGER"),
        witnesses=_get("ETANCHE_WITNESSES"),
        witness_quorum=_count(_get("ETANCHE_WITNESS_QUORUM"), "ETANCHE_WITNESS_QUORUM", 1),
        trusted_proxies=_addresses(_get("ETANCHE_TRUSTED_PROXIES")),
        pdf_font_dir=_get("ETANCHE_PDF_FONT_DIR"),
        access_report_staff=_staff_naming(_get("ETANCHE_ACCESS_REPORT_STAFF")),
        linkage_threshold=_probability("ETANCHE_LINKAGE_THRESHOLD", DEFAULT_LINKAGE_THRESHOLD),
        linkage_memory_mb=_count(
            _get("ETANCHE_LINKAGE_MEMORY_MB"),
            "ETANCHE_LINKAGE_MEMORY_MB",
            DEFAULT_LINKAGE_MEMORY_MB,
        ),
        db_reconnect_s=_seconds("ETANCHE_DB_RECONNECT_S", DEFAULT_DB_RECONNECT),
        db_pool_size=_count(
            _get("ETANCHE_DB_POOL_SIZE"), "ETANCHE_DB_POOL_SIZE", DEFAULT_DB_POOL[0]
        ),
        db_max_overflow=_count(
            _get("ETANCHE_DB_MAX_OVERFLOW"), "ETANCHE_DB_MAX_OVERFLOW", DEFAULT_DB_POOL[1]
        ),
        db_pool_recycle=_count(
            _get("ETANCHE_DB_POOL_RECYCLE"), "ETANCHE_DB_POOL_RECYCLE", DEFAULT_DB_POOL[2]
        ),
        debug=bool(_get("ETANCHE_DEBUG")),
    )
