"""A throw-away pg_auto_failover formation: a monitor, a primary and a synchronous secondary.

Started by the failover test and by ``bench/failover.py`` on this machine, each
node in its own folder and port under one temp dir, with Debian's
``pg_autoctl`` (package ``postgresql-15-auto-failover``; scripts/test-suite.sh
installs it). Under root every ``pg_autoctl`` runs as the ``postgres`` user, as
``tests/_postgres.py`` does for the single server.

Timings are cut from pg_auto_failover's defaults (a failover in ~30 s) to a few
seconds: the monitor checks health every 500 ms and calls a silent node
unhealthy after 2 s; the new primary waits 3 s (not 30 s) for the old one to
confirm its demotion before taking writes. On three machines keep the defaults
(docs/operations.md): short timers on a real network turn a slow packet into a
failover.

``kill_primary()`` is a machine dying: the primary's keeper and its postmaster
get SIGKILL, so nothing restarts Postgres and the monitor promotes the secondary.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from _postgres import find_bindir

USER = "etanche"
DATABASE = "etanche"
# the monitor's health checks (milliseconds), fast enough for a test
MONITOR_SETTINGS = {
    "pgautofailover.health_check_period": 500,
    "pgautofailover.health_check_timeout": 500,
    "pgautofailover.health_check_max_retries": 1,
    "pgautofailover.health_check_retry_delay": 200,
    "pgautofailover.node_considered_unhealthy_timeout": 2000,
    "pgautofailover.primary_demote_timeout": 3000,
}
# each keeper's own timers (seconds): a primary cut from the monitor demotes itself
# before the monitor's primary_demote_timeout lets the other one take writes
KEEPER_SETTINGS = {
    "timeout.network_partition_timeout": "2",
    "timeout.prepare_promotion_walreceiver": "1",
}
START_TIMEOUT_S = 60.0


def available() -> bool:
    """Whether pg_autoctl and the PostgreSQL server binaries are installed."""
    return shutil.which("pg_autoctl") is not None and find_bindir() is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Node:
    name: str
    port: int
    pgdata: Path
    keeper: subprocess.Popen[bytes] | None = None

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.pgdata / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None


@dataclass
class Formation:
    root: Path
    monitor: Node
    nodes: list[Node]
    _env: dict[str, str] = field(default_factory=dict)
    _prefix: list[str] = field(default_factory=list)

    def url(self) -> str:
        """The service's multi-host URL: libpq tries each node, keeps the writable one."""
        hosts = ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)
        return f"postgresql://{USER}@{hosts}/{DATABASE}?target_session_attrs=read-write"

    def node_url(self, node: Node, database: str = DATABASE) -> str:
        return f"postgresql://{USER}@127.0.0.1:{node.port}/{database}"

    def monitor_url(self) -> str:
        return f"postgresql://autoctl_node@127.0.0.1:{self.monitor.port}/pg_auto_failover"

    def primary(self) -> Node:
        """The node whose Postgres takes writes now."""
        for node in self.nodes:
            if self._writable(node):
                return node
        raise RuntimeError("formation: no writable node")

    def _writable(self, node: Node) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.node_url(node), connect_timeout=2) as conn:
                row = conn.execute("SHOW transaction_read_only").fetchone()
                return row is not None and row[0] == "off"
        except psycopg.Error:
            return False

    def replication(self) -> tuple[str, list[str]]:
        """The primary's synchronous_standby_names and its standbys' sync states."""
        import psycopg

        with psycopg.connect(self.node_url(self.primary()), connect_timeout=2) as conn:
            row = conn.execute("SHOW synchronous_standby_names").fetchone()
            states = conn.execute("SELECT sync_state FROM pg_stat_replication").fetchall()
        return (str(row[0]) if row else ""), [str(state) for (state,) in states]

    def states(self) -> dict[str, str]:
        """Each node's state as the monitor last recorded it."""
        import psycopg

        with psycopg.connect(self.monitor_url(), connect_timeout=2) as conn:
            rows = conn.execute("SELECT nodename, reportedstate FROM pgautofailover.node")
            return {str(name): str(state) for name, state in rows}

    def events(self) -> list[str]:
        """The monitor's event descriptions, oldest first (what docs/operations.md shows)."""
        import psycopg

        with psycopg.connect(self.monitor_url(), connect_timeout=2) as conn:
            rows = conn.execute("SELECT description FROM pgautofailover.event ORDER BY eventid")
            return [str(description) for (description,) in rows]

    def wait_states(self, wanted: dict[str, str], timeout_s: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        seen: dict[str, str] = {}
        while time.monotonic() < deadline:
            try:
                seen = self.states()
            except Exception:  # the monitor still starting
                seen = {}
            if all(seen.get(name) == state for name, state in wanted.items()):
                return
            time.sleep(0.2)
        raise RuntimeError(f"formation: states {seen} never reached {wanted}")

    def kill_primary(self) -> Node:
        """SIGKILL the primary's keeper and postmaster (a machine lost); returns that node."""
        node = self.primary()
        if node.keeper is not None:
            os.killpg(node.keeper.pid, signal.SIGKILL)  # the keeper's own process group
            node.keeper.wait()
        pid = node.postmaster_pid()
        if pid is not None:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return node

    # -- running pg_autoctl -------------------------------------------------------
    def _autoctl(self, *args: str) -> None:
        subprocess.run(
            [*self._prefix, "pg_autoctl", *args],
            env=self._env,
            check=True,
            capture_output=True,
            timeout=START_TIMEOUT_S,
        )

    def _run(self, node: Node) -> None:
        log = open(self.root / f"{node.name}.log", "ab")  # noqa: SIM115 - kept by the keeper
        node.keeper = subprocess.Popen(
            [*self._prefix, "pg_autoctl", "run", "--pgdata", str(node.pgdata)],
            env=self._env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill_primary() takes it whole
        )
        log.close()

    def _stop(self, node: Node) -> None:
        if node.keeper is not None and node.keeper.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(node.keeper.pid, signal.SIGKILL)
            node.keeper.wait()
        pid = node.postmaster_pid()
        if pid is not None:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _common(bindir: Path, node: Node) -> list[str]:
    return [
        "--pgctl",
        str(bindir / "pg_ctl"),
        "--pgdata",
        str(node.pgdata),
        "--pgport",
        str(node.port),
        "--hostname",
        "127.0.0.1",
        "--listen",
        "127.0.0.1",
        "--auth",
        "trust",
        "--no-ssl",  # one machine, loopback only; docs/operations.md uses TLS
    ]


@contextmanager
def running_formation() -> Iterator[Formation]:
    """A monitor, a primary and a synchronous secondary; everything removed at the end."""
    bindir = find_bindir()
    if bindir is None or shutil.which("pg_autoctl") is None:
        raise RuntimeError("pg_autoctl or the PostgreSQL binaries are not installed")
    root = Path(tempfile.mkdtemp(prefix="etanche-ha-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        # pg_autoctl keeps its configuration and state under XDG folders: ours, not ~postgres
        "XDG_CONFIG_HOME": str(root / "config"),
        "XDG_DATA_HOME": str(root / "data"),
        "XDG_RUNTIME_DIR": str(root / "run"),
        # Unix sockets in our folder, where pg_autoctl's own connections look for them
        "PG_REGRESS_SOCK_DIR": str(root),
        "PGHOST": str(root),
    }
    monitor = Node("monitor", _free_port(), root / "monitor")
    nodes = [Node(f"node{i}", _free_port(), root / f"node{i}") for i in (1, 2)]
    formation = Formation(root, monitor, nodes, env, prefix)
    try:
        formation._autoctl("create", "monitor", *_common(bindir, monitor))
        formation._run(monitor)
        _tune_monitor(formation)
        for node in nodes:
            formation._autoctl(
                "create",
                "postgres",
                *_common(bindir, node),
                "--monitor",
                formation.monitor_url() + "?sslmode=disable",
                "--dbname",
                DATABASE,
                "--username",
                USER,
                "--name",
                node.name,
            )
            for key, value in KEEPER_SETTINGS.items():
                formation._autoctl("config", "set", "--pgdata", str(node.pgdata), key, value)
            formation._run(node)
            if node is nodes[0]:
                formation.wait_states({"node1": "single"})
        formation.wait_states({"node1": "primary", "node2": "secondary"})
        yield formation
    finally:
        for node in [*nodes, monitor]:
            formation._stop(node)
        # three data folders take seconds to delete on a busy disk: not the caller's wait
        subprocess.Popen(["rm", "-rf", str(root)], start_new_session=True)


def _tune_monitor(formation: Formation) -> None:
    """Fast health checks on the monitor (superuser over loopback, trust)."""
    import psycopg

    url = f"postgresql://postgres@127.0.0.1:{formation.monitor.port}/pg_auto_failover"
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=2) as conn:
                for name, value in MONITOR_SETTINGS.items():
                    conn.execute(f"ALTER SYSTEM SET {name} = {int(value)}")
                conn.execute("SELECT pg_reload_conf()")
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
