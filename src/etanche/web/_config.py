"""What the web server needs to start: the vault, its custody, the rules."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from etanche.service import Custody, VaultLocation


@dataclass(frozen=True)
class WebConfig:
    location: VaultLocation
    custody: Custody
    rules: Path | None = None
    retention: Path | None = None  # retention rules file (ETANCHE_RETENTION)
    secure_cookies: bool = False  # True when served over TLS
    # "sync": each event committed before the response (tests, small sites);
    # "buffered": events committed in batches every few ms (`etanche serve`).
    trail_mode: str = "sync"
    login_attempts_per_minute: int = 10
    # Seconds between the service's own `vault verify` runs; 0: none (tests).
    verify_interval_s: float = 0.0
    purge_interval_s: float = 0.0
    witnesses: Path | None = None  # witness list: "<vkey> <url>" lines (ETANCHE_WITNESSES)
    witness_quorum: int = 1
    shred_ledger: Path | None = None  # ETANCHE_SHRED_LEDGER (default: beside a SQLite vault)
