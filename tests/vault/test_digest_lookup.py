"""Blind-index lookups for the leak room: by digest, live patients only, nothing decrypted."""

from __future__ import annotations

from etanche.domain import normalize_nir
from etanche.vault import NAME_DOB_INDEX, NIR_INDEX, Vault, name_dob_key


def test_patients_by_digest(loaded_vault: Vault) -> None:
    ids = loaded_vault.patient_ids()
    patients = [loaded_vault.get(i) for i in ids[:40]]
    with_nir = [p for p in patients if p.nir]
    digests = [loaded_vault.index_digest(NIR_INDEX, normalize_nir(p.nir or "")) for p in with_nir]
    found = loaded_vault.patients_by_digest(NIR_INDEX, digests)
    assert {pid for _, pid, _ in found} >= {p.id for p in with_nir}
    assert all(lab == loaded_vault.lab_of(pid) for _, pid, lab in found)
    first = patients[0]
    key = name_dob_key(first.birth_name, first.first_first_name, first.birth_date)
    digest = loaded_vault.index_digest(NAME_DOB_INDEX, key)
    assert first.id in {
        pid for _, pid, _ in loaded_vault.patients_by_digest(NAME_DOB_INDEX, [digest])
    }
    loaded_vault.erase(first.id)
    assert first.id not in {
        pid for _, pid, _ in loaded_vault.patients_by_digest(NAME_DOB_INDEX, [digest])
    }
    assert loaded_vault.patients_by_digest(NIR_INDEX, []) == []
