"""Revisions: bound in the associated data, logged per write, checked against the tables.

Runs on SQLite and PostgreSQL under both custodies (``vault`` of this folder).
The "operator" here edits rows with SQLAlchemy on the vault's engine, holding no
key; the log is a list of the batches the vault handed to its journal.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from etanche.domain import BloodGroup, Patient
from etanche.errors import IntegrityError
from etanche.synth import SynthConfig, generate
from etanche.vault import Ledger, Vault, Write, WriteBatch, decode_writes, patients_table
from etanche.vault._revisions import encode

COLUMNS = ("admin", "clinical", "admin_revision", "clinical_revision")


def _load(vault: Vault, patients: int = 24) -> tuple[list[Patient], list[WriteBatch]]:
    network = generate(SynthConfig(patients=patients, labs=2, seed=3))
    logged: list[WriteBatch] = []
    vault.record_writes(logged.append)
    for lab in network.labs:
        vault.add_lab(lab)
    vault.add_many((p, s) for batch in network.batches() for p, s in batch)
    return [p for p in network.patients() if p.clinical.blood_group], logged


def _ledger(logged: list[WriteBatch]) -> Ledger:
    ledger = Ledger()
    for batch in logged:
        ledger.add(decode_writes(batch.encoded))
    return ledger


def _row(vault: Vault, patient_id: str) -> dict[str, Any]:
    with vault.engine.connect() as conn:
        row = conn.execute(
            select(*(patients_table.c[c] for c in COLUMNS)).where(patients_table.c.id == patient_id)
        ).one()
    return dict(row._mapping)


def _write(vault: Vault, patient_id: str, **values: Any) -> None:
    """The operator's UPDATE: no key, straight to the table."""
    with vault.engine.begin() as conn:
        conn.execute(
            update(patients_table).where(patients_table.c.id == patient_id).values(**values)
        )


def _regrouped(patient: Patient) -> Patient:
    group = BloodGroup("AB", "-") if patient.clinical.blood_group != BloodGroup("AB", "-") else None
    return replace(patient, clinical=replace(patient.clinical, blood_group=group))


def test_an_older_ciphertext_written_back_fails_to_open(vault: Vault) -> None:
    mine, _ = _load(vault)
    patient = mine[0]
    before = _row(vault, patient.id)
    vault.update(_regrouped(patient))
    after = _row(vault, patient.id)
    assert after["clinical_revision"] == before["clinical_revision"] + 1
    _write(vault, patient.id, clinical=before["clinical"])
    with pytest.raises(IntegrityError, match=f"patients {patient.id} \\(clinical"):
        vault.get(patient.id)
    _write(vault, patient.id, clinical=after["clinical"], admin=before["admin"])
    with pytest.raises(IntegrityError, match="admin"):
        vault.get(patient.id)
    _write(vault, patient.id, admin=after["admin"], clinical=None)
    with pytest.raises(IntegrityError, match="clinical is NULL where revision 2 was written"):
        vault.get(patient.id)
    _write(vault, patient.id, clinical=after["clinical"])
    assert vault.get(patient.id) == _regrouped(patient)


def test_the_check_names_each_value_off_its_last_logged_write(vault: Vault) -> None:
    mine, logged = _load(vault)
    stale, nulled, rewound, deleted, unlogged = mine[:5]
    backup = {p.id: _row(vault, p.id) for p in (stale, rewound)}
    for patient in (stale, nulled, rewound):
        vault.update(_regrouped(patient))
    assert vault.check_revisions(_ledger(logged))[1] == []

    _write(vault, stale.id, clinical=backup[stale.id]["clinical"])
    _write(vault, nulled.id, clinical=None)
    _write(vault, rewound.id, **backup[rewound.id])  # blob and revision rewound together
    with vault.engine.begin() as conn:
        for table in ("patient_index", "specimens"):
            conn.exec_driver_sql(f"DELETE FROM {table} WHERE patient_id = '{deleted.id}'")
        conn.execute(delete(patients_table).where(patients_table.c.id == deleted.id))
    vault.record_writes(None)  # a write behind the service's back: never logged
    vault.update(_regrouped(unlogged))

    checked, findings = vault.check_revisions(_ledger(logged))
    assert checked == 2 * (len(list(generate(SynthConfig(24, 2, 3)).patients())) - 1)
    found = {(f.row_id, f.compartment): f.problem for f in findings}
    assert set(found) == {
        (stale.id, "clinical"),
        (nulled.id, "clinical"),
        (rewound.id, "admin"),
        (rewound.id, "clinical"),
        (deleted.id, "admin"),
        (deleted.id, "clinical"),
        (unlogged.id, "admin"),
        (unlogged.id, "clinical"),
    }
    assert found[(stale.id, "clinical")] == ("ciphertext is not the last logged write (revision 2)")
    assert found[(rewound.id, "clinical")] == "rolled back: revision 1 stored, 2 written last"
    assert found[(nulled.id, "clinical")] == "NULL stored where revision 2 was written"
    assert found[(deleted.id, "admin")] == "row missing (deleted)"
    assert found[(unlogged.id, "admin")] == ("ciphertext is not the last logged write (revision 1)")
    assert all(str(f).startswith(f"patients {f.row_id} {f.compartment}: ") for f in findings)


def test_updates_erasure_and_rotation_are_logged_writes(vault: Vault) -> None:
    mine, logged = _load(vault)
    vault.update(_regrouped(mine[0]))
    vault.erase(mine[1].id)
    report = vault.rotate_lab(mine[2].lab_id, batch_size=5)
    assert report.finished and report.rows > 5
    checked, findings = vault.check_revisions(_ledger(logged))
    assert findings == [] and checked > 0
    erased = _row(vault, mine[1].id)
    assert erased["admin"] is None and erased["admin_revision"] == 2
    rotated = _row(vault, mine[2].id)
    assert rotated["admin_revision"] == 2  # a re-encryption is a new revision
    assert vault.get(mine[2].id) == mine[2]
    _write(vault, mine[1].id, admin=rotated["admin"])  # a value where an erasure was logged
    assert [f.problem for f in vault.check_revisions(_ledger(logged))[1]] == [
        "a value stored where revision 2 erased it"
    ]


_ids = st.text(alphabet="0123456789abcdef", min_size=1, max_size=32)
_writes = st.builds(
    Write,
    _ids,
    st.sampled_from(["admin", "clinical"]),
    st.integers(min_value=0, max_value=10**9),
    st.one_of(st.none(), st.binary(min_size=32, max_size=32)),
)


@given(st.lists(_writes, max_size=20))
def test_logged_batches_decode_to_what_was_written(writes: list[Write]) -> None:
    batch = encode(writes)
    assert batch.count == len(writes) and list(decode_writes(batch.encoded)) == writes


@pytest.mark.parametrize(
    "text", ["x", "a,a,1", "a,z,1,-", "a,a,one,-", "a,a,1,!!", "a,a,1,AAAA", "a,a,1,-,x"]
)
def test_a_malformed_record_is_an_integrity_error(text: str) -> None:
    with pytest.raises(IntegrityError, match="malformed"):
        list(decode_writes(text))
