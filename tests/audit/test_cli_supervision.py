"""``etanche alerts`` and ``etanche decoys`` as a DPO uses them: clear lines, exit codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from _cli import run
from _staff import Staff
from conftest import PASSPHRASE
from etanche.access import Role
from etanche.audit._alerts import AlertEngine
from etanche.audit._decoys import is_decoy
from etanche.audit._events import AuditEvent, Outcome
from etanche.audit._rules import load_rules
from etanche.vault import Vault, parse_location

T0 = datetime(2024, 4, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def supervised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Path:
    where = tmp_path / "v"
    monkeypatch.setenv("ETANCHE_VAULT", str(where))
    monkeypatch.setenv("ETANCHE_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.delenv("ETANCHE_RULES", raising=False)
    monkeypatch.delenv("ETANCHE_USER", raising=False)
    assert run(capsys, "init")[0] == 0
    code, _, err = run(capsys, "synth", "--patients", "60", "--labs", "3", "--seed", "5")
    assert code == 0, err
    with Vault.open(parse_location(str(where)), PASSPHRASE) as store:
        staff = Staff(store)
        tokens = {
            "dpo": staff.add("aleroux", "Anne Le Roux", Role.DPO, ["*"]),
            "dpo2": staff.add("pgall", "Pierre Gall", Role.DPO, ["*"]),
            "biologist": staff.add("jmartin", "Jeanne Martin", Role.BIOLOGIST, ["L01"]),
        }
    for name, token in tokens.items():
        (tmp_path / name).write_text(token)
        (tmp_path / name).chmod(0o600)
    monkeypatch.setenv("ETANCHE_SESSION_FILE", str(tmp_path / "dpo"))
    return where


def as_person(monkeypatch: pytest.MonkeyPatch, where: Path, name: str) -> None:
    monkeypatch.setenv("ETANCHE_SESSION_FILE", str(where.parent / name))


def raise_alerts(where: Path) -> list[str]:
    """What the service's trail does on every audited operation."""
    with Vault.open(parse_location(str(where)), PASSPHRASE) as store:
        engine = AlertEngine(store.engine, load_rules())
        fired = engine.observe(AuditEvent("kim", "operator", "export.create", Outcome.OK, at=T0))
        fired += engine.observe(
            AuditEvent("kim", "operator", "migration.run", Outcome.OK, at=T0 + timedelta(1))
        )
    return [a.id for a in fired]


def test_decoys_plant_and_count(
    supervised: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(capsys, "decoys", "count")
    assert code == 0 and "0 decoy patients" in out
    code, out, err = run(capsys, "decoys", "plant", "4")
    assert code == 0, err
    assert "Planted 4 decoy patients" in out
    code, out, _ = run(capsys, "decoys", "count")
    assert "4 decoy patients" in out
    with Vault.open(parse_location(str(supervised)), PASSPHRASE) as store:
        ids = store.patient_ids()
        found = [pid for pid in ids if is_decoy(store, pid)]
    assert len(ids) == 64 and len(found) == 4
    as_person(monkeypatch, supervised, "biologist")
    code, _, err = run(capsys, "decoys", "count")
    assert code == 7 and "decoy.manage" in err
    as_person(monkeypatch, supervised, "dpo")
    assert not any(pid in out for pid in found)  # ids are never printed
    code, _, err = run(capsys, "decoys", "plant", "0")
    assert code == 2 and "Traceback" not in err


def test_alerts_list_ack_workflow(
    supervised: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
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
    as_person(monkeypatch, supervised, "dpo2")
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


def test_bad_rules_file_is_one_clear_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The rules file is checked before the vault is even looked for.
    monkeypatch.setenv("ETANCHE_VAULT", str(tmp_path / "nowhere"))
    monkeypatch.setenv("ETANCHE_PASSPHRASE", PASSPHRASE)
    bad = tmp_path / "rules.yaml"
    bad.write_text("rules:\n  bulk_reads:\n    parameters:\n      threshold: lots\n")
    code, out, err = run(capsys, "alerts", "list", "--rules", str(bad))
    assert code == 2
    assert "rule bulk_reads: parameters.threshold: expected an integer" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in out + err
    monkeypatch.setenv("ETANCHE_RULES", str(bad))
    code, _, err = run(capsys, "alerts", "rules")
    assert code == 2 and "parameters.threshold" in err


def test_alerts_rules_shows_what_is_in_force(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ETANCHE_RULES", raising=False)
    code, out, _ = run(capsys, "alerts", "rules", "--json")
    shown = json.loads(out)
    assert code == 0 and shown["sinks"] == []
    assert [r["name"] for r in shown["rules"]][:2] == ["bulk_reads", "export"]
    site = tmp_path / "rules.yaml"
    site.write_text("rules: {off_hours: {enabled: false}}\nsinks: [{type: logfile, path: a.log}]\n")
    code, out, _ = run(capsys, "alerts", "rules", "--rules", str(site))
    assert code == 0 and "off_hours" in out and "logfile (LogFileSink)" in out
