"""The retention purge: exactly the expired records go, checked in the raw tables.

A vault holds patients on both sides of each limit: old patients (shredded),
recent ones whose old specimens go one by one, an old patient kept by a recent
specimen, and an old patient under a legal hold. The report verifies with the
log key; an edited report does not; a dry run changes nothing.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import PASSPHRASE
from etanche.access import Actor
from etanche.crypto import KdfCost, PassphraseKeyFile
from etanche.errors import IntegrityError, PermissionDenied
from etanche.names import Role
from etanche.service import Core, Custody, RetentionService
from etanche.synth import SynthConfig, generate
from etanche.vault import (
    ALL_COMPARTMENTS,
    Vault,
    parse_location,
    patients_table,
    specimens_table,
)
from etanche.verify import verify_purge_report
from etanche.vault._schema import patient_index

TODAY = date(2026, 12, 3)
DPO = Actor("dpo1", "u-dpo", Role.DPO, frozenset({"*"}))
OLD, RECENT, MIXED, HELD = "old", "recent", "mixed", "held"


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 30, tzinfo=UTC)


def _dated(kind: str, patient, specs):  # type: ignore[no-untyped-def]
    """The patient and specimens with the dates of their group."""
    visit = date(2025, 6, 1) if kind == RECENT else date(2010, 5, 4)
    patient = dataclasses.replace(patient, last_visit=visit)
    days = [visit] * len(specs)
    if kind == MIXED:
        days = [date(2020, 1, 7)] * len(specs)
    specs = [dataclasses.replace(s, collected_at=_at(d)) for s, d in zip(specs, days, strict=True)]
    return patient, specs


@pytest.fixture
def purge_world(tmp_path: Path) -> Iterator[tuple[Core, dict[str, list[str]]]]:
    network = generate(SynthConfig(patients=40, labs=2, seed=19))
    location = parse_location(str(tmp_path / "v"))
    groups: dict[str, list[str]] = {OLD: [], RECENT: [], MIXED: [], HELD: []}
    kinds = [OLD, RECENT, MIXED, HELD]
    with Vault.create(location, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests()) as store:
        for lab in network.labs:
            store.add_lab(lab)
        items = []
        for n, (patient, specs) in enumerate(p for b in network.batches() for p in b):
            kind = kinds[n % 4]
            if kind == MIXED and not specs:
                kind = OLD
            groups[kind].append(patient.id)
            items.append(_dated(kind, patient, list(specs)))
        store.add_many(items, validate=False)  # old visits may precede a synthetic birth
    core = Core(location, Custody.unsealed(PassphraseKeyFile.open(location.keyfile, PASSPHRASE)))
    try:
        yield core, groups
    finally:
        core.close()


def _service(core: Core, actor: Actor | None = DPO) -> RetentionService:
    return RetentionService(core.vault.session(()), core.trail, actor, retention=core.retention)


def _raw(core: Core, pid: str) -> tuple:  # type: ignore[type-arg]
    with core.vault.engine.connect() as conn:
        row = conn.execute(select(patients_table).where(patients_table.c.id == pid)).one()
        indexes = conn.execute(
            select(func.count()).where(patient_index.c.patient_id == pid)
        ).scalar_one()
        specs = conn.execute(
            select(specimens_table.c.collected_on).where(specimens_table.c.patient_id == pid)
        ).all()
    return row, indexes, [s.collected_on for s in specs]


def _public_pem(core: Core) -> bytes:
    return core.vault.audit_log_signer().public_key_pem()


def test_purge_shreds_exactly_the_expired_records(purge_world) -> None:  # type: ignore[no-untyped-def]
    core, groups = purge_world
    for pid in groups[HELD]:
        _service(core).hold(pid, "contentieux en cours, dossier 2026-17")
    signed = _service(core).purge(today=TODAY)
    body = signed["report"]
    shredded = {r["id"] for r in body["records"] if r["category"] == "patient_admin"}
    assert shredded == set(groups[OLD])
    for pid in groups[OLD]:
        row, indexes, specs = _raw(core, pid)
        assert row.erased_at is not None
        assert (row.admin, row.clinical, row.admin_key, row.clinical_key) == (None,) * 4
        assert row.last_visit_on is None
        assert indexes == 0 and specs == []
    reader = core.vault.session(ALL_COMPARTMENTS)
    for pid in groups[RECENT] + groups[MIXED] + groups[HELD]:
        assert reader.get(pid).id == pid  # still decrypts
        row, indexes, specs = _raw(core, pid)
        assert row.erased_at is None and indexes > 0
    # specimens: one by one, older than one year, of kept unheld patients
    for pid in groups[RECENT] + groups[MIXED]:
        assert _raw(core, pid)[2] == []
    held_specs = [s for pid in groups[HELD] for s in _raw(core, pid)[2]]
    assert held_specs, "the held patients keep their specimens"
    assert body["kept"]["held"] >= len(groups[HELD])
    assert all(date.fromisoformat(r["expires"]) < TODAY for r in body["records"])
    assert body["rules"]["patient_admin"]["source"].startswith("Aligné")
    checked = verify_purge_report(signed, _public_pem(core))
    assert checked["records"] == len(body["records"]) and not checked["dry_run"]
    # the report's event is the one in the log
    assert any(seq == checked["seq"] for seq, _ in core.trail.log.events(action="retention.purge"))


def test_a_modified_report_fails(purge_world) -> None:  # type: ignore[no-untyped-def]
    core, groups = purge_world
    signed = _service(core).purge(today=TODAY)
    pem = _public_pem(core)
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


def test_dry_run_changes_nothing(purge_world) -> None:  # type: ignore[no-untyped-def]
    core, groups = purge_world
    with core.vault.engine.connect() as conn:
        before = conn.execute(select(patients_table).order_by(patients_table.c.id)).all()
        spec_before = conn.execute(select(func.count()).select_from(specimens_table)).scalar_one()
    signed = _service(core).purge(dry_run=True, today=TODAY)
    assert signed["report"]["dry_run"] is True
    assert {
        r["id"] for r in signed["report"]["records"] if r["category"] == "patient_admin"
    } == set(groups[OLD] + groups[HELD])
    with core.vault.engine.connect() as conn:
        after = conn.execute(select(patients_table).order_by(patients_table.c.id)).all()
        spec_after = conn.execute(select(func.count()).select_from(specimens_table)).scalar_one()
    assert before == after and spec_before == spec_after
    assert verify_purge_report(signed, _public_pem(core))["dry_run"] is True


def test_only_the_dpo_purges_and_holds(purge_world) -> None:  # type: ignore[no-untyped-def]
    core, groups = purge_world
    clerk = Actor("rec1", "u-rec", Role.RECEPTION, frozenset({"*"}))
    with pytest.raises(PermissionDenied):
        _service(core, clerk).purge(today=TODAY)
    with pytest.raises(PermissionDenied):
        _service(core, clerk).hold(groups[OLD][0], "pour voir")
    denied = core.trail.log.events(action="retention.purge")
    assert any(e.outcome.value == "denied" for _, e in denied)


def test_scheduled_purge_runs_as_the_system(purge_world) -> None:  # type: ignore[no-untyped-def]
    core, groups = purge_world
    signed = _service(core, None).purge(today=TODAY)
    assert signed["report"]["by"] == "system"
    assert verify_purge_report(signed, _public_pem(core))["records"] > 0
