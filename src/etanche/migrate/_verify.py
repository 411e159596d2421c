"""``migrate verify``: the recipient checks a package, then imports it.

Everything is checked before anything is written: the manifest's Ed25519
signature (against the sender's public key the recipient pinned), every part's
ciphertext hash, then each decrypted part's content hash and record count. A
conversion (FHIR NDJSON or CSV for another lab system) checks every part first,
then decrypts them again to write. An import into a vault opens the package
with ``parts=False`` and checks each part in the same pass that parses it for
the import (``_import``): it writes in one transaction, and refuses the whole
package before committing if any part or count fails. The canaries are dropped
through the sealed list; the reconciliation report compares what landed, per
lab and per compartment, with what the manifest announced.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from etanche.crypto import AgeIdentity, Verifier, age_decrypt, content_hash
from etanche.errors import EtancheError, PackageRejected, UsageError
from etanche.exchange import FIELDS, SourceRecord
from etanche.migrate._package import CANARIES, MANIFEST, PACKAGE_FORMAT, SIGNATURE, manifest_message
from etanche.migrate._select import compartment_values

__all__ = ["CheckedPackage", "Reconciliation", "count_agrees", "open_package", "package_rows"]

_decoder = msgspec.json.Decoder(dict[str, Any])


@dataclass(frozen=True, slots=True)
class CheckedPackage:
    """A package whose signature and hashes were all verified."""

    directory: Path
    manifest: dict[str, Any]
    identities: tuple[AgeIdentity, ...]
    canaries: frozenset[str]
    pinned: bool  # signature checked against a key the recipient supplied
    parts_verified: bool = True  # False: only an import (which checks each part) may read it


@dataclass
class Reconciliation:
    """What landed against what the manifest announced."""

    announced: dict[str, Any]
    per_lab: dict[str, Counter[str]] = field(default_factory=dict)
    per_compartment: Counter[str] = field(default_factory=Counter)
    canaries_dropped: int = 0
    imported: int = 0

    @property
    def matches(self) -> bool:
        counts = self.announced["counts"]
        for lab, numbers in counts["per_lab"].items():
            got = self.per_lab.get(lab, Counter())
            if got["patients"] != numbers["patients"] or got["specimens"] != numbers["specimens"]:
                return False
        if set(self.per_lab) - set(counts["per_lab"]):
            return False
        announced: dict[str, int] = counts["per_compartment"]
        return dict(self.per_compartment) == announced

    def to_dict(self) -> dict[str, Any]:
        counts = self.announced["counts"]
        return {
            "package": self.announced["package_id"],
            "plan": self.announced["plan"]["id"],
            "matches": self.matches,
            "expires_at": self.announced["expires_at"],
            "imported": self.imported,
            "canaries_dropped": self.canaries_dropped,
            "per_lab": {
                lab: {
                    "announced_patients": counts["per_lab"].get(lab, {}).get("patients", 0),
                    "received_patients": got["patients"],
                    "announced_specimens": counts["per_lab"].get(lab, {}).get("specimens", 0),
                    "received_specimens": got["specimens"],
                }
                for lab, got in sorted(self.per_lab.items())
            },
            "per_compartment": {
                c: {"announced": counts["per_compartment"].get(c, 0), "received": n}
                for c, n in sorted(self.per_compartment.items())
            },
        }


def _read(directory: Path, name: str) -> bytes:
    try:
        return (directory / name).read_bytes()
    except OSError:
        raise PackageRejected(f"package {directory.name}: {name} missing or unreadable") from None


def open_package(
    directory: Path,
    identities: Sequence[AgeIdentity],
    *,
    signer_key_pem: bytes | None,
    progress: Callable[[int], None] | None = None,
    parts: bool = True,
) -> CheckedPackage:
    """Verify signature, hashes and counts of every part; PackageRejected names the first fault.

    ``parts=False`` checks the signature, format and canary list only: for
    ``import_rows``, which checks every part as it reads it, before committing.
    """
    manifest_bytes = _read(directory, MANIFEST)
    try:
        signature = base64.b64decode(_read(directory, SIGNATURE).strip(), validate=True)
        manifest = json.loads(manifest_bytes)
        embedded = manifest["signer"]["public_key_pem"].encode()
    except (ValueError, KeyError, TypeError):
        raise PackageRejected(
            f"package {directory.name}: manifest or signature malformed"
        ) from None
    try:
        verifier = Verifier.from_pem(signer_key_pem or embedded)
        verifier.verify(manifest_message(manifest_bytes), signature)
    except EtancheError:
        raise PackageRejected(
            f"package {directory.name}: manifest signature does not verify"
        ) from None
    if manifest.get("format") != PACKAGE_FORMAT:
        raise PackageRejected(f"package {directory.name}: unknown format")
    checked = 0
    try:
        canary_blob = _read(directory, CANARIES)
        if content_hash(canary_blob).hexdigest() != manifest["canaries_file"]["ciphertext_sha256"]:
            raise PackageRejected(f"{CANARIES}: ciphertext hash differs from the manifest")
        canaries = frozenset(
            str(c) for c in json.loads(age_decrypt(canary_blob, identities, what=CANARIES))
        )
        _listed(manifest)
        counted = Reconciliation(manifest)
        for part in manifest["parts"] if parts else ():
            plaintext = _part_plaintext(directory, part, identities)
            before = counted.canaries_dropped
            rows = sum(1 for _ in _parse_part(plaintext, str(part["name"]), counted, canaries))
            count_agrees(part, rows + counted.canaries_dropped - before)
            checked += part["records"]
            if progress is not None:
                progress(checked)
    except (KeyError, TypeError, ValueError):
        raise PackageRejected(f"package {directory.name}: manifest incomplete") from None
    except EtancheError as exc:
        if isinstance(exc, PackageRejected):
            raise
        raise PackageRejected(f"package {directory.name}: {exc}") from None
    if parts and not counted.matches:
        raise PackageRejected(f"package {directory.name}: counts differ from the manifest")
    return CheckedPackage(
        directory=directory,
        manifest=manifest,
        identities=tuple(identities),
        canaries=canaries,
        pinned=signer_key_pem is not None,
        parts_verified=parts,
    )


def _listed(manifest: dict[str, Any]) -> None:
    """The manifest's parts and counts have the shape the checks read (TypeError otherwise)."""
    for part in manifest["parts"]:
        kinds = (str, int, str, str)
        keys = ("name", "records", "plaintext_sha256", "ciphertext_sha256")
        if not all(isinstance(part[k], kind) for k, kind in zip(keys, kinds, strict=True)):
            raise TypeError("part listed without its name, count or hashes")
    if not isinstance(manifest["counts"]["per_lab"], dict):
        raise TypeError("counts per lab missing")
    if not isinstance(manifest["counts"]["per_compartment"], dict):
        raise TypeError("counts per compartment missing")


def count_agrees(part: dict[str, Any], records: int) -> None:
    """A part holds the records (rows and canaries) its manifest entry announces."""
    if records != part["records"]:
        raise PackageRejected(f"{part['name']}: record count differs from the manifest")


def new_recipient_identity() -> tuple[str, str]:
    """A fresh age key pair for a package's recipient: (secret key text, age1… public key)."""
    identity = AgeIdentity.generate()
    return identity.secret_text(), identity.public_text()


def open_received(
    directory: Path,
    identity_text: str,
    *,
    signer_key_pem: bytes | None,
    progress: Callable[[int], None] | None = None,
    parts: bool = True,
) -> CheckedPackage:
    """The recipient's side of ``open_package``: its age identity as its key file's text.

    Lets a recipient tool (the CLI offline, or the recipient's service importing)
    open a package without handling key objects itself.
    """
    key = AgeIdentity.from_text(identity_text, field="--identity")
    return open_package(
        directory, [key], signer_key_pem=signer_key_pem, progress=progress, parts=parts
    )


def _part_plaintext(
    directory: Path, part: dict[str, Any], identities: Sequence[AgeIdentity]
) -> bytes:
    name = str(part["name"])
    if "/" in name or name.startswith("."):
        raise PackageRejected(f"package {directory.name}: part name {name} not allowed")
    blob = _read(directory, name)
    if content_hash(blob).hexdigest() != part["ciphertext_sha256"]:
        raise PackageRejected(f"{name}: ciphertext hash differs from the manifest")
    plaintext = age_decrypt(blob, identities, what=name)
    if content_hash(plaintext).hexdigest() != part["plaintext_sha256"]:
        raise PackageRejected(f"{name}: content hash differs from the manifest")
    return plaintext


def _parse_part(
    plaintext: bytes, name: str, report: Reconciliation, canaries: frozenset[str]
) -> Iterator[tuple[str, str, SourceRecord]]:
    """(ref, lab, record) of the real rows of one part; tallies ``report``."""
    for number, line in enumerate(plaintext.splitlines(), start=1):
        try:
            row = _decoder.decode(line)
            ref, lab = str(row["ref"]), str(row["lab"])
            fields = {str(k): str(v) for k, v in row["fields"].items()}
            specimens = tuple({str(k): str(v) for k, v in s.items()} for s in row["specimens"])
        except (msgspec.DecodeError, KeyError, TypeError, AttributeError):
            raise PackageRejected(f"{name} line {number}: malformed row") from None
        tally = report.per_lab.setdefault(lab, Counter())
        tally["patients"] += 1
        tally["specimens"] += len(specimens)
        unknown = next((f for f in fields if f not in FIELDS), None)
        if unknown is not None:
            raise PackageRejected(f"{name} line {number}: unknown field {unknown}")
        report.per_compartment.update(compartment_values(fields, specimens))
        if ref in canaries:
            report.canaries_dropped += 1
            continue
        yield ref, lab, SourceRecord(f"{name} line {number}", fields, specimens)


def package_rows(
    package: CheckedPackage, report: Reconciliation
) -> Iterator[tuple[str, str, SourceRecord]]:
    """(ref, lab, record) of every real row of a checked package, canaries dropped."""
    if not package.parts_verified:
        raise UsageError(f"package {package.directory.name}: parts not verified yet")
    for part in package.manifest["parts"]:
        plaintext = _part_plaintext(package.directory, part, package.identities)
        yield from _parse_part(plaintext, str(part["name"]), report, package.canaries)
