"""``etanche retention purge / hold / release / verify-report`` as the DPO runs them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from _cli import run
from _service import served
from etanche.access import Role
from etanche.synth import SynthConfig, generate


def test_purge_hold_and_verify_through_the_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    network = generate(SynthConfig(patients=12, labs=2, seed=4))
    with served(tmp_path, monkeypatch, network) as service:
        service.add_person("aleroux", "Anne Le Roux", Role.DPO, ["*"])
        service.add_person("jmartin", "Jeanne Martin", Role.BIOLOGIST, ["L01"])
        service.as_person("aleroux")
        held = next(p for batch in network.batches() for p, s in batch if s).id
        code, out, err = run(capsys, "retention", "hold", held, "--reason", "litige 2026-17")
        assert code == 0, err
        assert "legal hold" in out

        would = tmp_path / "would.json"
        code, out, err = run(capsys, "retention", "purge", "--dry-run", "--report", str(would))
        assert code == 0, err
        assert "Would shred" in out and would.stat().st_mode & 0o777 == 0o600
        report = tmp_path / "purge.json"
        summary = tmp_path / "purge.md"
        code, out, err = run(
            capsys, "retention", "purge", "--report", str(report), "--markdown", str(summary)
        )
        assert code == 0, err
        signed = json.loads(report.read_text("utf-8"))
        text = summary.read_text("utf-8")
        assert text.startswith("# Rapport de purge") and "heure de Paris" in text
        kept = signed["report"]["kept"]["held"]  # the held patient's specimens
        assert kept >= 1 and f"Sous gel juridique : {kept}." in text and held not in text
        assert signed["report"]["counts"]["specimens"]  # 2015-2020 specimens: past one year
        assert held not in {r.get("patient") for r in signed["report"]["records"]}

        key = tmp_path / "audit-public.pem"
        code, _, err = run(capsys, "audit", "export-key", str(key))
        assert code == 0, err
        code, out, err = run(
            capsys, "retention", "verify-report", str(report), "--log-key", str(key)
        )
        assert code == 0, err
        assert f"audit event {signed['event']['seq']}" in out
        signed["report"]["records"] = signed["report"]["records"][1:]
        edited = tmp_path / "edited.json"
        edited.write_text(json.dumps(signed), "utf-8")
        code, _, err = run(capsys, "retention", "verify-report", str(edited), "--log-key", str(key))
        assert code == 5 and "purge report" in err and "Traceback" not in err

        code, _, err = run(capsys, "retention", "release", held)
        assert code == 0, err
        service.as_person("jmartin")
        code, _, err = run(capsys, "retention", "purge", "--report", str(tmp_path / "no.json"))
        assert code == 7 and "retention.purge" in err

        with sqlite3.connect(service.directory / "vault.sqlite") as conn:
            logged = conn.execute(
                "SELECT actor, action, outcome FROM audit_events "
                "WHERE action LIKE 'retention.%' ORDER BY seq"
            ).fetchall()
    assert logged == [
        ("aleroux", "retention.hold", "ok"),
        ("aleroux", "retention.purge", "ok"),
        ("aleroux", "retention.purge", "ok"),
        ("aleroux", "retention.hold", "ok"),
        ("jmartin", "retention.purge", "denied"),
    ]
