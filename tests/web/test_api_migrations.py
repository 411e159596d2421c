"""The migration routes of the JSON API: who may, what refusals look like, what is logged."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent.parent))  # tests/: _service, _staff

from _service import Served, served
from etanche.access import Role
from etanche.audit import AuditEvent, AuditLog
from etanche.client._transport import _UnixConnection
from etanche.crypto import AgeIdentity
from etanche.exchange import write_legacy_csv
from etanche.synth import SynthConfig, generate

NETWORK = SynthConfig(patients=40, labs=2, seed=11)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    network = generate(NETWORK)
    with served(tmp_path, monkeypatch) as service:
        with service.open() as store:
            for lab in network.labs:
                store.add_lab(lab)
        service.add_person("pgirard", "Pierre Girard", Role.MIGRATION_OPERATOR, ["*"])
        service.add_person("jmartin", "Jeanne Martin", Role.BIOLOGIST, ["L01"])
        service.add_person("cbernard", "Claire Bernard", Role.DPO, ["*"])
        write_legacy_csv(network, tmp_path / "export.csv")
        plan = {
            "plan": "api-2026-01",
            "controller": {"name": "Groupe BioNord", "labs": ["L01", "L02"]},
            "processor": {"name": "LabSoft SAS", "contact": "dpo@labsoft.example"},
            "purpose": "Move L01",
            "source": {"format": "legacy-csv", "path": "export.csv"},
            "scope": {"labs": ["L01"]},
            "fields": {"admin": ["birth_name", "sex", "birth_date"]},
            "recipients": [{"name": "NewLIS SAS", "age": AgeIdentity.generate().public_text()}],
            "retention": {"expires": "2099-01-31"},
            "approvers": [
                {"username": "ylegoff", "role": "lab_admin"},
                {"username": "cbernard", "role": "dpo"},
            ],
        }
        (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan))
        yield service


def _token(world: Served, username: str) -> str:
    return world.sessions[username].read_text().strip()


def _call(
    world: Served, method: str, path: str, body: Any = None, *, as_: str | None = None
) -> tuple[int, list[Any]]:
    """Status and decoded lines (one for JSON, several for NDJSON)."""
    connection = _UnixConnection(world.address.removeprefix("unix:"), 30.0)
    headers = {"Content-Type": "application/json"}
    if as_ is not None:
        headers["Authorization"] = f"Bearer {_token(world, as_)}"
    data = None if body is None else json.dumps(body).encode()
    try:
        connection.request(method, "/api/v1" + path, body=data, headers=headers)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    return response.status, [json.loads(line) for line in raw.splitlines() if line.strip()]


def _plan(world: Served) -> dict[str, str]:
    path = world.root / "plan.yaml"
    return {"text": path.read_text(), "name": str(path), "folder": str(world.root)}


def _events(world: Served, action: str) -> list[AuditEvent]:
    with world.open() as store:
        return [e for _, e in AuditLog.for_vault(store).events(action=action)]


ROUTES = [
    ("POST", "/migrations/plan"),
    ("POST", "/migrations/approve"),
    ("POST", "/migrations/check"),
    ("POST", "/migrations/run"),
    ("POST", "/migrations/import"),
    ("POST", "/migrations/api-2026-01/close"),
    ("POST", "/migrations/api-2026-01/certificate"),
    ("GET", "/migrations"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_migration_route_needs_a_person(world: Served, method: str, path: str) -> None:
    status, lines = _call(world, method, path, {} if method == "POST" else None)
    assert status == 401
    assert lines[0]["error"]["type"] == "SessionExpired" and lines[0]["error"]["exit"] == 7


def test_a_plan_is_registered_by_its_operator_and_logged(world: Served) -> None:
    status, lines = _call(world, "POST", "/migrations/plan", _plan(world), as_="pgirard")
    assert status == 200
    assert lines == [
        {
            "plan": "api-2026-01",
            "sha256": lines[0]["sha256"],
            "state": "pending",
            "approvers": ["ylegoff", "cbernard"],
        }
    ]
    (event,) = _events(world, "migration.plan")
    assert (event.actor, str(event.outcome)) == ("pgirard", "ok")
    assert event.details["plan"] == "api-2026-01"


def test_the_wrong_role_is_refused_with_403_and_the_refusal_logged(world: Served) -> None:
    status, lines = _call(world, "POST", "/migrations/plan", _plan(world), as_="jmartin")
    assert status == 403
    assert lines[0]["error"]["type"] == "PermissionDenied" and lines[0]["error"]["exit"] == 7
    status, _ = _call(world, "GET", "/migrations", as_="jmartin")
    assert status == 403
    denied = [e for e in _events(world, "migration.plan") if str(e.outcome) == "denied"]
    assert [(e.actor, e.details["plan"]) for e in denied] == [("jmartin", "api-2026-01")]
    assert "reason" in denied[0].details


def test_a_relative_folder_is_a_usage_error(world: Served) -> None:
    body = {**_plan(world), "folder": "relative/place"}
    status, lines = _call(world, "POST", "/migrations/plan", body, as_="pgirard")
    assert status == 400
    assert lines[0]["error"]["type"] == "UsageError" and lines[0]["error"]["exit"] == 2


def test_a_bad_plan_names_its_file(world: Served) -> None:
    body = {**_plan(world), "text": "plan: x1x\npurpose: [\n"}
    status, lines = _call(world, "POST", "/migrations/plan", body, as_="pgirard")
    assert status == 400 and "plan.yaml" in lines[0]["error"]["message"]


def test_a_streamed_run_reports_an_unapproved_plan_as_its_last_line(world: Served) -> None:
    assert _call(world, "POST", "/migrations/plan", _plan(world), as_="pgirard")[0] == 200
    body = {**_plan(world), "out": str(world.root / "pkg")}
    status, lines = _call(world, "POST", "/migrations/run", body, as_="pgirard")
    assert status == 200  # the stream started; its last line says why it stopped
    assert lines[-1]["error"]["type"] == "PlanNotApproved" and lines[-1]["error"]["exit"] == 8
    assert not (world.root / "pkg").exists()
    (event,) = _events(world, "migration.run")
    assert (event.actor, str(event.outcome), event.details["error"]) == (
        "pgirard",
        "failed",
        "PlanNotApproved",
    )


def test_a_streamed_check_returns_its_report_and_html(world: Served) -> None:
    body = {**_plan(world), "html": True, "workers": 0}
    status, lines = _call(world, "POST", "/migrations/check", body, as_="pgirard")
    assert status == 200 and all("done" in line for line in lines[:-1])
    result = lines[-1]["result"]
    assert result["report"]["records"] == 40 and "<table>" in result["html"]
    (event,) = _events(world, "migration.plan")
    assert event.details["step"] == "check" and event.details["records"] == 40


def test_an_import_needs_a_pinned_key_and_the_right(world: Served) -> None:
    body = {"package": str(world.root / "pkg"), "identity": "AGE-SECRET-KEY-1X"}
    status, lines = _call(world, "POST", "/migrations/import", body, as_="pgirard")
    assert status == 200 and lines[-1]["error"]["type"] == "UsageError"
    assert "--signer-key" in lines[-1]["error"]["message"]
    body["signer_key_pem"] = "-----BEGIN PUBLIC KEY-----"
    status, lines = _call(world, "POST", "/migrations/import", body, as_="jmartin")
    assert lines[-1]["error"]["type"] == "PermissionDenied"
    (event,) = _events(world, "migration.import")
    assert (event.actor, str(event.outcome)) == ("jmartin", "denied")


def test_close_of_an_unknown_plan_is_refused_and_logged(world: Served) -> None:
    status, lines = _call(world, "POST", "/migrations/nowhere/close", as_="pgirard")
    assert status == 400 and lines[0]["error"]["exit"] == 2
    assert lines[0]["error"]["message"] == "plan nowhere: not registered"
    (event,) = [e for e in _events(world, "migration.close") if e.details.get("plan")]
    assert (event.actor, str(event.outcome), event.details["plan"]) == (
        "pgirard",
        "failed",
        "nowhere",
    )
