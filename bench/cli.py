"""The CLI as a client of the service: how fast a person's command answers.

    python bench/cli.py --json [--runs 10] [--patients 20000]

A vault under a 3-of-5 custodian quorum with a synthetic network, `etanche serve`
started sealed as its own process, then, each as a fresh `etanche` process the
way a person types them:
- ``unseal_ms``: three custodians each run `etanche unseal --share … --identity …`
  (from the first command's start to the third's end: three processes, age
  decryption of each share, Shamir combination, the KEK file and every data key
  opened in the service);
- ``help_ms``: `etanche --help`, median of ``--runs``;
- ``whoami_ms``: `etanche whoami` against the running service, median;
- ``find_p50_ms``: `etanche find --nir …` through the service (policy, blind index,
  decryption, audit event), median over ``--runs`` different patients.
Goals: help and whoami <= 300 ms, find <= 400 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import pyotp

from _common import emit, machine, today
from etanche.client import connect, write_session
from etanche.crypto import AgeIdentity, Custodian
from etanche.service.bootstrap import (
    QuorumPlan,
    initialise,
    load_synthetic,
    opened_provider,
    share_from,
)
from etanche.synth import SynthConfig, generate, staff_rpps
from etanche.vault import parse_location

GOALS = {"help_ms": 300.0, "whoami_ms": 300.0, "find_p50_ms": 400.0}
PASSWORD = "Bench-Etanche-Synthetique-2026"
ETANCHE = [sys.executable, "-m", "etanche"]


def _run_ms(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[3:5])} failed: {done.stderr.strip()}")
    return elapsed


def _etanche_binary() -> list[str]:
    """The installed console script when there is one (what a person runs)."""
    script = Path(sys.executable).with_name("etanche")
    return [str(script)] if script.exists() else ETANCHE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="etanche-bench-cli-"))
    server: subprocess.Popen[str] | None = None
    try:
        identities = [AgeIdentity.generate() for _ in range(5)]
        custodians = [Custodian(f"c{i}", who.public_text()) for i, who in enumerate(identities)]
        keys: list[Path] = []
        for i, who in enumerate(identities):
            keys.append(root / f"c{i}.key")
            keys[-1].write_text(who.secret_text() + "\n")
        location = parse_location(str(root / "v"))
        folder = root / "v-custody"
        initialise(
            location,
            folder,
            QuorumPlan(custodians, 3, root / "shares"),
            ("ylegoff", "Yannick Le Goff", PASSWORD),
        )
        shares = [root / "shares" / f"share-c{i}.age" for i in range(5)]
        lines = [share_from(None, shares[i], keys[i]) for i in range(3)]
        network = generate(SynthConfig(patients=args.patients, seed=41))
        load_synthetic(location, opened_provider(folder, lines), network)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        sock = root / "run" / "service.sock"
        env = {**os.environ, "ETANCHE_VAULT": str(root / "v"), "ETANCHE_SERVICE": f"unix:{sock}"}
        server = subprocess.Popen(
            [*ETANCHE, "serve", "--port", str(port), "--socket", str(sock), "--workers", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        deadline = time.monotonic() + 60
        while not sock.exists():
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the service did not start")
            time.sleep(0.05)
        cli = _etanche_binary()
        started = time.perf_counter()
        for i in (0, 2, 4):
            _run_ms([*cli, "unseal", "--share", str(shares[i]), "--identity", str(keys[i])], env)
        unseal_ms = (time.perf_counter() - started) * 1000

        client = connect(f"unix:{sock}")
        enrol = client.post("/login", {"username": "ylegoff", "password": PASSWORD})
        code = pyotp.TOTP(enrol["secret"]).now()
        session = client.post("/login", {"username": "ylegoff", "password": PASSWORD, "code": code})
        admin_session = root / "admin.session"
        write_session(admin_session, session["token"])
        # a biologist of every lab, to find patients
        admin = connect(f"unix:{sock}", session["token"])
        labs = [lab.id for lab in network.labs]
        admin.post(
            "/users",
            {
                "username": "jmartin",
                "full_name": "Jeanne Martin",
                "role": "biologist",
                "labs": labs,
                "password": PASSWORD,
                "rpps": staff_rpps("jmartin"),
            },
        )
        # her second approval: a first DPO, approved by the custodians, approves her
        admin.post(
            "/users",
            {
                "username": "aleroux",
                "full_name": "Anne Le Roux",
                "role": "dpo",
                "labs": ["*"],
                "password": PASSWORD,
            },
        )
        for i in (0, 2, 4):
            _run_ms(
                [*cli, "unseal", "--for", "approve-dpo", "--share", str(shares[i]),
                 "--identity", str(keys[i])],
                env,
            )  # fmt: skip
        admin.post("/users/aleroux/approve")
        enrol = client.post("/login", {"username": "aleroux", "password": PASSWORD})
        code = pyotp.TOTP(enrol["secret"]).now()
        dpo = client.post("/login", {"username": "aleroux", "password": PASSWORD, "code": code})
        connect(f"unix:{sock}", dpo["token"]).post("/users/jmartin/approve")
        enrol = client.post("/login", {"username": "jmartin", "password": PASSWORD})
        code = pyotp.TOTP(enrol["secret"]).now()
        bio = client.post("/login", {"username": "jmartin", "password": PASSWORD, "code": code})
        bio_session = root / "bio.session"
        write_session(bio_session, bio["token"])
        env["ETANCHE_SESSION_FILE"] = str(bio_session)

        help_ms = statistics.median(_run_ms([*cli, "--help"], env) for _ in range(args.runs))
        whoami_ms = statistics.median(_run_ms([*cli, "whoami"], env) for _ in range(args.runs))
        nirs = [p.nir for p in network.patients() if p.nir][: args.runs]
        find_ms = statistics.median(
            _run_ms([*cli, "find", "--nir", nir, "--json"], env) for nir in nirs if nir
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)
    result = {
        "patients": args.patients,
        "runs": args.runs,
        "help_ms": round(help_ms, 1),
        "whoami_ms": round(whoami_ms, 1),
        "find_p50_ms": round(find_ms, 1),
        "unseal_ms": round(unseal_ms, 1),
    }
    rows = "\n".join(
        f"| `{key}` | {result[key]:,.1f} ms | <= {goal:.0f} ms | "
        f"{'yes' if float(result[key]) <= goal else 'no'} |"
        for key, goal in GOALS.items()
    )
    markdown = f"""
## CLI: person commands as clients of the service

{today()} · {machine()} · `python bench/cli.py --json --runs {args.runs} \
--patients {args.patients}`

Each figure is a fresh `etanche` process, as a person types it, against `etanche serve`
running as its own process (one worker) on a Unix socket; median of {args.runs} runs.

| measure | measured | goal | met |
|---|---:|---:|---|
{rows}
| `unseal_ms` (3 of 5 custodians, three `etanche unseal` processes) | \
{unseal_ms:,.1f} ms | | |
"""
    emit(result, args.json, "cli", markdown)


if __name__ == "__main__":
    main()
