"""Offline verification: what anyone holding the log's public key can check alone.

The public surface of an outside verifier (a DPO's laptop, an auditor, a
witness). ``verify_download`` checks a log downloaded from the service with the
PINNED public key, so a lying service is caught like an edited database;
with ``Pins`` (the log's verifier key, the witnesses' keys, k) it also checks
k cosignatures, and ``ask_witness_size`` asks a pinned witness what it last
cosigned; ``verify_inclusion_proof`` checks one event's proof; ``read_heads`` reads heads
saved by hand or by a witness; ``verify_purge_report`` checks a signed purge
report; ``verify_access_report`` checks a patient's access report;
``check_rules_file`` validates an alert rules file before it is handed to the
service. Nothing here opens a vault, holds a
secret; only ``ask_witness_size`` talks to the network (to a witness).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from etanche.audit import (
    DownloadedRows,
    InclusionProof,
    NoteKey,
    Pins,
    SignedTreeHead,
    VerificationReport,
    WitnessEndpoint,
    WitnessRefused,
    ask_witness_size,
    check_purge_report,
    check_rules_file,
    heads_from_wire,
    read_heads,
    read_keys,
    verify_inclusion_proof,
    verify_rows,
)
from etanche.crypto import Verifier
from etanche.verify._access_report import (
    BODY_URL,
    CHECKPOINT_ID,
    CLAIM_URL,
    PROOF_URL,
    AccessReportCheck,
    access_statement,
    verify_access_report,
)

__all__ = [
    "BODY_URL",
    "CHECKPOINT_ID",
    "CLAIM_URL",
    "PROOF_URL",
    "AccessReportCheck",
    "InclusionProof",
    "NoteKey",
    "Pins",
    "SignedTreeHead",
    "VerificationReport",
    "WitnessEndpoint",
    "WitnessRefused",
    "access_statement",
    "ask_witness_size",
    "check_rules_file",
    "heads_from_wire",
    "pinned_key_id",
    "read_heads",
    "read_keys",
    "verify_access_report",
    "verify_download",
    "verify_inclusion_proof",
    "verify_purge_report",
    "verify_rows",
]


def pinned_key_id(public_key_pem: bytes | str) -> str:
    """The id of a pinned public key; CryptoError if it is not an Ed25519 PEM key."""
    return Verifier.from_pem(public_key_pem).key_id


def verify_download(
    snapshot: Mapping[str, Any],
    pages: Iterable[Mapping[str, Any]],
    public_key_pem: bytes | str | Pins,
    *,
    against: Sequence[SignedTreeHead] = (),
    head_every: int = 1000,
    head_interval_s: float = 60.0,
) -> VerificationReport:
    """Verify a downloaded log (its snapshot of heads, then its pages) with the pinned key.

    ``pages`` may be a generator fetching each page when it is needed.
    """
    heads = heads_from_wire(snapshot)
    rows = DownloadedRows(pages)
    return verify_rows(
        heads,
        rows.events(),
        rows.objects(),
        public_key_pem,
        against=against,
        head_every=head_every,
        head_interval_s=head_interval_s,
    )


def verify_purge_report(report: Any, public_key_pem: bytes | str) -> dict[str, Any]:
    """Check a signed purge report with the PINNED log key; IntegrityError if it fails.

    Returns the audit event's seq and leaf hash: ``audit prove SEQ`` (or a
    downloaded log) shows that event is in the witnessed log.
    """
    return check_purge_report(report, Verifier.from_pem(public_key_pem))
