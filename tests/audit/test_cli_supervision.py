"""``etanche alerts`` and ``etanche decoys`` as a DPO uses them: clear lines, exit codes.

Clients of the running service: it holds the rules, the alerts and the keys
that seal the decoys; the CLI holds a session file.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from _cli import run
from _service import Served, passphrase_provider, served
from etanche.access import Role
from etanche.audit._alerts import AlertEngine
from etanche.audit._decoys import is_decoy
from etanche.audit._events import AuditEvent, Outcome
from etanche.audit._rules import load_rules
from etanche.errors import ConfigError
from etanche.service import Custody
from etanche.synth import SynthConfig, generate
from etanche.web import WebConfig, create_app

T0 = datetime(2024, 4, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def supervised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    network = generate(SynthConfig(patients=60, labs=3, seed=5))
    with served(tmp_path, monkeypatch, network) as service:
        service.add_person("aleroux", "Anne Le Roux", Role.DPO, ["*"])
        service.add_person("pgall", "Pierre Gall", Role.DPO, ["*"])
        service.add_person("jmartin", "Jeanne Martin", Role.BIOLOGIST, ["L01"])
        service.as_person("aleroux")
        monkeypatch.setenv("COLUMNS", "250")
        yield service


def raise_alerts(service: Served) -> list[str]:
    """What the service's trail does on every audited operation."""
    with service.open() as store:
        engine = AlertEngine(store.engine, load_rules())
        fired = engine.observe(AuditEvent("kim", "operator", "export.create", Outcome.OK, at=T0))
        fired += engine.observe(
            AuditEvent("kim", "operator", "migration.run", Outcome.OK, at=T0 + timedelta(1))
        )
    return [a.id for a in fired]


def test_decoys_plant_and_count(supervised: Served, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "decoys", "count")
    assert code == 0 and "0 decoy patients" in out
    code, out, err = run(capsys, "decoys", "plant", "4")
    assert code == 0, err
    assert "Planted 4 decoy patients" in out
    code, out, _ = run(capsys, "decoys", "count")
    assert "4 decoy patients" in out
    with supervised.open() as store:
        ids = store.patient_ids()
        found = [pid for pid in ids if is_decoy(store, pid)]
    assert len(ids) == 64 and len(found) == 4
    supervised.as_person("jmartin")
    code, _, err = run(capsys, "decoys", "count")
    assert code == 7 and "decoy.manage" in err
    supervised.as_person("aleroux")
    assert not any(pid in out for pid in found)  # ids are never printed
    code, _, err = run(capsys, "decoys", "plant", "0")
    assert code == 2 and "Traceback" not in err
    with sqlite3.connect(supervised.directory / "vault.sqlite") as conn:
        logged = conn.execute(
            "SELECT actor, outcome FROM audit_events WHERE action = 'decoy.manage' ORDER BY seq"
        ).fetchall()
    assert logged == [("aleroux", "ok")] * 3 + [("jmartin", "denied")]


def test_alerts_list_ack_workflow(supervised: Served, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "alerts", "list")
    assert code == 0 and "No open alert." in out
    first, second = raise_alerts(supervised)
    code, out, _ = run(capsys, "alerts", "list", "--json")
    listed = json.loads(out)
    assert code == 0 and listed["count"] == 2
    assert [a["id"] for a in listed["alerts"]] == [second, first]
    assert {a["rule"] for a in listed["alerts"]} == {"export"}
    code, out, _ = run(capsys, "alerts", "list")
    assert code == 0 and first in out and "export" in out
    code, out, err = run(capsys, "alerts", "ack", first, "--note", "planned export")
    assert code == 0 and f"Alert {first} (export) acknowledged by aleroux" in out, err
    supervised.as_person("pgall")
    code, out, err = run(capsys, "alerts", "ack", first)
    assert code == 2 and f"alert {first}: already acknowledged by aleroux" in err
    assert "Traceback" not in out + err
    code, out, _ = run(capsys, "alerts", "list", "--json")
    assert [a["id"] for a in json.loads(out)["alerts"]] == [second]
    code, out, _ = run(capsys, "alerts", "ack", second)
    assert code == 0 and "acknowledged by pgall" in out
    code, out, _ = run(capsys, "alerts", "list", "--all", "--json")
    acked = {a["id"]: a for a in json.loads(out)["alerts"]}[first]
    assert code == 0 and json.loads(out)["count"] == 2
    assert acked["acknowledged_by"] == "aleroux" and acked["ack_note"] == "planned export"
    assert acked["acknowledged_at"] is not None
    code, _, err = run(capsys, "alerts", "ack", "0" * 32)
    assert code == 4 and "not found" in err
    supervised.as_person("jmartin")
    code, _, err = run(capsys, "alerts", "list")
    assert code == 7 and "alert.read" in err


def test_bad_rules_file_is_one_clear_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # A local check: no service, no session, no vault is needed to validate a file.
    for name in ("ETANCHE_SERVICE", "ETANCHE_SESSION_FILE", "ETANCHE_TOKEN", "ETANCHE_RULES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ETANCHE_SERVICE", f"unix:{tmp_path / 'nowhere.sock'}")
    bad = tmp_path / "rules.yaml"
    bad.write_text("rules:\n  bulk_reads:\n    parameters:\n      threshold: lots\n")
    code, out, err = run(capsys, "alerts", "rules", "--rules", str(bad))
    assert code == 2
    assert "rule bulk_reads: parameters.threshold: expected an integer" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in out + err
    # The service holds the rules: it refuses to start on a bad file, and says why.
    with served(tmp_path / "good", monkeypatch) as service:
        provider = passphrase_provider(service.location, service.passphrase)
        app = create_app(WebConfig(service.location, Custody.unsealed(provider), rules=bad))
        refused = pytest.raises(ConfigError, match=r"rule bulk_reads: parameters\.threshold")
        with refused, TestClient(app):
            pass


def test_alerts_rules_shows_what_is_in_force(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    site = tmp_path / "rules.yaml"
    site.write_text("rules: {off_hours: {enabled: false}}\nsinks: [{type: logfile, path: a.log}]\n")
    with served(tmp_path / "plain", monkeypatch) as service:
        service.add_person("aleroux", "Anne Le Roux", Role.DPO, ["*"])
        service.as_person("aleroux")
        code, out, _ = run(capsys, "alerts", "rules", "--json")
        shown = json.loads(out)
        assert code == 0 and shown["sinks"] == []
        assert [r["name"] for r in shown["rules"]][:2] == ["bulk_reads", "export"]
        assert shown["source"].endswith("(packaged)")
        # a local file is checked here and shown, whatever the service runs
        code, out, _ = run(capsys, "alerts", "rules", "--rules", str(site))
        assert code == 0 and "off_hours" in out and "logfile (LogFileSink)" in out
        service.as_person("ylegoff")  # a lab admin: not a supervisor
        code, _, err = run(capsys, "alerts", "rules")
        assert code == 7 and "alert.read" in err
    with served(tmp_path / "site", monkeypatch, rules=site) as service:
        service.add_person("aleroux", "Anne Le Roux", Role.DPO, ["*"])
        service.as_person("aleroux")
        code, out, _ = run(capsys, "alerts", "rules")
        assert code == 0 and "off_hours" in out and "logfile (LogFileSink)" in out
        assert str(site) in out.replace("\n", "")
        code, out, _ = run(capsys, "alerts", "rules", "--json")
        off = {r["name"]: r for r in json.loads(out)["rules"]}["off_hours"]
        assert off["enabled"] is False
