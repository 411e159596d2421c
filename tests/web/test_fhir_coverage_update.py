"""Insurance over FHIR: ``PUT /fhir/Coverage/amo-<id>`` and ``amc-<id>``.

The front desk replaces a patient's AMO or AMC coverage; the write is a
``patient.update`` kept in the record's history; bad codes answer 422 with the
FHIRPath of the field; another lab's patient is refused; a token needs both
``patient.read`` and ``patient.update``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fhir_support import ALICE, BOB, PASSPHRASE, FhirWorld, fhir_world, outcome, valid

from etanche.audit import AuditLog
from etanche.domain import Insurance
from etanche.vault import ALL_COMPARTMENTS, Vault, parse_location

CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
GROUP = {"coding": [{"system": CLASS, "code": "group"}]}
SUBGROUP = {"coding": [{"system": CLASS, "code": "subgroup"}]}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("coverage")


@pytest.fixture(scope="module")
def world(folder: Path) -> Iterator[FhirWorld]:
    with fhir_world(folder) as running:
        yield running


def _amo(patient_id: str, regime: str, caisse: str) -> dict[str, Any]:
    return {
        "resourceType": "Coverage",
        "id": f"amo-{patient_id}",
        "status": "active",
        "beneficiary": {"reference": f"Patient/{patient_id}"},
        "payor": [{"display": "AMO"}],
        "class": [
            {"type": GROUP, "value": regime},
            {"type": SUBGROUP, "value": caisse},
        ],
    }


def _amc(patient_id: str, name: str, member: str) -> dict[str, Any]:
    return {
        "resourceType": "Coverage",
        "status": "active",
        "beneficiary": {"reference": f"Patient/{patient_id}"},
        "payor": [{"display": name}],
        "subscriberId": member,
    }


def _put(world: FhirWorld, who: str, url: str, doc: dict[str, Any]) -> Any:
    headers = {**world.headers(who), "Content-Type": "application/fhir+json"}
    return world.client.put(url, json=doc, headers=headers)


def test_the_desk_replaces_amo_then_amc_and_the_history_keeps_it(
    world: FhirWorld, folder: Path
) -> None:
    done = _put(world, "rmorvan", f"/fhir/Coverage/amo-{ALICE.id}", _amo(ALICE.id, "02", "291"))
    assert done.status_code == 200, done.text
    valid(done.json())
    assert [c["value"] for c in done.json()["class"]] == ["02", "291"]
    amc = _put(
        world,
        "rmorvan",
        f"/fhir/Coverage/amc-{ALICE.id}",
        _amc(ALICE.id, "Mutuelle des Abers", "X1"),
    )
    assert amc.status_code == 200, amc.text
    assert amc.json()["payor"] == [{"display": "Mutuelle des Abers"}]
    read = world.get("rmorvan", f"/fhir/Coverage/amo-{ALICE.id}").json()
    assert [c["value"] for c in read["class"]] == ["02", "291"]
    world.app.state.etanche.core.trail.flush()
    with Vault.open(parse_location(str(folder / "vault")), PASSPHRASE) as vault:
        vault.unlock(ALL_COMPARTMENTS)
        cover = vault.get(ALICE.id).insurance
        history = vault.history(ALICE.id)
        updates = AuditLog.for_vault(vault).events(action="patient.update", object_id=ALICE.id)
    assert cover == Insurance("02", "291", "Mutuelle des Abers", "X1")
    assert [v.fields for v in history[-2:]] == [("insurance",), ("insurance",)]
    assert [e.actor for _, e in updates][-2:] == ["rmorvan", "rmorvan"]


def test_bad_codes_and_other_labs_are_refused(world: FhirWorld) -> None:
    issues = outcome(
        _put(world, "rmorvan", f"/fhir/Coverage/amo-{ALICE.id}", _amo(ALICE.id, "2", "29")), 422
    )
    assert {i["expression"][0] for i in issues} >= {"Coverage.class[group].value"}
    outcome(_put(world, "rmorvan", f"/fhir/Coverage/amo-{BOB.id}", _amo(BOB.id, "01", "291")), 403)
    outcome(
        _put(world, "rmorvan", f"/fhir/Coverage/xyz-{ALICE.id}", _amo(ALICE.id, "01", "291")), 404
    )
    # the lims token holds patient.search and patient.read, not patient.update
    outcome(_put(world, "lims", f"/fhir/Coverage/amo-{ALICE.id}", _amo(ALICE.id, "01", "291")), 403)
