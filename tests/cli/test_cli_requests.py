"""``etanche requests``: the DPO's rights requests over the service, and who is refused."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from _cli import run
from _service import served
from etanche.access import Role
from etanche.synth import SynthConfig, generate


def test_a_request_from_registration_to_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    network = generate(SynthConfig(patients=6, labs=2, seed=3))
    patient = next(network.patients())
    with served(tmp_path, monkeypatch, network) as service:
        service.add_person("aleroux", "Anne Le Roux", Role.DPO, ["*"])
        service.add_person("jmartin", "Jeanne Martin", Role.RECEPTION, [patient.lab_id])
        service.as_person("aleroux")
        received = (datetime.now(UTC) - timedelta(days=40)).isoformat()
        code, out, err = run(
            capsys, "requests", "add", "erasure", "--contact", "Rue des Ajoncs 4",
            "--received", received, "--json",
        )  # fmt: skip
        assert code == 0, err
        request = json.loads(out)
        rid = request["id"]
        assert request["overdue"] and "Ajoncs" not in err

        code, out, err = run(capsys, "requests", "check")
        assert code == 1 and rid in out and "overdue" in out, (out, err)

        code, out, err = run(
            capsys, "requests", "lookup", "--birth-name", patient.birth_name,
            "--first-name", patient.first_names[0],
            "--birth-date", patient.birth_date.strftime("%d/%m/%Y"), "--json",
        )  # fmt: skip
        assert code == 0, err
        records = json.loads(out)["records"]
        assert {"lab": patient.lab_id, "record": patient.id, "by": "name_dob"} in records
        assert patient.birth_name not in out.replace(patient.id, "")

        for argv in (
            ("requests", "link", rid, patient.id),
            ("requests", "verify-identity", rid, "--document", "passport"),
        ):
            code, out, err = run(capsys, *argv)
            assert code == 0, err
        code, out, err = run(capsys, "requests", "show", rid)
        assert code == 0 and "passport" in out and "Ajoncs" not in out
        code, out, err = run(capsys, "requests", "show", rid, "--reveal-contact")
        assert "Rue des Ajoncs 4" in out

        code, out, err = run(capsys, "requests", "close", rid, "granted")
        assert code == 0, err
        assert "Erasure refused" in out and "L.1142-28" in out

        code, out, err = run(capsys, "requests", "list")
        assert code == 0 and rid in out and "closed" in out

        service.as_person("jmartin")
        code, _, err = run(capsys, "requests", "extend", rid, "--reason", "x")
        assert code == 7 and "rights.extend" in err and "Traceback" not in err

        with sqlite3.connect(service.directory / "vault.sqlite") as conn:
            logged = conn.execute(
                "SELECT actor, action, outcome FROM audit_events "
                "WHERE action LIKE 'rights.%' AND action != 'rights.read' ORDER BY seq"
            ).fetchall()
    assert ("aleroux", "rights.add", "ok") in logged
    assert ("system", "rights.overdue", "failed") in logged
    assert ("aleroux", "rights.erase", "denied") in logged
    assert ("aleroux", "rights.close", "ok") in logged
    assert logged[-1] == ("jmartin", "rights.extend", "denied")
