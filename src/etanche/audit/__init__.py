"""The tamper-evident audit log: RFC 6962 Merkle tree, signed tree heads, proofs.

Every access is an ``AuditEvent``; ``AuditLog`` appends events and signs heads
(Ed25519, key held by the vault), ``verify_log`` checks the whole log with the
public key only, ``verify_inclusion_proof`` checks one event offline, and
witnesses keep copies of the heads outside the database.
"""

from etanche.audit._alerts import Alert, AlertEngine
from etanche.audit._decoys import decoy_count, is_decoy, plant_decoys
from etanche.audit._events import AuditEvent, DetailValue, Outcome
from etanche.audit._heads import SignedTreeHead, read_heads
from etanche.audit._log import AuditLog, WitnessFailure
from etanche.audit._proof import InclusionProof, verify_inclusion_proof
from etanche.audit._verify import VerificationReport, verify_log
from etanche.audit._witness import FileWitness, WebhookWitness, Witness

__all__ = [
    "Alert",
    "AlertEngine",
    "AuditEvent",
    "AuditLog",
    "DetailValue",
    "FileWitness",
    "InclusionProof",
    "Outcome",
    "SignedTreeHead",
    "VerificationReport",
    "WebhookWitness",
    "Witness",
    "WitnessFailure",
    "decoy_count",
    "is_decoy",
    "plant_decoys",
    "read_heads",
    "verify_inclusion_proof",
    "verify_log",
]
