"""The supervision JSON API: who may call it, the error shape, and one audit event per call."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from _service import Served, passphrase_provider, served
from etanche.access import Role
from etanche.service import Custody
from etanche.synth import SynthConfig, generate
from etanche.verify import verify_download
from etanche.web import WebConfig, create_app

API = "/api/v1"

# (method, path, JSON body or query, the action the policy decides)
ROUTES: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("GET", "/audit/public-key", None, "audit.verify"),
    ("POST", "/audit/head", None, "audit.verify"),
    ("POST", "/audit/prove", {"seq": 0}, "audit.verify"),
    ("POST", "/audit/events", {"limit": 5}, "audit.read"),
    ("GET", "/audit/log", None, "audit.verify"),
    ("GET", "/audit/log/events?start=0&stop=5", None, "audit.verify"),
    ("POST", "/audit/verification-failure", {"problems": ["seq 1: missing"]}, "audit.verify"),
    ("GET", "/alerts", None, "alert.read"),
    ("POST", "/alerts/ack", {"alert": "0" * 32}, "alert.ack"),
    ("GET", "/alerts/rules", None, "alert.read"),
    ("POST", "/decoys/plant", {"count": 1}, "decoy.manage"),
    ("GET", "/decoys/count", None, "decoy.manage"),
    ("GET", "/register", None, "register.read"),
]


@dataclass
class Api:
    client: TestClient
    service: Served
    dpo: str
    admin: str

    def call(self, method: str, path: str, token: str | None, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.request(method, API + path, json=body, headers=headers)

    def events(self, actor: str, action: str) -> list[tuple[str, str]]:
        with sqlite3.connect(self.service.directory / "vault.sqlite") as conn:
            rows = conn.execute(
                "SELECT outcome, body FROM audit_events WHERE actor = ? AND action = ? "
                "ORDER BY seq",
                (actor, action),
            ).fetchall()
        return [(outcome, bytes(body).decode()) for outcome, body in rows]


@pytest.fixture
def api(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    network = generate(SynthConfig(patients=12, labs=1, seed=2))
    with served(tmp_path, monkeypatch, network) as service:
        dpo = service.add_person("aleroux", "Anne Le Roux", Role.DPO, ["*"]).read_text()
        admin = service.sessions["ylegoff"].read_text()
        provider = passphrase_provider(service.location, service.passphrase)
        config = WebConfig(service.location, Custody.unsealed(provider), trail_mode="sync")
        with TestClient(create_app(config)) as client:
            yield Api(client, service, dpo, admin)


def _error(response: Any) -> dict[str, Any]:
    doc = response.json()["error"]
    assert set(doc) == {"type", "exit", "message"}
    return dict(doc)


@pytest.mark.parametrize(("method", "path", "body", "action"), ROUTES)
def test_each_route_needs_a_person_with_the_right(
    api: Api, method: str, path: str, body: Any, action: str
) -> None:
    anonymous = api.call(method, path, None, body)
    assert anonymous.status_code == 401 and _error(anonymous)["exit"] == 7
    refused = api.call(method, path, api.admin, body)  # a lab admin supervises nothing
    error = _error(refused)
    assert refused.status_code == 403
    assert error["type"] == "PermissionDenied" and error["exit"] == 7 and action in error["message"]
    assert [outcome for outcome, _ in api.events("ylegoff", action)] == ["denied"]


def test_the_log_as_stored_verifies_with_the_public_key(api: Api) -> None:
    key = api.call("GET", "/audit/public-key", api.dpo).json()
    assert key["pem"].startswith("-----BEGIN PUBLIC KEY")
    head = api.call("POST", "/audit/head", api.dpo).json()
    snapshot = api.call("GET", "/audit/log", api.dpo).json()
    assert snapshot["size"] >= head["tree_size"] > 0
    assert snapshot["heads"][-1]["tree_size"] == head["tree_size"]
    pages: list[dict[str, Any]] = []
    start: int | None = 0
    while start is not None:  # two events a page: the paging itself is exercised
        query = f"/audit/log/events?start={start}&stop={snapshot['size']}&limit=2"
        page = api.call("GET", query, api.dpo).json()
        pages.append(page)
        start = page["next"]
    assert len(pages) == (snapshot["size"] + 1) // 2
    report = verify_download(snapshot, pages, key["pem"])
    assert report.ok and report.events == snapshot["size"], report.problems
    outcomes = api.events("aleroux", "audit.verify")
    assert [o for o, _ in outcomes] == ["ok"] * (3 + len(pages))
    bad = api.call("GET", "/audit/log/events?start=0&stop=5&limit=100000", api.dpo)
    assert bad.status_code == 400 and _error(bad)["exit"] == 2
    bad = api.call("GET", "/audit/log/events?start=5&stop=1", api.dpo)
    assert bad.status_code == 400 and "start <= stop" in _error(bad)["message"]


def test_proofs_and_search(api: Api) -> None:
    assert api.call("GET", "/audit/public-key", api.dpo).status_code == 200  # event seq 0
    proof = api.call("POST", "/audit/prove", api.dpo, {"seq": 0}).json()
    assert proof["seq"] == 0 and proof["format"] == "etanche-inclusion/v1"
    missing = api.call("POST", "/audit/prove", api.dpo, {"seq": 10_000})
    assert missing.status_code == 404 and "audit event 10000" in _error(missing)["message"]
    assert [o for o, _ in api.events("aleroux", "audit.verify")] == ["ok", "ok", "failed"]
    found = api.call("POST", "/audit/events", api.dpo, {"actor": "aleroux", "limit": 1}).json()
    assert found["count"] == 1 and found["events"][0]["action"] == "audit.verify"
    wrong = api.call("POST", "/audit/events", api.dpo, {"since": "yesterday"})
    assert wrong.status_code == 400 and _error(wrong)["type"] == "UsageError"


def test_a_reported_failure_raises_the_critical_alert(api: Api) -> None:
    answer = api.call(
        "POST", "/audit/verification-failure", api.dpo, {"problems": ["seq 4: missing"]}
    )
    assert answer.status_code == 200 and answer.json()["alert"]
    alerts = api.call("GET", "/alerts", api.dpo).json()["alerts"]
    assert [(a["rule"], a["severity"], a["actor"]) for a in alerts] == [
        ("audit_verification_failed", "critical", "aleroux")
    ]
    assert "seq 4: missing" in alerts[0]["summary"]
    assert [o for o, _ in api.events("aleroux", "audit.verify")] == ["failed"]
    empty = api.call("POST", "/audit/verification-failure", api.dpo, {"problems": []})
    assert empty.status_code == 400
    acked = api.call("POST", "/alerts/ack", api.dpo, {"alert": alerts[0]["id"], "note": "seen"})
    assert acked.status_code == 200 and acked.json()["acknowledged_by"] == "aleroux"
    again = api.call("POST", "/alerts/ack", api.dpo, {"alert": alerts[0]["id"]})
    assert again.status_code == 400 and "already acknowledged" in _error(again)["message"]
    unknown = api.call("POST", "/alerts/ack", api.dpo, {"alert": "0" * 32})
    assert unknown.status_code == 404
    assert [o for o, _ in api.events("aleroux", "alert.ack")] == ["ok", "failed", "failed"]
    listed = api.call("GET", "/alerts?all=true", api.dpo).json()
    assert listed["count"] == 1 and listed["alerts"][0]["ack_note"] == "seen"


def test_rules_and_decoys(api: Api) -> None:
    rules = api.call("GET", "/alerts/rules", api.dpo).json()
    assert rules["sinks"] == [] and "audit_verification_failed" in {
        r["name"] for r in rules["rules"]
    }
    assert api.call("GET", "/decoys/count", api.dpo).json() == {"total": 0}
    planted = api.call("POST", "/decoys/plant", api.dpo, {"count": 2})
    assert planted.json() == {"planted": 2, "total": 2}  # no id leaves the service
    too_many = api.call("POST", "/decoys/plant", api.dpo, {"count": 0})
    assert too_many.status_code == 400
    assert [o for o, _ in api.events("aleroux", "decoy.manage")] == ["ok", "ok"]
    assert [o for o, _ in api.events("aleroux", "alert.read")] == ["ok"]
