"""Login throttling that holds: shared by workers, blind to spoofed headers, and a
locked account that answers like a wrong password but alerts the DPO."""

from __future__ import annotations

import itertools
import re

import httpx
from fastapi.testclient import TestClient

from etanche.access import Role
from etanche.audit import AlertEngine
from etanche.web import Background, bind_tcp, create_app

from .conftest import WebVault

_client_numbers = itertools.count(10)


def _address() -> tuple[str, int]:
    """A fresh client address per test: the limit is kept in the (shared) test vault."""
    return (f"198.51.100.{next(_client_numbers)}", 40000)


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_spoofed_forwarded_for_does_not_reset_the_limit(web_vault: WebVault) -> None:
    """12 attempts from 127.0.0.1, each claiming another X-Forwarded-For: the limit
    (10 a minute) still stops the last ones; uvicorn believes no proxy by default."""
    app = create_app(web_vault.config())
    sock = bind_tcp("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = Background(app, [sock]).start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
            csrf = _csrf(http.get("/login").text)
            statuses = [
                http.post(
                    "/login",
                    data={
                        "username": "nobodyhere",
                        "password": "x" * 12,
                        "code": "1",
                        "csrf": csrf,
                    },
                    headers={"X-Forwarded-For": f"203.0.113.{i}"},
                ).status_code
                for i in range(12)
            ]
    finally:
        server.stop()
    # other tests of the session may also have tried from 127.0.0.1: only the end is sure
    assert statuses[-2:] == [429, 429]
    clients = {e.client for e in web_vault.events(action="auth.login") if e.actor == "nobodyhere"}
    assert not any(c and c.startswith("203.0.113.") for c in clients)


def test_two_workers_share_one_limit(web_vault: WebVault) -> None:
    """Two app instances on one vault (two workers): 3 attempts on each, limit 4."""
    address = _address()
    apps = [create_app(web_vault.config(login_attempts_per_minute=4)) for _ in range(2)]
    with (
        TestClient(apps[0], client=address, follow_redirects=False) as one,
        TestClient(apps[1], client=address, follow_redirects=False) as two,
    ):
        statuses = []
        for client in (one, two):
            csrf = _csrf(client.get("/login").text)
            for _ in range(3):
                form = {"username": "nobodyhere", "password": "x" * 12, "code": "1", "csrf": csrf}
                statuses.append(client.post("/login", data=form).status_code)
    assert statuses == [401, 401, 401, 401, 429, 429]


def _login_page(client: TestClient, username: str, password: str) -> tuple[int, str]:
    csrf = _csrf(client.get("/login").text)
    form = {"username": username, "password": password, "code": "123456", "csrf": csrf}
    answer = client.post("/login", data=form)
    found = re.search(r'role="alert"[^>]*>([^<]+)<', answer.text)
    return answer.status_code, found.group(1).strip() if found else answer.text


def _lock(client: TestClient, username: str) -> None:
    for _ in range(6):
        client.post("/api/v1/login", json={"username": username, "password": "wrong-" + "x" * 12})


def test_a_locked_account_answers_like_a_wrong_password(web_vault: WebVault) -> None:
    locked = web_vault.person(Role.RECEPTION)
    other = web_vault.person(Role.RECEPTION)
    app = create_app(web_vault.config(login_attempts_per_minute=1000))
    with TestClient(app, client=_address(), follow_redirects=False) as client:
        _lock(client, locked.username)
        on_locked = _login_page(client, locked.username, "wrong-" + "y" * 12)
        on_wrong = _login_page(client, other.username, "wrong-" + "y" * 12)
        on_nobody = _login_page(client, "nobodyhere", "wrong-" + "y" * 12)
        api = [
            client.post("/api/v1/login", json={"username": u, "password": "wrong-" + "z" * 12})
            for u in (locked.username, other.username)
        ]
    assert on_locked == on_wrong == on_nobody
    assert on_locked[0] == 401 and "verrouill" not in on_locked[1]
    assert [a.status_code for a in api] == [401, 401]
    assert api[0].json() == api[1].json()
    assert "lock" not in api[0].text.lower()


def test_a_lock_out_raises_an_alert(web_vault: WebVault) -> None:
    member = web_vault.person(Role.RECEPTION)
    app = create_app(web_vault.config(login_attempts_per_minute=1000))
    with TestClient(app, client=_address(), follow_redirects=False) as client:
        # five failures lock the account: the failed-logins burst rule (more than 5) is silent
        for _ in range(5):
            client.post("/api/v1/login", json={"username": member.username, "password": "w" * 14})
        web_vault.flush(app)
    engine = AlertEngine.from_config(web_vault.vault.engine)
    alerts = [a for a in engine.list_alerts() if a.actor == member.username]
    assert [a.rule for a in alerts] == ["account_locked"]
