"""A receptionist's API token scoped to ``patient.search`` only: no patient comes back.

The attack seen before: such a token got names, NIR, phone, e-mail and address
unmasked from ``GET /fhir/Patient?identifier=…`` while ``GET /fhir/Patient/{id}``
was refused, and the NIR travelled in the URL and in the Bundle's ``self`` link.
Returning a patient is reading it, so every route that answers with patient data
needs ``patient.read`` too; each refusal is in the audit log, and each patient a
search returns is an audited read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from _cli import run
from _service import Served, served
from etanche.access import Role
from etanche.audit import AuditEvent, AuditLog, Outcome
from etanche.domain import Patient, Specimen
from etanche.synth import SynthConfig, SynthNetwork, generate

NIR_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _network_and_patient() -> tuple[SynthNetwork, Patient, Specimen]:
    network = generate(SynthConfig(patients=60, labs=2, seed=12))
    for batch in network.batches():
        for patient, specimens in batch:
            complete = patient.nir and patient.phones and patient.emails and patient.addresses
            if patient.lab_id == "L01" and complete and specimens:
                return network, patient, specimens[0]
    raise AssertionError("the synthetic network has no complete patient in L01")


def _personal_values(patient: Patient) -> list[str]:
    assert patient.nir is not None
    values = [
        patient.nir,
        patient.birth_name,
        patient.first_names[0],
        patient.birth_date.isoformat(),
    ]
    values += list(patient.emails) + [a.line for a in patient.addresses]
    for phone in patient.phones:
        values += [phone, "0" + phone.removeprefix("+33")]
    return [v for v in values if len(v) >= 4]


@contextmanager
def _http(site: Served, token: str) -> Iterator[httpx.Client]:
    socket = site.address.removeprefix("unix:")
    transport = httpx.HTTPTransport(uds=socket)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(transport=transport, base_url="http://etanche", headers=headers) as client:
        yield client


def _token(site: Served, capsys: pytest.CaptureFixture[str], *scopes: str) -> str:
    """The receptionist, logged in, creates a token with the CLI; it is printed last."""
    site.as_person("mleguen")
    argv = ["tokens", "create", "desk script"]
    for scope in scopes:
        argv += ["--scope", scope]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    return out.strip().splitlines()[-1]


def _events(site: Served, username: str) -> list[AuditEvent]:
    vault = site.open()
    try:
        return [event for _, event in AuditLog.for_vault(vault).events(actor=username)]
    finally:
        vault.close()


def test_a_search_only_token_gets_no_patient_from_any_route(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    network, patient, specimen = _network_and_patient()
    values = _personal_values(patient)
    assert patient.nir is not None
    born = patient.birth_date.isoformat()
    with served(tmp_path, monkeypatch, network) as site:
        site.add_person("mleguen", "Marie Le Guen", Role.RECEPTION, ["L01"])
        token = _token(site, capsys, "patient.search")
        name = {"family": patient.birth_name, "given": patient.first_names[0], "birthdate": born}
        searches: list[dict[str, str]] = [
            {"identifier": f"{NIR_SYSTEM}|{patient.nir}"},
            {"identifier": patient.nir},
            name,
            {"birthdate": born},
            {"phone": patient.phones[0]},
            {"email": patient.emails[0]},
            {"telecom": f"phone|{patient.phones[0]}"},
        ]
        answers: list[httpx.Response] = []
        with _http(site, token) as http:
            for params in searches:  # in a URL: refused whatever the scopes
                answer = http.get("/fhir/Patient", params=params)
                assert answer.status_code == 400, sorted(params)
                assert "_search" in answer.text
                answers.append(answer)
                answer = http.post("/fhir/Patient/_search", data=params, headers=FORM)
                assert answer.status_code in (400, 403), sorted(params)
                answers.append(answer)
            forbidden = [
                http.get(f"/fhir/Patient/{patient.id}"),
                http.get("/fhir/Specimen", params={"patient": patient.id}),
                http.get(f"/fhir/Specimen/{specimen.id}"),
                http.get("/fhir/Observation", params={"patient": patient.id}),
                http.get(f"/fhir/Observation/blood-group-{patient.id}"),
                http.get("/fhir/Coverage", params={"patient": patient.id}),
                http.get(f"/fhir/Coverage/amo-{patient.id}"),
                http.get(f"/api/v1/patients/{patient.id}", params={"reveal": "true"}),
                http.get(f"/api/v1/patients/{patient.id}"),
            ]
            for body in (
                {"nir": patient.nir, "reveal": True},
                {"nir": patient.nir},
                {
                    "birth_name": patient.birth_name,
                    "first_name": patient.first_names[0],
                    "birth_date": born,
                    "reveal": True,
                },
                {"phone": patient.phones[0], "reveal": True},
                {"email": patient.emails[0], "reveal": True},
            ):
                forbidden.append(http.post("/api/v1/patients/search", json=body))
        assert [r.status_code for r in forbidden] == [403] * len(forbidden)
        answers += forbidden
        # the CLI with the token in its environment fares no better
        monkeypatch.setenv("ETANCHE_TOKEN", token)
        printed: list[str] = []
        for argv in (
            ["find", "--nir", patient.nir, "--json", "--reveal"],
            ["find", "--phone", patient.phones[0], "--reveal"],
            ["show", patient.id, "--json", "--reveal"],
        ):
            code, out, err = run(capsys, *argv)
            assert code != 0, argv[0]
            printed += [out, err]
        events = _events(site, "mleguen")
    haystack = "\n".join([r.text for r in answers] + printed)
    assert [v for v in values if v in haystack] == []
    # every refusal by the token is an audited denial; nothing was read or listed
    denied = [e for e in events if e.outcome is Outcome.DENIED]
    assert len(denied) >= len(forbidden) + 3
    patient_actions = {"patient.search", "patient.read", "specimen.list"}
    assert [e for e in events if e.outcome is Outcome.OK and e.action in patient_actions] == []
    logged = "\n".join(repr(e.details) for e in denied)
    assert [v for v in values if v in logged] == []


def test_search_and_read_scopes_find_by_post_and_every_patient_returned_is_a_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    network, patient, _ = _network_and_patient()
    assert patient.nir is not None
    with served(tmp_path, monkeypatch, network) as site:
        site.add_person("mleguen", "Marie Le Guen", Role.RECEPTION, ["L01"])
        token = _token(site, capsys, "patient.search", "patient.read")
        with _http(site, token) as http:
            answer = http.post(
                "/fhir/Patient/_search",
                data={"identifier": f"{NIR_SYSTEM}|{patient.nir}"},
                headers=FORM,
            )
            refused = http.get(
                "/fhir/Patient", params={"identifier": f"{NIR_SYSTEM}|{patient.nir}"}
            )
        events = _events(site, "mleguen")
    assert answer.status_code == 200, answer.text
    bundle = answer.json()
    assert [e["resource"]["id"] for e in bundle["entry"]] == [patient.id]
    assert [link["url"] for link in bundle["link"]] == ["http://etanche/fhir/Patient/_search"]
    assert patient.nir not in answer.text.split('"entry"')[0]  # nothing before the entries
    assert refused.status_code == 400 and patient.nir not in refused.text
    reads = [e for e in events if e.action == "patient.read" and e.outcome is Outcome.OK]
    assert [e.object_ids for e in reads] == [(patient.id,)]
    assert reads[0].details.get("via") == "nir"
