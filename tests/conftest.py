"""Shared fixtures: vault backends (SQLite and a real PostgreSQL), small networks."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

sys.path.insert(0, str(Path(__file__).parent))  # _postgres, _staff

import _mypy_run
from _postgres import PostgresServer, find_bindir, running_server
from etanche.crypto import KdfCost
from etanche.synth import SynthConfig, SynthNetwork, generate
from etanche.vault import Vault, VaultLocation, parse_location

PASSPHRASE = "correct horse battery staple"

# The CLI's Rich consoles are built when etanche.cli is first imported and keep the
# width they see then (80 on a dumb terminal): wide enough that no test's one-line
# output wraps, whichever test imports the CLI first in an xdist worker.
os.environ.setdefault("COLUMNS", "250")

# Property tests check what holds, not how fast: on a shared 2-core machine one
# example can take longer than hypothesis's default 200 ms deadline for reasons
# that have nothing to do with the code under test.
hypothesis_settings.register_profile("shared-machine", deadline=None)
hypothesis_settings.load_profile("shared-machine")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules holding a ``slow`` test run first, each kept whole (its module fixtures
    start once): under ``--dist worksteal`` the other worker takes the many short
    tests meanwhile, and no long test is left to run alone at the end."""
    slow = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in slow)


_MYPY = pytest.StashKey[tuple[subprocess.Popen[bytes], Path]]()


def pytest_sessionstart(session: pytest.Session) -> None:
    """The controller starts ``mypy`` in the background when its test is among the
    paths, before the xdist workers come up (they inherit where to read its result)."""
    config = session.config
    if hasattr(config, "workerinput") or config.option.collectonly:
        return
    if os.environ.get(_mypy_run.RESULT_VARIABLE):
        return
    if _mypy_run.selected(config.args, config.invocation_params.dir):
        folder = Path(tempfile.mkdtemp(prefix="etanche-mypy-"))
        config.stash[_MYPY] = (_mypy_run.start(folder), folder)


def pytest_sessionfinish(session: pytest.Session) -> None:
    started = session.config.stash.get(_MYPY, None)
    if started is None:
        return
    process, folder = started
    if process.poll() is None:  # its test was deselected or the run was interrupted
        os.killpg(process.pid, signal.SIGTERM)
        process.wait()
    os.environ.pop(_mypy_run.RESULT_VARIABLE, None)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if find_bindir() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries are missing: scripts/test-suite.sh installs them")
        pytest.skip("PostgreSQL binaries not installed")
    with running_server() as server:
        yield server


@dataclass
class Backend:
    """One vault location on one backend, plus what a raw-file test needs."""

    name: str
    location: VaultLocation
    server: PostgresServer | None = None
    database: str | None = None

    def raw_bytes(self) -> bytes:
        """Everything an attacker with a copy of the storage would get."""
        if self.server is not None and self.database is not None:
            return self.server.dump(self.database)
        path = self.location.sqlite_path
        data = path.read_bytes()
        for suffix in ("-wal", "-shm", "-journal"):
            extra = path.with_name(path.name + suffix)
            if extra.exists():
                data += extra.read_bytes()
        return data


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return Backend("sqlite", parse_location(str(tmp_path / "vault")))
    server: PostgresServer = request.getfixturevalue("postgres_server")
    database = "t_" + uuid.uuid4().hex[:12]
    url = server.create_database(database)
    return Backend("postgres", parse_location(url, tmp_path / "keys.json"), server, database)


@pytest.fixture
def vault(backend: Backend) -> Iterator[Vault]:
    store = Vault.create(backend.location, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests())
    yield store
    store.close()


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual permissive umask (files 0644, folders 0755 unless Étanche says otherwise)."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode_of(path: Path) -> int:
    """The permission bits of ``path`` (0o600, 0o700, ...)."""
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="session")
def small_network() -> SynthNetwork:
    return generate(SynthConfig(patients=300, labs=4, seed=7))


@pytest.fixture
def loaded_vault(vault: Vault, small_network: SynthNetwork) -> Vault:
    for lab in small_network.labs:
        vault.add_lab(lab)
    vault.add_many((p, s) for batch in small_network.batches() for p, s in batch)
    return vault
