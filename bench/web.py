"""Patient sheet reads over HTTP with audit on, at a fixed request rate.

    python bench/web.py --json [--rps 200] [--seconds 60] [--patients 20000]
                               [--engine sqlite|postgresql|both]

Starts `etanche serve` (one worker per core) on 127.0.0.1 (a free port), logs a
biologist in, then an open-loop asyncio client on keep-alive connections sends
sheet reads at a fixed rate for a bounded time, at most --max-in-flight at once,
and stops by itself.
Latency is measured from each request's scheduled start, so a slow server cannot
hide queueing. Loopback only. JSON keys: rps, p50_ms, p99_ms, errors.
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

sys.path.insert(0, str(Path(__file__).parent))

import httpx

from _common import machine, today
from _engines import Measured, add_engine_options, run_engines, section
from etanche.access import Accounts, Approvals, Role, Sessions, current_code
from etanche.service.bootstrap import DemoPlan, custody_folder, initialise, opened_provider
from etanche.synth import SynthConfig, generate, staff_rpps
from etanche.vault import Vault, VaultLocation

PASSWORD = "Bench-Goelette-Brume-2026"
SHEET = "/patients/{id}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(where: VaultLocation, scratch: Path, patients: int) -> tuple[list[str], str]:
    """A vault with a synthetic network and a logged-in biologist of every lab."""
    network = generate(SynthConfig(patients=patients))
    folder = custody_folder(where, str(scratch / "custody"))
    share = scratch / "share.txt"
    initialise(where, folder, DemoPlan(share), ("ylegoff", "Yannick Le Goff", PASSWORD))
    provider = opened_provider(folder, [share.read_text()])
    with Vault.open_with(where, provider) as store:
        for lab in network.labs:
            store.add_lab(lab)
        store.add_many((p for batch in network.batches() for p in batch), validate=False)
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


def measure(args: argparse.Namespace, where: VaultLocation, engine: str) -> Measured:
    with tempfile.TemporaryDirectory(prefix="etanche-bench-web-") as tmp:
        scratch = Path(tmp)
        ids, token = prepare(where, scratch, args.patients)
        port = free_port()
        vault = str(where.directory) if where.directory is not None else where.url
        env = {**os.environ, "ETANCHE_VAULT": vault, "ETANCHE_CUSTODY": str(scratch / "custody")}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "etanche",
                "serve",
                "--port",
                str(port),
                "--share-file",
                str(scratch / "share.txt"),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 30
            while time.time() < deadline:
                try:
                    status = httpx.get(base + "/api/v1/status", timeout=1)
                    if status.status_code == 200 and not status.json()["sealed"]:
                        time.sleep(2.0)  # the workers fork once unsealed
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            else:
                raise SystemExit("server did not start")
            # warm-up, not measured
            asyncio.run(load("127.0.0.1", port, token, ids, 20, 2, 8))
            measured = asyncio.run(
                load("127.0.0.1", port, token, ids, args.rps, args.seconds, args.max_in_flight)
            )
        finally:
            server.terminate()
            server.wait(timeout=20)
    result = {
        "rps": args.rps,
        **measured,
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
        f"--seconds {args.seconds:.0f} --patients {args.patients}`\n\n"
        "| achieved req/s | p50 | p99 | errors |\n|---|---|---|---|\n"
        f"| {measured['achieved_rps']} | {measured['p50_ms']} ms | {measured['p99_ms']} ms | "
        f"{measured['errors']} |\n\n"
        "goal: p99 <= 50 ms and zero errors at 200 requests/s on 2 cores"
    )
    return result, section("web", engine), markdown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rps", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--max-in-flight", type=int, default=32)
    parser.add_argument("--json", action="store_true")
    add_engine_options(parser)
    args = parser.parse_args()
    run_engines(args, lambda where, engine: measure(args, where, engine))


if __name__ == "__main__":
    main()
