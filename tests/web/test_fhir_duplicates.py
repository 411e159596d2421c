"""FHIR Patient create refuses a silent second record of a known identity (409).

The same rule as the intake page: an identity already known here or in another lab
of the network (same NIR, or same birth name, first name and birth date) is refused
with an OperationOutcome naming the reason and no value, unless the request carries
the confirmation extension with a reason, which the service audits as the purpose.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fhir_support import ALICE, BOB, FhirWorld, fhir_world, new_patient, nir, outcome

from etanche.audit import AuditEvent, AuditLog, Outcome
from etanche.web.fhir._common import DUPLICATE_CONFIRMATION_URL


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirWorld]:
    with fhir_world(tmp_path_factory.mktemp("fhir-duplicates")) as running:
        yield running


def creations(world: FhirWorld) -> list[AuditEvent]:
    state: Any = world.app.state.etanche
    state.core.trail.flush()
    log = AuditLog.for_vault(state.core.vault)
    return [e for _, e in log.events(action="patient.create", limit=100_000)]


def alice_again(**changes: Any) -> dict[str, Any]:
    """Alice's identity (L01) sent again by a client that did not search first."""
    return new_patient(
        identifier=[{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": ALICE.nir}],
        name=[{"use": "official", "family": ALICE.birth_name, "given": ["Maëlle"]}],
        gender="female",
        birthDate=ALICE.birth_date.isoformat(),
        extension=[],
        **changes,
    )


def confirmed(doc: dict[str, Any], reason: str) -> dict[str, Any]:
    doc["extension"] = [{"url": DUPLICATE_CONFIRMATION_URL, "valueString": reason}]
    return doc


def test_a_known_identity_is_refused_with_a_409_naming_the_reason(world: FhirWorld) -> None:
    before = len(creations(world))
    answer = world.post("rmorvan", "/fhir/Patient", alice_again())
    issues = outcome(answer, 409)
    assert [i["code"] for i in issues] == ["duplicate"]
    assert "already known in the network" in issues[0]["diagnostics"]
    assert not any(c.isdigit() for c in issues[0]["diagnostics"])  # not even how many
    assert issues[0]["expression"] == ["Patient"]
    for value in (ALICE.nir, ALICE.birth_name, "Maëlle", ALICE.id, "1985"):
        assert value not in answer.text
    refused = creations(world)[before:]
    assert [e.outcome for e in refused] == [Outcome.FAILED]
    assert refused[0].details["error"] == "DuplicateUnconfirmed"
    assert refused[0].details["known"] == 2  # Alice (L01) and her homonym Bob (L02)


def test_an_identity_known_only_in_another_lab_is_refused_too(world: FhirWorld) -> None:
    # Bob's identity (L02, no NIR) typed in L01 with a new NIR: same name and birth date
    doc = new_patient(
        identifier=[{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": nir("2850729019124")}],
        name=[{"use": "official", "family": BOB.birth_name, "given": ["Maëlle"]}],
        gender="female",
        birthDate=BOB.birth_date.isoformat(),
        extension=[],
    )
    issues = outcome(world.post("rmorvan", "/fhir/Patient", doc), 409)
    assert "here or in another lab" in issues[0]["diagnostics"]


def test_a_confirmation_needs_a_real_reason_and_is_audited(world: FhirWorld) -> None:
    empty = outcome(world.post("rmorvan", "/fhir/Patient", confirmed(alice_again(), " ")), 422)
    assert empty[0]["expression"] == ["Patient.extension[0].valueString"]
    short = world.post("rmorvan", "/fhir/Patient", confirmed(alice_again(), "homonyme"))
    assert short.status_code == 400 and "reason of at least" in short.text
    before = len(creations(world))
    reason = "Homonyme vérifié sur pièce d'identité : autre personne"
    created = world.post("rmorvan", "/fhir/Patient", confirmed(alice_again(), reason))
    assert created.status_code == 201, created.text
    assert DUPLICATE_CONFIRMATION_URL not in created.text  # a request's word, not stored
    done = creations(world)[before:]
    assert [e.outcome for e in done] == [Outcome.OK]
    assert done[0].details["duplicate_confirmed"] is True
    assert done[0].purpose == f"duplicate confirmed: {reason}"
    assert done[0].object_ids == (created.json()["id"],)


def test_a_new_identity_needs_no_confirmation(world: FhirWorld) -> None:
    doc = new_patient(
        identifier=[{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": nir("1920556260019")}],
        name=[{"use": "official", "family": "Le Floc'h", "given": ["Erwan"]}],
    )
    assert world.post("rmorvan", "/fhir/Patient", doc).status_code == 201
