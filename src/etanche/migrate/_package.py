"""``migrate run``: build the encrypted, signed package of an approved plan.

Streamed: records are read, selected, rendered and sealed one part (a few
thousand rows) at a time, so memory stays bounded and no plaintext ever reaches
the disk; each part is age-encrypted to the plan's recipients (plus a sender
copy key the vault keeps until the plan is closed) and written under a
temporary name, then renamed. A small state file (no personal value) lists the
finished parts: a run killed at any point resumes where it stopped and, being
deterministic, writes the same content. The manifest, signed with the network's
Ed25519 key, vouches for the plan hash, the counts and every content hash.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from etanche._files import private_dir, write_private
from etanche.crypto import SYSTEM_PURPOSE, AgeIdentity, age_encrypt, content_hash, sign_payload
from etanche.errors import PackageRejected, UsageError
from etanche.exchange import SourceRecord
from etanche.migrate._check import read_source
from etanche.migrate._outbound import OutboundFactory, RowRenderer, unmarked
from etanche.migrate._parallel import selections
from etanche.migrate._plan import MigrationPlan
from etanche.migrate._registry import Plans, PlanState
from etanche.migrate._select import Selected, compartment_values, outbound, restrict
from etanche.vault import Documents, Vault

__all__ = [
    "MANIFEST",
    "PACKAGE_FORMAT",
    "PACKAGE_KIND",
    "SIGNATURE",
    "PackageResult",
    "build_package",
    "manifest_message",
]

PACKAGE_FORMAT = "etanche-migration-package/1"
PACKAGE_KIND = "migration.package"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
CANARIES = "canaries.age"
STATE = ".run-state.json"
PART_ROWS = 5000
_encoder = msgspec.json.Encoder(order="sorted")


@dataclass(frozen=True, slots=True)
class PackageResult:
    """What a run built; ``records`` counts real rows, ``canaries`` the decoys mixed in."""

    package_id: str
    directory: Path
    records: int
    canaries: int
    parts: int
    resumed_parts: int
    content_sha256: str


def manifest_message(manifest_bytes: bytes) -> bytes:
    """What the signature covers: a domain tag, then the manifest's exact bytes."""
    return b"etanche-migration-manifest/1\n" + manifest_bytes


def _write_atomic(path: Path, data: bytes) -> None:
    """Every package file (parts, manifest, state) 0600, via a 0600 temporary file."""
    write_private(path, data)


class _State:
    """The resume file: package id, plan hash and finished parts (no personal value)."""

    def __init__(self, directory: Path, package_id: str, plan_sha256: str) -> None:
        self.path = directory / STATE
        self.package_id = package_id
        self.plan_sha256 = plan_sha256
        self.parts: list[dict[str, Any]] = []

    @classmethod
    def load(cls, directory: Path) -> _State | None:
        path = directory / STATE
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text())
            state = cls(directory, str(data["package_id"]), str(data["plan_sha256"]))
            state.parts = list(data["parts"])
        except (ValueError, KeyError, TypeError):
            raise UsageError(f"{path.name}: unreadable resume state; remove the folder") from None
        return state

    def save(self) -> None:
        data = {"package_id": self.package_id, "plan_sha256": self.plan_sha256, "parts": self.parts}
        _write_atomic(self.path, json.dumps(data, sort_keys=True).encode())


def _namespace(vault_key: bytes, plan_sha256: str) -> str:
    """Row references are uuid5 under a secret, per-plan namespace: the same plan in
    the same vault numbers its rows alike (a resumed or repeated run has the same
    content), and a recipient cannot tell canaries from rows by their references."""
    tag = sign_payload(vault_key, b"etanche-migration-rows/1\n" + plan_sha256.encode())
    return tag.removeprefix("sha256=")[:32]


def _open_directory(
    plan: MigrationPlan, directory: Path, docs: Documents, vault_key: bytes
) -> _State:
    """A fresh package folder, or the state of an interrupted run of the same plan."""
    state = _State.load(directory) if directory.exists() else None
    if state is not None:
        if state.plan_sha256 != plan.sha256:
            raise UsageError(f"{directory}: an interrupted run of another plan version is there")
        private_dir(directory)
        return state
    if directory.exists() and any(directory.iterdir()):
        raise UsageError(f"{directory}: not empty and not an interrupted run; choose a new folder")
    private_dir(directory)
    package_id = f"{plan.id}.{uuid.uuid4().hex[:8]}"
    sender = AgeIdentity.generate()
    docs.put(
        PACKAGE_KIND,
        package_id,
        {
            "plan_id": plan.id,
            "plan_sha256": plan.sha256,
            "directory": str(directory.resolve()),
            "namespace": _namespace(vault_key, plan.sha256),
            "sender_identity": sender.secret_text(),
            "sender_recipient": sender.public_text(),
            "recipients": [{"name": r.name, "age": r.age} for r in plan.recipients],
            "started_at": datetime.now(UTC).isoformat(),
        },
        state="building",
        expires_at=plan.expires_at,
    )
    state = _State(directory, package_id, plan.sha256)
    state.save()
    return state


@dataclass(frozen=True, slots=True)
class _Line:
    """A record as it leaves: its reference, lab, package line and what the marker keeps."""

    key: str
    lab: str
    line: bytes
    kept: Any
    tally: tuple[int, dict[str, int]]  # specimens, values per compartment


def _leaving(
    plan: MigrationPlan, namespace: uuid.UUID, render: RowRenderer
) -> Callable[[int, SourceRecord, Selected], _Line | None]:
    """The run's step beside validation: cut to the plan, rendered, encoded.

    The reference of a row is uuid5 of its position in the source under the
    secret namespace: known in any worker before the rows ahead of it are judged.
    """

    def step(position: int, record: SourceRecord, selected: Selected) -> _Line | None:
        if not selected.valid:
            return None
        row = outbound(plan, record, selected)
        key = str(uuid.uuid5(namespace, str(position)))
        rendered, kept = render(row, key)
        counts = dict(compartment_values(rendered["fields"], rendered["specimens"]))
        tally = (len(rendered["specimens"]), counts)
        return _Line(key, str(row["lab"]), _line(key, rendered), kept, tally)

    return step


def _rows(
    plan: MigrationPlan,
    namespace: uuid.UUID,
    render: RowRenderer,
    counts: Counter[str],
    workers: int,
) -> Iterator[_Line]:
    """Every in-scope valid record as it leaves, in source order."""
    step = _leaving(plan, namespace, render)
    for verdict in selections(plan, read_source(plan), workers=workers, then=step):
        selected = verdict.selected
        if selected is None:
            continue
        if verdict.result is None:
            counts["rejected" if selected.in_scope else "out_of_scope"] += 1
            continue
        yield verdict.result


def _line(row_key: str, row: dict[str, Any]) -> bytes:
    return _encoder.encode({"ref": row_key, **row}) + b"\n"


def _tally(lab: str, tally: tuple[int, dict[str, int]], into: dict[str, Any]) -> None:
    numbers = into["per_lab"].setdefault(lab, {"patients": 0, "specimens": 0})
    numbers["patients"] += 1
    numbers["specimens"] += tally[0]
    per_compartment = into["per_compartment"]
    for compartment, n in tally[1].items():
        per_compartment[compartment] = per_compartment.get(compartment, 0) + n


def build_package(
    plan: MigrationPlan,
    vault: Vault,
    directory: Path,
    *,
    outbound: OutboundFactory = unmarked,
    actor: str,
    progress: Callable[[int], None] | None = None,
    workers: int = 0,
) -> PackageResult:
    """Build (or resume) the package of an approved plan into ``directory``.

    ``workers`` > 0 validates records in that many forked processes (CLI only).
    """
    plans = Plans(vault)
    plans.require_approved(plan)
    docs = Documents(vault)
    state = _open_directory(plan, directory, docs, vault.network_key(SYSTEM_PURPOSE))
    package = docs.get(PACKAGE_KIND, state.package_id).body
    saved = package.get("outbound") if state.parts else None
    marker = outbound(saved)
    recipients = [r.age for r in plan.recipients] + [package["sender_recipient"]]
    namespace = uuid.UUID(package["namespace"])
    resumed = len(state.parts)
    skip = sum(int(p["rows"]) for p in state.parts)
    counts: Counter[str] = Counter()
    buffer: list[_Line] = []
    seen = 0
    exported: list[str] = []

    def flush() -> None:
        index = len(state.parts) + 1
        lines = list(buffer)
        for line in lines:
            marker.keep(line.key, line.lab, line.kept)
        # after the real rows, so the marker knows their lab; cut to the plan like them
        for key, row in marker.canaries(index, len(buffer)):
            rendered = marker.render(restrict(plan, row), row_key=key)
            specimens = len(rendered["specimens"])
            values = dict(compartment_values(rendered["fields"], rendered["specimens"]))
            lines.append(
                _Line(key, str(rendered["lab"]), _line(key, rendered), None, (specimens, values))
            )
        plaintext = b"".join(lines[i].line for i in marker.order([x.key for x in lines]))
        ciphertext = age_encrypt(plaintext, recipients)
        name = f"part-{index:05d}.ndjson.age"
        _write_atomic(directory / name, ciphertext)
        tally: dict[str, Any] = {"per_lab": {}, "per_compartment": {}}
        for line in lines:
            _tally(line.lab, line.tally, tally)
        state.parts.append(
            {
                "name": name,
                "rows": len(buffer),
                "canaries": len(lines) - len(buffer),
                "records": len(lines),
                "plaintext_sha256": content_hash(plaintext).hexdigest(),
                "ciphertext_sha256": content_hash(ciphertext).hexdigest(),
                "bytes": len(ciphertext),
                "tally": tally,
            }
        )
        package["outbound"] = marker.to_state()
        docs.put(
            PACKAGE_KIND, state.package_id, package, state="building", expires_at=plan.expires_at
        )
        state.save()
        buffer.clear()

    for leaving in _rows(plan, namespace, marker.renderer(), counts, workers):
        seen += 1
        exported.append(leaving.key)
        if seen <= skip:  # in a finished part: only what the marker keeps of it
            marker.keep(leaving.key, leaving.lab, leaving.kept)
            continue
        buffer.append(leaving)
        if len(buffer) >= PART_ROWS:
            flush()
            if progress is not None:
                progress(seen)
    if buffer:
        flush()
    if progress is not None:
        progress(seen)
    if not state.parts:
        raise PackageRejected(f"plan {plan.id}: no record in scope; nothing to package")

    canary_file = age_encrypt(marker.sealed_list(), recipients)
    _write_atomic(directory / CANARIES, canary_file)
    manifest = _manifest(plan, vault, state, package, counts, canary_file, plans)
    manifest_bytes = json.dumps(manifest, sort_keys=True, indent=1).encode()
    signature = plans.signer.sign(manifest_message(manifest_bytes))
    _write_atomic(directory / MANIFEST, manifest_bytes)
    _write_atomic(directory / SIGNATURE, base64.b64encode(signature) + b"\n")
    marker.finish(exported)
    state.path.unlink()

    package.update(
        finished_at=datetime.now(UTC).isoformat(),
        built_by=actor,
        manifest_sha256=content_hash(manifest_bytes).hexdigest(),
        content_sha256=manifest["content_sha256"],
        files=[MANIFEST, SIGNATURE, CANARIES, *(p["name"] for p in state.parts)],
        records=manifest["counts"]["records"],
    )
    docs.put(PACKAGE_KIND, state.package_id, package, state="built", expires_at=plan.expires_at)
    body = plans.body(plan.id)
    body["packages"] = sorted({*body.get("packages", []), state.package_id})
    plans.update_body(plan.id, body, PlanState.RUN)
    return PackageResult(
        package_id=state.package_id,
        directory=directory,
        records=manifest["counts"]["records"] - manifest["counts"]["canaries"],
        canaries=manifest["counts"]["canaries"],
        parts=len(state.parts),
        resumed_parts=resumed,
        content_sha256=manifest["content_sha256"],
    )


def _manifest(
    plan: MigrationPlan,
    vault: Vault,
    state: _State,
    package: dict[str, Any],
    counts: Counter[str],
    canary_file: bytes,
    plans: Plans,
) -> dict[str, Any]:
    per_lab: dict[str, dict[str, int]] = {}
    per_compartment: Counter[str] = Counter()
    for part in state.parts:
        for lab, numbers in part["tally"]["per_lab"].items():
            target = per_lab.setdefault(lab, {"patients": 0, "specimens": 0})
            target["patients"] += numbers["patients"]
            target["specimens"] += numbers["specimens"]
        per_compartment.update(part["tally"]["per_compartment"])
    content = content_hash()
    for part in state.parts:
        content.update(part["plaintext_sha256"].encode())
    known = {lab.id: lab for lab in vault.labs()}
    return {
        "format": PACKAGE_FORMAT,
        "package_id": state.package_id,
        "plan": {
            "id": plan.id,
            "sha256": plan.sha256,
            "purpose": plan.purpose,
            "controller": plan.controller,
            "processor": plan.processor,
        },
        "created_at": datetime.now(UTC).isoformat(),
        "expires_at": plan.expires_at.isoformat(),
        "recipients": [{"name": r.name, "age": r.age} for r in plan.recipients],
        "sender_copy": package["sender_recipient"],
        "fields": {k: list(v) for k, v in plan.fields.items()},
        "labs": [
            {
                "id": lab,
                "name": known[lab].name,
                "finess": known[lab].finess,
                "city": known[lab].city,
            }
            if lab in known
            else {"id": lab}
            for lab in plan.labs
        ],
        "counts": {
            "records": sum(int(p["records"]) for p in state.parts),
            "canaries": sum(int(p["canaries"]) for p in state.parts),
            "per_lab": per_lab,
            "per_compartment": dict(per_compartment),
            "left_out": dict(counts),
        },
        "parts": [
            {k: p[k] for k in ("name", "records", "plaintext_sha256", "ciphertext_sha256", "bytes")}
            for p in state.parts
        ],
        "canaries_file": {
            "name": CANARIES,
            "ciphertext_sha256": content_hash(canary_file).hexdigest(),
        },
        "content_sha256": content.hexdigest(),
        "signer": {
            "key_id": plans.signer.key_id,
            "public_key_pem": plans.signer.public_key_pem().decode(),
        },
    }
