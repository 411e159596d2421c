"""``etanche access-report``: encrypted delivery, print, and the patient's offline check."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pyrage.passphrase
import pytest

from _cli import run
from _service import served
from etanche.access import Role
from etanche.synth import SynthConfig, generate

PASSPHRASE = "sel de Guérande 2026"


def test_dpo_delivers_encrypted_report_the_patient_verifies_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    network = generate(SynthConfig(patients=6, labs=2, seed=3))
    patient = next(p for p in network.patients() if p.lab_id == "L01")
    with served(tmp_path, monkeypatch, network) as service:
        service.add_person("jmartin", "Jeanne Martin", Role.BIOLOGIST, ["L01"])
        service.add_person("mleguen", "Morgane Le Guen", Role.RECEPTION, ["L01"])
        service.as_person("jmartin")
        assert run(capsys, "show", patient.id)[0] == 0

        service.as_person("nquillec")
        secret = tmp_path / "pass.txt"
        secret.write_text(PASSPHRASE + "\n")
        out = tmp_path / "acces"
        code, said, err = run(
            capsys, "access-report", patient.id, "--out", str(out), "--passphrase-file", str(secret)
        )
        assert code == 0, err
        assert "encrypted with age" in said and patient.nir not in said
        names = sorted(p.name for p in out.iterdir())
        assert names == [
            f"acces-{patient.id[-8:]}.fhir.json.age",
            f"acces-{patient.id[-8:]}.pdf.age",
        ]
        assert all(p.stat().st_mode & 0o777 == 0o600 for p in out.iterdir())
        bundle = pyrage.passphrase.decrypt((out / names[0]).read_bytes(), PASSPHRASE)
        report = tmp_path / "acces.fhir.json"
        report.write_bytes(bundle)
        vkey = tmp_path / "audit-log.vkey"
        assert (
            run(capsys, "audit", "export-key", str(tmp_path / "log.pem"), "--vkey", str(vkey))[0]
            == 0
        )

        code, said, err = run(
            capsys, "access-report", "verify", str(report), "--log-key", str(vkey)
        )
        assert code == 0, err
        assert "access report ok" in said
        doc = json.loads(bundle)
        staff = {
            e["resource"]["agent"][0]["who"]["display"]
            for e in doc["entry"]
            if e["resource"]["resourceType"] == "AuditEvent"
        }
        assert "jmartin" not in json.dumps(doc) and "Personne 1" in staff

        events = [e for e in doc["entry"] if e["resource"]["resourceType"] == "AuditEvent"]
        events[0]["resource"]["purposeOfEvent"] = [{"text": "curiosité"}]
        tampered = tmp_path / "tampered.json"
        tampered.write_text(json.dumps(doc))
        code, _, err = run(capsys, "access-report", "verify", str(tampered), "--log-key", str(vkey))
        assert code == 5 and "purpose differs" in err and "Traceback" not in err

        printed = tmp_path / "imprimer.pdf"
        code, said, err = run(capsys, "access-report", patient.id, "--out", str(printed), "--print")
        assert code == 0 and "NOT encrypted" in said and printed.read_bytes().startswith(b"%PDF")

        code, _, err = run(capsys, "access-report", patient.id, "--out", str(out))
        assert code == 2 and "exactly one of" in err

        service.as_person("mleguen")
        code, _, err = run(
            capsys, "access-report", patient.id, "--out", str(tmp_path / "no"), "--print"
        )
        assert code == 7 and "rights.access_report" in err and not (tmp_path / "no").exists()

        with sqlite3.connect(service.directory / "vault.sqlite") as conn:
            logged = conn.execute(
                "SELECT actor, outcome FROM audit_events WHERE action = 'rights.access_report' "
                "ORDER BY seq"
            ).fetchall()
    assert logged == [("nquillec", "ok"), ("nquillec", "ok"), ("mleguen", "denied")]
