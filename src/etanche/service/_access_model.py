"""What an access report holds: the record, its recipients, retention and signed accesses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from etanche.audit import InclusionProof, SignedTreeHead
from etanche.domain import Lab, Patient, Retention, Specimen

__all__ = ["AccessEntry", "AccessReport", "ExportCarried"]


@dataclass(frozen=True, slots=True)
class ExportCarried:
    """An export or migration package of the ledger that held this record."""

    at: datetime
    kind: str  # « export » or « paquet de migration »
    recipient: str
    purpose: str
    fmt: str


@dataclass(frozen=True, slots=True)
class AccessEntry:
    """One event of the log naming the record, as shown to the patient, with its proof."""

    seq: int
    at: datetime
    staff: str  # a per-report pseudonym, or the account name (ETANCHE_ACCESS_REPORT_STAFF)
    role: str
    lab: str | None
    action: str
    outcome: str
    purpose: str | None
    proof: InclusionProof

    def claim(self) -> dict[str, Any]:
        """What the report asserts about this entry (signed with the checkpoint)."""
        return {
            "seq": self.seq,
            "leaf_hash": self.proof.leaf_hash.hex(),
            "at": self.at.astimezone(UTC).isoformat(),
            "staff": self.staff,
            "role": self.role,
            "lab": self.lab,
            "action": self.action,
            "outcome": self.outcome,
            "purpose": self.purpose,
        }


@dataclass(frozen=True)
class AccessReport:
    """Everything held about one patient, and who opened the record, as of ``head``."""

    patient: Patient
    specimens: tuple[Specimen, ...]
    labs: dict[str, Lab]
    retention: tuple[Retention, ...]
    carried: tuple[ExportCarried, ...]
    entries: tuple[AccessEntry, ...]
    head: SignedTreeHead
    checkpoint: str  # the signed note: the log's signature and the witnesses' cosignatures
    log_key: str  # the log's verifier key (vkey), as the patient should pin it
    staff_named: bool
    produced_at: datetime
    signature: bytes = b""  # the log key's signature of ``statement`` (set by the service)
