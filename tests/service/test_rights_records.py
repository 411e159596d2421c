"""What the answers do to records: rectification history, restriction, erasure of the history."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from _rights import (
    BIOLOGIST,
    LAB,
    RECEPTION,
    core_of,
    created,
    created_in_error,
    first_patient,
    patients,
    rights,
)
from etanche.crypto import AgeIdentity
from etanche.domain import BloodGroup
from etanche.errors import PermissionDenied
from etanche.leak.trace import DEFAULT_MARKS
from etanche.leak.trace._export import ExportRequest, write_export
from etanche.service import Core
from etanche.vault import ALL_COMPARTMENTS, versions_table

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


@pytest.fixture
def core(tmp_path: Path) -> object:
    with core_of(created(tmp_path)) as opened:
        yield opened


def test_rectification_keeps_the_earlier_version_with_reason_and_request(core: Core) -> None:
    request = rights(core).add("rectification", contact="x", now=NOW)
    desk = patients(core, RECEPTION)
    patient = desk.get(first_patient().id)
    desk.update(
        replace(patient, birth_name="Le Gall", used_name="Morvan"),
        reason="Nom de naissance mal orthographié (pièce d'identité)",
        request_id=request.id,
    )
    history = desk.history(patient.id)
    assert len(history) == 1
    version = history[0]
    assert version.by == RECEPTION.username
    assert version.reason == "Nom de naissance mal orthographié (pièce d'identité)"
    assert version.request_id == request.id
    # a changed strict trait also sends a validated identity back to provisoire (RNIV)
    assert set(version.fields) - {"identity_status", "identity_downgrade"} == {
        "birth_name",
        "used_name",
    }
    assert desk.get(patient.id).birth_name == "Le Gall"


def test_clinical_changes_are_listed_only_to_who_holds_the_clinical_key(core: Core) -> None:
    bio = patients(core, BIOLOGIST)
    patient = bio.get(first_patient().id)
    bio.update(
        replace(patient, clinical=replace(patient.clinical, blood_group=BloodGroup("AB", "-"))),
        reason="Groupe sanguin saisi sur le mauvais dossier",
    )
    assert bio.history(patient.id)[-1].fields == ("clinical.blood_group",)
    seen_by_desk = patients(core, RECEPTION).history(patient.id)
    assert seen_by_desk[-1].fields == () and seen_by_desk[-1].reason is not None


def test_history_sits_under_the_patient_keys_and_goes_with_an_erasure(core: Core) -> None:
    patient_id = created_in_error(core)
    desk = patients(core, RECEPTION)
    patient = desk.get(patient_id)
    desk.update(replace(patient, birth_name="Quéméner"), reason="Erreur de saisie")
    with core.vault.engine.connect() as conn:
        rows = conn.execute(select(versions_table)).all()
    assert rows and all(b"Erreur de saisie" not in bytes(r.admin) for r in rows)
    assert all(patient.birth_name.encode() not in bytes(r.admin) for r in rows)
    request = rights(core).add("erasure", contact="x", patient_id=patient_id, now=NOW)
    rights(core).verify_identity(request.id, "passport", now=NOW)
    assert rights(core).close(request.id, "granted", now=NOW).body["outcome"] == "granted"
    with core.vault.engine.connect() as conn:
        left = conn.execute(
            select(versions_table).where(versions_table.c.patient_id == patient_id)
        ).all()
    assert left == []


def _restricted(core: Core) -> tuple[str, str]:
    patient = first_patient()
    desk = rights(core)
    request = desk.add("restriction", contact="x", patient_id=patient.id, now=NOW)
    desk.verify_identity(request.id, "id_card", now=NOW)
    desk.close(request.id, "granted", now=NOW)
    return request.id, patient.id


def test_a_restricted_record_is_read_but_not_updated_or_given_specimens(core: Core) -> None:
    request_id, patient_id = _restricted(core)
    for actor in (RECEPTION, BIOLOGIST):
        desk = patients(core, actor)
        patient = desk.get(patient_id)
        assert desk.restricted(patient_id)
        with pytest.raises(PermissionDenied, match="restricted"):
            desk.update(replace(patient, birth_name="Autre"), reason="x")
    with pytest.raises(PermissionDenied, match="restricted"):
        patients(core, BIOLOGIST).erase(patient_id)
    rights(core).lift(request_id)
    desk = patients(core, RECEPTION)
    assert not desk.restricted(patient_id)
    desk.update(replace(desk.get(patient_id), birth_name="Autre"), reason="Après levée")


def test_a_restricted_record_leaves_in_no_export(core: Core, tmp_path: Path) -> None:
    _, patient_id = _restricted(core)
    asked = ExportRequest(
        lab_id=LAB,
        recipient="Labo B",
        recipient_key=AgeIdentity.generate().public_text(),
        purpose="test",
        fmt="csv",
        out=tmp_path / "export.age",
        marks=DEFAULT_MARKS,
    )
    entry = write_export(core.vault.session(ALL_COMPARTMENTS), asked)
    assert entry.rows and patient_id not in entry.rows
