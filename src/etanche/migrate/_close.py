"""``migrate close``: destroy a plan's artefacts and certify it, signed.

At the plan's expiry (found by any command or the server) or on demand, every
package file is overwritten and removed, and the sender copy key that the vault
kept for each package is shredded: after this nothing on our side can decrypt
any copy. The deletion certificate lists each artefact with its hash, size and
fate and the keys destroyed, and is signed with the network's Ed25519 key so
the controller can show it to the regulator.
"""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from etanche.crypto import SIGNING_PURPOSE, Signer, Verifier, content_hash
from etanche.errors import EtancheError, IntegrityError, RecordNotFound, UsageError
from etanche.migrate._package import PACKAGE_KIND, STATE
from etanche.migrate._registry import PLAN_KIND, Plans, PlanState
from etanche.vault import Documents, Vault

__all__ = [
    "CERTIFICATE_FORMAT",
    "CERTIFICATE_KIND",
    "close_plan",
    "shred_expired",
    "verify_certificate",
]

CERTIFICATE_FORMAT = "etanche-deletion-certificate/1"
CERTIFICATE_KIND = "migration.certificate"


def _certificate_message(body: bytes) -> bytes:
    return b"etanche-deletion-certificate/1\n" + body


def _destroy(path: Path) -> dict[str, Any]:
    """Overwrite then unlink one file; its hash and size go to the certificate."""
    entry: dict[str, Any] = {"file": path.name, "deleted": False}
    if not path.exists():
        entry["note"] = "already absent"
        return entry
    data = path.read_bytes()
    entry["sha256"] = content_hash(data).hexdigest()
    entry["bytes"] = len(data)
    with path.open("r+b") as handle:
        handle.write(b"\0" * len(data))
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()
    entry["deleted"] = not path.exists()
    return entry


def _package_files(directory: Path, recorded: list[str]) -> list[Path]:
    """The recorded files, plus parts of an interrupted run and temporary files."""
    names = set(recorded) | {STATE}
    if directory.is_dir():
        for child in directory.iterdir():
            if child.name.startswith("part-") or child.name.endswith(".tmp"):
                names.add(child.name)
    return [directory / name for name in sorted(names)]


def close_plan(vault: Vault, plan_id: str, *, actor: str, reason: str) -> dict[str, Any]:
    """Destroy every artefact of the plan, shred its keys, return the signed certificate."""
    docs = Documents(vault)
    plans = Plans(vault)
    try:
        record = plans.get(plan_id)
    except RecordNotFound:
        raise UsageError(f"plan {plan_id}: not registered") from None
    if record.state == PlanState.CLOSED:
        return docs.get(CERTIFICATE_KIND, plan_id).body
    body = plans.body(plan_id)
    artefacts: list[dict[str, Any]] = []
    keys: list[dict[str, str]] = []
    for package_id in _packages_of(docs, plan_id):
        package = docs.get(PACKAGE_KIND, package_id).body
        directory = Path(package["directory"])
        for path in _package_files(directory, list(package.get("files", []))):
            entry = _destroy(path)
            entry["package"] = package_id
            artefacts.append(entry)
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
        keys.append(
            {
                "package": package_id,
                "key": "sender copy age identity",
                "public": package["sender_recipient"],
            }
        )
        docs.delete(PACKAGE_KIND, package_id)  # the only copy of the sender identity
    signer = Signer.from_seed(vault.network_key(SIGNING_PURPOSE))
    certificate: dict[str, Any] = {
        "format": CERTIFICATE_FORMAT,
        "plan": {"id": plan_id, "sha256": record.sha256, "purpose": record.purpose},
        "closed_at": datetime.now(UTC).isoformat(),
        "closed_by": actor,
        "reason": reason,
        "artefacts": artefacts,
        "keys_shredded": keys,
        "recipients_copies": [
            {"recipient": name, "note": "outside this vault; the recipient certifies its own"}
            for name in record.recipients
        ],
        "signer": {"key_id": signer.key_id, "public_key_pem": signer.public_key_pem().decode()},
    }
    payload = json.dumps(certificate, sort_keys=True, indent=1).encode()
    signed = {
        "certificate": certificate,
        "signature": base64.b64encode(signer.sign(_certificate_message(payload))).decode(),
    }
    docs.put(CERTIFICATE_KIND, plan_id, signed, state="signed")
    body["text"] = ""  # the plan's text is kept in the certificate's hash only
    plans.update_body(plan_id, body, PlanState.CLOSED)
    return signed


def _packages_of(docs: Documents, plan_id: str) -> list[str]:
    return [d.id for d in docs.list(PACKAGE_KIND) if d.body.get("plan_id") == plan_id]


def verify_certificate(signed: dict[str, Any], public_key_pem: bytes | None = None) -> None:
    """Raise IntegrityError unless the certificate's signature verifies."""
    try:
        certificate = signed["certificate"]
        signature = base64.b64decode(signed["signature"], validate=True)
        pem = public_key_pem or certificate["signer"]["public_key_pem"].encode()
        payload = json.dumps(certificate, sort_keys=True, indent=1).encode()
        Verifier.from_pem(pem).verify(_certificate_message(payload), signature)
    except (KeyError, TypeError, ValueError):
        raise IntegrityError("deletion certificate: malformed") from None
    except EtancheError:
        raise IntegrityError("deletion certificate: signature does not verify") from None


def shred_expired(vault: Vault, *, now: datetime | None = None) -> list[str]:
    """Close every plan past its retention date; return their ids."""
    closed = []
    for kind, doc_id in Documents(vault).expired(now):
        if kind != PLAN_KIND:
            continue
        if Plans(vault).get(doc_id).state != PlanState.CLOSED:
            close_plan(vault, doc_id, actor="system", reason="retention date passed")
            closed.append(doc_id)
    return closed
