"""Revision 0013 (retention purge): rows written before it get their day on the first purge."""

from __future__ import annotations

from datetime import date

from alembic import command
from sqlalchemy import select, update

from conftest import PASSPHRASE, Backend
from etanche.crypto import KdfCost
from etanche.synth import SynthConfig, generate
from etanche.vault import ALL_COMPARTMENTS, Vault, expired_patients, fill_clocks, patients_table
from etanche.vault._store import _alembic_config


def test_downgrade_upgrade_and_fill_the_clocks(backend: Backend) -> None:
    network = generate(SynthConfig(patients=8, labs=2, seed=2))
    store = Vault.create(backend.location, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests())
    with store:
        for lab in network.labs:
            store.add_lab(lab)
        store.add_many((p, s) for b in network.batches() for p, s in b)
        with store.engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "0011")  # the tables of before
        with store.engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "head")
        with store.engine.connect() as conn:
            days = conn.execute(select(patients_table.c.last_visit_on)).scalars().all()
        assert days and set(days) == {None}
        assert expired_patients(store, date(2100, 1, 1)) == []  # unknown clocks: nothing goes
        reader = store.session(ALL_COMPARTMENTS)
        assert fill_clocks(reader) == len(days)
        with store.engine.connect() as conn:
            rows = conn.execute(select(patients_table.c.id, patients_table.c.last_visit_on)).all()
        for row in rows:
            patient = reader.get(row.id)
            assert row.last_visit_on is not None
            assert patient.last_visit in (None, row.last_visit_on)
        assert len(expired_patients(store, date(2100, 1, 1))) == len(days)
        with store.engine.begin() as conn:
            conn.execute(update(patients_table).values(last_visit_on=None))
        assert fill_clocks(reader) == len(days)
