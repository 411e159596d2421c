"""Earlier versions of a record: kept on update under the patient keys, re-sealed on rotation."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select

from etanche.synth import SynthNetwork
from etanche.vault import Change, Vault, versions_table


def test_history_survives_a_lab_key_rotation_and_goes_with_an_erasure(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    patient = next(iter(small_network.patients()))
    vault = loaded_vault
    vault.update(replace(patient, used_name="Le Floch"), change=Change("rdesk", "Mariage", "DR-1"))
    vault.update(
        replace(patient, used_name="Le Floch", phones=("+33298000000",)), change=Change("rdesk")
    )
    before = vault.history(patient.id)
    assert [(v.seq, v.by, v.reason, v.request_id) for v in before] == [
        (1, "rdesk", "Mariage", "DR-1"),
        (2, "rdesk", None, None),
    ]
    assert before[0].fields == ("used_name",) and before[1].fields == ("phones",)
    vault.update(replace(patient, used_name="Le Floch", phones=("+33298000000",)))
    assert len(vault.history(patient.id)) == 2  # nothing changed: no version
    vault.rotate_lab(patient.lab_id, batch_size=50)
    assert vault.history(patient.id) == before
    vault.erase(patient.id)
    with vault.engine.connect() as conn:
        table = versions_table
        left = conn.execute(
            select(func.count()).select_from(table).where(table.c.patient_id == patient.id)
        ).scalar()
    assert left == 0
