"""What an attacker holding a copy of the storage gets: nothing usable.

Run on SQLite (database file, WAL included) and on PostgreSQL (pg_dump output).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from conftest import Backend
from etanche.crypto import Context, open_sealed
from etanche.domain import Patient
from etanche.errors import IntegrityError, KeyNotFound, RecordNotFound
from etanche.synth import SynthNetwork
from etanche.vault import Vault
from etanche.vault._schema import patients, specimens


def people(network: SynthNetwork) -> list[Patient]:
    return [p for batch in network.batches() for p, _ in batch]


def personal_values(patient: Patient) -> list[str]:
    """Every personal value worth looking for in raw storage."""
    values = [patient.birth_name, *patient.first_names, *patient.phones, *patient.emails]
    values += [patient.nir or "", patient.used_name or ""]
    values += [f"0{p[3:]}" for p in patient.phones if p.startswith("+33")]
    values += [a.line for a in patient.addresses]
    clinical = patient.clinical
    values += [*clinical.comments, *clinical.pathologies]
    values += [t.name for t in clinical.treatments]
    return [v for v in values if len(v) >= 5]


def found_in(raw: bytes, value: str) -> bool:
    encoded = value.encode("utf-8")
    # pg_dump writes bytea as hex: look for the hex form as well as the raw bytes
    return encoded in raw or encoded.hex().encode() in raw


def test_raw_storage_holds_no_personal_value(
    loaded_vault: Vault, backend: Backend, small_network: SynthNetwork
) -> None:
    raw = backend.raw_bytes()
    assert len(raw) > 50_000
    checked = 0
    leaked = []
    for patient in people(small_network):
        for value in personal_values(patient):
            checked += 1
            if found_in(raw, value):
                leaked.append(f"patient {patient.id}")
    assert checked > 1_500
    assert leaked == []
    # terms of at least 6 bytes: a shorter string turns up by chance in random ciphertext
    for term in ("grossesse", "enceinte", "Patient VIH", "diabète", "cancer", "metformine"):
        assert not found_in(raw, term), term


def test_the_raw_check_would_see_clear_values(backend: Backend, loaded_vault: Vault) -> None:
    """Guard against a check that cannot fail: clear text written in a column is found."""
    with loaded_vault.engine.begin() as conn:
        conn.execute(update(patients).values(lab_id=patients.c.lab_id))  # touch rows
        conn.exec_driver_sql("CREATE TABLE canary_probe (v TEXT)")
        conn.exec_driver_sql("INSERT INTO canary_probe VALUES ('Grossesse-Canari-17')")
    if backend.name == "sqlite":
        with loaded_vault.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    assert found_in(backend.raw_bytes(), "Grossesse-Canari-17")


def _row(vault: Vault, patient_id: str):  # type: ignore[no-untyped-def]
    with vault.engine.connect() as conn:
        return conn.execute(select(patients).where(patients.c.id == patient_id)).one()


def test_flipped_byte_is_an_integrity_error(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    target = people(small_network)[5]
    blob = bytearray(_row(loaded_vault, target.id).admin)
    blob[len(blob) // 2] ^= 0x40
    with loaded_vault.engine.begin() as conn:
        conn.execute(update(patients).where(patients.c.id == target.id).values(admin=bytes(blob)))
    with pytest.raises(IntegrityError, match=f"patients {target.id}") as info:
        loaded_vault.get(target.id)
    assert target.birth_name not in str(info.value)


@pytest.mark.parametrize("column", ["admin", "clinical", "admin_key"])
def test_swapped_ciphertexts_are_integrity_errors(
    loaded_vault: Vault, small_network: SynthNetwork, column: str
) -> None:
    same_lab = [p for p in people(small_network) if p.lab_id == small_network.labs[0].id]
    a, b = same_lab[0], same_lab[1]
    row_a, row_b = _row(loaded_vault, a.id), _row(loaded_vault, b.id)
    with loaded_vault.engine.begin() as conn:
        conn.execute(
            update(patients).where(patients.c.id == a.id).values({column: row_b._mapping[column]})
        )
        conn.execute(
            update(patients).where(patients.c.id == b.id).values({column: row_a._mapping[column]})
        )
    for victim in (a, b):
        with pytest.raises(IntegrityError):
            loaded_vault.get(victim.id)


def test_specimen_moved_to_another_patient_fails(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    first, second = people(small_network)[:2]
    with loaded_vault.engine.begin() as conn:
        spec = conn.execute(select(specimens).where(specimens.c.patient_id == first.id)).first()
        conn.execute(
            update(specimens).where(specimens.c.id == spec.id).values(patient_id=second.id)
        )
    with pytest.raises(IntegrityError, match="specimens"):
        loaded_vault.specimens_of(second.id)


def test_erased_patient_cannot_be_decrypted_even_with_every_key(
    loaded_vault: Vault, backend: Backend, small_network: SynthNetwork
) -> None:
    victim = next(p for p in people(small_network) if p.nir and p.phones)
    before = _row(loaded_vault, victim.id)
    loaded_vault.erase(victim.id)
    after = _row(loaded_vault, victim.id)
    assert after.admin_key is None and after.clinical_key is None and after.admin is None
    assert after.erased_at is not None
    with pytest.raises(RecordNotFound, match="erased"):
        loaded_vault.get(victim.id)
    assert loaded_vault.find_by_nir(victim.nir or "") == []
    assert loaded_vault.find_by_phone(victim.phones[0]) == []
    # An attacker with an old copy of the ciphertext and every key of the vault:
    ring = loaded_vault._ring
    every_key = list(ring._keys.values())
    context = Context("patients", victim.id, victim.lab_id, "admin", before.key_version)
    for key in every_key:
        with pytest.raises(IntegrityError):
            open_sealed(key, before.admin, context)
    with pytest.raises(KeyNotFound, match="shredded"):
        ring.unwrap_patient_key(
            after.admin_key, victim.id, victim.lab_id, "admin", after.key_version
        )
    # and the wrapped patient key is gone from the storage itself
    raw = backend.raw_bytes()
    assert before.admin_key not in raw and before.admin_key.hex().encode() not in raw
