"""One demo person per role, enrolled with TOTP through the service (synthetic demo only).

The first lab admin (made by ``init``) logs in and creates the others, each of
whom then logs in once: the same requests `etanche login` and `etanche users add`
send.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pyotp

from etanche.client import ServiceClient, connect

DEMO_PASSWORD = "Demo-Etanche-Synthetique-2026"  # noqa: S105 (synthetic demo accounts only)
STEP_SECONDS = 30

_CAST: tuple[tuple[str, str, str, str], ...] = (
    ("ylegoff", "Yannick Le Goff", "lab_admin", "*"),
    ("mkerbrat", "Morgane Kerbrat", "reception", "home"),
    ("jmartin", "Jeanne Martin", "biologist", "home"),
    ("aleroux", "Anne Le Roux", "dpo", "*"),
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


def enrol_cast(anonymous: ServiceClient, home_labs: tuple[str, ...]) -> Cast:
    """Create and enrol the cast; returns each person with a live session."""
    cast = Cast(anonymous.address)
    for username, full_name, role, where in _CAST:
        labs = ["*"] if where == "*" else sorted(home_labs)
        if username != "ylegoff":  # made by init; the others by her, through the service
            cast.client("ylegoff").post(
                "/users",
                {
                    "username": username,
                    "full_name": full_name,
                    "role": role,
                    "labs": labs,
                    "password": DEMO_PASSWORD,
                },
            )
        secret, token = _log_in(anonymous, username)
        cast.tokens[username] = token
        cast.people.append(DemoPerson(username, full_name, role, tuple(labs), secret))
    return cast
