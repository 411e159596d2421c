"""A witness: a separate process, with its own key and folder, that cosigns the audit log.

Run by someone other than the operator (the DPO, another lab, the network's
head office), it never sees the vault. It pins each log's verifier key, keeps
the latest checkpoint it cosigned per log, and cosigns a new checkpoint only
after an RFC 6962 consistency proof from that one verifies (c2sp.org
tlog-witness); forks and rewrites are refused and recorded with a reason.
"""

from __future__ import annotations

from pathlib import Path

from etanche.audit import NoteKey
from etanche.witness._check import Answer, CheckpointWitness
from etanche.witness._folder import Cosigned, WitnessFolder
from etanche.witness._http import make_server, serve_in_thread

__all__ = [
    "Answer",
    "CheckpointWitness",
    "Cosigned",
    "WitnessFolder",
    "init_witness",
    "make_server",
    "open_witness",
    "serve_in_thread",
]


def init_witness(folder: Path, name: str, log_keys: list[str]) -> str:
    """Create a witness folder; returns its verifier key (to pin in witness lists)."""
    keys = [NoteKey.parse(text, "--log-key") for text in log_keys]
    return WitnessFolder.create(folder, name, keys).key.text()


def open_witness(folder: Path) -> CheckpointWitness:
    return CheckpointWitness(WitnessFolder(folder))
