"""Listening sockets of the service: loopback TCP for browsers, a 0600 Unix socket for the CLI.

uvicorn would make a Unix socket world-writable (0666); the service binds its
own, readable and writable by its owner only, and hands both to uvicorn.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from etanche.errors import ServiceUnavailable, UsageError


def bind_unix(path: Path) -> socket.socket:
    """A Unix socket at ``path``, mode 0600 from its creation (umask 0177 while binding)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink()  # a stale socket of a service that stopped
        else:
            raise UsageError(f"--socket {path}: a service already listens there")
        finally:
            probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.umask(0o177)
    try:
        sock.bind(str(path))
    finally:
        os.umask(previous)
    os.chmod(path, 0o600)
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def bind_tcp(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"--port {port}: cannot listen on {host} ({exc.strerror})") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def server_for(
    app: FastAPI,
    *,
    certfile: Path | None = None,
    tls_key: Path | None = None,
    trusted_proxies: Sequence[str] = (),
) -> uvicorn.Server:
    """A uvicorn server for ``app``; forwarded headers believed from ``trusted_proxies`` only.

    uvicorn believes ``X-Forwarded-For`` from loopback by default: any local client,
    or anything relayed through a local port, could then pick its own address and
    reset the per-address login limit. Without configured proxies nobody is believed.
    """
    proxies = [p.strip() for p in trusted_proxies if p.strip()]
    config = uvicorn.Config(
        app,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        log_level="warning",
        access_log=False,  # URLs may hold search terms: never log them
        lifespan="on",
        ssl_certfile=str(certfile) if certfile else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
    )
    return uvicorn.Server(config)


class Background:
    """A server running in a thread of this process (the demo, the tests)."""

    def __init__(
        self,
        app: FastAPI,
        sockets: Sequence[socket.socket],
        *,
        trusted_proxies: Sequence[str] = (),
    ) -> None:
        self.server = server_for(app, trusted_proxies=trusted_proxies)
        self._sockets = list(sockets)
        # asyncio closes the sockets it served: it gets duplicates, so the listening
        # sockets outlive this server (the workers forked after an unseal reuse them)
        self._thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [s.dup() for s in self._sockets]},
            name="etanche-service",
            daemon=True,
        )

    def start(self, timeout: float = 30.0) -> Background:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ServiceUnavailable("service: did not start")
            time.sleep(0.01)
        return self

    def stop(self, *, close_sockets: bool = True) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=30)
        if close_sockets:
            for sock in self._sockets:
                sock.close()

    def wait(self) -> None:
        """Until the server stops (Ctrl+C in the main thread stops it)."""
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)


def run_workers(
    make_app: Callable[[], FastAPI],
    sockets: Sequence[socket.socket],
    count: int,
    *,
    certfile: Path | None = None,
    tls_key: Path | None = None,
    trusted_proxies: Sequence[str] = (),
) -> None:
    """``count`` forked worker processes serving the same sockets, until Ctrl+C or SIGTERM.

    Forked after custody opened: each worker inherits the unsealed key provider in
    memory (nothing is written to disk or to the environment) and opens its own
    database connections and trail.
    """
    children: list[int] = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:  # a worker: serve until told to stop, never return to the caller
            code = 0
            try:
                server_for(
                    make_app(),
                    certfile=certfile,
                    tls_key=tls_key,
                    trusted_proxies=trusted_proxies,
                ).run(sockets=list(sockets))
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        children.append(pid)

    def stop(*_: object) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        for pid in children:
            os.waitpid(pid, 0)
    except KeyboardInterrupt:
        stop()
        for pid in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
    finally:
        signal.signal(signal.SIGTERM, previous)
