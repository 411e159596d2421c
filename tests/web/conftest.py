"""Shared fixtures of the web tests: a small synthetic vault with staff, the app, a server.

- ``web_vault``: a vault (two labs, synthetic patients, and Maëlle Le Bihan of L01
  with a homonym in L02) with one enrolled person of every role, their session
  tokens and TOTP secrets; ``person()`` makes more.
  Built once per test process; tests add what they need and never rely on order.
- ``client``: a Starlette TestClient on a fresh app (lifespan run), redirects not
  followed; a fresh app each test, so rate limits and CSRF secrets start clean.
- ``live_app`` / ``live_server``: the app on uvicorn in a thread on 127.0.0.1 and a
  free port, for the browser tests; ``live_server`` is the base URL.

(The FHIR tests build their own world in ``fhir_support.py``.)
"""

from __future__ import annotations

import socket
import sys
import threading
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parent.parent))  # tests/: _staff
sys.path.insert(0, str(Path(__file__).parent))  # tests/web/: browser_support

from browser_support import browser, tabs  # noqa: F401  (fixtures of the browser tests)
from web_people import MAELLE, MAELLE_ELSEWHERE, MAELLE_SPECIMEN

from _service import passphrase_custody
from _staff import STAFF_PASSWORD, Staff
from etanche.access import Role, current_code
from etanche.access._schema import users
from etanche.audit import AuditEvent, AuditLog
from etanche.crypto import KdfCost
from etanche.domain import (
    Patient,
)
from etanche.synth import SynthConfig, generate
from etanche.vault import Vault, VaultLocation, parse_location
from etanche.web import WebConfig, create_app
from etanche.web._state import COOKIE

PASSPHRASE = "Phare de la Vieille, raz de Sein"
PASSWORD = STAFF_PASSWORD
STEP = 30  # TOTP step, seconds

_FIRST = ("Anne", "Brieuc", "Corentin", "Enora", "Gaël", "Hélène", "Jeanne", "Katell",
          "Loïc", "Maëlys", "Soazig", "Youenn")  # fmt: skip
_LAST = ("Kerbrat", "Le Gall", "Morvan", "Quéré", "Jaouen", "Le Roux", "Riou", "Le Meur",
         "Cadiou", "Salaün", "Guéguen", "Le Bras", "Prigent", "Kervella")  # fmt: skip


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in folded if c.isascii() and c.isalpha())


@dataclass
class Member:
    """One named person: user name, a live session token, the TOTP secret."""

    username: str
    full_name: str
    role: Role
    labs: frozenset[str]
    token: str
    secret: str


@dataclass
class WebVault:
    """The test vault, its staff, and helpers to act as them."""

    location: VaultLocation
    passphrase: str
    vault: Vault  # the tests' own session (every compartment), for setup and checks
    staff: Staff
    patients: list[Patient]
    members: dict[Role, Member] = field(default_factory=dict)
    maelle: Patient = MAELLE  # of L01, with a blood group, a treatment and a specimen
    maelle_elsewhere: Patient = MAELLE_ELSEWHERE  # her homonym of L02
    _made: int = 0

    password: str = PASSWORD  # every member's password

    def config(self, **overrides: Any) -> WebConfig:
        return WebConfig(
            self.location, passphrase_custody(self.location, self.passphrase), **overrides
        )

    def person(self, role: Role, labs: tuple[str, ...] = ("L01",)) -> Member:
        """A new named, enrolled person (each has its own TOTP time steps)."""
        n = self._made
        self._made += 1
        first = _FIRST[n % len(_FIRST)]  # 12 x 14 names: unique for 84 people
        last = _LAST[n % len(_LAST)]
        username = f"{_ascii(first)[0]}{_ascii(last)}{n}"
        token = self.staff.add(username, f"{first} {last}", role, labs)
        return Member(
            username, f"{first} {last}", role, frozenset(labs), token, self.staff.secrets[username]
        )

    def code(self, username: str) -> str:
        """A TOTP code the server will accept now: a step after the last one spent.

        Codes are single-use per step (replay protection), and the server accepts
        one step either side of now; wait only when the next step is too far.
        """
        while True:
            with self.vault.engine.connect() as conn:
                last = conn.execute(
                    select(users.c.totp_last_step).where(users.c.username == username)
                ).scalar_one()
            now = int(time.time()) // STEP
            target = now if last is None else max(now, last + 1)
            if target <= now + 1:
                at = datetime.fromtimestamp(target * STEP + STEP // 2, UTC)
                return current_code(self.staff.secrets[username], at)
            time.sleep(1.0)

    def patient(self, lab: str = "L01", *, index: int = 0, **need: bool) -> Patient:
        """A synthetic patient of ``lab`` having the wanted fields (nir, phones, emails...)."""
        found = [
            p
            for p in self.patients
            if p.lab_id == lab and all(bool(getattr(p, name)) for name in need)
        ]
        return found[index]

    def events(self, action: str | None = None, object_id: str | None = None) -> list[AuditEvent]:
        log = AuditLog.for_vault(self.vault)
        return [e for _, e in log.events(action=action, object_id=object_id, limit=100_000)]

    @staticmethod
    def flush(app: Any) -> None:
        """Wait for an app's audit trail to commit what it recorded (buffered mode)."""
        app.state.etanche.core.trail.flush()

    @staticmethod
    def sign_in(client: TestClient, member: Member) -> str:
        """Put the member's session cookie on a TestClient; returns the page CSRF token."""
        client.cookies.set(COOKIE, member.token)
        app: Any = client.app
        token: str = app.state.etanche.csrf.token_for(member.token)
        return token


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def web_vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebVault]:
    location = parse_location(str(tmp_path_factory.mktemp("web") / "vault"))
    vault = Vault.create(location, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests())
    network = generate(SynthConfig(patients=80, labs=2, seed=29))
    for lab in network.labs:
        vault.add_lab(lab)
    vault.add_many((p, s) for batch in network.batches() for p, s in batch)
    vault.add(MAELLE, [MAELLE_SPECIMEN])
    vault.add(MAELLE_ELSEWHERE)
    world = WebVault(location, PASSPHRASE, vault, Staff(vault), list(network.patients()))
    for role in Role:
        labs = ("*",) if role in (Role.DPO, Role.AUDITOR, Role.MIGRATION_OPERATOR) else ("L01",)
        world.members[role] = world.person(role, labs)
    yield world
    vault.close()


@pytest.fixture
def client(web_vault: WebVault) -> Iterator[TestClient]:
    app = create_app(web_vault.config())
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def live_app(web_vault: WebVault) -> Iterator[FastAPI]:
    """The app served by uvicorn in a thread (127.0.0.1, a free port).

    Every browser test of a worker logs in from 127.0.0.1 to this one server: the
    per-address login limit is raised so that tests, not attackers, fill the minute
    (the limit itself is tested on fresh apps in test_throttle.py)."""
    app = create_app(web_vault.config(login_attempts_per_minute=600))
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="etanche-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    app.state.base_url = f"http://127.0.0.1:{port}"
    yield app
    server.should_exit = True
    server.force_exit = True  # the browser's keep-alive connections need no goodbye
    thread.join(timeout=20)


@pytest.fixture(scope="session")
def live_server(live_app: FastAPI) -> str:
    """Base URL of the running server."""
    url: str = live_app.state.base_url
    return url
