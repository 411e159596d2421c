"""The bulk shred (``erase_many``) leaves exactly what ``erase`` leaves, patient by patient."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, select

from conftest import PASSPHRASE, Backend
from etanche.crypto import KdfCost
from etanche.synth import SynthConfig, generate
from etanche.vault import (
    ALL_COMPARTMENTS,
    Vault,
    WriteBatch,
    claim_purge,
    decode_writes,
    expired_patients,
    holds,
    parse_location,
    patients_table,
    set_hold,
)
from etanche.vault._schema import patient_index, specimens

_KEPT = ("id", "lab_id", "key_version", "admin_key", "clinical_key", "admin", "clinical")
_KEPT += ("admin_revision", "clinical_revision", "created_at", "last_visit_on")


def _state(store: Vault, pid: str) -> tuple[tuple[object, ...], int, int, bool]:
    with store.engine.connect() as conn:
        row = conn.execute(select(patients_table).where(patients_table.c.id == pid)).one()
        index = conn.execute(select(func.count()).where(patient_index.c.patient_id == pid))
        specs = conn.execute(select(func.count()).where(specimens.c.patient_id == pid))
        return (
            tuple(getattr(row, c) for c in _KEPT),
            index.scalar_one(),
            specs.scalar_one(),
            row.erased_at is not None,
        )


def test_erase_many_equals_erase(tmp_path: Path) -> None:
    network = generate(SynthConfig(patients=20, labs=2, seed=5))
    items = [(p, list(s)) for b in network.batches() for p, s in b]
    stores = []
    logged: list[list[WriteBatch]] = [[], []]
    for n in (0, 1):
        location = parse_location(str(tmp_path / f"v{n}"))
        store = Vault.create(location, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests())
        for lab in network.labs:
            store.add_lab(lab)
        store.add_many(items)
        store.record_writes(logged[n].append)
        stores.append(store)
    ids = [p.id for p, _ in items[:12]]
    for pid in ids:
        stores[0].erase(pid)
    assert sorted(stores[1].erase_many(ids, batch=5)) == sorted(ids)
    assert stores[1].erase_many(ids) == []  # already shredded: skipped, nothing written twice
    for pid in [p.id for p, _ in items]:
        one, many = _state(stores[0], pid), _state(stores[1], pid)
        if pid in ids:  # the same tombstone: everything but the creation time
            assert one[0][:7] == many[0][:7] and one[0][3:7] == (None,) * 4
            assert one[0][7:9] == many[0][7:9] == (2, 2)  # both written once, then NULL
            assert one[0][10] is None and many[0][10] is None
            assert one[1:] == many[1:] == (0, 0, True)
        else:
            assert many[3] is False and many[1] > 0
    writes = [
        sorted(
            (w.row_id, w.compartment, w.revision, w.digest)
            for b in log
            for w in decode_writes(b.encoded)
        )
        for log in logged
    ]
    assert writes[0] == writes[1] and len(writes[0]) == 2 * len(ids)
    for store in stores:
        store.close()


def test_purge_queries_and_bulk_shred_on_both_backends(backend: Backend) -> None:
    """Expired selection, holds, the one-worker claim, and no shredded byte left in storage."""
    network = generate(SynthConfig(patients=16, labs=2, seed=8))
    old, new = date(2010, 3, 1), date(2026, 11, 2)
    items = []
    for n, (patient, specs) in enumerate(p for b in network.batches() for p in b):
        day = old if n % 2 == 0 else new
        at = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
        items.append(
            (
                dataclasses.replace(patient, last_visit=day),
                [dataclasses.replace(s, collected_at=at) for s in specs],
            )
        )
    store = Vault.create(backend.location, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests())
    try:
        for lab in network.labs:
            store.add_lab(lab)
        store.add_many(items, validate=False)
        expected = {p.id for p, _ in items[::2]}
        found = expired_patients(store, date(2016, 12, 3))
        assert {e.id for e in found} == expected
        assert all(e.started == old for e in found)
        visits, days = store.sealed_dates(sorted(expected))
        assert set(visits.values()) == {old} and all(c == s == old for _, _, c, s in days)
        kept = items[1][0].id
        set_hold(store, kept, "contentieux", "dpo1")
        assert holds(store) == (frozenset({kept}), frozenset())
        with store.engine.connect() as conn:
            sealed = [
                bytes(r.admin)
                for r in conn.execute(
                    select(patients_table.c.admin).where(patients_table.c.id.in_(expected))
                )
            ] + [
                bytes(r.data)
                for r in conn.execute(
                    select(specimens.c.data).where(specimens.c.patient_id.in_(expected))
                )
            ]
        assert sorted(store.erase_many(sorted(expected))) == sorted(expected)
        raw = backend.raw_bytes()
        assert not [blob for blob in sealed if blob[-32:] in raw]
        assert expired_patients(store, date(2016, 12, 3)) == []
        assert store.session(ALL_COMPARTMENTS).get(kept).id == kept
        assert claim_purge(store, 3600) is True
        assert claim_purge(store, 3600) is False
    finally:
        store.close()
