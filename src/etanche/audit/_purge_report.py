"""The signed purge report: what a retention purge shredded, tied to its audit event.

The report body (records, rules, counts, the retention file's hash; ids only,
no personal value) is hashed into the ``retention.purge`` event's details; the
report then carries that event (seq, canonical body, RFC 6962 leaf hash) and is
signed by the audit log's key under its own prefix. A verifier holding the
pinned log key checks the signature, that the event names this body's hash, and
that the counts add up; ``audit prove SEQ`` or a downloaded log then shows the
event is in the witnessed log, so a report edited or thrown away is told apart.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import Counter
from typing import Any

from etanche.crypto import Signer, Verifier, content_hash, leaf_hash
from etanche.errors import CryptoError, IntegrityError

__all__ = [
    "PURGE_REPORT_FORMAT",
    "check_purge_report",
    "purge_report_digest",
    "sign_purge_report",
]

PURGE_REPORT_FORMAT = "etanche-purge-report/1"
_PREFIX = PURGE_REPORT_FORMAT.encode() + b"\n"
_PURGE_ACTION = "retention.purge"


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def purge_report_digest(body: dict[str, Any]) -> str:
    """SHA-256 of the body's canonical JSON: what the audit event records."""
    return content_hash(_canonical(body)).hexdigest()


def sign_purge_report(
    body: dict[str, Any], seq: int, event_body: bytes, signer: Signer
) -> dict[str, Any]:
    """The signed report: body, its audit event, the log key's signature over both."""
    event = {
        "seq": seq,
        "body": event_body.decode("utf-8"),
        "leaf_hash": leaf_hash(event_body).hex(),
    }
    signed = {"format": PURGE_REPORT_FORMAT, "report": body, "event": event}
    return {
        **signed,
        "signature": {
            "key_id": signer.key_id,
            "value": base64.b64encode(signer.sign(_PREFIX + _canonical(signed))).decode(),
        },
    }


def check_purge_report(doc: Any, verifier: Verifier) -> dict[str, Any]:
    """Verify a signed report with the pinned key; IntegrityError naming what fails.

    Returns what was checked: the event's seq and leaf hash (to find it in the
    witnessed log), whether it was a dry run, the counts.
    """
    try:
        signed = {"format": doc["format"], "report": doc["report"], "event": doc["event"]}
        signature = base64.b64decode(doc["signature"]["value"], validate=True)
        key_id = str(doc["signature"]["key_id"])
        body = signed["report"]
        event_text = str(signed["event"]["body"])
        seq = int(signed["event"]["seq"])
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise IntegrityError("purge report: malformed (format, report, event, signature)") from None
    if signed["format"] != PURGE_REPORT_FORMAT:
        raise IntegrityError(f"purge report: unknown format {str(signed['format'])[:40]!r}")
    if key_id != verifier.key_id:
        raise IntegrityError(
            f"purge report: signed by key {key_id[:16]}, not the pinned key {verifier.key_id}"
        )
    try:
        verifier.verify(_PREFIX + _canonical(signed), signature)
    except CryptoError:
        raise IntegrityError("purge report: signature does not verify") from None
    event_body = event_text.encode("utf-8")
    if leaf_hash(event_body).hex() != signed["event"].get("leaf_hash"):
        raise IntegrityError("purge report: the event's leaf hash does not match its body")
    event = json.loads(event_body)
    details = event.get("details", {})
    if event.get("action") != _PURGE_ACTION or details.get("report") != purge_report_digest(body):
        raise IntegrityError("purge report: its audit event does not name this report")
    _check_counts(body)
    return {
        "seq": seq,
        "leaf_hash": signed["event"]["leaf_hash"],
        "dry_run": bool(body.get("dry_run")),
        "at": body.get("at"),
        "counts": body.get("counts"),
        "records": len(body.get("records", ())),
        "retention_sha256": body.get("retention", {}).get("sha256"),
    }


def _check_counts(body: dict[str, Any]) -> None:
    tally: Counter[tuple[str, str]] = Counter(
        (str(r["category"]), str(r["lab"])) for r in body.get("records", ())
    )
    stated = {
        (category, lab): int(n)
        for category, labs in body.get("counts", {}).items()
        for lab, n in labs.items()
    }
    if dict(tally) != {k: v for k, v in stated.items() if v}:
        raise IntegrityError("purge report: the counts do not match the records listed")
