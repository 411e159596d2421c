"""Decoy patients: indistinguishable in the store, kept as keyed digests, loud when touched."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from conftest import PASSPHRASE
from etanche.audit import _decoys as decoys_module
from etanche.audit._alerts import AlertEngine
from etanche.audit._decoys import decoy_count, is_decoy, plant_decoys
from etanche.audit._events import AuditEvent, Outcome
from etanche.audit._rules import Severity, load_rules
from etanche.audit._schema import decoys
from etanche.domain import Compartment
from etanche.domain._validate import validate_patient
from etanche.errors import UsageError
from etanche.synth import SynthNetwork
from etanche.vault import Vault
from etanche.vault._schema import patient_index, patients, specimens

N = 12
WORKDAY = datetime(2024, 4, 2, 9, 0, tzinfo=UTC)  # Tuesday 11:00 in Paris: no off-hours alert


@pytest.fixture
def planted(loaded_vault: Vault) -> list[str]:
    return plant_decoys(loaded_vault, N, seed=11)


def test_plant_registers_keyed_digests_only(loaded_vault: Vault, planted: list[str]) -> None:
    assert len(planted) == len(set(planted)) == N
    assert decoy_count(loaded_vault) == N
    assert loaded_vault.count() == 300 + N
    with loaded_vault.engine.connect() as conn:
        registry = [bytes(r.digest) for r in conn.execute(select(decoys.c.digest))]
    assert sorted(registry) == sorted(loaded_vault.index_digest("decoy", pid) for pid in planted)
    assert all(len(d) == 16 for d in registry)
    for pid in planted:  # the list itself is nowhere in clear in the registry
        assert all(pid.encode() not in d and bytes.fromhex(pid) not in d for d in registry)


def test_is_decoy_tells_decoys_from_real_patients(
    loaded_vault: Vault, planted: list[str], small_network: SynthNetwork
) -> None:
    assert all(is_decoy(loaded_vault, pid) for pid in planted)
    real = [p.id for p in list(small_network.patients())[:50]]
    assert not any(is_decoy(loaded_vault, pid) for pid in real)
    assert not is_decoy(loaded_vault, "0" * 32)


def test_is_decoy_reads_the_registry_once_not_per_id(
    loaded_vault: Vault,
    planted: list[str],
    small_network: SynthNetwork,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    monkeypatch.setattr(decoys_module, "_REFRESH_S", 3600.0)  # no refresh during the test
    # A fresh session of the same vault on its own engine: nothing in memory yet.
    fresh = Vault.open(loaded_vault.location, PASSPHRASE)
    try:
        sa_event.listen(fresh.engine, "before_cursor_execute", count)
        real = [p.id for p in list(small_network.patients())[:40]]
        assert is_decoy(fresh, planted[0])
        assert len(statements) == 2 and all("decoys" in s for s in statements)
        assert not any(is_decoy(fresh, pid) for pid in real)
        assert all(is_decoy(fresh, pid) for pid in planted)
        assert len(statements) == 2  # answered from memory, whatever the id
    finally:
        fresh.close()


def test_decoys_planted_elsewhere_are_seen_after_a_refresh(
    loaded_vault: Vault, small_network: SynthNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process plants (here: another engine); this one reads the registry again."""
    other = Vault.open(loaded_vault.location, PASSPHRASE)
    try:
        real = next(iter(small_network.patients())).id
        assert not is_decoy(loaded_vault, real)  # registry read: empty
        planted = plant_decoys(other, 3, seed=5)
        monkeypatch.setattr(decoys_module, "_REFRESH_S", 0.0)
        assert all(is_decoy(loaded_vault, pid) for pid in planted)
        assert not is_decoy(loaded_vault, real)
    finally:
        other.close()


def test_decoys_look_like_real_patients(
    loaded_vault: Vault, planted: list[str], small_network: SynthNetwork
) -> None:
    labs = {lab.id for lab in loaded_vault.labs()}
    decoys_ = [loaded_vault.get(pid) for pid in planted]
    for patient in decoys_:
        validate_patient(patient)
        assert patient.lab_id in labs
    assert len({p.lab_id for p in decoys_}) > 1  # spread over the labs
    real_names = {p.birth_name + p.first_first_name for p in small_network.patients()}
    assert sum(p.birth_name + p.first_first_name in real_names for p in decoys_) <= 1
    with loaded_vault.engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(patients))}
        spec_rows = conn.execute(select(specimens.c.patient_id, specimens.c.lab_id)).all()
        index_rows = conn.execute(select(patient_index.c.patient_id)).all()
    real_ids = [pid for pid in rows if pid not in set(planted)]
    shape = re.compile(r"^[0-9a-f]{32}$")
    uuid4 = re.compile(r"^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$")
    assert all(shape.match(pid) for pid in planted)
    # The synthetic network's ids are not UUID4s, so neither are the decoys' ids.
    assert not all(uuid4.match(pid) for pid in real_ids)
    assert not all(uuid4.match(pid) for pid in planted)
    # Creation times are copied from real rows: no cluster at planting time.
    real_created = {rows[pid].created_at for pid in real_ids}
    assert all(rows[pid].created_at in real_created for pid in planted)
    # UUIDv7 ids begin with their clock: a decoy's is a real row's, with that row's times.
    uuid7 = re.compile(r"^[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$")
    assert all(uuid7.match(pid) for pid in real_ids + planted)
    real_clocks = {pid[:12]: rows[pid].created_at for pid in real_ids}
    assert all(rows[pid].created_at == real_clocks[pid[:12]] for pid in planted)
    assert {rows[pid].key_version for pid in planted} == {1}
    assert all(rows[pid].clinical is not None for pid in planted)
    # Every decoy has specimens in the vault's labs and blind-index rows, like real ones.
    per_patient = Counter(pid for pid, _ in spec_rows)
    assert all(1 <= per_patient[pid] <= 8 for pid in planted)
    assert {lab for pid, lab in spec_rows if pid in set(planted)} <= labs
    indexed = Counter(pid for (pid,) in index_rows)
    assert all(indexed[pid] >= 1 for pid in planted)
    for pid in planted[:3]:
        for spec in loaded_vault.specimens_of(pid):
            assert spec.accession.startswith(spec.lab_id)


def test_touching_a_decoy_raises_a_critical_alert(loaded_vault: Vault, planted: list[str]) -> None:
    engine = AlertEngine(loaded_vault.engine, load_rules())
    real = next(pid for pid in loaded_vault.patient_ids() if pid not in set(planted))
    fired = []
    for pid in (real, planted[0], planted[1]):
        loaded_vault.get(pid)  # the read the caller audits
        read = AuditEvent("paul", "reception", "patient.read", Outcome.OK, (pid,), at=WORKDAY)
        fired += engine.observe(read, seq=None, decoy_hit=is_decoy(loaded_vault, pid))
    assert [(a.rule, a.severity) for a in fired] == [("decoy_touch", Severity.CRITICAL)]
    assert "decoy" in fired[0].summary and fired[0].actor == "paul"
    assert not any(pid in fired[0].summary for pid in planted)  # which one stays secret
    other = AuditEvent(
        "rose", "reception", "patient.search", Outcome.OK, (real, planted[2]), at=WORKDAY
    )
    hit = any(is_decoy(loaded_vault, pid) for pid in other.object_ids)
    assert [a.rule for a in engine.observe(other, decoy_hit=hit)] == ["decoy_touch"]


def test_an_empty_vault_has_nowhere_to_plant(vault: Vault) -> None:
    with pytest.raises(UsageError, match="no lab"):
        plant_decoys(vault, 3)


def test_planting_refusals(loaded_vault: Vault) -> None:
    with pytest.raises(UsageError, match="between 1 and"):
        plant_decoys(loaded_vault, 0)
    admin_only = Vault.open(loaded_vault.location, PASSPHRASE, compartments=[Compartment.ADMIN])
    try:
        with pytest.raises(UsageError, match="every compartment"):
            plant_decoys(admin_only, 2)
    finally:
        admin_only.close()
    assert decoy_count(loaded_vault) == 0


def test_decoys_can_all_go_to_one_lab(loaded_vault: Vault) -> None:
    """An export's canaries are planted in the exported lab."""
    ids = plant_decoys(loaded_vault, 4, seed=3, lab_id="L02")
    assert {loaded_vault.get(pid).lab_id for pid in ids} == {"L02"}
    assert all(s.lab_id == "L02" for pid in ids for s in loaded_vault.specimens_of(pid))
    with pytest.raises(UsageError, match="no lab L99"):
        plant_decoys(loaded_vault, 1, lab_id="L99")
