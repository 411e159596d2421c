"""The primary dies under load; pg_auto_failover promotes the secondary; nothing is lost.

A real formation (monitor, primary, synchronous secondary: tests/_pg_formation.py)
and the service's real core on its multi-host URL. Patient creations, specimen
entries and audited reads run in threads; the primary's keeper and postmaster get
SIGKILL mid-load. Afterwards every acknowledged record and audit event is stored
exactly once, the log and the vault's revisions verify, and the same core serves
again without a restart.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from _failover_load import Runner, check
from _pg_formation import Formation, available, running_formation
from etanche.access import Actor, Role
from etanche.crypto import KdfCost, PassphraseKeyFile
from etanche.service import NETWORK_WIDE, Core, Custody, PatientService
from etanche.synth import SynthConfig, generate
from etanche.vault import Vault, parse_location

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
PASSPHRASE = "failover test passphrase"
AUDITOR = Actor("load.auditor", "u-auditor", Role.AUDITOR, NETWORK_WIDE)


@pytest.fixture(scope="module")
def formation() -> Iterator[Formation]:
    if not available():
        if os.environ.get("CI"):
            pytest.fail("pg_autoctl is missing: scripts/test-suite.sh installs it")
        pytest.skip("pg_autoctl (postgresql-15-auto-failover) not installed")
    with running_formation() as running:
        yield running


def _wait_for(condition: object, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_primary_killed_under_load(
    formation: Formation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ETANCHE_DB_RECONNECT_S", "30")
    network = generate(SynthConfig(patients=600, labs=2, seed=16))
    location = parse_location(formation.url(), tmp_path / "keys.json")
    with Vault.create(location, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests()) as vault:
        for lab in network.labs:
            vault.add_lab(lab)
    custody = Custody.unsealed(PassphraseKeyFile.open(location.keyfile, PASSPHRASE))
    core = Core(location, custody, trail_mode="buffered")
    try:
        runner = Runner(core, network).start()
        assert _wait_for(lambda: runner.load.writes() >= 10, 30), runner.load.failures
        before = formation.primary()
        # acknowledged means on both: each commit waits for the secondary (quorum of one)
        names, states = formation.replication()
        assert names.startswith("ANY 1 (") and states in (["quorum"], ["sync"])
        runner.load.killed_at = time.monotonic()
        formation.kill_primary()
        # the load goes on through the failover; stop a little after it writes again
        assert _wait_for(lambda: runner.load.failover_s() is not None, 45), (
            runner.load.failures,
            formation.states(),
        )
        time.sleep(1.0)
        load = runner.stop()
        assert formation.primary() is not before  # the secondary took over

        verdict = check(core, load, AUDITOR)
        print(f"writes {load.writes()} failover_s {load.failover_s():.2f} {dict(load.failures)}")
        assert verdict.acknowledged_lost == 0
        assert verdict.duplicates == 0
        assert verdict.log_ok, verdict.problems
        kinds = {a.action for a in load.acked}
        assert kinds == {"patient.create", "specimen.create", "patient.read"}
        acked_after = [a for a in load.acked if a.at > (load.killed_at or 0)]
        assert {a.action for a in acked_after} >= {"patient.create", "patient.read"}

        # the same core, never restarted, serves a new person's record
        newcomer = next(iter(generate(SynthConfig(patients=1, labs=2, seed=99)).patients()))
        service = PatientService(core.vault.session(()), core.trail, runner.actor)
        service.add(newcomer)
        assert service.get(newcomer.id).id == newcomer.id
        core.settle()
    finally:
        core.close()
