"""Offline check of an access report (FHIR Bundle): pinned keys only, no database.

A patient (or anyone they trust) checks that the checkpoint is signed by the
pinned log key and cosigned by pinned witnesses, that every listed access is
included in that checkpoint's tree, and that the list itself (each entry's time,
staff, role, lab, action, purpose and leaf hash) is the one the log key signed.
A removed, added or edited entry, or an edited proof, fails naming the entry.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from etanche.audit import AuditEvent, Checkpoint, NoteKey, split_note
from etanche.crypto import leaf_hash, verify_inclusion
from etanche.errors import IntegrityError, SourceError

__all__ = [
    "BODY_URL",
    "CHECKPOINT_ID",
    "CLAIM_URL",
    "PROOF_URL",
    "STATEMENT_PREFIX",
    "AccessReportCheck",
    "access_statement",
    "verify_access_report",
]

BASE = "https://etanche.example/fhir/StructureDefinition"
CLAIM_URL = f"{BASE}/access-claim"
PROOF_URL = f"{BASE}/inclusion-proof"
BODY_URL = f"{BASE}/audit-event-body"
CHECKPOINT_ID = "checkpoint"
STATEMENT_PREFIX = b"etanche/access-report/v1\n"
"""Domain separation: what the log key signs for a report can never read as a checkpoint."""


def access_statement(patient_id: str, checkpoint: str, claims: Sequence[dict[str, Any]]) -> bytes:
    """The bytes the log key signs: the record, the checkpoint and every entry's claim."""
    doc = {"patient": patient_id, "checkpoint": checkpoint, "entries": list(claims)}
    body = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return STATEMENT_PREFIX + body.encode()


@dataclass(frozen=True, slots=True)
class AccessReportCheck:
    """What verified: how many entries, in which checkpoint, with how many witnesses."""

    entries: int
    tree_size: int
    witnesses: tuple[str, ...]


def _bad(text: str) -> SourceError:
    return SourceError(f"access report: {text}")


def _resources(doc: Any) -> list[dict[str, Any]]:
    if not isinstance(doc, dict) or doc.get("resourceType") != "Bundle":
        raise _bad("not a FHIR Bundle")
    entries = doc.get("entry")
    if not isinstance(entries, list):
        raise _bad("Bundle.entry: expected a list")
    out = [e.get("resource") for e in entries if isinstance(e, dict)]
    return [r for r in out if isinstance(r, dict)]


def _extension(resource: dict[str, Any], url: str, kind: str) -> Any:
    for ext in resource.get("extension", ()):
        if isinstance(ext, dict) and ext.get("url") == url:
            return ext.get(kind)
    return None


def _checkpoint(resources: list[dict[str, Any]]) -> str:
    for r in resources:
        if r.get("resourceType") == "Binary" and r.get("id") == CHECKPOINT_ID:
            try:
                return base64.b64decode(str(r.get("data", "")), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise _bad("checkpoint: not base64 UTF-8 text") from None
    raise _bad("no checkpoint (Binary/checkpoint)")


def _witnessed(
    checkpoint: Checkpoint, text: str, witnesses: Sequence[NoteKey], quorum: int
) -> tuple[str, ...]:
    _, signatures = split_note(text)
    good = []
    for key in witnesses:
        for signature in signatures:
            if signature.matches(key):
                checkpoint.cosigned_at(key, signature)
                good.append(key.name)
    if len(good) < quorum:
        raise IntegrityError(
            f"access report: checkpoint {checkpoint.size} carries {len(good)} valid cosignature(s) "
            f"of pinned witnesses, {quorum} required"
        )
    return tuple(good)


def _json_ext(event: dict[str, Any], url: str, where: str) -> dict[str, Any]:
    text = _extension(event, url, "valueString")
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise _bad(f"{where}: extension {url.rsplit('/', 1)[-1]} missing or not JSON")
    return value


def _check_entry(event: dict[str, Any], checkpoint: Checkpoint) -> dict[str, Any]:
    where = f"AuditEvent/{event.get('id', '?')}"
    claim = _json_ext(event, CLAIM_URL, where)
    proof = _json_ext(event, PROOF_URL, where)
    seq = proof.get("seq")
    if not isinstance(seq, int) or claim.get("seq") != seq:
        raise IntegrityError(f"access report: {where}: proof and entry name different events")
    where = f"entry {seq}"
    try:
        leaf = bytes.fromhex(str(proof.get("leaf_hash")))
        path = [bytes.fromhex(str(h)) for h in proof.get("path", ())]
    except ValueError:
        raise _bad(f"{where}: proof hashes are not hexadecimal") from None
    if claim.get("leaf_hash") != leaf.hex() or proof.get("tree_size") != checkpoint.size:
        raise IntegrityError(f"access report: {where}: proof does not match the entry")
    if not verify_inclusion(seq, checkpoint.size, leaf, path, checkpoint.root):
        raise IntegrityError(
            f"access report: {where}: not included in the signed checkpoint {checkpoint.size}"
        )
    _shown_as_claimed(event, claim, where)
    body = _extension(event, BODY_URL, "valueBase64Binary")
    if body is not None:
        _body_as_claimed(str(body), leaf, claim, where)
    return claim


def _shown_as_claimed(event: dict[str, Any], claim: dict[str, Any], where: str) -> None:
    agents = event.get("agent") or [{}]
    shown = {
        "at": _instant(event.get("recorded")),
        "staff": (agents[0].get("who") or {}).get("display"),
        "action": ((event.get("subtype") or [{}])[0]).get("code"),
        "purpose": ((event.get("purposeOfEvent") or [{}])[0]).get("text"),
    }
    claimed = {**{k: claim.get(k) for k in shown}, "at": _instant(claim.get("at"))}
    for name, value in shown.items():
        if value != claimed[name]:
            raise IntegrityError(f"access report: {where}: {name} differs from the signed list")


def _body_as_claimed(body: str, leaf: bytes, claim: dict[str, Any], where: str) -> None:
    try:
        raw = base64.b64decode(body, validate=True)
        event = AuditEvent.from_canonical(raw)
    except (binascii.Error, ValueError, KeyError):
        raise _bad(f"{where}: event body is not a logged event") from None
    if leaf_hash(raw) != leaf:
        raise IntegrityError(f"access report: {where}: event body does not match its leaf hash")
    logged = (event.actor, event.action, event.purpose, event.at)
    if logged != (claim.get("staff"), claim.get("action"), claim.get("purpose"),
                  _instant(claim.get("at"))):  # fmt: skip
        raise IntegrityError(f"access report: {where}: entry differs from the logged event")


def _instant(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def verify_access_report(
    text: str | bytes,
    log_key: NoteKey,
    witnesses: Sequence[NoteKey] = (),
    quorum: int | None = None,
) -> AccessReportCheck:
    """Check a report's Bundle; IntegrityError (or SourceError) names what failed."""
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise _bad("not valid JSON (decrypt it first: age -d)") from None
    resources = _resources(doc)
    note = _checkpoint(resources)
    body, signatures = split_note(note)
    checkpoint = Checkpoint.parse_body(body)
    checkpoint.verify_log_signature(log_key, signatures)
    good = _witnessed(checkpoint, note, witnesses, len(witnesses) if quorum is None else quorum)
    claims = [
        _check_entry(r, checkpoint) for r in resources if r.get("resourceType") == "AuditEvent"
    ]
    patient = (doc.get("identifier") or {}).get("value")
    signature = (doc.get("signature") or {}).get("data")
    if not isinstance(patient, str) or not isinstance(signature, str):
        raise _bad("Bundle.identifier or Bundle.signature missing")
    try:
        raw = base64.b64decode(signature, validate=True)
    except binascii.Error:
        raise _bad("Bundle.signature: not base64") from None
    try:
        log_key.verifier().verify(access_statement(patient, note, claims), raw)
    except IntegrityError:
        raise IntegrityError(
            "access report: the list of entries is not the one the log key signed "
            "(an entry was added, removed or edited)"
        ) from None
    return AccessReportCheck(len(claims), checkpoint.size, good)
