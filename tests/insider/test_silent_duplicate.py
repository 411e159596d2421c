"""A receptionist's bearer token tries to register, through FHIR, a second record of a
person already known in another lab of the network (a silent duplicate).

Refused with 409 unless the request confirms it with a reason; the answer names the
reason only (no lab, no record id, no value of the other record); the attempt is in
the audit log; a blank or token reason does not pass for a confirmation.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "web"))

from fhir_support import BOB, FhirWorld, fhir_world, new_patient, nir

from etanche.audit import AuditLog, Outcome
from etanche.web.fhir._common import DUPLICATE_CONFIRMATION_URL


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirWorld]:
    with fhir_world(tmp_path_factory.mktemp("silent-duplicate")) as running:
        yield running


def _bob_in_l01(*extension: dict[str, Any]) -> dict[str, Any]:
    return new_patient(
        identifier=[{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": nir("2850729019125")}],
        name=[{"use": "official", "family": BOB.birth_name, "given": list(BOB.first_names)}],
        gender="female",
        birthDate=BOB.birth_date.isoformat(),
        extension=list(extension),
    )


def test_a_staff_token_cannot_create_a_silent_duplicate(world: FhirWorld) -> None:
    silent = world.post("rmorvan", "/fhir/Patient", _bob_in_l01())
    assert silent.status_code == 409
    for leak in ("L02", BOB.id, "Quimper", "+33612345678"):
        assert leak not in silent.text
    blank = {"url": DUPLICATE_CONFIRMATION_URL, "valueString": "   "}
    assert world.post("rmorvan", "/fhir/Patient", _bob_in_l01(blank)).status_code == 422
    token = {"url": DUPLICATE_CONFIRMATION_URL, "valueString": "ok"}
    assert world.post("rmorvan", "/fhir/Patient", _bob_in_l01(token)).status_code == 400

    state: Any = world.app.state.etanche
    state.core.trail.flush()
    log = AuditLog.for_vault(state.core.vault)
    mine = [e for _, e in log.events(action="patient.create") if e.actor == "rmorvan"]
    assert mine and all(e.outcome is not Outcome.OK for e in mine)  # nothing was created
    assert any(e.details.get("error") == "DuplicateUnconfirmed" for e in mine)
