"""A staff member guesses a colleague's password and hides behind forged headers.

Before, the login limit was per worker process and keyed on ``X-Forwarded-For``,
which the server believed from loopback: 12 of 12 attempts with a rotating header
passed, and the forged address went into the audit event. Here the limit lives
in the database (every worker shares it), proxy headers are believed only from
configured proxies, and the forged address never reaches the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from _service import Served, passphrase_custody, served
from etanche.audit import AuditLog
from etanche.synth import SynthConfig, generate
from etanche.web import Background, WebConfig, bind_tcp, create_app


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    with served(tmp_path, monkeypatch, generate(SynthConfig(patients=20, labs=1, seed=6))) as s:
        yield s


def _worker(site: Served) -> tuple[Background, str]:
    """Another worker of the same service on TCP, as `etanche serve --workers 2` runs."""
    config = WebConfig(site.location, passphrase_custody(site.location, site.passphrase))
    sock = bind_tcp("127.0.0.1", 0)
    server = Background(create_app(config), [sock]).start()
    return server, f"http://127.0.0.1:{sock.getsockname()[1]}"


def _guess(base: str, attempts: range) -> list[int]:
    """Wrong passwords for ylegoff, each request claiming another client address."""
    statuses = []
    with httpx.Client(base_url=base) as http:
        page = http.get("/login").text
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        assert found is not None
        for i in attempts:
            answer = http.post(
                "/login",
                data={
                    "username": "ylegoff",
                    "password": f"guess-{i:04d}-xx",
                    "code": "123456",
                    "csrf": found[1],
                },
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
            )
            statuses.append(answer.status_code)
    return statuses


def test_forged_forwarded_for_across_workers_does_not_reset_the_limit(site: Served) -> None:
    first, first_url = _worker(site)
    second, second_url = _worker(site)
    try:
        early = _guess(first_url, range(6)) + _guess(second_url, range(6, 12))
    finally:
        first.stop()
        second.stop()
    assert 429 not in early[:10]
    assert early[10:] == [429, 429]  # the 11th and 12th, whichever worker, whatever header
    with site.open() as store, AuditLog.for_vault(store) as log:
        clients = {e.client for _, e in log.events(action="auth.login")}
    assert clients and not any(c and c.startswith("203.0.113.") for c in clients)
