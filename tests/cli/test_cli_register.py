"""``etanche register``: the art. 30 register as the DPO gets it, and who is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from _cli import run
from _service import served
from etanche.access import Role
from etanche.synth import SynthConfig, generate


def test_register_for_the_dpo_and_auditor_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    network = generate(SynthConfig(patients=6, labs=2, seed=3))
    with served(tmp_path, monkeypatch, network) as service:
        service.add_person("aleroux", "Anne Le Roux", Role.DPO, ["*"])
        service.add_person("mtanguy", "Marc Tanguy", Role.AUDITOR, ["*"])
        service.add_person("jmartin", "Jeanne Martin", Role.BIOLOGIST, ["L01"])

        service.as_person("aleroux")
        md = tmp_path / "registre.md"
        code, out, err = run(capsys, "register", "--out", str(md))
        assert code == 0, err
        assert "Register written" in out
        text = md.read_text("utf-8")
        assert md.stat().st_mode & 0o777 == 0o600
        assert text.startswith("# Registre des activités de traitement (article 30 du RGPD)")
        for lab in network.labs:
            assert f"{lab.legal_name} (SIREN {lab.siren})" in text
        assert "Durées de conservation" in text and "R.1131-20" in text

        service.as_person("mtanguy")
        pdf = tmp_path / "registre.pdf"
        code, _, err = run(capsys, "register", "--format", "pdf", "--out", str(pdf))
        assert code == 0, err
        assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_mode & 0o777 == 0o600

        code, _, err = run(capsys, "register", "--format", "odt", "--out", str(pdf))
        assert code == 2 and "--format: expected md or pdf" in err and "Traceback" not in err

        service.as_person("jmartin")
        refused = tmp_path / "refused.md"
        code, _, err = run(capsys, "register", "--out", str(refused))
        assert code == 7 and "register.read" in err and not refused.exists()

        with sqlite3.connect(service.directory / "vault.sqlite") as conn:
            logged = conn.execute(
                "SELECT actor, outcome FROM audit_events WHERE action = 'register.read' "
                "ORDER BY seq"
            ).fetchall()
    assert logged == [("aleroux", "ok"), ("mtanguy", "ok"), ("jmartin", "denied")]


def test_retention_check_is_local_and_names_the_bad_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "retention", "check", "--json")
    assert code == 0, err
    assert '"genetic_results"' in out and "default_retention.yaml (packaged)" in out
    site = tmp_path / "site.yaml"
    site.write_text("categories:\n  results:\n    source: x\n    duration: forever\n", "utf-8")
    code, _, err = run(capsys, "retention", "check", str(site))
    assert code == 2 and "Traceback" not in err
    assert f"{site}: line 4: categories.results.duration: expected a duration" in err
