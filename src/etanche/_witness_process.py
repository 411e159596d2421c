"""A local witness started as its operator would: `etanche witness init`, then `serve`.

The demo and the audit benchmark each run one witness beside the service, in a
folder and a process of its own (the witness never shares the service's memory
or files). Only the standard library is imported: the CLI's start-up stays light.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["LocalWitness", "start_local_witness"]


class LocalWitness:
    """A running witness process: its verifier key (to pin) and its URL."""

    def __init__(self, process: subprocess.Popen[bytes], vkey: str, url: str) -> None:
        self.process = process
        self.vkey = vkey
        self.url = url

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_local_witness(folder: Path, name: str, log_key_file: Path) -> LocalWitness:
    """Create the witness in ``folder`` pinning the log key in ``log_key_file``, serve it
    on a free loopback port, and return once it accepts connections."""
    cli = [sys.executable, "-m", "etanche", "witness"]
    done = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [*cli, "init", "--folder", str(folder), "--name", name, "--log-key", str(log_key_file)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    vkey = done.stdout.strip().splitlines()[-1]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [*cli, "serve", "--folder", str(folder), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return LocalWitness(process, vkey, f"http://127.0.0.1:{port}")
