"""Canary records: decoy patients unique to one export (DESIGN.md, exports).

Each canary is planted in our vault as a decoy (``etanche.audit`` registry:
touching it raises the decoy alert) and written into exactly one export. Our
importer drops canaries with the sealed ``CanaryList`` shipped in the package;
anywhere else, one canary in a found file names the export it came from. An
identity that already belongs to someone in the vault (same NIR or same
name+birth date digest, phone or e-mail) is never used: the decoy is erased
and replaced. Canaries take every column but their names from the exported
lab's own patients (``localise``), so no single column singles them out.
"""

from __future__ import annotations

import base64
import math
import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from etanche.audit import is_decoy, plant_decoys
from etanche.crypto import KeyedPrf, new_key
from etanche.domain import Patient
from etanche.errors import UsageError
from etanche.leak.trace._identity import EMAIL, NAME_DOB, NIR, PHONE, row_identity
from etanche.leak.trace._mark import ExportMark
from etanche.leak.trace._regional import localiser
from etanche.leak.trace._rows import canonical_row
from etanche.vault import Vault

__all__ = ["CanaryList", "CanaryRecord", "canary_count", "canary_list", "make_canaries"]

MAX_CANARIES = 10_000
DONORS = 2_000
_ATTEMPTS = 4
_STRONG = (NIR, NAME_DOB, PHONE, EMAIL)  # one of them alone recognises a canary


@dataclass(frozen=True, slots=True)
class CanaryRecord:
    """A canary row, shaped like ``SourceRecord`` plus the row key it is written under."""

    row_key: str
    location: str
    fields: dict[str, str]
    specimens: tuple[Mapping[str, str], ...] = ()


def canary_count(rows: int, rate: float) -> int:
    """How many canaries an export of ``rows`` rows carries: ``rate`` per row, at least 2."""
    if not 0 <= rate <= 0.1:
        raise UsageError("canary rate: between 0 and 0.1 per row")
    return min(MAX_CANARIES, max(2, math.ceil(rows * rate)))


def _collides(vault: Vault, patient_id: str, values: list[tuple[str, str]]) -> bool:
    """Whether another patient shares one of the canary's identifying digests."""
    for name, value in values:
        if name in _STRONG:
            owners = vault.patients_by_digest(name, [vault.index_digest(name, value)])
            if any(owner != patient_id for _, owner, _ in owners):
                return True
    return False


def lab_donors(vault: Vault, lab_id: str, rng: random.Random) -> list[Patient]:
    """Up to ``DONORS`` of the lab's patients (decoys left out), drawn at random."""
    ids = [pid for pid in vault.patient_ids(lab_id) if not is_decoy(vault, pid)]
    chosen = rng.sample(ids, min(DONORS, len(ids)))
    return vault.get_many(chosen) if chosen else []


def make_canaries(
    mark_or_export_id: ExportMark | str,
    count: int,
    *,
    vault: Vault,
    lab_id: str,
    seed: int | None = None,
) -> list[CanaryRecord]:
    """Plant ``count`` decoys for one export and return their rows (lab ``lab_id``).

    The vault session must hold every compartment (planting seals whole
    records). Rows are canonical and unmarked: pass them through ``render_row``
    with their ``row_key`` like every other row.
    """
    export_id = (
        mark_or_export_id.export_id
        if isinstance(mark_or_export_id, ExportMark)
        else mark_or_export_id
    )
    if not 1 <= count <= MAX_CANARIES:
        raise UsageError(f"canaries: between 1 and {MAX_CANARIES} per export")
    rng = random.Random(secrets.randbits(63) if seed is None else seed)
    shape = localiser(lab_donors(vault, lab_id, rng), rng)
    out: list[CanaryRecord] = []
    for attempt in range(_ATTEMPTS):
        needed = count - len(out)
        if needed <= 0:
            break
        planted = plant_decoys(
            vault,
            needed,
            seed=None if seed is None else seed + attempt,
            lab_id=lab_id,
            shape=shape,
        )
        for pid in planted:
            fields = canonical_row(vault.get(pid), lab_id=lab_id)
            if _collides(vault, pid, row_identity(fields)):
                vault.erase(pid)  # stays registered as a decoy of nobody: harmless
                continue
            out.append(CanaryRecord(pid, f"canary {len(out) + 1} of export {export_id}", fields))
    if len(out) < count:
        raise UsageError("canaries: could not draw identities distinct from the vault's")
    return out


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True)
class CanaryList:
    """What our importer needs to drop an export's canaries, and nothing more.

    Row keys, and keyed digests (under a per-list salt) of each canary's NIR,
    name+birth date, phones and e-mail: a row matching any one is a canary. Ship ``to_dict()``
    sealed inside the package; the identities themselves are not in it.
    """

    salt: bytes = field(repr=False)
    row_keys: frozenset[str]
    identities: frozenset[str]
    _prf: KeyedPrf = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_prf", KeyedPrf(self.salt, "canary-list"))

    def _digest(self, index: str, value: str) -> str:
        return self._prf.hexdigest(f"{index}\x1f{value}")

    def matches(self, row: Mapping[str, str], row_key: str | None = None) -> bool:
        """Whether a (canonical or marked) row is one of the canaries."""
        if row_key is not None and row_key in self.row_keys:
            return True
        return any(
            self._digest(name, value) in self.identities
            for name, value in row_identity(row)
            if name in _STRONG
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "salt": _b64(self.salt),
            "row_keys": sorted(self.row_keys),
            "identities": sorted(self.identities),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CanaryList:
        try:
            return cls(
                base64.b64decode(data["salt"]),
                frozenset(str(k) for k in data["row_keys"]),
                frozenset(str(d) for d in data["identities"]),
            )
        except (KeyError, TypeError, ValueError):
            raise UsageError("canary list: malformed") from None


def canary_list(canaries: Sequence[CanaryRecord]) -> CanaryList:
    """The sealed list a package carries so that our importer drops its canaries."""
    empty = CanaryList(new_key(), frozenset(c.row_key for c in canaries), frozenset())
    identities = {
        empty._digest(name, value)
        for c in canaries
        for name, value in row_identity(c.fields)
        if name in _STRONG
    }
    return CanaryList(empty.salt, empty.row_keys, frozenset(identities))
