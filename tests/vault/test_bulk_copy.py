"""Bulk loads: COPY on PostgreSQL, executemany on SQLite, the same rows either way;
time-ordered (UUIDv7) record ids that make a load append to the primary key."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
)

from conftest import PASSPHRASE, Backend
from etanche.crypto import KdfCost
from etanche.synth import SynthConfig, generate
from etanche.vault import Vault, new_record_id, patients_table, specimens_table
from etanche.vault._bulk import BulkInsert

meta = MetaData()


def _table(name: str) -> Table:
    return Table(
        name,
        meta,
        Column("id", String(32), primary_key=True),
        Column("blob", LargeBinary, nullable=True),
        Column("day", Date, nullable=True),
        Column("at", DateTime(timezone=True), nullable=True),
        Column("naive", DateTime, nullable=True),
        Column("n", Integer, nullable=True),
        Column("flag", Boolean, nullable=True),
        Column("note", Text, nullable=True),
    )


bulk_rows, reference_rows = _table("bulk_rows"), _table("reference_rows")


def _rows() -> list[dict[str, object]]:
    return [
        {
            "id": f"{k:032x}",
            "blob": bytes(range(k % 256)) + b"\x00\\\n\t" if k % 5 else None,
            "day": date(1950 + k % 70, 1 + k % 12, 1 + k % 28) if k % 7 else None,
            "at": datetime(2026, 12, 3, 7, k % 60, k % 60, 1234, tzinfo=UTC),
            "naive": datetime(2021, 3, 1, 8, 30) if k % 3 else None,
            "n": k * 1_000 if k % 4 else None,
            "flag": bool(k % 2) if k % 6 else None,
            "note": "Épreuve « guillemets »\tonglet\nligne \\ " * (k % 3) if k % 9 else None,
        }
        for k in range(1, 300)
    ]


def test_bulk_insert_writes_what_a_plain_insert_writes(backend: Backend) -> None:
    vault = Vault.create(backend.location, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests())
    try:
        meta.create_all(vault.engine)
        rows = _rows()
        with vault.engine.begin() as conn:
            writer = BulkInsert(conn, bulk_rows, [c.name for c in bulk_rows.c])
            # COPY FROM STDIN on PostgreSQL, the driver's executemany on SQLite
            assert (writer._copy is not None) is (backend.name == "postgres")
            writer.run(conn, rows[:150])
            writer.run(conn, rows[150:])
            conn.execute(insert(reference_rows), rows)
        with vault.engine.connect() as conn:
            copied = conn.execute(select(bulk_rows).order_by(bulk_rows.c.id)).all()
            expected = conn.execute(select(reference_rows).order_by(reference_rows.c.id)).all()
        assert len(copied) == len(rows)
        assert [tuple(r) for r in copied] == [tuple(r) for r in expected]
    finally:
        vault.close()


def test_a_bulk_load_appends_in_id_order_and_reads_back(backend: Backend) -> None:
    network = generate(SynthConfig(patients=120, labs=3, seed=11))
    vault = Vault.create(backend.location, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests())
    try:
        for lab in network.labs:
            vault.add_lab(lab)
        loaded = [(p, network.specimens(p)) for p in network.patients()]
        assert vault.add_many(loaded) == len(loaded)
        with vault.engine.connect() as conn:
            ids = [r.id for r in conn.execute(select(patients_table.c.id))]
            spec_ids = [r.id for r in conn.execute(select(specimens_table.c.id))]
        # Generated in load order: sorted ids are the load order, so the load appended.
        assert [p.id for p, _ in loaded] == sorted(p.id for p, _ in loaded)
        assert sorted(ids) == [p.id for p, _ in loaded]
        assert {uuid.UUID(i).version for i in ids + spec_ids} == {7}
        for patient, specimens in loaded[::17]:
            assert vault.get(patient.id) == patient
            assert sorted(vault.specimens_of(patient.id), key=lambda s: s.id) == sorted(
                specimens, key=lambda s: s.id
            )
            if patient.nir:
                assert patient.id in {p.id for p in vault.find_by_nir(patient.nir)}
        assert vault.count() == len(loaded)
    finally:
        vault.close()


def test_new_record_ids_are_uuid7_and_grow_with_time() -> None:
    ids = [new_record_id() for _ in range(2_000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and uuid.UUID(i).version == 7 for i in ids)
    assert ids == sorted(ids)  # monotonic, even within one millisecond
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    assert abs(int(ids[-1][:12], 16) - now_ms) < 60_000  # the clock is the creation time
