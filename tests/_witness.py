"""A witness serving in this process for tests: its own folder, a free port."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from etanche.witness import (
    CheckpointWitness,
    init_witness,
    make_server,
    open_witness,
    serve_in_thread,
)


@dataclass(frozen=True)
class LocalWitness:
    url: str
    vkey: str
    folder: Path
    witness: CheckpointWitness


@contextmanager
def running_witness(
    folder: Path, log_vkey: str, name: str = "witness.test/w1"
) -> Iterator[LocalWitness]:
    vkey = init_witness(folder, name, [log_vkey])
    witness = open_witness(folder)
    server = make_server(witness, "127.0.0.1", 0)
    serve_in_thread(server)
    try:
        yield LocalWitness(f"http://127.0.0.1:{server.server_address[1]}", vkey, folder, witness)
    finally:
        server.shutdown()
        server.server_close()
