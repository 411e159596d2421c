"""``etanche audit``: local verification with a pinned key, exit 5 on tampering, proofs, heads.

The CLI is a client of the running service: it downloads the log as stored and
verifies it on its own side with the key pinned by ``--public-key``; it never
reads the database, a passphrase or a key file.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from _cli import run
from _service import Served, passphrase_provider, running_service, served
from etanche.access import Role
from etanche.audit import AuditLog


@pytest.fixture
def cli_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, audit_clock, audit_events
) -> Iterator[Served]:
    """60 synthetic events (seq 40 by dpo7 on one object) logged and signed, then served."""
    with served(tmp_path, monkeypatch) as service:
        with service.open() as vault:
            log = AuditLog.for_vault(vault, head_every=1000, clock=audit_clock)
            log.append_many(audit_events.many(40))
            log.append(audit_events.one(actor="dpo7", object_ids=("a" * 32,)))
            log.append_many(audit_events.many(19))
            log.close()
        service.add_person("lpriol", "Louise Priol", Role.AUDITOR, ["*"])
        service.as_person("lpriol")
        monkeypatch.chdir(tmp_path)
        yield service


def _tamper(service: Served, sql: str) -> None:
    with sqlite3.connect(service.directory / "vault.sqlite") as conn:
        conn.execute(sql)


def _events(service: Served) -> int:
    with sqlite3.connect(service.directory / "vault.sqlite") as conn:
        return int(conn.execute("SELECT count(*) FROM audit_events").fetchone()[0])


def test_verify_with_the_pinned_key_needs_no_passphrase(
    cli_log: Served, capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(capsys, "audit", "export-key")
    assert code == 0, err
    pinned = tmp_path / "audit-public.pem"
    assert pinned.read_bytes().startswith(b"-----BEGIN PUBLIC KEY")
    assert pinned.stat().st_mode & 0o777 == 0o600
    code, out, err = run(capsys, "audit", "verify", "--public-key", "audit-public.pem")
    # 60 logged events, plus the export-key event: every command is audited, and the
    # download covers what was logged before it began (its own event comes after)
    assert code == 0 and "audit log ok: 61 events" in out, out + err
    assert "verified locally" in out
    other = tmp_path / "elsewhere" / "key.pem"
    assert run(capsys, "audit", "export-key", str(other))[0] == 0  # no passphrase, anywhere
    assert other.read_bytes() == pinned.read_bytes()
    code, out, _ = run(capsys, "audit", "verify", "--public-key", str(other), "--json")
    report = json.loads(out)
    before = report["events"]
    assert code == 0 and report["ok"] and report["problems"] == [] and before > 61
    # a person without audit.verify gets neither the key nor the log
    cli_log.as_person("ylegoff")  # a lab admin
    code, _, err = run(capsys, "audit", "export-key", str(tmp_path / "x.pem"))
    assert code == 7 and "audit.verify" in err and not (tmp_path / "x.pem").exists()
    assert "Traceback" not in err
    code, _, err = run(capsys, "audit", "verify", "--public-key", str(pinned))
    assert code == 7 and "audit.verify" in err
    with sqlite3.connect(cli_log.directory / "vault.sqlite") as conn:
        denied = conn.execute(
            "SELECT count(*) FROM audit_events WHERE actor = 'ylegoff' AND outcome = 'denied' "
            "AND action = 'audit.verify'"
        ).fetchone()[0]
    assert denied == 2


def test_verify_exits_5_and_names_each_problem(cli_log: Served, capsys) -> None:
    assert run(capsys, "audit", "export-key")[0] == 0
    _tamper(cli_log, "UPDATE audit_events SET actor = 'someone' WHERE seq = 40")
    _tamper(cli_log, "UPDATE audit_events SET body = CAST('{}' AS BLOB) WHERE seq = 7")
    code, out, err = run(capsys, "audit", "verify", "--public-key", "audit-public.pem")
    assert code == 5
    lines = [line for line in out.splitlines() if line.startswith("problem: ")]
    assert "problem: seq 7: body is not a valid event" in lines
    assert "problem: seq 40: column actor differs from the body" in lines
    assert "problem: head 60: root does not match the stored events" in lines
    assert "someone" not in out + err and "dpo7" not in out + err
    assert err.startswith("error: audit log:") and "altered" in err


def test_a_lying_service_is_caught_by_the_pinned_key(
    cli_log: Served, capsys, tmp_path: Path
) -> None:
    """A key the server hands out proves nothing: heads signed by another key fail."""
    other = tmp_path / "other"
    other.mkdir()
    from _service import served as serve_other

    with pytest.MonkeyPatch.context() as mp, serve_other(other, mp) as stranger:
        mp.chdir(tmp_path)
        stranger.add_person("kdpo", "Katell Dpo", Role.DPO, ["*"])
        stranger.as_person("kdpo")
        assert run(capsys, "audit", "export-key", "stranger.pem")[0] == 0
        assert stranger.address
    cli_log.as_person("lpriol")
    code, out, _ = run(capsys, "audit", "verify", "--public-key", "stranger.pem")
    assert code == 5 and "problem: head 60: signed by key" in out and "expected key" in out


def test_against_a_saved_head_catches_truncation(
    cli_log: Served, capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(capsys, "audit", "export-key")[0] == 0
    head_file = tmp_path / "head.json"
    code, out, err = run(capsys, "audit", "head", "--out", str(head_file))
    assert code == 0, err
    # 60 events, then export-key's: heads are signed at the first event after 60 s
    assert json.loads(head_file.read_text())["tree_size"] == 61
    pinned = ("--public-key", "audit-public.pem")
    assert run(capsys, "audit", "verify", *pinned, "--against", str(head_file))[0] == 0
    _tamper(cli_log, "DELETE FROM audit_events WHERE seq >= 55")
    _tamper(cli_log, "DELETE FROM audit_objects WHERE seq >= 55")
    _tamper(cli_log, "DELETE FROM audit_heads WHERE tree_size > 55")
    # The running service notices at once: its writer refuses to log over a cut log,
    # so it answers nothing, and fails closed.
    code, _, err = run(capsys, "audit", "verify", *pinned)
    assert code == 5 and "deleted" in err
    # The attacker restarts it on the cut database: the database alone cannot tell ...
    provider = passphrase_provider(cli_log.location, cli_log.passphrase)
    with running_service(cli_log.location, provider, tmp_path / "run2") as address:
        monkeypatch.setenv("ETANCHE_SERVICE", address)
        assert run(capsys, "audit", "verify", *pinned)[0] == 0
        # ... the head saved outside it can
        code, out, _ = run(capsys, "audit", "verify", *pinned, "--against", str(head_file))
        assert code == 5
        assert "problem: saved head 61: the log holds only" in out and "(truncated)" in out
        with sqlite3.connect(cli_log.directory / "vault.sqlite") as conn:
            rows = conn.execute("SELECT rule, actor FROM alerts").fetchall()
        assert ("audit_verification_failed", "lpriol") in rows


def test_prove_and_verify_proof_offline(
    cli_log: Served, capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "key.pem"
    assert run(capsys, "audit", "export-key", str(key))[0] == 0
    proof = tmp_path / "proof.json"
    code, _, err = run(capsys, "audit", "prove", "40", "--out", str(proof))
    assert code == 0, err
    assert proof.stat().st_mode & 0o777 == 0o600
    code, out, _ = run(capsys, "audit", "prove", "40")
    assert json.loads(out)["seq"] == 40
    monkeypatch.delenv("ETANCHE_SERVICE")  # offline: no service, no session
    monkeypatch.delenv("ETANCHE_SESSION_FILE")
    code, out, _ = run(capsys, "audit", "verify-proof", str(proof), "--public-key", str(key))
    # head 61: the export-key event, logged first, came after the head interval
    assert code == 0 and "proof ok: event 40 is in the log of head 61" in out
    doc = json.loads(proof.read_text())
    doc["body"] = doc["body"].replace("dpo7", "dpo8")
    proof.write_text(json.dumps(doc))
    code, out, err = run(capsys, "audit", "verify-proof", str(proof), "--public-key", str(key))
    assert code == 5 and "body does not match" in err
    proof.write_text("{not json")
    code, _, err = run(capsys, "audit", "verify-proof", str(proof), "--public-key", str(key))
    assert code == 6 and "not valid JSON" in err


def test_prove_unknown_event(cli_log: Served, capsys) -> None:
    code, _, err = run(capsys, "audit", "prove", "999")
    assert code == 4 and "audit event 999" in err


def test_show_filters(cli_log: Served, capsys) -> None:
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
    with sqlite3.connect(cli_log.directory / "vault.sqlite") as conn:
        logged = conn.execute(
            "SELECT count(*) FROM audit_events WHERE actor = 'lpriol' AND action = 'audit.read'"
        ).fetchone()[0]
    assert logged == 5  # every search, once; the bad --since never reached the service


def test_verify_without_a_pinned_key_is_a_usage_error(
    cli_log: Served, capsys, tmp_path: Path
) -> None:
    before = _events(cli_log)
    code, _, err = run(capsys, "audit", "verify")
    assert code == 2 and "no key pinned" in err and "--log-key" in err
    code, _, err = run(capsys, "audit", "verify", "--public-key", str(tmp_path / "missing.pem"))
    assert code == 6 and "missing.pem" in err
    assert _events(cli_log) == before  # refused before asking the service anything


def test_verify_without_a_service_or_with_a_bad_key(
    cli_log: Served, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "k.pem"
    bad.write_text("x")
    code, _, err = run(capsys, "audit", "verify", "--public-key", str(bad))
    assert code == 5 and "not a PEM" in err
    assert run(capsys, "audit", "export-key", str(tmp_path / "good.pem"))[0] == 0
    pins = tmp_path / "pins"
    pins.mkdir()
    assert run(capsys, "audit", "export-key", str(pins / "log.pem"))[0] == 0
    assert (pins / "audit-log.vkey").read_text().startswith("etanche.invalid/audit/")  # beside it
    monkeypatch.setenv("ETANCHE_SERVICE", f"unix:{tmp_path / 'nowhere.sock'}")
    code, _, err = run(capsys, "audit", "verify", "--public-key", str(tmp_path / "good.pem"))
    assert code == 9 and "is `etanche serve` running?" in err
    assert not (tmp_path / "nowhere.sock").exists()


def test_a_failed_verification_raises_the_critical_alert(cli_log: Served, capsys) -> None:
    assert run(capsys, "audit", "export-key")[0] == 0
    _tamper(cli_log, "UPDATE audit_events SET actor = 'someone' WHERE seq = 12")
    assert run(capsys, "audit", "verify", "--public-key", "audit-public.pem")[0] == 5
    with sqlite3.connect(cli_log.directory / "vault.sqlite") as conn:
        rows = conn.execute("SELECT rule, severity, actor, summary FROM alerts").fetchall()
        reported = conn.execute(
            "SELECT outcome FROM audit_events WHERE actor = 'lpriol' AND action = 'audit.verify' "
            "ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    assert [r[:3] for r in rows] == [("audit_verification_failed", "critical", "lpriol")]
    assert "seq 12: column actor differs from the body" in rows[0][3]
    assert "someone" not in rows[0][3]
    assert reported == ("failed",)
