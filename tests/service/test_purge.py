"""The retention purge: exactly the expired records go, checked in the raw tables.

A vault holds patients on both sides of each limit (tests/_purge.py): old
patients are shredded, recent ones lose their old specimens one by one, an old
patient kept by a recent specimen stays, and a held one stays. The report
verifies with the log key; an edited report does not; a dry run changes nothing.
"""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from _purge import HELD, MIXED, OLD, RECENT, TODAY, public_pem, purge_world, raw, service
from etanche.access import Actor
from etanche.errors import IntegrityError, PermissionDenied
from etanche.names import Role
from etanche.vault import ALL_COMPARTMENTS, RightsStore, patients_table, specimens_table
from etanche.verify import verify_purge_report


def test_purge_shreds_exactly_the_expired_records(tmp_path: Path) -> None:
    with purge_world(tmp_path) as (core, groups):
        for pid in groups[HELD]:
            service(core).hold(pid, "contentieux en cours, dossier 2026-17")
        signed = service(core).purge(today=TODAY)
        body = signed["report"]
        shredded = {r["id"] for r in body["records"] if r["category"] == "patient_admin"}
        assert shredded == set(groups[OLD])
        for pid in groups[OLD]:
            row, indexes, specs = raw(core, pid)
            assert row.erased_at is not None
            assert (row.admin, row.clinical, row.admin_key, row.clinical_key) == (None,) * 4
            assert row.last_visit_on is None
            assert (row.nir_digest, row.name_dob_digest) == (None, None)
            assert indexes == 0 and specs == []
        reader = core.vault.session(ALL_COMPARTMENTS)
        for pid in groups[RECENT] + groups[MIXED] + groups[HELD]:
            assert reader.get(pid).id == pid  # still decrypts
            row, indexes, specs = raw(core, pid)
            assert row.erased_at is None and indexes > 0
        # specimens: one by one, older than one year, of kept unheld patients
        for pid in groups[RECENT] + groups[MIXED]:
            assert raw(core, pid)[2] == []
        held_specs = [s for pid in groups[HELD] for s in raw(core, pid)[2]]
        assert held_specs, "the held patients keep their specimens"
        assert body["kept"]["held"] >= len(groups[HELD])
        assert all(date.fromisoformat(r["expires"]) < TODAY for r in body["records"])
        assert body["rules"]["patient_admin"]["source"].startswith("Aligné")
        checked = verify_purge_report(signed, public_pem(core))
        assert checked["records"] == len(body["records"]) and not checked["dry_run"]
        # the report's event is the one in the log
        assert any(
            seq == checked["seq"] for seq, _ in core.trail.log.events(action="retention.purge")
        )


def test_a_modified_report_fails(tmp_path: Path) -> None:
    with purge_world(tmp_path) as (core, _groups):
        signed = service(core).purge(today=TODAY)
        pem = public_pem(core)
        hidden = copy.deepcopy(signed)
        hidden["report"]["records"] = hidden["report"]["records"][1:]
        with pytest.raises(IntegrityError):
            verify_purge_report(hidden, pem)
        recount = copy.deepcopy(signed)
        recount["report"]["counts"]["patient_admin"] = {}
        with pytest.raises(IntegrityError):
            verify_purge_report(recount, pem)
        other = copy.deepcopy(signed)
        other["event"]["seq"] = other["event"]["seq"] + 1
        with pytest.raises(IntegrityError):
            verify_purge_report(other, pem)


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    with purge_world(tmp_path) as (core, groups):
        with core.vault.engine.connect() as conn:
            before = conn.execute(select(patients_table).order_by(patients_table.c.id)).all()
            spec_before = conn.execute(
                select(func.count()).select_from(specimens_table)
            ).scalar_one()
        signed = service(core).purge(dry_run=True, today=TODAY)
        assert signed["report"]["dry_run"] is True
        assert {
            r["id"] for r in signed["report"]["records"] if r["category"] == "patient_admin"
        } == set(groups[OLD] + groups[HELD])
        with core.vault.engine.connect() as conn:
            after = conn.execute(select(patients_table).order_by(patients_table.c.id)).all()
            spec_after = conn.execute(
                select(func.count()).select_from(specimens_table)
            ).scalar_one()
        assert before == after and spec_before == spec_after
        assert verify_purge_report(signed, public_pem(core))["dry_run"] is True


def test_a_restricted_record_is_kept_like_a_held_one(tmp_path: Path) -> None:
    with purge_world(tmp_path) as (core, groups):
        restricted = groups[OLD][0]
        RightsStore(core.vault).restrict(restricted, "r-test-restriction")
        signed = service(core).purge(today=TODAY)
        shredded = {r["id"] for r in signed["report"]["records"]}
        assert restricted not in shredded
        assert set(groups[OLD]) - {restricted} <= shredded
        assert raw(core, restricted)[0].erased_at is None


def test_only_the_dpo_purges_and_holds(tmp_path: Path) -> None:
    with purge_world(tmp_path) as (core, groups):
        clerk = Actor("rec1", "u-rec", Role.RECEPTION, frozenset({"*"}))
        with pytest.raises(PermissionDenied):
            service(core, clerk).purge(today=TODAY)
        with pytest.raises(PermissionDenied):
            service(core, clerk).hold(groups[OLD][0], "pour voir")
        denied = core.trail.log.events(action="retention.purge")
        assert any(e.outcome.value == "denied" for _, e in denied)


def test_scheduled_purge_runs_as_the_system(tmp_path: Path) -> None:
    with purge_world(tmp_path) as (core, _groups):
        signed = service(core, None).purge(today=TODAY)
        assert signed["report"]["by"] == "system"
        assert verify_purge_report(signed, public_pem(core))["records"] > 0


def test_the_schedule_runs_in_one_worker_per_interval(tmp_path: Path) -> None:
    from etanche.service._purge_schedule import PurgeSchedule

    with purge_world(tmp_path) as (core, groups):
        one = PurgeSchedule(core.vault, core.trail, core.retention, 3600)
        two = PurgeSchedule(core.vault, core.trail, core.retention, 3600)
        assert one.run_once() is True
        assert two.run_once() is False  # the other worker already ran this interval
        events = core.trail.log.events(action="retention.purge")
        assert [e.actor for _, e in events] == ["system"]
        assert raw(core, groups[OLD][0])[0].erased_at is not None
