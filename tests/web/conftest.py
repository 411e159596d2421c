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
from datetime import UTC, date, datetime
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

from _service import passphrase_custody
from _staff import STAFF_PASSWORD, Staff
from etanche.access import Role, current_code
from etanche.access._schema import users
from etanche.audit import AuditEvent, AuditLog
from etanche.crypto import KdfCost
from etanche.domain import (
    Address,
    BloodGroup,
    Clinical,
    IdentityStatus,
    Insurance,
    Patient,
    Physician,
    Sex,
    Specimen,
    Treatment,
)
from etanche.synth import SynthConfig, generate
from etanche.vault import Vault, VaultLocation, new_record_id, parse_location
from etanche.web import WebConfig, create_app
from etanche.web._state import COOKIE

PASSPHRASE = "Phare de la Vieille, raz de Sein"
PASSWORD = STAFF_PASSWORD
STEP = 30  # TOTP step, seconds

_FIRST = ("Anne", "Brieuc", "Corentin", "Enora", "Gaël", "Hélène", "Jeanne", "Katell",
          "Loïc", "Maëlys", "Soazig", "Youenn")  # fmt: skip
_LAST = ("Kerbrat", "Le Gall", "Morvan", "Quéré", "Jaouen", "Le Roux", "Riou", "Le Meur",
         "Cadiou", "Salaün", "Guéguen", "Le Bras", "Prigent", "Kervella")  # fmt: skip


def with_key(first13: str) -> str:
    """A NIR with its check key (97 - N mod 97)."""
    return first13 + f"{97 - int(first13) % 97:02d}"


# A patient of L01 with a homonym in L02 (same INS traits, same phone): the L02 record
# must never show to L01 staff, only be counted as "known in another lab".
MAELLE = Patient(
    id=new_record_id(),
    lab_id="L01",
    birth_name="Le Bihan",
    first_names=("Maëlle", "Anne"),
    sex=Sex.FEMALE,
    birth_date=date(1985, 7, 14),
    birthplace_insee="29019",
    used_name="Morvan",
    nir=with_key("2850729019123"),
    identity_status=IdentityStatus.QUALIFIED,
    addresses=(Address("12 rue de Siam", "29200", "Brest"),),
    phones=("+33612345678",),
    emails=("maelle.lebihan@example.org",),
    physician=Physician("Dr Céline Courtois", "10507989589"),
    insurance=Insurance("01", "291", "MGEN", "380460560"),
    clinical=Clinical(
        blood_group=BloodGroup("A", "+"), treatments=(Treatment("Lévothyrox", "H03AA01"),)
    ),
)
MAELLE_ELSEWHERE = Patient(
    id=new_record_id(),
    lab_id="L02",
    birth_name="Le Bihan",
    first_names=("Maëlle",),
    sex=Sex.FEMALE,
    birth_date=date(1985, 7, 14),
    phones=("+33612345678",),
)
MAELLE_SPECIMEN = Specimen(
    id=new_record_id(),
    patient_id=MAELLE.id,
    lab_id="L01",
    accession="L0125110300017",
    collected_at=datetime(2025, 11, 3, 8, 15),
    specimen_type="sang veineux",
    prescriber=Physician("Dr Céline Courtois", "10507989589"),
)


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
    """The app served by uvicorn in a thread (127.0.0.1, a free port)."""
    app = create_app(web_vault.config())
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
    thread.join(timeout=20)


@pytest.fixture(scope="session")
def live_server(live_app: FastAPI) -> str:
    """Base URL of the running server."""
    url: str = live_app.state.base_url
    return url
