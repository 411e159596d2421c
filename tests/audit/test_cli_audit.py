"""``etanche audit``: verify without a passphrase, exit 5 on tampering, proofs, heads, show."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from _cli import run
from _staff import Staff
from etanche.access import Role
from etanche.audit import AuditLog
from etanche.crypto import KdfCost
from etanche.vault import Vault, parse_location

PASSPHRASE = "audit cli test passphrase"


@pytest.fixture
def cli_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, audit_clock, audit_events) -> Path:
    where = tmp_path / "v"
    vault = Vault.create(parse_location(str(where)), PASSPHRASE, kdf_cost=KdfCost.fast_for_tests())
    log = AuditLog.for_vault(vault, head_every=1000, clock=audit_clock)
    log.append_many(audit_events.many(40))
    log.append(audit_events.one(actor="dpo7", object_ids=("a" * 32,)))
    log.append_many(audit_events.many(19))
    log.close()
    token = Staff(vault).add("lpriol", "Louise Priol", Role.AUDITOR, ["*"])
    vault.close()
    session = tmp_path / "session"
    session.write_text(token)
    session.chmod(0o600)
    monkeypatch.setenv("ETANCHE_SESSION_FILE", str(session))
    monkeypatch.setenv("ETANCHE_VAULT", str(where))
    monkeypatch.setenv("ETANCHE_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("COLUMNS", "200")
    return where


def _tamper(where: Path, sql: str) -> None:
    with sqlite3.connect(where / "vault.sqlite") as conn:
        conn.execute(sql)


def test_verify_with_the_exported_key_needs_no_passphrase(
    cli_log: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(capsys, "audit", "export-key")
    assert code == 0, err
    assert (cli_log / "audit-public.pem").read_bytes().startswith(b"-----BEGIN PUBLIC KEY")
    monkeypatch.delenv("ETANCHE_PASSPHRASE")
    code, out, _ = run(capsys, "audit", "verify")
    # 60 logged events, plus the export-key event: the command itself is audited
    assert code == 0 and "audit log ok: 61 events" in out
    other = cli_log.parent / "elsewhere.pem"
    assert run(capsys, "audit", "export-key", str(other))[0] == 2  # passphrase needed to export
    code, out, _ = run(capsys, "audit", "verify", "--public-key", str(cli_log / "audit-public.pem"))
    assert code == 0
    code, out, _ = run(capsys, "audit", "verify", "--json")
    report = json.loads(out)
    assert report["ok"] and report["events"] == 61 and report["problems"] == []


def test_verify_exits_5_and_names_each_problem(cli_log: Path, capsys) -> None:
    assert run(capsys, "audit", "export-key")[0] == 0
    _tamper(cli_log, "UPDATE audit_events SET actor = 'someone' WHERE seq = 40")
    _tamper(cli_log, "UPDATE audit_events SET body = CAST('{}' AS BLOB) WHERE seq = 7")
    code, out, err = run(capsys, "audit", "verify")
    assert code == 5
    lines = [line for line in out.splitlines() if line.startswith("problem: ")]
    assert "problem: seq 7: body is not a valid event" in lines
    assert "problem: seq 40: column actor differs from the body" in lines
    assert "problem: head 60: root does not match the stored events" in lines
    assert "someone" not in out + err and "dpo7" not in out + err
    assert err.startswith("error: audit log:") and "altered" in err


def test_against_a_saved_head_catches_truncation(cli_log: Path, capsys, tmp_path: Path) -> None:
    head_file = tmp_path / "head.json"
    code, out, err = run(capsys, "audit", "head", "--out", str(head_file))
    assert code == 0, err
    assert json.loads(head_file.read_text())["tree_size"] == 60
    assert run(capsys, "audit", "verify", "--against", str(head_file))[0] == 0
    _tamper(cli_log, "DELETE FROM audit_events WHERE seq >= 55")
    _tamper(cli_log, "DELETE FROM audit_objects WHERE seq >= 55")
    _tamper(cli_log, "DELETE FROM audit_heads WHERE tree_size > 55")
    assert run(capsys, "audit", "verify")[0] == 0  # the database alone cannot tell
    code, out, _ = run(capsys, "audit", "verify", "--against", str(head_file))
    assert code == 5
    assert "problem: saved head 60: the log holds only 55 events (truncated)" in out


def test_prove_and_verify_proof_offline(
    cli_log: Path, capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "key.pem"
    assert run(capsys, "audit", "export-key", str(key))[0] == 0
    proof = tmp_path / "proof.json"
    code, _, err = run(capsys, "audit", "prove", "40", "--out", str(proof))
    assert code == 0, err
    code, out, _ = run(capsys, "audit", "prove", "40")
    assert json.loads(out)["seq"] == 40
    monkeypatch.delenv("ETANCHE_PASSPHRASE")
    monkeypatch.delenv("ETANCHE_VAULT")
    code, out, _ = run(capsys, "audit", "verify-proof", str(proof), "--public-key", str(key))
    # head 61: the `audit prove` command logged itself before the proof was made
    assert code == 0 and "proof ok: event 40 is in the log of head 61" in out
    doc = json.loads(proof.read_text())
    doc["body"] = doc["body"].replace("dpo7", "dpo8")
    proof.write_text(json.dumps(doc))
    code, out, err = run(capsys, "audit", "verify-proof", str(proof), "--public-key", str(key))
    assert code == 5 and "body does not match" in err
    proof.write_text("{not json")
    code, _, err = run(capsys, "audit", "verify-proof", str(proof), "--public-key", str(key))
    assert code == 6 and "not valid JSON" in err


def test_prove_unknown_event(cli_log: Path, capsys) -> None:
    code, _, err = run(capsys, "audit", "prove", "999")
    assert code == 4 and "audit event 999" in err


def test_show_filters(cli_log: Path, capsys) -> None:
    code, out, _ = run(capsys, "audit", "show", "--actor", "dpo7", "--json")
    shown = json.loads(out)
    assert code == 0 and shown["count"] == 1 and shown["events"][0]["seq"] == 40
    code, out, _ = run(capsys, "audit", "show", "--patient", "a" * 32, "--json")
    assert [e["seq"] for e in json.loads(out)["events"]] == [40]
    code, out, _ = run(capsys, "audit", "show", "--limit", "5", "--json")
    # newest first; each earlier `audit show` logged one event (seqs 60 and 61)
    assert [e["seq"] for e in json.loads(out)["events"]] == [61, 60, 59, 58, 57]
    code, out, _ = run(capsys, "audit", "show", "--since", "2099-01-01")
    assert code == 0 and "No event found." in out
    code, out, _ = run(capsys, "audit", "show", "--until", "2026-03-03", "--limit", "3")
    assert code == 0 and "dpo7" not in out and "59" in out
    code, _, err = run(capsys, "audit", "show", "--since", "yesterday")
    assert code == 2 and "--since" in err


def test_verify_without_key_or_passphrase_is_a_usage_error(
    cli_log: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ETANCHE_PASSPHRASE")
    code, _, err = run(capsys, "audit", "verify")
    assert code == 2 and "passphrase" in err
    code, _, err = run(capsys, "audit", "verify", "--public-key", str(cli_log / "missing.pem"))
    assert code == 6 and "missing.pem" in err


def test_verify_a_missing_vault_or_a_bad_key(
    cli_log: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "k.pem"
    bad.write_text("x")
    code, _, err = run(capsys, "audit", "verify", "--public-key", str(bad))
    assert code == 5 and "not a PEM" in err
    assert run(capsys, "audit", "export-key", str(tmp_path / "good.pem"))[0] == 0
    monkeypatch.setenv("ETANCHE_VAULT", str(tmp_path / "nowhere"))
    code, _, err = run(capsys, "audit", "verify", "--public-key", str(tmp_path / "good.pem"))
    assert code == 4 and "not found" in err
    assert not (tmp_path / "nowhere").exists()


def test_a_failed_verification_raises_the_critical_alert(cli_log: Path, capsys) -> None:
    assert run(capsys, "audit", "export-key")[0] == 0
    _tamper(cli_log, "UPDATE audit_events SET actor = 'someone' WHERE seq = 12")
    assert run(capsys, "audit", "verify")[0] == 5
    with sqlite3.connect(cli_log / "vault.sqlite") as conn:
        rows = conn.execute("SELECT rule, severity FROM alerts").fetchall()
    assert ("audit_verification_failed", "critical") in rows
