"""The vault's operations, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from conftest import PASSPHRASE, Backend, mode_of
from etanche.crypto import KdfCost
from etanche.domain import Compartment, Lab, Specimen
from etanche.errors import (
    KeyNotFound,
    RecordNotFound,
    UsageError,
    ValidationError,
    VaultExists,
    VaultNotFound,
    WrongPassphrase,
)
from etanche.synth import SynthNetwork
from etanche.vault import Vault, new_record_id, parse_location


def everyone(network: SynthNetwork) -> list[tuple]:
    return [item for batch in network.batches() for item in batch]


def test_every_patient_reads_back_equal(loaded_vault: Vault, small_network: SynthNetwork) -> None:
    for patient, specimens in everyone(small_network):
        assert loaded_vault.get(patient.id) == patient
        assert sorted(loaded_vault.specimens_of(patient.id), key=lambda s: s.id) == sorted(
            specimens, key=lambda s: s.id
        )


def test_finds_by_each_index(loaded_vault: Vault, small_network: SynthNetwork) -> None:
    checked = 0
    for patient, _ in everyone(small_network)[:60]:
        if patient.nir:
            assert patient in loaded_vault.find_by_nir(patient.nir)
        found = loaded_vault.find_by_name(
            patient.birth_name.upper(), patient.first_first_name.lower(), patient.birth_date
        )
        assert patient in found
        for phone in patient.phones:
            assert patient in loaded_vault.find_by_phone(phone)
        for email in patient.emails:
            assert patient in loaded_vault.find_by_email(email.upper())
        checked += 1
    assert checked == 60
    assert loaded_vault.find_by_nir("180017512345601") == []


def test_list_specimens_by_lab_and_date(loaded_vault: Vault, small_network: SynthNetwork) -> None:
    lab = small_network.labs[0].id
    start, end = date(2017, 1, 1), date(2018, 12, 31)
    expected = sorted(
        s.id
        for _, specimens in everyone(small_network)
        for s in specimens
        if s.lab_id == lab and start <= s.collected_at.date() <= end
    )
    got = sorted(s.id for s in loaded_vault.list_specimens(lab, start, end))
    assert got == expected and expected


def test_update_reindexes(loaded_vault: Vault, small_network: SynthNetwork) -> None:
    patient = next(p for p, _ in everyone(small_network) if p.phones)
    changed = dataclasses.replace(patient, phones=("+33298123456",), birth_name="Nouveau-Nom")
    loaded_vault.update(changed)
    assert loaded_vault.get(patient.id) == changed
    assert changed in loaded_vault.find_by_phone("02 98 12 34 56")
    assert patient.id not in {p.id for p in loaded_vault.find_by_phone(patient.phones[0])}


def test_bulk_add_is_all_or_nothing(vault: Vault, small_network: SynthNetwork) -> None:
    for lab in small_network.labs:
        vault.add_lab(lab)
    items = everyone(small_network)[:50]
    bad = dataclasses.replace(
        items[30][0], nir=items[30][0].nir[:-2] + "00" if items[30][0].nir else "1"
    )
    items[30] = (bad, items[30][1])
    with pytest.raises(ValidationError) as info:
        vault.add_many(items)
    assert "nir" in str(info.value)
    assert vault.count() == 0


def test_unknown_lab_writes_nothing(vault: Vault, small_network: SynthNetwork) -> None:
    vault.add_lab(small_network.labs[0])
    patient = dataclasses.replace(everyone(small_network)[0][0], lab_id="L99")
    with pytest.raises(RecordNotFound, match="lab L99"):
        vault.add(patient)
    assert vault.count() == 0


def test_specimen_for_erased_patient_refused(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    patient, specimens = everyone(small_network)[3]
    loaded_vault.erase(patient.id)
    spec = Specimen(
        new_record_id(), patient.id, patient.lab_id, "X1", specimens[0].collected_at, "urine"
    )
    with pytest.raises(RecordNotFound, match="erased"):
        loaded_vault.add_specimen(spec)
    with pytest.raises(RecordNotFound):
        loaded_vault.erase(patient.id)


def test_reception_session_never_holds_clinical_keys(
    loaded_vault: Vault, reopen: Callable[..., Vault], small_network: SynthNetwork
) -> None:
    patient = next(p for p, _ in everyone(small_network) if p.clinical.blood_group)
    with reopen((Compartment.ADMIN,)) as reception:
        assert not reception.holds(Compartment.CLINICAL)
        assert all(purpose != "clinical" for (_, purpose, _) in reception._ring._keys)
        seen = reception.get(patient.id)
        assert seen.clinical.blood_group is None and seen.birth_name == patient.birth_name
        with pytest.raises(UsageError, match="clinical compartment"):
            reception.add(dataclasses.replace(patient, id=new_record_id()))
        with pytest.raises(KeyNotFound, match="not open"):
            reception._ring.key(patient.lab_id, "clinical", 1)
        reception.update(dataclasses.replace(seen, used_name="Autre"))
    assert loaded_vault.get(patient.id).clinical == patient.clinical  # untouched


def test_lab_rotation_is_resumable_and_online(
    loaded_vault: Vault, reopen: Callable[..., Vault], small_network: SynthNetwork
) -> None:
    lab = small_network.labs[0].id
    members = [p for p, _ in everyone(small_network) if p.lab_id == lab]
    report = loaded_vault.rotate_lab(lab, batch_size=10, max_batches=2)
    assert report.rows == 20 and not report.finished and report.to_version == 2
    # "crash": a fresh session reads old and new versions alike, and can add patients
    with reopen() as other:
        assert all(other.get(p.id) == p for p in members)
        newcomer = dataclasses.replace(members[0], id=new_record_id(), nir=None)
        other.add(newcomer)
    resumed = loaded_vault.rotate_lab(lab, batch_size=25)
    assert resumed.finished and resumed.to_version == 2
    assert resumed.rows == len(members) - 20
    with reopen() as fresh:
        assert all(fresh.get(p.id) == p for p in members)
        assert not fresh._ring.has(lab, "admin", 1)  # old lab key shredded
        assert fresh.specimens_of(members[0].id) == loaded_vault.specimens_of(members[0].id)


def test_kek_rotation_keeps_everything_readable(
    loaded_vault: Vault, reopen: Callable[..., Vault], small_network: SynthNetwork
) -> None:
    before = loaded_vault._ring.provider.active_kek_id
    new_id, count = loaded_vault.rotate_kek()
    assert new_id != before and count == 3 + 2 * len(small_network.labs)  # 3 network keys
    with reopen() as fresh:
        assert fresh._ring.provider.active_kek_id == new_id
        assert before not in getattr(fresh._ring.provider, "kek_ids", ())
        for patient, _ in everyone(small_network):
            assert fresh.get(patient.id) == patient


def test_open_errors(backend: Backend, tmp_path) -> None:
    if backend.name == "sqlite":
        with pytest.raises(VaultNotFound, match="run `etanche init`"):
            Vault.open(backend.location, PASSPHRASE)
    Vault.create(backend.location, PASSPHRASE).close()
    with pytest.raises(VaultExists):
        Vault.create(backend.location, PASSPHRASE)
    with pytest.raises(WrongPassphrase, match="passphrase"):
        Vault.open(backend.location, "this is the wrong passphrase")
    missing_keys = dataclasses.replace(backend.location, keyfile=tmp_path / "nope.json")
    with pytest.raises(VaultNotFound, match="key file"):
        Vault.open(missing_keys, PASSPHRASE)


def test_lab_requires_all_compartments(backend: Backend) -> None:
    Vault.create(backend.location, PASSPHRASE).close()
    reception = Vault.open(backend.location, PASSPHRASE, compartments=(Compartment.ADMIN,))
    with reception, pytest.raises(UsageError, match="clinical"):
        reception.add_lab(Lab("L01", "Lab", "350000000", "Rennes"))


def test_location_parsing(tmp_path) -> None:
    assert parse_location(str(tmp_path)).is_sqlite
    under_custody = parse_location("postgresql://u@h/db")  # the service needs no key file
    assert under_custody.keyfile is None
    with pytest.raises(UsageError, match="keyfile"):
        Vault.open(under_custody, PASSPHRASE)
    with pytest.raises(UsageError, match="directory or a postgresql"):
        parse_location("mysql://u@h/db")
    loc = parse_location("postgresql://u:secret@h/db", tmp_path / "k.json")
    assert "secret" not in loc.describe()


def test_bulk_add_in_worker_processes(vault: Vault, small_network: SynthNetwork) -> None:
    for lab in small_network.labs:
        vault.add_lab(lab)
    items = everyone(small_network)
    assert vault.add_many(items, workers=2) == len(items)
    for patient, specimens in items[::7]:
        assert vault.get(patient.id) == patient
        assert {s.id for s in vault.specimens_of(patient.id)} == {s.id for s in specimens}
    assert items[0][0] in vault.find_by_nir(items[0][0].nir or "") or not items[0][0].nir


def test_bulk_add_in_workers_is_all_or_nothing(vault: Vault, small_network: SynthNetwork) -> None:
    for lab in small_network.labs:
        vault.add_lab(lab)
    items = everyone(small_network)
    victim = next(i for i, (p, _) in enumerate(items) if p.nir)
    bad = dataclasses.replace(items[victim][0], nir=(items[victim][0].nir or "")[:-2] + "00")
    items[victim] = (bad, items[victim][1])
    with pytest.raises(ValidationError) as info:
        vault.add_many(items, workers=2)
    assert info.value.field == "nir"
    assert vault.count() == 0


@pytest.mark.parametrize("exists", [False, True], ids=["new-folder", "existing-empty-folder"])
def test_sqlite_vault_files_are_private_whatever_the_umask(
    umask_022: None, tmp_path: Path, small_network: SynthNetwork, exists: bool
) -> None:
    folder = tmp_path / "vault"
    if exists:
        folder.mkdir(mode=0o755)
    location = parse_location(str(folder))
    with Vault.create(location, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests()) as store:
        store.add_lab(small_network.labs[0])  # a write: the WAL and its index exist now
        database = location.sqlite_path
        companions = [database.with_name(database.name + s) for s in ("-wal", "-shm")]
        assert all(c.exists() for c in companions)
        assert mode_of(folder) == 0o700
        for path in (database, location.keyfile, *companions):
            assert mode_of(path) == 0o600, path.name
        journal = database.with_name(database.name + "-journal")
        assert not journal.exists() or mode_of(journal) == 0o600
    assert sorted(p.name for p in folder.iterdir() if mode_of(p) != 0o600) == []
