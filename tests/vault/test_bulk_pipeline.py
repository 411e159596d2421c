"""The bulk load's pipeline: a sealing worker hands the writer rows ready for the driver.

The patients land sealed and indexed as an inline load would do it, lookups find
them, and the revision log gets every write (computed in the worker).
"""

from __future__ import annotations

from conftest import PASSPHRASE, Backend
from etanche.crypto import KdfCost
from etanche.synth import SynthNetwork
from etanche.vault import Ledger, Vault, WriteBatch
from etanche.vault._revisions import decode


def _ledger(logged: list[WriteBatch]) -> Ledger:
    ledger = Ledger()
    for batch in logged:
        ledger.add(decode(batch.encoded))
    return ledger


def test_a_worker_seals_indexes_and_logs_every_write(
    backend: Backend, small_network: SynthNetwork
) -> None:
    with Vault.create(backend.location, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests()) as vault:
        for lab in small_network.labs:
            vault.add_lab(lab)
        logged: list[WriteBatch] = []
        vault.record_writes(logged.append)
        items = [(p, s) for batch in small_network.batches() for p, s in batch]
        assert vault.add_many(items, workers=1) == len(items)

        writes = [w for batch in logged for w in decode(batch.encoded)]
        assert {w.row_id for w in writes} == {p.id for p, _ in items}
        # the session holds both compartments: an admin and a clinical write per patient
        assert sorted((w.compartment, w.revision) for w in writes) == sorted(
            [("admin", 1), ("clinical", 1)] * len(items)
        )
        assert all(w.digest is not None for w in writes)
        assert vault.check_revisions(_ledger(logged))[1] == []

        for patient, specimens in items[::11]:
            if patient.nir:
                assert patient in vault.find_by_nir(patient.nir)
            found = vault.find_by_name(
                patient.birth_name, patient.first_first_name, patient.birth_date
            )
            assert patient in found
            for phone in patient.phones:
                assert patient in vault.find_by_phone(phone)
            assert vault.get(patient.id) == patient
            assert {s.id for s in vault.specimens_of(patient.id)} == {s.id for s in specimens}
