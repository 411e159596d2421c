"""Patient sheet reads over HTTP with audit on, at a fixed request rate.

    python bench/web.py --json [--rps 200] [--seconds 60] [--patients 20000]
                               [--steps 100,200,...] [--step-seconds 10]
                               [--engine sqlite|postgresql|both]

Starts `etanche serve` (one worker per core) on 127.0.0.1 (a free port), logs a
biologist in, then an open-loop asyncio client on keep-alive connections sends
sheet reads at a fixed rate for a bounded time, at most --max-in-flight at once,
and stops by itself.
Latency is measured from each request's scheduled start, so a slow server cannot
hide queueing. Loopback only.

In the same run, the same page is served without protection by
`bench/_plain_sheet.py` (same template, same server stack and worker count, a
plaintext row, no session, policy, audit or decryption), and both servers are
stepped up through --steps request rates.

JSON keys: rps, p50_ms, p99_ms, errors (at --rps); server_cpu_ms and
plain_server_cpu_ms (CPU seconds of the server process and its workers, from
/proc, per request, at --rps) and cpu_ratio; capacity_rps and plain_capacity_rps
(the highest step at which p99 <= 50 ms with no error).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import httpx

from _common import machine, today
from _engines import Measured, add_engine_options, run_engines, section
from _plain_sheet import write_plain
from etanche.access import Accounts, Approvals, Role, Sessions, current_code
from etanche.service.bootstrap import DemoPlan, custody_folder, initialise, opened_provider
from etanche.synth import SynthConfig, generate, staff_rpps
from etanche.vault import Vault, VaultLocation

PASSWORD = "Bench-Goelette-Brume-2026"
SHEET = "/patients/{id}"
P99_GOAL_MS = 50.0
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(root: int) -> float:
    """User + system CPU of a process and all its descendants, from /proc (Linux)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(where: VaultLocation, scratch: Path, patients: int) -> tuple[list[str], str]:
    """A vault with a synthetic network and a logged-in biologist of every lab.

    The same patients go in the clear to ``plain.sqlite`` in ``scratch``, for the plain
    server (SQLite whatever the vault's engine: the denominator stays the same).
    """
    network = generate(SynthConfig(patients=patients))
    people = [p for batch in network.batches() for p in batch]
    write_plain(
        scratch / "plain.sqlite",
        [patient for patient, _ in people],
        [specimen for _, specimens in people for specimen in specimens],
        list(network.labs),
    )
    folder = custody_folder(where, str(scratch / "custody"))
    share = scratch / "share.txt"
    initialise(where, folder, DemoPlan(share), ("ylegoff", "Yannick Le Goff", PASSWORD))
    provider = opened_provider(folder, [share.read_text()])
    with Vault.open_with(where, provider) as store:
        for lab in network.labs:
            store.add_lab(lab)
        store.add_many(iter(people), validate=False)
        accounts = Accounts(store)
        sessions = Sessions(store, accounts=accounts)
        _, admin_secret, _ = sessions.begin_enrolment("ylegoff", PASSWORD)
        _, admin_token = sessions.authenticate(
            "ylegoff", PASSWORD, current_code(admin_secret, datetime.now(UTC))
        )
        admin = sessions.resume(admin_token)
        labs = {lab.id for lab in network.labs}
        accounts.add(
            "jmartin", "Jeanne Martin", Role.BIOLOGIST, labs, PASSWORD, admin,
            rpps=staff_rpps("jmartin"),
        )  # fmt: skip
        # her second person: a first DPO, approved by the demo custody's one custodian
        approvals = Approvals(store, accounts)
        accounts.add("aleroux", "Anne Le Roux", Role.DPO, {"*"}, PASSWORD, admin)
        approvals.approve("aleroux", admin, quorum=lambda: ("demo",))
        _, dpo_secret, _ = sessions.begin_enrolment("aleroux", PASSWORD)
        _, dpo_token = sessions.authenticate(
            "aleroux", PASSWORD, current_code(dpo_secret, datetime.now(UTC))
        )
        approvals.approve("jmartin", sessions.resume(dpo_token))
        _, secret, _ = sessions.begin_enrolment("jmartin", PASSWORD)
        _, token = sessions.authenticate(
            "jmartin", PASSWORD, current_code(secret, datetime.now(UTC)), kind="web"
        )
        ids = store.patient_ids()
    return ids, token


class Connection:
    """One keep-alive HTTP/1.1 connection with a minimal client.

    A general-purpose client (httpx) costs more CPU per request than the server
    work measured here, on the same two cores; this one only writes the request
    line and reads the status, headers and Content-Length body.
    """

    def __init__(self, host: str, port: int, cookie: str) -> None:
        self.host, self.port, self.cookie = host, port, cookie
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Cookie: etanche_session={self.cookie}\r\nAccept: text/html\r\n\r\n"
        )
        self.writer.write(request.encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def load(
    host: str, port: int, token: str, ids: list[str], rps: int, seconds: float, cap: int
) -> dict[str, float | int]:
    """Open loop: request i is due at start + i/rps whatever came before."""
    latencies: list[float] = []
    errors = 0
    rng = random.Random(7)
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(cap):
        idle.put_nowait(Connection(host, port, token))

    async def one(scheduled: float, patient_id: str) -> None:
        nonlocal errors
        conn = await idle.get()
        try:
            status = await conn.get(SHEET.format(id=patient_id))
            ok = status == 200
        except (OSError, asyncio.IncompleteReadError, ValueError):
            conn.close()
            conn = Connection(host, port, token)
            ok = False
        idle.put_nowait(conn)
        latencies.append((time.perf_counter() - scheduled) * 1000)
        if not ok:
            errors += 1

    tasks = []
    start = time.perf_counter()
    for i in range(int(rps * seconds)):
        scheduled = start + i / rps
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled, rng.choice(ids))))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    while not idle.empty():
        idle.get_nowait().close()
    latencies.sort()
    return {
        "requests": len(latencies),
        "achieved_rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(latencies[len(latencies) // 2], 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 2),
        "errors": errors,
    }


class Served:
    """One server under test: its process, port and the cookie its client sends."""

    def __init__(self, command: list[str], env: dict[str, str], port: int, token: str) -> None:
        self.port, self.token = port, token
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def ready(self, probe: str) -> None:
        """Until ``probe`` answers 200 (for the product: an unsealed status)."""
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{self.port}{probe}",
                    headers={"Accept": "application/json"},
                    timeout=1,
                )
                sealed = "json" in answer.headers.get("content-type", "") and answer.json().get(
                    "sealed", False
                )
                if answer.status_code == 200 and not sealed:
                    time.sleep(2.0)  # the workers fork once unsealed
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.2)
        self.process.kill()
        _, errors = self.process.communicate()
        raise SystemExit(f"server on port {self.port} did not start:\n{errors.decode()[-2000:]}")

    def run(self, ids: list[str], rps: int, seconds: float, cap: int) -> dict[str, float | int]:
        """One load at ``rps``, with the server's CPU per request over it."""
        before = cpu_seconds(self.process.pid)
        measured = asyncio.run(load("127.0.0.1", self.port, self.token, ids, rps, seconds, cap))
        spent = cpu_seconds(self.process.pid) - before
        measured["server_cpu_ms"] = round(1000 * spent / max(1, int(measured["requests"])), 2)
        return measured

    def capacity(
        self, ids: list[str], steps: list[int], seconds: float, cap: int
    ) -> tuple[int, list[dict[str, float | int]]]:
        """The highest step held (p99 <= 50 ms, no error); stops at the first step missed."""
        held, trail = 0, []
        for rps in steps:
            step = {"rps": rps, **self.run(ids, rps, seconds, cap)}
            trail.append(step)
            if step["p99_ms"] > P99_GOAL_MS or step["errors"]:
                break
            held = rps
        return held, trail

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def run_server(
    served: Served, probe: str, ids: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    """Warm-up, the fixed-rate run, then the capacity steps, on one server."""
    try:
        served.ready(probe)
        served.run(ids, 20, 2, 8)  # warm-up, not measured
        fixed = served.run(ids, args.rps, args.seconds, args.max_in_flight)
        steps = [int(x) for x in args.steps.split(",")]
        capacity, trail = served.capacity(ids, steps, args.step_seconds, args.max_in_flight)
    finally:
        served.stop()
    return {**fixed, "capacity_rps": capacity, "steps": trail}


def measure(args: argparse.Namespace, where: VaultLocation, engine: str) -> Measured:
    """The protected server, then the plain one, on the same patients, in one run."""
    with tempfile.TemporaryDirectory(prefix="etanche-bench-web-") as tmp:
        scratch = Path(tmp)
        ids, token = prepare(where, scratch, args.patients)
        vault = str(where.directory) if where.directory is not None else where.url
        env = {**os.environ, "ETANCHE_VAULT": vault, "ETANCHE_CUSTODY": str(scratch / "custody")}
        port = free_port()
        product = Served(
            [sys.executable, "-m", "etanche", "serve", "--port", str(port),
             "--share-file", str(scratch / "share.txt"), "--workers", str(args.workers)],
            env, port, token,
        )  # fmt: skip
        protected = run_server(product, "/api/v1/status", ids, args)
        port = free_port()
        plain_server = Served(
            [sys.executable, str(Path(__file__).with_name("_plain_sheet.py")),
             str(scratch / "plain.sqlite"), str(port), str(args.workers)],
            dict(os.environ), port, "none",
        )  # fmt: skip
        plain = run_server(plain_server, SHEET.format(id=ids[0]), ids, args)
    result = {
        "rps": args.rps,
        **{k: protected[k] for k in ("requests", "achieved_rps", "p50_ms", "p99_ms", "errors")},
        "server_cpu_ms": protected["server_cpu_ms"],
        "plain_server_cpu_ms": plain["server_cpu_ms"],
        "cpu_ratio": round(protected["server_cpu_ms"] / plain["server_cpu_ms"], 2),
        "capacity_rps": protected["capacity_rps"],
        "plain_capacity_rps": plain["capacity_rps"],
        "plain_p99_ms": plain["p99_ms"],
        "steps": protected["steps"],
        "plain_steps": plain["steps"],
        "workers": args.workers,
        "seconds": args.seconds,
        "patients": args.patients,
        "date": today(),
        "machine": machine(),
    }
    markdown = (
        f"### web ({engine}): patient sheet reads with audit on, {args.rps} requests/s for "
        f"{args.seconds:.0f} s, {args.patients:,} patients, {result['date']}, "
        f"{result['machine']}\n\n"
        f"`python bench/web.py --json --engine {engine} --rps {args.rps} "
        f"--seconds {args.seconds:.0f} --patients {args.patients} --steps {args.steps}`\n\n"
        "| | achieved req/s | p50 | p99 | errors | server CPU / request | capacity |\n"
        "|---|---|---|---|---|---|---|\n"
        f"| protected | {result['achieved_rps']} | {result['p50_ms']} ms | {result['p99_ms']} ms | "
        f"{result['errors']} | {result['server_cpu_ms']} ms | {result['capacity_rps']} req/s |\n"
        f"| plain | | | {result['plain_p99_ms']} ms | | {result['plain_server_cpu_ms']} ms | "
        f"{result['plain_capacity_rps']} req/s |\n\n"
        f"cpu_ratio {result['cpu_ratio']} (goal <= 1.5); goal: p99 <= 50 ms and zero errors at "
        "200 requests/s on 2 cores; capacity_rps >= 2x the figure before issue 17's work"
    )
    return result, section("web", engine), markdown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rps", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--max-in-flight", type=int, default=32)
    parser.add_argument("--steps", default="100,200,300,400,500,600,800,1000")
    parser.add_argument("--step-seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    parser.add_argument("--json", action="store_true")
    add_engine_options(parser)
    args = parser.parse_args()
    run_engines(args, lambda where, engine: measure(args, where, engine))


if __name__ == "__main__":
    main()
