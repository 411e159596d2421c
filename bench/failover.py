"""The primary killed under load: what is lost, what is doubled, how long writes stop.

    python bench/failover.py --json [--before 5] [--after 5] [--patients 3000]

Starts a local pg_auto_failover formation (a monitor, a primary, a synchronous
secondary; ``tests/_pg_formation.py``, with the test's short health-check timers),
creates a vault on its multi-host URL and runs the service's core as the server
does (buffered trail, every answer waits for its audit events). Three threads
create patients, enter specimens and read records (``tests/_failover_load.py``);
after ``--before`` seconds the primary's keeper and postmaster get SIGKILL. The
load goes on through the failover and ``--after`` seconds beyond the first write
acknowledged by the new primary. Then every acknowledged operation is looked up.

Prints ``acknowledged_lost`` (goal 0), ``duplicates`` (goal 0), ``failover_s``
(from the kill to the first acknowledged write; goal <= 30 s), ``writes``
(creations and specimens acknowledged during the run), and ``verified`` (the
audit log and the vault's revisions check out).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _common import emit, machine, today
from _failover_load import Runner, check
from _pg_formation import running_formation
from etanche.access import Actor, Role
from etanche.crypto import KdfCost, PassphraseKeyFile
from etanche.service import NETWORK_WIDE, Core, Custody
from etanche.synth import SynthConfig, generate
from etanche.vault import Vault, parse_location

PASSPHRASE = "failover bench passphrase"
AUDITOR = Actor("bench.auditor", "u-bench-auditor", Role.AUDITOR, NETWORK_WIDE)


def measure(before_s: float, after_s: float, patients: int) -> dict[str, object]:
    network = generate(SynthConfig(patients=patients, labs=2, seed=16))
    started = time.monotonic()
    with running_formation() as formation, tempfile.TemporaryDirectory() as scratch:
        startup_s = time.monotonic() - started
        location = parse_location(formation.url(), Path(scratch) / "keys.json")
        with Vault.create(location, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests()) as vault:
            for lab in network.labs:
                vault.add_lab(lab)
        custody = Custody.unsealed(PassphraseKeyFile.open(location.keyfile, PASSPHRASE))
        core = Core(location, custody, trail_mode="buffered")
        try:
            runner = Runner(core, network).start()
            time.sleep(before_s)
            writes_before = runner.load.writes()
            runner.load.killed_at = time.monotonic()
            formation.kill_primary()
            deadline = time.monotonic() + 120
            while runner.load.failover_s() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(after_s)
            load = runner.stop()
            verdict = check(core, load, AUDITOR)
            events = formation.events()
        finally:
            core.close()
    failover = load.failover_s()
    reads = sum(a.action == "patient.read" for a in load.acked)
    return {
        "acknowledged_lost": verdict.acknowledged_lost,
        "duplicates": verdict.duplicates,
        "failover_s": None if failover is None else round(failover, 2),
        "writes": load.writes(),
        "writes_before_kill": writes_before,
        "reads": reads,
        "failed_operations": sum(load.failures.values()),
        "failures": dict(load.failures),
        "verified": verdict.log_ok,
        "formation_start_s": round(startup_s, 1),
        "monitor_events": len(events),
        "load_average": round(os.getloadavg()[0], 1),
    }


def markdown(result: dict[str, object], args: argparse.Namespace) -> str:
    failover = result["failover_s"]
    met = (
        result["acknowledged_lost"] == 0
        and result["duplicates"] == 0
        and failover is not None
        and float(str(failover)) <= 30
    )
    return (
        f"### failover: primary killed under load, {today()}, {machine()}\n\n"
        f"`python bench/failover.py --json --before {args.before:g} --after {args.after:g} "
        f"--patients {args.patients}`\n\n"
        "A local pg_auto_failover formation (monitor, primary, synchronous secondary, the "
        "test's short health-check timers), the service's core on the multi-host URL with a "
        "buffered trail, three threads creating patients, entering specimens and reading "
        "records; SIGKILL of the primary's keeper and postmaster mid-load.\n\n"
        "| | measured | goal |\n|---|---|---|\n"
        f"| acknowledged operations lost | {result['acknowledged_lost']} | 0 |\n"
        f"| records or audit events stored twice | {result['duplicates']} | 0 |\n"
        f"| kill to first acknowledged write | {failover} s | <= 30 s |\n"
        f"| writes acknowledged (creations + specimens) | {result['writes']} "
        f"({result['writes_before_kill']} before the kill) | |\n"
        f"| reads acknowledged | {result['reads']} | |\n"
        f"| operations that failed (not acknowledged) | {result['failed_operations']} | |\n"
        f"| audit log and vault revisions verify | {str(result['verified']).lower()} | true |\n\n"
        f"Goals {'met' if met else 'NOT met'}. The machine is shared with other jobs (load "
        f"average {result['load_average']} on 2 cores at the end): write throughput is low "
        "because every commit waits for the standby and the cores are busy; the failover "
        "time is mostly pg_auto_failover's timers (2 s to call the node unhealthy, 3 s "
        "demote timeout). With the default timers of docs/operations.md expect 20 to 30 s. "
        f"Starting the formation took {result['formation_start_s']} s."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--before", type=float, default=5.0, help="seconds of load before")
    parser.add_argument("--after", type=float, default=5.0, help="seconds after recovery")
    parser.add_argument("--patients", type=int, default=3000)
    args = parser.parse_args()
    result = measure(args.before, args.after, args.patients)
    emit(result, args.json, "failover", markdown(result, args))


if __name__ == "__main__":
    main()
