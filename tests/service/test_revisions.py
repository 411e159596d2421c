"""The service's side of rollback detection: journal, adoption after upgrade, scheduled run.

A vault written before revisions is upgraded (no key), its rows stay readable,
the service logs what they hold once at start, and from then on a rollback of
them is reported too. The scheduled run raises the ``rollback_detected`` alert
by itself, as the system.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, update

from conftest import PASSPHRASE
from etanche.audit import Outcome
from etanche.crypto import Context, KdfCost, PassphraseKeyFile, open_sealed, seal
from etanche.names import Action
from etanche.service import Core, Custody
from etanche.service._revisions import check_revisions
from etanche.synth import SynthConfig, generate
from etanche.vault import ALL_COMPARTMENTS, Vault, VaultLocation, parse_location, patients_table
from etanche.vault._store import _alembic_config

NETWORK = generate(SynthConfig(patients=30, labs=2, seed=9))


def _created(tmp_path: Path) -> VaultLocation:
    location = parse_location(str(tmp_path / "v"))
    with Vault.create(location, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests()) as store:
        for lab in NETWORK.labs:
            store.add_lab(lab)
        store.add_many((p, s) for batch in NETWORK.batches() for p, s in batch)
    return location


@contextmanager
def _core(location: VaultLocation, **kw: float) -> Iterator[Core]:
    provider = PassphraseKeyFile.open(location.keyfile, PASSPHRASE)
    core = Core(location, Custody.unsealed(provider), **kw)  # type: ignore[arg-type]
    try:
        yield core
    finally:
        core.close()


def _as_written_before_revisions(location: VaultLocation) -> None:
    """Re-seal every value with the associated data of before, then down to 0007."""
    with Vault.open(location, PASSPHRASE) as store, store.engine.begin() as conn:
        for row in conn.execute(select(patients_table)).all():
            values = {}
            for name in ("admin", "clinical"):
                blob = getattr(row, name)
                if blob is None:
                    continue
                key = store._patient_key(row, name)
                now = Context("patients", row.id, row.lab_id, name, row.key_version, 1)
                before = Context("patients", row.id, row.lab_id, name, row.key_version)
                values[name] = seal(key, open_sealed(key, blob, now), before)
            conn.execute(
                update(patients_table).where(patients_table.c.id == row.id).values(**values)
            )
        command.downgrade(_alembic_config(conn), "0007")


def _set(location: VaultLocation, patient_id: str, **values: object) -> None:
    with Vault.open(location, PASSPHRASE, compartments=()) as store, store.engine.begin() as conn:
        conn.execute(
            update(patients_table).where(patients_table.c.id == patient_id).values(**values)
        )


def _wait(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_an_upgraded_vault_is_adopted_once_then_watched(tmp_path: Path) -> None:
    location = _created(tmp_path)
    _as_written_before_revisions(location)
    before, after = Vault.upgrade(location)  # up to the head, through 0008 (revisions)
    assert before == "0007" and after >= "0008"
    patients = list(NETWORK.patients())
    with_clinical = [p for p in patients if p.clinical.blood_group]
    with _core(location) as core:
        vault = core.vault.session()
        vault.unlock(ALL_COMPARTMENTS)
        assert [vault.get(p.id) for p in patients] == patients  # old rows stay readable
        assert not vault.adoption_pending()
        adopted = core.trail.log.events(action=Action.VAULT_WRITE, limit=1000)
        assert adopted and all(e.details["adopted"] for _, e in adopted)
        # every patient was written with both compartments (an empty clinical is sealed too)
        assert sum(int(str(e.details["count"])) for _, e in adopted) == 2 * len(patients)
        assert check_revisions(vault, core.trail).ok

        victim = with_clinical[0]
        _set(location, victim.id, clinical=None)  # revision 0: the read cannot tell
        result = check_revisions(vault, core.trail)
        assert result.findings == [
            f"patients {victim.id} clinical: NULL stored where revision 0 was written"
        ]
    with _core(location) as core:  # a restart adopts nothing more
        assert len(core.trail.log.events(action=Action.VAULT_WRITE, limit=1000)) == len(adopted)


def test_the_scheduled_run_raises_the_alert_as_the_system(tmp_path: Path) -> None:
    location = _created(tmp_path)
    victim = next(p for p in NETWORK.patients() if p.clinical.blood_group)
    with _core(location, verify_interval_s=0.2) as core:
        trail = core.trail

        def checks(outcome: Outcome) -> list[object]:
            events = trail.log.events(action=Action.VAULT_VERIFY, limit=1000)
            return [e for _, e in events if e.outcome is outcome and e.actor == "system"]

        assert _wait(lambda: bool(checks(Outcome.OK)))
        assert trail.alerts.list_alerts() == []
        _set(location, victim.id, clinical=None)
        assert _wait(lambda: bool(checks(Outcome.FAILED)))
        alerts = trail.alerts.list_alerts()
        assert [a.rule for a in alerts] == ["rollback_detected"]
        assert victim.id in alerts[0].summary and "clinical" in alerts[0].summary
        assert victim.birth_name not in alerts[0].summary


def test_without_an_interval_nothing_runs_by_itself(tmp_path: Path) -> None:
    location = _created(tmp_path)
    with _core(location) as core:
        time.sleep(0.3)
        assert core.trail.log.events(action=Action.VAULT_VERIFY, limit=10) == []


@pytest.mark.parametrize("value", ["-1", "soon", "inf"])
def test_a_bad_interval_names_the_variable(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from etanche import settings
    from etanche.errors import UsageError

    monkeypatch.setenv("ETANCHE_VERIFY_INTERVAL", value)
    with pytest.raises(UsageError, match="ETANCHE_VERIFY_INTERVAL"):
        settings.current()
