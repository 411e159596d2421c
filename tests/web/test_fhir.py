"""The FHIR R4 API end to end: round trips, validation, policy, audit, errors.

Every resource the API returns is validated again here with fhir.resources
(``valid``, ``entries``), whatever the route.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fhir_support import (
    ALICE,
    ALICE_SPECIMEN,
    BOB,
    NIA_SYSTEM,
    NIR_SYSTEM,
    RPPS,
    RPPS_SYSTEM,
    FhirWorld,
    entries,
    fhir_world,
    new_patient,
    new_specimen,
    nir,
    outcome,
    valid,
)

from etanche.web.fhir import (
    _audit_event,
    _coverage,
    _observation,
    _patient,
    _specimen,
    operation_outcome,
)
from etanche.web.fhir._capability import INTERACTIONS, SEARCH_TYPES


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirWorld]:
    with fhir_world(tmp_path_factory.mktemp("fhir")) as running:
        yield running


def codes(issues: list[dict[str, Any]]) -> set[str]:
    return {issue["code"] for issue in issues}


def expressions(issues: list[dict[str, Any]]) -> set[str]:
    return {e for issue in issues for e in issue.get("expression", [])}


# -- capability and authentication -------------------------------------------------
def test_metadata_is_public_and_lists_what_the_routes_accept(world: FhirWorld) -> None:
    response = world.get(None, "/fhir/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    statement = response.json()
    valid(statement)
    assert statement["fhirVersion"] == "4.0.1"
    served = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(served) == {"Patient", "Specimen", "Observation", "Coverage", "AuditEvent"}
    assert [i["code"] for i in served["Patient"]["interaction"]] == [
        "read",
        "search-type",
        "create",
    ]
    declared = {
        "Patient": _patient.SEARCH_PARAMS,
        "Specimen": _specimen.SEARCH_PARAMS,
        "Observation": _observation.SEARCH_PARAMS,
        "Coverage": _coverage.SEARCH_PARAMS,
        "AuditEvent": tuple(p for p in _audit_event.SEARCH_PARAMS if p != "_count"),
    }
    for kind, params in declared.items():
        assert {p["name"] for p in served[kind]["searchParam"]} == set(params), kind
        assert set(SEARCH_TYPES[kind]) == set(params)
        assert kind in INTERACTIONS


@pytest.mark.parametrize(
    "path",
    [
        "/fhir/Patient",
        f"/fhir/Patient/{ALICE.id}",
        "/fhir/AuditEvent",
        "/fhir/Nope",
    ],
)
def test_without_a_valid_bearer_token_every_route_answers_401(world: FhirWorld, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer etk_forged"}, {"Authorization": "Basic eA=="}):
        response = world.client.get(path, headers=headers)
        assert codes(outcome(response, 401)) == {"login"}
        assert response.headers["www-authenticate"].startswith("Bearer")
    create = world.client.post("/fhir/Patient", json=new_patient())
    assert codes(outcome(create, 401)) == {"login"}
    assert codes(outcome(world.search(None, "Patient", phone="0612345678"), 401)) == {"login"}


# -- Patient -----------------------------------------------------------------------
def test_patient_create_read_and_search_by_each_parameter(world: FhirWorld) -> None:
    created = world.post("rmorvan", "/fhir/Patient", new_patient())
    assert created.status_code == 201, created.text
    patient = created.json()
    valid(patient)
    location = created.headers["location"]
    assert location == f"http://testserver/fhir/Patient/{patient['id']}"

    read = world.client.get(location, headers=world.headers("rmorvan"))
    assert read.status_code == 200
    assert read.headers["content-type"].startswith("application/fhir+json")
    got = read.json()
    valid(got)
    assert got == patient
    identifier = got["identifier"][0]
    assert identifier["system"] == NIR_SYSTEM
    assert identifier["value"] == nir("1920556260017")
    assert identifier["type"]["coding"][0]["code"] == "INS-NIR"
    assert {n["use"]: n["family"] for n in got["name"]} == {
        "official": "Guillou",
        "usual": "Guillou-Tanguy",
    }
    assert got["name"][0]["given"] == ["Erwan", "Pierre"]
    assert got["gender"] == "male"
    assert got["birthDate"] == "1992-05-03"
    assert {(t["system"], t["value"]) for t in got["telecom"]} == {
        ("phone", "+33698765432"),
        ("email", "erwan.guillou@example.org"),
    }
    status = got["extension"][0]["extension"][0]["valueCoding"]["code"]
    assert status == "PROV"  # a claimed VALI without its document check is not taken (RNIV)
    assert got["extension"][1]["valueAddress"]["district"] == "56260"
    assert got["managingOrganization"] == {"reference": "Organization/L01"}
    assert got["contained"][0]["identifier"][0]["value"] == RPPS
    assert got["address"][0]["postalCode"] == "29200"

    searches: list[dict[str, str]] = [
        {"identifier": f"{NIR_SYSTEM}|{nir('1920556260017')}"},
        {"identifier": nir("1920556260017")},
        {"family": "GUILLOU", "given": "erwan", "birthdate": "1992-05-03"},
        {"phone": "+33 6 98 76 54 32"},
        {"email": "Erwan.Guillou@example.org"},
        {"telecom": "phone|0698765432"},
        {"telecom": "email|erwan.guillou@example.org"},
        {"phone": "0698765432", "family": "Guillou-Tanguy"},
    ]
    for params in searches:
        found = entries(world.search("rmorvan", "Patient", **params))
        assert [p["id"] for p in found] == [patient["id"]], params
    assert entries(world.search("rmorvan", "Patient", phone="0698765432", given="Yann")) == []
    assert (
        entries(
            world.search("rmorvan", "Patient", identifier=f"{NIA_SYSTEM}|{nir('1920556260017')}")
        )
        == []
    )
    assert entries(world.search("rmorvan", "Patient", identifier="urn:oid:9.9|123")) == []


def test_patient_search_parameters_never_travel_in_a_url(world: FhirWorld) -> None:
    """URLs land in proxy and access logs: a GET search is refused, telling to POST _search."""
    for params in (
        {"identifier": f"{NIR_SYSTEM}|{ALICE.nir}"},
        {"family": "Le Bihan", "given": "Maëlle", "birthdate": "1985-07-14"},
        {"phone": "0612345678"},
        {},
    ):
        issues = outcome(world.get("rmorvan", "/fhir/Patient", **params), 400)
        assert codes(issues) == {"not-supported"}, params
        assert "POST" in issues[0]["diagnostics"] and "_search" in issues[0]["diagnostics"]
    # nor in the URL of a POST _search
    in_url = world.client.post(
        "/fhir/Patient/_search?phone=0612345678",
        data={"email": "x@example.org"},
        headers=world.headers("rmorvan"),
    )
    assert expressions(outcome(in_url, 400)) == {"phone"}
    as_json = world.client.post(
        "/fhir/Patient/_search", json={"phone": "0612345678"}, headers=world.headers("rmorvan")
    )
    assert expressions(outcome(as_json, 400)) == {"Content-Type"}


def test_a_search_bundle_links_to_no_searched_value(world: FhirWorld) -> None:
    assert ALICE.nir is not None
    for params in (
        {"identifier": f"{NIR_SYSTEM}|{ALICE.nir}"},
        {"family": "Le Bihan", "given": "Maëlle", "birthdate": "1985-07-14"},
    ):
        bundle = world.search("rmorvan", "Patient", **params).json()
        assert [e["resource"]["id"] for e in bundle["entry"]] == [ALICE.id]
        links = [link["url"] for link in bundle["link"]]
        assert links == ["http://testserver/fhir/Patient/_search"]
    specimens = world.get("bjaouen", "/fhir/Specimen", patient=ALICE.id).json()
    assert [link["url"] for link in specimens["link"]] == ["http://testserver/fhir/Specimen"]


def test_a_temporary_number_is_an_ins_nia(world: FhirWorld) -> None:
    nia = nir("7920599123045")
    other = [{"use": "official", "family": "Nédélec", "given": ["Erwan"]}]  # a new identity
    doc = new_patient(identifier=[{"system": NIA_SYSTEM, "value": nia}], name=other)
    doc["extension"] = doc["extension"][:1]
    created = world.post("rmorvan", "/fhir/Patient", doc)
    assert created.status_code == 201, created.text
    identifier = created.json()["identifier"][0]
    assert identifier["system"] == NIA_SYSTEM
    assert identifier["type"]["coding"][0]["code"] == "INS-NIA"
    found = entries(world.search("rmorvan", "Patient", identifier=f"{NIA_SYSTEM}|{nia}"))
    assert [p["id"] for p in found] == [created.json()["id"]]

    wrong = new_patient(identifier=[{"system": NIA_SYSTEM, "value": nir("1920556260017")}])
    issues = outcome(world.post("rmorvan", "/fhir/Patient", wrong), 422)
    assert "Patient.identifier[0].value" in expressions(issues)


def test_an_invalid_patient_is_refused_with_every_field_named(world: FhirWorld) -> None:
    doc = new_patient(
        identifier=[{"system": NIR_SYSTEM, "value": "192055626001700"}],  # wrong key
        birthDate="2090-01-01",
        telecom=[
            {"system": "phone", "value": "12"},
            {"system": "email", "value": "not-an-address"},
            {"system": "fax", "value": "0298000000"},
        ],
        address=[{"line": ["1 rue"], "city": "Brest"}],
    )
    doc["name"] = [{"use": "official", "family": "Guillou"}]
    issues = outcome(world.post("rmorvan", "/fhir/Patient", doc), 422)
    assert {
        "Patient.name[0].given",
        "Patient.telecom[0].value",
        "Patient.telecom[1].value",
        "Patient.telecom[2].system",
        "Patient.address[0].postalCode",
    } <= expressions(issues)
    assert "required" in codes(issues)

    # mapping passes, the domain validator refuses: its fields come back as FHIRPaths
    doc = new_patient(birthDate="2090-01-01")
    issues = outcome(world.post("rmorvan", "/fhir/Patient", doc), 422)
    assert {"Patient.birthDate", "Patient.identifier[0].value"} <= expressions(issues)
    diagnostics = " ".join(i["diagnostics"] for i in issues)
    assert "birth_date" in diagnostics and "future" in diagnostics
    assert "nir" in diagnostics
    assert "Guillou" not in diagnostics  # no personal value in errors


@pytest.mark.parametrize(
    ("body", "expression"),
    [
        (b"{not json", "Patient"),
        (b"[]", "Patient"),
        (b'{"resourceType": "Observation"}', "Patient.resourceType"),
        (b'{"resourceType": "Patient", "name": "Guillou"}', "Patient.name"),
        (b'{"resourceType": "Patient", "birthDate": "03/05/1992"}', "Patient.birthDate"),
        (b'{"resourceType": "Patient", "colour": "blue"}', "Patient.colour"),
        (b'{"resourceType": "Patient", "text": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "Patient"),
        (
            b'{"resourceType": "Patient", "extension": '
            + b'[{"url": "x", "extension": ' * 400
            + b"[]"
            + b"}]" * 400
            + b"}",
            "Patient",
        ),
    ],
)
def test_a_malformed_body_is_a_400_structure_outcome(
    world: FhirWorld, body: bytes, expression: str
) -> None:
    headers = {**world.headers("rmorvan"), "Content-Type": "application/fhir+json"}
    response = world.client.post("/fhir/Patient", content=body, headers=headers)
    issues = outcome(response, 400)
    assert codes(issues) == {"structure"}
    assert expression in expressions(issues)


def test_unsupported_elements_are_refused_not_dropped(world: FhirWorld) -> None:
    doc = new_patient(maritalStatus={"text": "M"})
    issues = outcome(world.post("rmorvan", "/fhir/Patient", doc), 422)
    assert "Patient.maritalStatus" in expressions(issues)


def test_the_lab_comes_from_the_account_or_managing_organization(world: FhirWorld) -> None:
    # rquere works in L01 and L02: the lab must be named
    issues = outcome(world.post("rquere", "/fhir/Patient", new_patient()), 422)
    assert expressions(issues) == {"Patient.managingOrganization"}
    doc = new_patient(
        managingOrganization={"reference": "Organization/L02"},
        identifier=[{"system": NIR_SYSTEM, "value": nir("1920556260018")}],
        name=[{"use": "official", "family": "Kerhervé", "given": ["Erwan"]}],
    )  # an identity not known yet (the same one would need a confirmation: 409)
    created = world.post("rquere", "/fhir/Patient", doc)
    assert created.status_code == 201, created.text
    assert created.json()["managingOrganization"] == {"reference": "Organization/L02"}
    # rmorvan (L01 only) may not register a patient in L02: the policy says no
    refused = world.post("rmorvan", "/fhir/Patient", doc)
    assert codes(outcome(refused, 403)) == {"forbidden"}


def test_search_never_shows_another_labs_patient(world: FhirWorld) -> None:
    # Alice (L01) and Bob (L02) share name, first name, birth date and phone
    for who, expected in (("rmorvan", ALICE.id), ("bjaouen", ALICE.id), ("bkerbrat", BOB.id)):
        by_name = world.search(
            who, "Patient", family="Le Bihan", given="Maëlle", birthdate="1985-07-14"
        )
        assert [p["id"] for p in entries(by_name)] == [expected], who
        by_phone = world.search(who, "Patient", phone="06 12 34 56 78")
        assert [p["id"] for p in entries(by_phone)] == [expected], who
    # rquere works in both labs
    both = world.search("rquere", "Patient", phone="0612345678")
    assert {p["id"] for p in entries(both)} == {ALICE.id, BOB.id}


def test_reading_outside_ones_labs_is_a_403_outcome(world: FhirWorld) -> None:
    issues = outcome(world.get("rmorvan", f"/fhir/Patient/{BOB.id}"), 403)
    assert codes(issues) == {"forbidden"}
    assert "outside" in issues[0]["diagnostics"]
    issues = outcome(world.get("bkerbrat", f"/fhir/Coverage/amo-{ALICE.id}"), 403)
    assert codes(issues) == {"forbidden"}


def test_roles_without_patient_access_are_refused(world: FhirWorld) -> None:
    issues = outcome(world.search("dleroux", "Patient", phone="0612345678"), 403)
    assert codes(issues) == {"forbidden"}
    assert codes(outcome(world.get("agwenn", f"/fhir/Patient/{ALICE.id}"), 403)) == {"forbidden"}


def test_unknown_ids_are_404_outcomes(world: FhirWorld) -> None:
    for path in (
        "/fhir/Patient/0123456789abcdef0123456789abcdef",
        "/fhir/Patient/not*an*id",
        "/fhir/Coverage/xyz-1",
        "/fhir/Observation/blood-group-0123456789abcdef0123456789abcdef",
    ):
        assert codes(outcome(world.get("bjaouen", path), 404)) == {"not-found"}, path


def test_search_parameters_are_checked(world: FhirWorld) -> None:
    cases = [
        ({}, "identifier", "required"),
        ({"family": "Le Bihan", "birthdate": "1985-07-14"}, "family", "required"),
        ({"name": "Le Bihan"}, "name", "not-supported"),
        ({"family": "X", "given": "Y", "birthdate": "ge1985-07-14"}, "birthdate", "invalid"),
        ({"family": "X", "given": "Y", "birthdate": "1985"}, "birthdate", "invalid"),
        ({"telecom": "fax|0298"}, "telecom", "invalid"),
    ]
    for params, expression, code in cases:
        issues = outcome(world.search("rmorvan", "Patient", **params), 400)
        assert codes(issues) == {code}, params
        assert expressions(issues) == {expression}, params
    form = {**world.headers("rmorvan"), "Content-Type": "application/x-www-form-urlencoded"}
    repeated = world.client.post("/fhir/Patient/_search", content="phone=1&phone=2", headers=form)
    assert codes(outcome(repeated, 400)) == {"not-supported"}
    count = world.get("dleroux", "/fhir/AuditEvent", _count="many")
    assert codes(outcome(count, 400)) == {"invalid"}


# -- Observation, Coverage, Specimen ------------------------------------------------
def test_the_blood_group_is_for_biologists_only(world: FhirWorld) -> None:
    observation_id = f"blood-group-{ALICE.id}"
    read = world.get("bjaouen", f"/fhir/Observation/{observation_id}")
    assert read.status_code == 200, read.text
    observation = read.json()
    valid(observation)
    assert observation["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "882-1",
        "display": "ABO and Rh group [Type] in Blood",
    }
    value = observation["valueCodeableConcept"]
    assert value["text"] == "A+"
    assert value["coding"][0]["system"] == "http://snomed.info/sct"
    assert value["coding"][0]["code"] == "278149003"
    assert observation["subject"] == {"reference": f"Patient/{ALICE.id}"}

    found = entries(world.get("bjaouen", "/fhir/Observation", patient=f"Patient/{ALICE.id}"))
    assert [o["id"] for o in found] == [observation_id]
    coded = world.get(
        "bjaouen", "/fhir/Observation", patient=ALICE.id, code="http://loinc.org|882-1"
    )
    assert len(entries(coded)) == 1
    assert entries(world.get("bjaouen", "/fhir/Observation", patient=ALICE.id, code="718-7")) == []

    # reception never gets clinical data, by read or by search
    assert codes(outcome(world.get("rmorvan", f"/fhir/Observation/{observation_id}"), 403)) == {
        "forbidden"
    }
    searched = world.get("rmorvan", "/fhir/Observation", patient=ALICE.id)
    assert codes(outcome(searched, 403)) == {"forbidden"}
    # a biologist of another lab: absent from search, refused on read
    assert entries(world.get("bkerbrat", "/fhir/Observation", patient=ALICE.id)) == []
    assert codes(outcome(world.get("bkerbrat", f"/fhir/Observation/{observation_id}"), 403)) == {
        "forbidden"
    }
    # and a Patient never carries clinical data
    patient = world.get("bjaouen", f"/fhir/Patient/{ALICE.id}").json()
    assert "A+" not in str(patient)


def test_coverages_amo_and_amc(world: FhirWorld) -> None:
    found = entries(world.get("rmorvan", "/fhir/Coverage", beneficiary=f"Patient/{ALICE.id}"))
    by_id = {c["id"]: c for c in found}
    assert set(by_id) == {f"amo-{ALICE.id}", f"amc-{ALICE.id}"}
    amo = by_id[f"amo-{ALICE.id}"]
    assert amo["subscriberId"] == ALICE.nir
    assert amo["beneficiary"] == {"reference": f"Patient/{ALICE.id}"}
    assert [c["value"] for c in amo["class"]] == ["01", "291"]
    assert "régime 01" in amo["payor"][0]["display"]
    amc = world.get("rmorvan", f"/fhir/Coverage/amc-{ALICE.id}")
    assert amc.status_code == 200
    valid(amc.json())
    assert amc.json()["payor"] == [{"display": "MGEN"}]
    assert amc.json()["subscriberId"] == "380460560"
    assert entries(world.get("rmorvan", "/fhir/Coverage", patient=BOB.id)) == []


def test_specimen_create_and_search_by_patient(world: FhirWorld) -> None:
    created = world.post("bjaouen", "/fhir/Specimen", new_specimen(ALICE.id))
    assert created.status_code == 201, created.text
    specimen = created.json()
    valid(specimen)
    assert created.headers["location"].endswith(f"/fhir/Specimen/{specimen['id']}")

    found = entries(world.get("bjaouen", "/fhir/Specimen", patient=ALICE.id))
    by_id = {s["id"]: s for s in found}
    assert set(by_id) == {ALICE_SPECIMEN.id, specimen["id"]}
    mine = by_id[specimen["id"]]
    assert mine == specimen
    assert mine["accessionIdentifier"]["value"] == "L0126030200042"
    assert mine["type"]["text"] == "urine"
    assert mine["collection"]["collectedDateTime"] == "2026-03-02T07:45:00+01:00"
    prescriber = next(r for r in mine["contained"] if r["resourceType"] == "Practitioner")
    assert prescriber["identifier"][0] == {
        "use": "official",
        "type": prescriber["identifier"][0]["type"],
        "system": RPPS_SYSTEM,
        "value": "10628039637",
    }
    assert prescriber["name"] == [{"text": "Dr Sabine Le Goff"}]
    seeded = by_id[ALICE_SPECIMEN.id]
    assert seeded["type"]["coding"][0]["code"] == "122555007"
    assert seeded["collection"]["collectedDateTime"] == "2026-03-01T08:15:00+01:00"

    # another lab's biologist: simply absent; reception sees specimens of its lab
    assert entries(world.get("bkerbrat", "/fhir/Specimen", patient=ALICE.id)) == []
    assert len(entries(world.get("rmorvan", "/fhir/Specimen", subject=f"Patient/{ALICE.id}"))) == 2
    assert entries(world.get("bjaouen", "/fhir/Specimen", patient=BOB.id)) == []

    # read by id: the same resource, decided on the patient's lab
    read = world.get("bjaouen", f"/fhir/Specimen/{specimen['id']}")
    assert read.status_code == 200 and read.json() == specimen
    assert codes(outcome(world.get("bkerbrat", f"/fhir/Specimen/{specimen['id']}"), 403)) == {
        "forbidden"
    }
    assert world.get("bjaouen", "/fhir/Specimen/" + "0" * 32).status_code == 404


def test_an_invalid_specimen_names_every_field(world: FhirWorld) -> None:
    doc = new_specimen(
        "not a reference",
        collection={"collectedDateTime": "2026-03-02"},
        accessionIdentifier={"system": "x"},
        type={"coding": [{"system": "http://snomed.info/sct", "code": "119297000"}]},
    )
    doc["subject"] = {"reference": "Group/1"}
    issues = outcome(world.post("bjaouen", "/fhir/Specimen", doc), 422)
    assert {
        "Specimen.subject",
        "Specimen.accessionIdentifier.value",
        "Specimen.collection.collectedDateTime",
        "Specimen.type",
    } <= expressions(issues)
    # collected in another lab than one's own: the policy refuses the write
    elsewhere = new_specimen(
        ALICE.id,
        extension=[
            {
                "url": "https://etanche.invalid/fhir/StructureDefinition/lab",
                "valueReference": {"reference": "Organization/L02"},
            }
        ],
    )
    refused = world.post("bjaouen", "/fhir/Specimen", elsewhere)
    assert codes(outcome(refused, 403)) == {"forbidden"}


# -- AuditEvent ---------------------------------------------------------------------
def test_audit_events_are_for_the_dpo_and_auditors(world: FhirWorld) -> None:
    assert world.get("rmorvan", f"/fhir/Patient/{ALICE.id}").status_code == 200
    world.get("bkerbrat", f"/fhir/Patient/{ALICE.id}")  # audited whatever its answer
    for who in ("dleroux", "agwenn"):
        found = entries(world.get(who, "/fhir/AuditEvent", patient=f"Patient/{ALICE.id}"))
        reads = [
            e
            for e in found
            if e["subtype"][0]["code"] == "patient.read" and e["agent"][0]["name"] == "rmorvan"
        ]
        assert reads, who
        event = reads[0]
        assert event["action"] == "R"
        assert event["outcome"] == "0"
        assert event["entity"][0]["what"]["identifier"]["value"] == ALICE.id
        one = world.get(who, f"/fhir/AuditEvent/{event['id']}")
        assert one.status_code == 200
        assert valid(one.json()) and one.json() == event
    # filters: action, actor, date, count
    denied = entries(world.get("dleroux", "/fhir/AuditEvent", subtype="patient.read", _count="500"))
    assert denied and {e["subtype"][0]["code"] for e in denied} == {"patient.read"}
    mine = entries(world.get("dleroux", "/fhir/AuditEvent", **{"agent-name": "bkerbrat"}))
    assert mine and {e["agent"][0]["name"] for e in mine} == {"bkerbrat"}
    assert entries(world.get("dleroux", "/fhir/AuditEvent", date="lt2000-01-01")) == []
    assert len(entries(world.get("dleroux", "/fhir/AuditEvent", _count="2"))) == 2
    # refusals are audited too, with their reason
    outcome(world.get("rmorvan", f"/fhir/Patient/{BOB.id}"), 403)
    refusals = entries(world.get("dleroux", "/fhir/AuditEvent", entity=BOB.id))
    assert any(e["outcome"] == "4" and "outside" in e.get("outcomeDesc", "") for e in refusals)

    for who in ("rmorvan", "bjaouen", "rquere"):
        assert codes(outcome(world.get(who, "/fhir/AuditEvent"), 403)) == {"forbidden"}
        assert codes(outcome(world.get(who, "/fhir/AuditEvent/0-20260101000000000000"), 403)) == {
            "forbidden"
        }
    assert codes(outcome(world.get("dleroux", "/fhir/AuditEvent/0-20000101000000000000"), 404)) == {
        "not-found"
    }
    # reading the log is itself in the log
    audit_reads = entries(world.get("agwenn", "/fhir/AuditEvent", subtype="audit.read"))
    assert {e["agent"][0]["name"] for e in audit_reads} >= {"dleroux", "agwenn"}
    assert any(e["outcome"] == "4" for e in audit_reads)


# -- tokens, unsupported interactions, the outcome function ----------------------------
def test_an_api_token_is_limited_to_its_scopes(world: FhirWorld) -> None:
    found = entries(world.search("lims", "Patient", phone="0612345678"))
    assert [p["id"] for p in found] == [ALICE.id]
    assert world.get("lims", f"/fhir/Patient/{ALICE.id}").status_code == 200
    refused = world.post("lims", "/fhir/Patient", new_patient())
    assert codes(outcome(refused, 403)) == {"forbidden"}
    assert "scopes" in outcome(refused, 403)[0]["diagnostics"]


def test_other_paths_and_methods_are_not_supported_outcomes(world: FhirWorld) -> None:
    headers = world.headers("bjaouen")
    for method, path in (
        ("GET", "/fhir/Practitioner/1"),
        ("PUT", f"/fhir/Patient/{ALICE.id}"),
        ("DELETE", f"/fhir/Patient/{ALICE.id}"),
        ("PUT", f"/fhir/Specimen/{ALICE_SPECIMEN.id}"),
    ):
        response = world.client.request(method, path, headers=headers)
        assert codes(outcome(response, 404)) == {"not-supported"}, (method, path)


def test_operation_outcome_maps_exception_names_to_issue_codes() -> None:
    cases = {
        (403, "PermissionDenied"): "forbidden",
        (404, "RecordNotFound"): "not-found",
        (401, "login"): "login",
        (422, "ValidationErrors"): "invalid",
        (500, "IntegrityError"): "exception",
        (400, "Whatever"): "invalid",
    }
    for (status, name), code in cases.items():
        response = operation_outcome(status, name, "why")
        doc = json.loads(response.body)
        valid(doc)
        assert doc["issue"][0]["code"] == code
        assert response.media_type == "application/fhir+json"
    assert operation_outcome(401, "login", "x").headers["www-authenticate"].startswith("Bearer")


def test_a_network_wide_account_cannot_register_a_patient(world: FhirWorld) -> None:
    issues = outcome(world.post("dleroux", "/fhir/Patient", new_patient()), 403)
    assert codes(issues) == {"forbidden"}


def test_an_unexpected_error_is_an_outcome_and_logs_no_value(
    world: FhirWorld, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(patient: Any) -> dict[str, Any]:
        raise RuntimeError(f"leaked {patient.birth_name}")

    monkeypatch.setattr(_patient, "patient_resource", boom)
    with caplog.at_level("ERROR", logger="etanche.web.fhir"):
        response = world.get("rmorvan", f"/fhir/Patient/{ALICE.id}")
    assert codes(outcome(response, 500)) == {"exception"}
    assert "Le Bihan" not in response.text
    assert "RuntimeError" in caplog.text and "test_fhir.py" in caplog.text
    assert "Le Bihan" not in caplog.text


def test_an_invalid_outgoing_resource_is_refused_without_its_values() -> None:
    from fhir.resources.R4B.patient import Patient as FhirPatient

    from etanche.web.fhir._common import checked
    from etanche.web.fhir._outcome import FhirOutputError

    with pytest.raises(FhirOutputError) as raised:
        checked(FhirPatient, {"resourceType": "Patient", "birthDate": "Le Bihan"})
    assert "Patient.birthDate" in str(raised.value)
    assert "Le Bihan" not in str(raised.value)
