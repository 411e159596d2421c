"""Identity vigilance against the people who could bend it.

- A receptionist (a real account at the desk) cannot qualify an identity without
  an INS retrieved from the INSi, cannot lower a status, review a pair or merge.
- The operator with the database and no key: the status is not a column but a
  field of the ``admin`` ciphertext, so it cannot be edited; writing back last
  month's ciphertext of a qualified identity (with its revision) after the officer
  downgraded it is reported by ``etanche vault verify``; a merge pointer set or
  cleared by hand is reported by the same check, against the sealed merges.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from _cli import run
from _service import Served, passphrase_custody, served
from etanche.access import Role
from etanche.domain import DowngradeReason, IdentityStatus, strict_traits
from etanche.errors import PermissionDenied, ValidationError
from etanche.service import Core, Door
from etanche.synth import SynthConfig, generate

AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
NETWORK = generate(SynthConfig(patients=30, labs=2, seed=18))


@contextmanager
def _door(site: Served) -> Iterator[Door]:
    core = Core(site.location, passphrase_custody(site.location, site.passphrase))
    try:
        yield Door(core)
    finally:
        core.close()


def _verify(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    code, out, err = run(capsys, "vault", "verify", "--json")
    return code, (json.loads(out) if out.strip() else {}), out + err


def test_a_receptionist_cannot_qualify_lower_review_or_merge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = [p for p in NETWORK.patients() if p.lab_id == "L01"][:2]
    with served(tmp_path, monkeypatch, NETWORK) as site:
        token = site.add_person("mleguen", "Morgane Le Guen", Role.RECEPTION, ["L01"]).read_text()
        store = site.open()
        store.update(replace(first, identity_status=IdentityStatus.PROVISIONAL))
        with _door(site) as door:
            desk = door.identity(door.people("test").session_actor(token))
            desk.validate(first.id, "cni", AT)
            with pytest.raises(ValidationError, match="no INS was retrieved"):
                desk.qualify(first.id)
            with pytest.raises(PermissionDenied):
                desk.downgrade(first.id, IdentityStatus.PROVISIONAL, DowngradeReason.IDENTITY_DOUBT)
            with pytest.raises(PermissionDenied):
                desk.review(first.id, second.id)
            with pytest.raises(PermissionDenied):
                desk.merge(first.id, second.id)
        assert store.get(first.id).identity_status is IdentityStatus.VALIDATED
        store.close()


def test_the_operator_cannot_edit_a_status_and_a_rollback_of_it_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = next(
        p
        for p in NETWORK.patients()
        if p.lab_id == "L01" and p.identity_status is IdentityStatus.QUALIFIED
    )
    with served(tmp_path, monkeypatch, NETWORK) as site:
        officer = site.add_person("kriou", "Katell Riou", Role.IDENTITY_OFFICER, ["L01"])
        site.add_person("aleroux", "Anne Le Roux", Role.AUDITOR, ["*"])
        with closing(sqlite3.connect(site.location.sqlite_path)) as db:
            columns = [row[1] for row in db.execute("PRAGMA table_info(patients)")]
        assert not [c for c in columns if "status" in c or c == "ins"]  # inside the ciphertext

        with _door(site) as door:
            acting = door.identity(door.people("test").session_actor(officer.read_text()))
            # an imported status without its evidence: doubted, then rebuilt with evidence
            doubt = DowngradeReason.IDENTITY_DOUBT
            acting.downgrade(victim.id, IdentityStatus.PROVISIONAL, doubt)
            acting.validate(victim.id, "passeport", AT)
            traits = strict_traits(acting.vault.get(victim.id))
            acting.retrieve_ins(victim.id, "285072901912345", "1.2.250.1.213.1.4.8", traits, AT)
            assert acting.qualify(victim.id).identity_status is IdentityStatus.QUALIFIED
            acting.trail.flush()
        with closing(sqlite3.connect(site.location.sqlite_path)) as db:
            backup = db.execute(
                "SELECT admin, admin_revision FROM patients WHERE id = ?", (victim.id,)
            ).fetchone()
        with _door(site) as door:
            acting = door.identity(door.people("test").session_actor(officer.read_text()))
            acting.downgrade(victim.id, IdentityStatus.PROVISIONAL, DowngradeReason.IDENTITY_DOUBT)
            acting.trail.flush()
        site.as_person("aleroux")
        code, report, _ = _verify(capsys)
        assert code == 0 and report["ok"], report

        # the operator puts the qualified identity back, ciphertext and revision together
        with closing(sqlite3.connect(site.location.sqlite_path)) as db:
            db.execute(
                "UPDATE patients SET admin = ?, admin_revision = ? WHERE id = ?",
                (*backup, victim.id),
            )
            db.commit()
        code, report, printed = _verify(capsys)
        assert code == 5 and not report["ok"]
        assert any(p.startswith(f"patients {victim.id} admin") for p in report["problems"])
        assert victim.birth_name not in printed


def test_a_merge_pointer_set_or_cleared_by_hand_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b, c, d = [p for p in NETWORK.patients() if p.lab_id == "L01"][:4]
    with served(tmp_path, monkeypatch, NETWORK) as site:
        officer = site.add_person("kriou", "Katell Riou", Role.IDENTITY_OFFICER, ["L01"])
        site.add_person("aleroux", "Anne Le Roux", Role.AUDITOR, ["*"])
        with _door(site) as door:
            acting = door.identity(door.people("test").session_actor(officer.read_text()))
            assert acting.merge(a.id, b.id).state == "merged"
            acting.trail.flush()
        site.as_person("aleroux")
        code, report, _ = _verify(capsys)
        assert code == 0 and report["ok"], report
        with closing(sqlite3.connect(site.location.sqlite_path)) as db:
            db.execute("UPDATE patients SET merged_into = NULL WHERE id = ?", (b.id,))
            db.execute("UPDATE patients SET merged_into = ? WHERE id = ?", (c.id, d.id))
            db.commit()
        code, report, _ = _verify(capsys)
        assert code == 5 and not report["ok"]
        problems = report["problems"]
        assert any(p.startswith(f"patients {d.id} merged_into") for p in problems), problems
        assert any(f"patients {b.id} does not point at {a.id}" in p for p in problems), problems
