"""The tamper-evident audit log: RFC 6962 Merkle tree, signed tree heads, proofs.

Every access is an ``AuditEvent``; ``AuditLog`` appends events and signs heads
(Ed25519, key held by the vault), ``verify_log`` checks the whole log with the
public key only, ``verify_inclusion_proof`` checks one event offline, and
witnesses keep copies of the heads outside the database.
"""

from etanche.audit._alerts import Alert, AlertEngine
from etanche.audit._decoys import decoy_count, is_decoy, plant_decoys
from etanche.audit._describe import check_rules_file, describe_supervision
from etanche.audit._download import (
    MAX_PAGE,
    DownloadedRows,
    LogSnapshot,
    heads_from_wire,
    read_page,
    read_snapshot,
)
from etanche.audit._events import AuditEvent, DetailValue, Outcome
from etanche.audit._heads import SignedTreeHead, read_heads
from etanche.audit._log import AuditLog, WitnessFailure
from etanche.audit._proof import InclusionProof, verify_inclusion_proof
from etanche.audit._rules import DEFAULT_SOURCE
from etanche.audit._stream import events_of
from etanche.audit._verify import VerificationReport, verify_log, verify_rows
from etanche.audit._witness import FileWitness, WebhookWitness, Witness

__all__ = [
    "DEFAULT_SOURCE",
    "MAX_PAGE",
    "Alert",
    "AlertEngine",
    "AuditEvent",
    "AuditLog",
    "DetailValue",
    "DownloadedRows",
    "FileWitness",
    "InclusionProof",
    "LogSnapshot",
    "Outcome",
    "SignedTreeHead",
    "VerificationReport",
    "WebhookWitness",
    "Witness",
    "WitnessFailure",
    "check_rules_file",
    "decoy_count",
    "describe_supervision",
    "events_of",
    "heads_from_wire",
    "is_decoy",
    "plant_decoys",
    "read_heads",
    "read_page",
    "read_snapshot",
    "verify_inclusion_proof",
    "verify_log",
    "verify_rows",
]
