"""One demo person per role, enrolled with TOTP through the service (synthetic demo only).

The first lab admin (made by ``init``) logs in and creates the others, each of
whom then logs in once: the same requests `etanche login` and `etanche users add`
send. Privileged accounts wait for a second person, as anywhere: the first DPO
is approved by the demo's custodian (`etanche unseal --for approve-dpo`), then
applied by the lab admin; the DPO approves every other privileged account.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pyotp

from etanche.client import ServiceClient, connect

DEMO_PASSWORD = "Demo-Etanche-Synthetique-2026"  # noqa: S105 (synthetic demo accounts only)
STEP_SECONDS = 30
ADMIN = "ylegoff"  # the first lab admin, made by init
DPO = "aleroux"  # the first DPO, approved by the custodian; then the second person

_CAST: tuple[tuple[str, str, str, str], ...] = (
    ("ylegoff", "Yannick Le Goff", "lab_admin", "*"),
    ("aleroux", "Anne Le Roux", "dpo", "*"),  # first after init: she approves the others
    ("mkerbrat", "Morgane Kerbrat", "reception", "home"),
    ("jmartin", "Jeanne Martin", "biologist", "home"),
    ("tguivarch", "Thomas Guivarch", "migration_operator", "*"),
    ("lpriol", "Louise Priol", "auditor", "*"),
)


@dataclass(frozen=True)
class DemoPerson:
    username: str
    full_name: str
    role: str
    labs: tuple[str, ...]
    totp_secret: str


@dataclass
class Cast:
    """The demo's people and a client of the service acting as each of them."""

    address: str
    people: list[DemoPerson] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, username: str) -> ServiceClient:
        return connect(self.address, self.tokens[username])


def _log_in(anonymous: ServiceClient, username: str) -> tuple[str, str]:
    """First login: the service shows the TOTP seed once, the first code confirms it."""
    enrol = anonymous.post("/login", {"username": username, "password": DEMO_PASSWORD})
    secret = str(enrol["secret"])
    # the previous step's code (inside the ±1 window): the person can log in with the
    # current code right after the demo starts. Not in a step's last seconds: the
    # service, a request later, could already be one step on, out of the window.
    left = STEP_SECONDS - time.time() % STEP_SECONDS
    if left < 3:
        time.sleep(left + 0.2)
    code = pyotp.TOTP(secret).at(time.time() - STEP_SECONDS)
    session = anonymous.post(
        "/login", {"username": username, "password": DEMO_PASSWORD, "code": code}
    )
    return secret, str(session["token"])


def _second_approval(cast: Cast, anonymous: ServiceClient, username: str, share: str) -> None:
    """The first DPO by the custodian's quorum (applied by the lab admin); then the DPO."""
    if DPO in cast.tokens:
        cast.client(DPO).post(f"/users/{username}/approve")
        return
    anonymous.post("/custody/approve", {"operation": "approve-dpo", "share": share})
    cast.client(ADMIN).post(f"/users/{username}/approve")


def enrol_cast(anonymous: ServiceClient, home_labs: tuple[str, ...], share: str) -> Cast:
    """Create, approve and enrol the cast; returns each person with a live session.

    ``share`` is the demo custodian's share: she approves the first DPO.
    """
    from etanche.synth import staff_rpps

    cast = Cast(anonymous.address)
    for username, full_name, role, where in _CAST:
        labs = ["*"] if where == "*" else sorted(home_labs)
        if username != ADMIN:  # made by init; the others by her, through the service
            made = cast.client(ADMIN).post(
                "/users",
                {
                    "username": username,
                    "full_name": full_name,
                    "role": role,
                    "labs": labs,
                    "password": DEMO_PASSWORD,
                    "rpps": staff_rpps(username) if role == "biologist" else None,
                },
            )
            if made["pending"]:
                _second_approval(cast, anonymous, username, share)
        secret, token = _log_in(anonymous, username)
        cast.tokens[username] = token
        cast.people.append(DemoPerson(username, full_name, role, tuple(labs), secret))
    return cast
