"""The tamper-evident audit log: RFC 6962 Merkle tree, signed tree heads, proofs.

Every access is an ``AuditEvent``; ``AuditLog`` appends events and signs heads
(Ed25519, key held by custody like the KEK), also as C2SP checkpoints that a
``Cosigner`` has independent witnesses cosign after they check consistency;
``verify_log`` checks the whole log with the pinned log key and witnesses only,
``verify_inclusion_proof`` checks one event offline.
"""

from etanche.audit._alerts import Alert, AlertEngine
from etanche.audit._cosigning import (
    Cosigner,
    CosignFailure,
    WitnessEndpoint,
    WitnessRefused,
    add_checkpoint_body,
    ask_witness_size,
)
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
from etanche.audit._note import (
    COSIGNATURE_V1,
    ED25519,
    Checkpoint,
    NoteKey,
    NoteSignature,
    cosigned_message,
    log_origin,
    parse_signatures,
    read_keys,
    split_note,
)
from etanche.audit._object_proofs import object_proofs
from etanche.audit._proof import InclusionProof, verify_inclusion_proof
from etanche.audit._purge_report import (
    PURGE_REPORT_FORMAT,
    check_purge_report,
    purge_report_digest,
    sign_purge_report,
)
from etanche.audit._rules import DEFAULT_SOURCE, RuleSet
from etanche.audit._stream import events_of
from etanche.audit._verify import Pins, VerificationReport, verify_log, verify_rows
from etanche.audit._witness import FileWitness, WebhookWitness, Witness

__all__ = [
    "COSIGNATURE_V1",
    "DEFAULT_SOURCE",
    "ED25519",
    "MAX_PAGE",
    "PURGE_REPORT_FORMAT",
    "Alert",
    "AlertEngine",
    "AuditEvent",
    "AuditLog",
    "Checkpoint",
    "CosignFailure",
    "Cosigner",
    "DetailValue",
    "DownloadedRows",
    "FileWitness",
    "InclusionProof",
    "LogSnapshot",
    "NoteKey",
    "NoteSignature",
    "Outcome",
    "Pins",
    "RuleSet",
    "SignedTreeHead",
    "VerificationReport",
    "WebhookWitness",
    "Witness",
    "WitnessEndpoint",
    "WitnessFailure",
    "WitnessRefused",
    "add_checkpoint_body",
    "ask_witness_size",
    "check_purge_report",
    "check_rules_file",
    "cosigned_message",
    "decoy_count",
    "describe_supervision",
    "events_of",
    "heads_from_wire",
    "is_decoy",
    "log_origin",
    "object_proofs",
    "parse_signatures",
    "plant_decoys",
    "purge_report_digest",
    "read_heads",
    "read_keys",
    "read_page",
    "read_snapshot",
    "sign_purge_report",
    "split_note",
    "verify_inclusion_proof",
    "verify_log",
    "verify_rows",
]
