"""The operator with the database and last month's backup: a rollback no longer goes unseen.

The 2020 vendor had the server's files and its backups. With only the database
(no key), writing back an older ``clinical`` ciphertext used to restore an old
blood group without any error, and setting it to NULL gave an empty clinical
record. Now every ciphertext binds its revision, every write is logged with the
hash of what was stored, and ``etanche vault verify`` names each value that is
not its last logged write (table, row id, compartment: never a value).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from _cli import run
from _service import Served, passphrase_custody, served
from etanche.access import Role
from etanche.domain import BloodGroup, Patient
from etanche.service import Core, Door
from etanche.synth import SynthConfig, generate

SEED = 12
_COLUMNS = "admin, clinical, admin_revision, clinical_revision"


@contextmanager
def _service_of(site: Served) -> Iterator[Door]:
    """The service's operations in this process, as the running server performs them."""
    core = Core(site.location, passphrase_custody(site.location, site.passphrase))
    try:
        yield Door(core)
    finally:
        core.close()


def _database(site: Served) -> sqlite3.Connection:
    """What the operator opens: the vault's file, with sqlite3 and no key."""
    return sqlite3.connect(site.location.sqlite_path)


def _backup(site: Served, ids: list[str]) -> dict[str, tuple[Any, ...]]:
    with closing(_database(site)) as db:
        return {
            pid: db.execute(f"SELECT {_COLUMNS} FROM patients WHERE id = ?", (pid,)).fetchone()
            for pid in ids
        }


def _other_group(patient: Patient) -> BloodGroup:
    current = patient.clinical.blood_group
    return BloodGroup("AB", "-") if current != BloodGroup("AB", "-") else BloodGroup("O", "+")


def _verify(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    code, out, err = run(capsys, "vault", "verify", "--json")
    return code, (json.loads(out) if out.strip() else {}), out + err


def test_operator_rollbacks_and_nulls_are_reported_and_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    network = generate(SynthConfig(patients=40, labs=2, seed=SEED))
    mine = [p for p in network.patients() if p.lab_id == "L01" and p.clinical.blood_group]
    assert len(mine) >= 5
    stale, nulled, rewound, emptied, erased = mine[:5]
    with served(tmp_path, monkeypatch, network) as site:
        token = site.add_person("jmartin", "Jeanne Martin", Role.BIOLOGIST, ["L01"]).read_text()
        site.add_person("aleroux", "Anne Le Roux", Role.AUDITOR, ["*"])
        site.as_person("aleroux")
        code, report, _ = _verify(capsys)
        assert code == 0 and report["ok"] and report["values"] >= 80

        # last month's backup, then this month's legitimate changes through the service
        backup = _backup(site, [stale.id, nulled.id, rewound.id, emptied.id])
        with _service_of(site) as door:
            biologist = door.patients(door.people("test").session_actor(token))
            for patient in (stale, nulled, rewound, emptied):
                changed = replace(
                    patient.clinical, blood_group=_other_group(patient), comments=("revu",)
                )
                biologist.update(replace(patient, clinical=changed, used_name="NOUVEAU"))
        site.as_person("jmartin")
        code, _, _ = run(capsys, "erase", erased.id, "--yes")
        assert code == 0
        site.as_person("aleroux")
        code, report, _ = _verify(capsys)
        assert code == 0 and report["ok"], report  # updates and an erasure are logged writes

        # the operator, with the database only
        with closing(_database(site)) as db:
            old = backup[stale.id]
            db.execute("UPDATE patients SET clinical = ? WHERE id = ?", (old[1], stale.id))
            db.execute("UPDATE patients SET clinical = NULL WHERE id = ?", (nulled.id,))
            old = backup[rewound.id]
            db.execute(
                f"UPDATE patients SET ({_COLUMNS}) = (?, ?, ?, ?) WHERE id = ?",
                (*old, rewound.id),
            )
            db.execute(
                "UPDATE patients SET clinical = NULL, clinical_revision = 0 WHERE id = ?",
                (emptied.id,),
            )
            db.commit()

        code, report, printed = _verify(capsys)
        assert code == 5 and not report["ok"]
        problems = report["problems"]
        expected = {
            (stale.id, "clinical"),
            (nulled.id, "clinical"),
            (rewound.id, "admin"),
            (rewound.id, "clinical"),
            (emptied.id, "clinical"),
        }
        reported = {tuple(p.split(":")[0].split(" ")[1:3]) for p in problems}
        assert reported == expected, problems
        assert all(p.startswith("patients ") for p in problems)
        assert any("NULL stored where revision" in p for p in problems)
        assert any("rolled back" in p for p in problems)
        for patient in (stale, nulled, rewound, emptied):  # row ids only, never a value
            for value in (patient.birth_name, patient.nir or "-", *patient.first_names):
                assert value not in printed
        code, out, err = run(capsys, "vault", "verify")
        assert code == 5 and err.count("\n") == 1 and "Traceback" not in out + err
        assert f"problem: patients {stale.id} clinical" in out

        # reading through the service: an integrity error where the vault can tell
        site.as_person("jmartin")
        for victim in (stale, nulled):
            code, out, err = run(capsys, "show", victim.id, "--json", "--reveal")
            assert code == 5 and out == "" and victim.id in err, err
            assert "Traceback" not in err and str(victim.clinical.blood_group) not in err

        # the alert rings for the DPO (raised by the check, like the scheduled run's)
        site.add_person("mkerbrat", "Marc Kerbrat", Role.DPO, ["*"])
        site.as_person("mkerbrat")
        code, out, _ = run(capsys, "alerts", "list", "--json")
        assert code == 0 and "rollback_detected" in out


def test_a_rewound_row_reads_stale_only_until_verify_sees_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Blob and revision rewound together: undecidable at read, reported by the check."""
    network = generate(SynthConfig(patients=20, labs=1, seed=SEED))
    victim = next(p for p in network.patients() if p.clinical.blood_group)
    with served(tmp_path, monkeypatch, network) as site:
        token = site.add_person("jmartin", "Jeanne Martin", Role.BIOLOGIST, ["L01"]).read_text()
        site.add_person("aleroux", "Anne Le Roux", Role.AUDITOR, ["*"])
        backup = _backup(site, [victim.id])[victim.id]
        newer = replace(victim.clinical, blood_group=_other_group(victim))
        with _service_of(site) as door:
            actor = door.people("test").session_actor(token)
            door.patients(actor).update(replace(victim, clinical=newer))
        with closing(_database(site)) as db:
            db.execute(
                f"UPDATE patients SET ({_COLUMNS}) = (?, ?, ?, ?) WHERE id = ?",
                (*backup, victim.id),
            )
            db.commit()
        site.as_person("aleroux")
        code, report, _ = _verify(capsys)
        assert code == 5
        assert sorted(p.split(":")[0].split(" ")[2] for p in report["problems"]) == [
            "admin",
            "clinical",
        ]
