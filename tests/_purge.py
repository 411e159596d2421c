"""A vault with records on both sides of each retention limit, for the purge's tests.

Groups: ``old`` (expired: shredded), ``recent`` (kept; their specimens older than
a year go one by one), ``mixed`` (old visit kept alive by a 2020 specimen) and
``held`` (old, under a legal hold once the test sets it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from conftest import PASSPHRASE
from etanche.access import Actor
from etanche.crypto import KdfCost, PassphraseKeyFile
from etanche.names import Role
from etanche.service import Core, Custody, RetentionService
from etanche.synth import SynthConfig, generate
from etanche.vault import Vault, parse_location, patients_table, specimens_table
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


@contextmanager
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


def service(core: Core, actor: Actor | None = DPO) -> RetentionService:
    return RetentionService(core.vault.session(()), core.trail, actor, retention=core.retention)


def raw(core: Core, pid: str) -> tuple[Any, int, list[date]]:
    with core.vault.engine.connect() as conn:
        row = conn.execute(select(patients_table).where(patients_table.c.id == pid)).one()
        indexes = conn.execute(
            select(func.count()).where(patient_index.c.patient_id == pid)
        ).scalar_one()
        specs = conn.execute(
            select(specimens_table.c.collected_on).where(specimens_table.c.patient_id == pid)
        ).all()
    return row, indexes, [s.collected_on for s in specs]


def public_pem(core: Core) -> bytes:
    return core.vault.audit_log_signer().public_key_pem()
