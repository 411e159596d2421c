"""Decoy patients (F8): realistic records that nobody has a reason to touch.

A decoy is a synthetic patient stored like any other: same encryption, same
indexes, specimens, an id of the same shape, a lab drawn like real ones, and
creation times copied from real rows, so neither a copy of the database nor a
person with the keys can tell it apart. The registry (table ``decoys``) keeps
only a keyed digest of each decoy's id (``Vault.index_digest("decoy", id)``):
without the vault's keys it says how many decoys exist, not which. Reading,
searching or exporting a decoy is then a critical alert (rule ``decoy_touch``).
"""

from __future__ import annotations

import math
import random
import re
import secrets
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, delete, func, insert, select, update
from uuid_utils import uuid7

from etanche.audit._schema import decoys
from etanche.domain import Lab, Patient, Specimen
from etanche.errors import UsageError
from etanche.synth import SynthConfig, generate
from etanche.vault import ALL_COMPARTMENTS, Vault
from etanche.vault import patients_table as patients
from etanche.vault import specimens_table as specimens

__all__ = ["decoy_count", "is_decoy", "plant_decoys"]

DECOY_INDEX = "decoy"
MAX_PLANT = 100_000
_REFRESH_S = 1.0  # how stale the in-memory registry may be
_UUID4 = re.compile(r"^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$")
_UUID7 = re.compile(r"^[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$")
_SAMPLE = 64


class _Registry:
    """The decoy registry's digests of one database, in memory.

    ``is_decoy`` runs on every search and read: a query per patient id would cost
    as much as the lookup itself. The digests are few (a registry holds at most
    a few hundred thousand 16-byte digests) and change rarely, so they are kept
    in memory and re-read at most once per ``_REFRESH_S``, and only when the
    registry's row count or latest planting time moved. Decoys planted by this
    process count at once; those planted by another process within about a
    second (the registry row is committed before the decoy's patient row, so
    only a touch in that second could go unnoticed).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.digests: frozenset[bytes] = frozenset()
        self.mark: tuple[int, object] | None = None  # (rows, latest created_at) when read
        self.checked = -math.inf  # time.monotonic() of the last check

    def current(self, engine: Engine) -> frozenset[bytes]:
        if time.monotonic() - self.checked < _REFRESH_S:
            return self.digests
        with self.lock:
            if time.monotonic() - self.checked >= _REFRESH_S:
                with engine.connect() as conn:
                    rows, latest = conn.execute(
                        select(func.count(), func.max(decoys.c.created_at))
                    ).one()
                    mark = (int(rows), latest)
                    if mark != self.mark:  # read after the mark: never older than it
                        found = conn.execute(select(decoys.c.digest)).scalars()
                        self.digests = frozenset(bytes(d) for d in found)
                        self.mark = mark
                self.checked = time.monotonic()
            return self.digests

    def add(self, digests: list[bytes]) -> None:
        with self.lock:
            self.digests = self.digests | frozenset(digests)


# One registry per database: the sessions of a vault (per-request ones included)
# share its engine and its keys, hence the digests.
_registries: weakref.WeakKeyDictionary[Engine, _Registry] = weakref.WeakKeyDictionary()
_registries_lock = threading.Lock()


def _registry(engine: Engine) -> _Registry:
    with _registries_lock:
        registry = _registries.get(engine)
        if registry is None:
            registry = _registries[engine] = _Registry()
        return registry


def is_decoy(vault: Vault, patient_id: str) -> bool:
    """Whether ``patient_id`` is a decoy: its keyed digest looked up in memory."""
    digests = _registry(vault.engine).current(vault.engine)
    return bool(digests) and vault.index_digest(DECOY_INDEX, patient_id) in digests


def decoy_count(vault: Vault) -> int:
    """How many decoys the registry holds (which ones, it cannot say)."""
    with vault.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(decoys)).scalar_one())


def plant_decoys(
    vault: Vault,
    n: int,
    *,
    seed: int | None = None,
    lab_id: str | None = None,
    shape: Callable[[Patient], Patient] | None = None,
) -> list[str]:
    """Add ``n`` decoy patients spread over the vault's labs (or all in ``lab_id``).

    Returns their ids, to the caller only (for tests and for seeding canaries);
    they are stored nowhere in clear. ``seed`` fixes the synthetic identities,
    never the ids, which are always fresh and random. An export's canaries are
    planted in the exported lab, so the decoy's lab agrees with its row;
    ``shape`` (canaries) reshapes each drawn patient before it is stored.
    """
    if not 1 <= n <= MAX_PLANT:
        raise UsageError(f"n: plant between 1 and {MAX_PLANT} decoys at a time")
    if not all(vault.holds(c) for c in ALL_COMPARTMENTS):
        raise UsageError("decoys: planting needs a session holding every compartment")
    labs = vault.labs()
    if not labs:
        raise UsageError("decoys: the vault has no lab yet (add labs or load patients first)")
    with vault.engine.connect() as conn:
        patient_donors = _donors(conn, patients.c.id)
        specimen_donors = _donors(conn, specimens.c.id)
        first, last = conn.execute(
            select(func.min(specimens.c.collected_on), func.max(specimens.c.collected_on))
        ).one()
    start, end = _period(first, last)
    network = generate(
        SynthConfig(
            patients=n,
            labs=len(labs),
            seed=secrets.randbits(63) if seed is None else seed,
            specimens_start=start,
            specimens_end=end,
        )
    )
    # Synthetic lab k stands for the vault's lab k: same order, so for a network
    # made by `etanche synth` the addresses and physicians fit the lab's city.
    lab_map = {s.id: v for s, v in zip(network.labs, labs, strict=True)}
    if lab_id is not None:
        target = next((lab for lab in labs if lab.id == lab_id), None)
        if target is None:
            raise UsageError(f"decoys: no lab {lab_id} in this vault")
        lab_map = dict.fromkeys(lab_map, target)
    rng = random.SystemRandom()
    items: list[tuple[Patient, list[Specimen]]] = []
    for patient in network.patients():
        pid = _shaped_like(rng.choice(patient_donors))
        moved = replace(patient, id=pid, lab_id=lab_map[patient.lab_id].id)
        if shape is not None:
            moved = replace(shape(moved), id=pid, lab_id=moved.lab_id)
        specs = [
            _move_specimen(s, pid, lab_map, _shaped_like(rng.choice(specimen_donors)), rng)
            for s in network.specimens(patient)
        ]
        items.append((moved, specs))
    ids = [p.id for p, _ in items]
    now = datetime.now(UTC)
    digests = [vault.index_digest(DECOY_INDEX, pid) for pid in ids]
    # Registry first: if adding the patients fails, a digest of nobody is harmless,
    # whereas an unregistered decoy would pass for a real patient forever.
    with vault.engine.begin() as conn:
        conn.execute(insert(decoys), [{"digest": d, "created_at": now} for d in digests])
    try:
        vault.add_many(items)
    except BaseException:
        with vault.engine.begin() as conn:
            conn.execute(delete(decoys).where(decoys.c.digest.in_(digests)))
        raise
    _blend_timestamps(vault, ids)
    _registry(vault.engine).add(digests)
    return ids


def _period(first: date | None, last: date | None) -> tuple[date, date]:
    """Specimen dates like the vault's own, else the last five years."""
    if isinstance(first, date) and isinstance(last, date) and first < last:
        return first, last
    today = datetime.now(UTC).date()
    return today - timedelta(days=5 * 365), today


def _donors(conn: Connection, column: ColumnElement[str]) -> list[str]:
    """Random real ids of a table, whose shape (and UUIDv7 clock) decoy ids copy."""
    sample = [r[0] for r in conn.execute(select(column).order_by(func.random()).limit(_SAMPLE))]
    return [s for s in sample if isinstance(s, str)] or [""]


def _shaped_like(donor: str) -> str:
    """A fresh id of the donor's kind: UUIDv7 on the donor's millisecond, UUID4, or hex.

    A UUIDv7 id shows when its record was created: decoys planted today with
    today's clock would stand out as a cluster, so each borrows a real row's.
    """
    if _UUID7.match(donor):
        millis = int(donor[:12], 16)
        return uuid7(nanoseconds=millis * 1_000_000 + secrets.randbelow(1_000_000)).hex
    if _UUID4.match(donor):
        return uuid.uuid4().hex
    return secrets.token_hex(16)


def _move_specimen(
    specimen: Specimen, patient_id: str, lab_map: dict[str, Lab], new_id: str, rng: random.Random
) -> Specimen:
    lab = lab_map.get(specimen.lab_id)
    lab_id = lab.id if lab else specimen.lab_id
    accession = specimen.accession
    if accession.startswith(specimen.lab_id):
        # lab code, YYMMDD, then a lab-local number: fresh digits, so no real
        # specimen shares the decoy's accession.
        rest = accession[len(specimen.lab_id) :]
        digits = "".join(str(rng.randrange(10)) for _ in rest[6:])
        accession = f"{lab_id}{rest[:6]}{digits}"
    return replace(specimen, id=new_id, patient_id=patient_id, lab_id=lab_id, accession=accession)


def _blend_timestamps(vault: Vault, ids: list[str]) -> None:
    """Copy creation and update times of random real rows, so decoys form no cluster."""
    chosen = set(ids)
    with vault.engine.begin() as conn:
        sample = conn.execute(
            select(patients.c.id, patients.c.created_at, patients.c.updated_at)
            .where(patients.c.erased_at.is_(None))
            .order_by(func.random())
            .limit(len(ids) * 2 + _SAMPLE)
        ).all()
        donors = [(r.created_at, r.updated_at) for r in sample if r.id not in chosen]
        if not donors:
            return  # an empty vault: nothing to blend with
        rng = random.SystemRandom()
        for pid in ids:
            created, updated = _same_clock(conn, pid, chosen) or rng.choice(donors)
            conn.execute(
                update(patients)
                .where(patients.c.id == pid)
                .values(created_at=created, updated_at=updated)
            )


def _same_clock(conn: Connection, pid: str, chosen: set[str]) -> tuple[Any, Any] | None:
    """Times of the real row whose UUIDv7 clock the decoy's id borrowed (id and
    creation time then agree as on a real row); None for other id shapes."""
    if not _UUID7.match(pid):
        return None
    millis = pid[:12]
    rows = conn.execute(
        select(patients.c.id, patients.c.created_at, patients.c.updated_at)
        .where(patients.c.id >= millis, patients.c.id < millis + "g")
        .where(patients.c.erased_at.is_(None))
        .limit(len(chosen) + 1)
    ).all()
    return next(((r.created_at, r.updated_at) for r in rows if r.id not in chosen), None)
