"""The JSON API of exports, scans, traces and incidents: one door, refusals, audit events."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from fastapi.testclient import TestClient

from etanche.access import Role
from etanche.audit import Outcome
from etanche.crypto import AgeIdentity, age_decrypt
from etanche.domain import normalize_email
from etanche.vault import name_dob_key

if TYPE_CHECKING:
    from tests.web.conftest import Member, WebVault

API = "/api/v1"


def bearer(member: Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {member.token}"}


def lines(response: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def identifiers(web_vault: WebVault) -> list[list[str | None]]:
    """One row of a found file, normalised as the vault indexes it (as the client sends it)."""
    patient = web_vault.patient("L01", nir=True, emails=True)
    return [
        [
            patient.nir,
            name_dob_key(patient.birth_name, patient.first_first_name, patient.birth_date),
            None,
            normalize_email(patient.emails[0]),
        ],
        [None, None, None, "nobody@example.invalid"],
    ]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/exports"),
        ("POST", "/leak/scan/match"),
        ("POST", "/leak/trace"),
        ("GET", "/incidents"),
        ("POST", "/incidents"),
        ("GET", "/incidents/INC-20240101-000000"),
        ("POST", "/incidents/INC-20240101-000000/report"),
        ("POST", "/incidents/INC-20240101-000000/notify"),
    ],
)
def test_every_route_needs_a_person(client: TestClient, method: str, path: str) -> None:
    answer = client.request(method, API + path, json={})
    assert answer.status_code == 401
    assert answer.json()["error"]["exit"] == 7


def approved_export_plan(
    web_vault: WebVault, client: TestClient, tmp_path: Path, recipient: AgeIdentity
) -> dict[str, str]:
    """An export plan of L01 for NewLIS, registered by the operator, approved by two."""
    admin, dpo = web_vault.members[Role.LAB_ADMIN], web_vault.members[Role.DPO]
    plan = {
        "plan": f"api-export-{tmp_path.name[-12:]}",
        "kind": "export",
        "controller": {"name": "Groupe BioNord", "labs": ["L01"]},
        "processor": {"name": "NewLIS SAS"},
        "purpose": "Identity extract for the new system",
        "scope": {"labs": ["L01"]},
        "fields": {"admin": ["birth_name", "first_names", "birth_date", "nir"]},
        "recipients": [{"name": "NewLIS", "age": recipient.public_text()}],
        "retention": {"expires": "2099-12-31"},
        "approvers": [
            {"username": admin.username, "role": "lab_admin"},
            {"username": dpo.username, "role": "dpo"},
        ],
    }
    body = {"text": yaml.safe_dump(plan), "name": "plan.yaml", "folder": str(tmp_path)}
    operator = bearer(web_vault.members[Role.MIGRATION_OPERATOR])
    assert client.post(API + "/migrations/plan", json=body, headers=operator).status_code == 200
    for approver in (admin, dpo):
        answer = client.post(API + "/migrations/approve", json=body, headers=bearer(approver))
        assert answer.status_code == 200, answer.text
    return body


def test_export_is_for_the_operator_written_0600_audited(
    web_vault: WebVault, client: TestClient, tmp_path: Path
) -> None:
    out = tmp_path / "e.csv.age"
    recipient = AgeIdentity.generate()
    plan = approved_export_plan(web_vault, client, tmp_path, recipient)
    body = {"plan": plan, "out": str(out)}
    refused = client.post(
        API + "/exports", json=body, headers=bearer(web_vault.members[Role.RECEPTION])
    )
    assert refused.status_code == 403 and not out.exists()
    assert refused.json()["error"]["type"] == "PermissionDenied"
    relative = client.post(
        API + "/exports",
        json={**body, "out": "e.csv"},
        headers=bearer(web_vault.members[Role.MIGRATION_OPERATOR]),
    )
    assert relative.status_code == 400 and relative.json()["error"]["exit"] == 2
    done = client.post(
        API + "/exports", json=body, headers=bearer(web_vault.members[Role.MIGRATION_OPERATOR])
    )
    assert done.status_code == 200
    streamed = lines(done)
    result = streamed[-1]["result"]
    assert result["rows"] > 0 and result["canaries"] >= 2 and result["out"] == str(out)
    assert any("done" in line for line in streamed[:-1])
    assert out.stat().st_mode & 0o777 == 0o600
    clear = tmp_path / "e.csv"  # what the recipient reads once decrypted
    clear.write_bytes(age_decrypt(out.read_bytes(), [recipient], what="export"))
    events = web_vault.events("export.create")
    assert [e.outcome for e in events[-2:]] == [Outcome.DENIED, Outcome.OK]
    assert events[-1].details["export_id"] == result["export_id"]

    # the DPO traces the file, read on the service's host; HTML comes back in the answer
    dpo = bearer(web_vault.members[Role.DPO])
    traced = client.post(
        API + "/leak/trace", json={"paths": [str(clear)], "html": True}, headers=dpo
    )
    assert traced.status_code == 200
    report = traced.json()
    assert report["files"][0]["identified_rows"] == result["rows"] + result["canaries"]
    assert report["html"].startswith("<!doctype html>")
    assert web_vault.events("leak.trace")[-1].outcome is Outcome.OK


def test_trace_reads_absolute_paths_outside_the_vault_only(
    web_vault: WebVault, client: TestClient
) -> None:
    dpo = bearer(web_vault.members[Role.DPO])
    for path in ("found.csv", str(web_vault.location.directory), "/nonexistent/found.csv"):
        answer = client.post(API + "/leak/trace", json={"paths": [path]}, headers=dpo)
        assert answer.status_code == 400, path
        assert answer.json()["error"]["type"] == "UsageError"
    refused = client.post(
        API + "/leak/trace",
        json={"paths": ["/tmp"]},
        headers=bearer(web_vault.members[Role.MIGRATION_OPERATOR]),
    )
    assert refused.status_code == 403


def test_scan_match_answers_counts_per_lab_never_ids(
    web_vault: WebVault, client: TestClient
) -> None:
    body = {"identifiers": identifiers(web_vault), "files": 1, "tables": 1, "rows": 2}
    refused = client.post(
        API + "/leak/scan/match", json=body, headers=bearer(web_vault.members[Role.BIOLOGIST])
    )
    assert refused.status_code == 403
    answer = client.post(
        API + "/leak/scan/match", json=body, headers=bearer(web_vault.members[Role.DPO])
    )
    assert answer.status_code == 200 and answer.json() == {"vault_matches": {"L01": 1}}
    patient = web_vault.patient("L01", nir=True, emails=True)
    assert patient.id not in answer.text
    last = web_vault.events("leak.scan")[-1]
    assert last.outcome is Outcome.OK and last.details["matched"] == 1
    assert patient.nir is not None and patient.nir not in json.dumps(dict(last.details))


def test_incident_through_the_api(web_vault: WebVault, client: TestClient, tmp_path: Path) -> None:
    dpo = bearer(web_vault.members[Role.DPO])
    report = {"files": [], "rows": 2, "persons": 2, "categories": {"nir": {"count": 1}}}
    opened = client.post(
        API + "/incidents",
        json={
            "title": "Fichier retrouvé",
            "report": report,
            "identifiers": identifiers(web_vault),
            "dpo_contact": "dpo@example.invalid",
        },
        headers=dpo,
    )
    assert opened.status_code == 200, opened.text
    incident = opened.json()
    assert incident["matched"] == 1 and incident["countdown"].endswith("left")
    scan = web_vault.events("leak.scan")[-1]
    assert scan.details["operation"] == "scan" and scan.details["matched"] == 1

    shown = client.get(f"{API}/incidents/{incident['id']}", headers=dpo).json()
    assert shown["matched_per_lab"] == {"L01": 1}
    patient = web_vault.patient("L01", nir=True, emails=True)
    assert patient.id not in json.dumps(shown)

    draft = client.post(
        f"{API}/incidents/{incident['id']}/report", json={"pdf": True}, headers=dpo
    ).json()
    assert draft["markdown"].startswith("# ") and draft["late"] is False
    assert base64.b64decode(draft["pdf"]).startswith(b"%PDF")

    relative = client.post(
        f"{API}/incidents/{incident['id']}/notify", json={"out": "letters"}, headers=dpo
    )
    assert relative.status_code == 400
    reception = bearer(web_vault.members[Role.RECEPTION])
    assert client.get(API + "/incidents", headers=reception).status_code == 403
    refused = client.post(
        f"{API}/incidents/{incident['id']}/notify",
        json={"out": str(tmp_path / "letters")},
        headers=reception,
    )
    assert refused.status_code == 403 and not (tmp_path / "letters").exists()
    denied = [e for e in web_vault.events("incident.notify") if e.outcome is Outcome.DENIED]
    assert denied and denied[-1].actor == web_vault.members[Role.RECEPTION].username

    letters = client.post(
        f"{API}/incidents/{incident['id']}/notify",
        json={"out": str(tmp_path / "letters")},
        headers=dpo,
    )
    result = lines(letters)[-1]["result"]
    assert result["letters"] == 1 and result["files"] == ["lettres-0001.pdf"]
    assert (tmp_path / "letters").stat().st_mode & 0o777 == 0o700
    listed = client.get(API + "/incidents", headers=dpo).json()["incidents"]
    assert listed[0]["id"] == incident["id"] and listed[0]["letters"] == 1
