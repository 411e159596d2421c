"""One demo person per role, enrolled with TOTP, for the synthetic demo vault only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from etanche.access import (
    NETWORK_WIDE,
    Accounts,
    Actor,
    Role,
    Sessions,
    current_code,
)
from etanche.access._totp import STEP_SECONDS
from etanche.vault import Vault

DEMO_PASSWORD = "Demo-Etanche-Synthetique-2026"  # noqa: S105 (synthetic demo accounts only)


@dataclass(frozen=True)
class DemoPerson:
    username: str
    full_name: str
    role: Role
    labs: tuple[str, ...]
    totp_secret: str


_CAST: tuple[tuple[str, str, Role, str], ...] = (
    ("ylegoff", "Yannick Le Goff", Role.LAB_ADMIN, "*"),
    ("mkerbrat", "Morgane Kerbrat", Role.RECEPTION, "home"),
    ("jmartin", "Jeanne Martin", Role.BIOLOGIST, "home"),
    ("aleroux", "Anne Le Roux", Role.DPO, "*"),
    ("tguivarch", "Thomas Guivarch", Role.MIGRATION_OPERATOR, "*"),
    ("lpriol", "Louise Priol", Role.AUDITOR, "*"),
)


def enrol_cast(
    store: Vault, home_labs: tuple[str, ...]
) -> tuple[list[DemoPerson], dict[str, Actor]]:
    """Create and enrol the cast; returns the people and a live actor for each."""
    accounts = Accounts(store)
    sessions = Sessions(store, accounts=accounts)
    people: list[DemoPerson] = []
    actors: dict[str, Actor] = {}
    admin: Actor | None = None
    for username, full_name, role, where in _CAST:
        labs = {NETWORK_WIDE} if where == "*" else set(home_labs)
        accounts.add(username, full_name, role, labs, DEMO_PASSWORD, admin)
        _, secret, _ = sessions.begin_enrolment(username, DEMO_PASSWORD)
        # Enrol with the previous step's code (inside the ±1 window), so the person
        # can log in with the current code right after the demo starts.
        code = current_code(secret, datetime.now(UTC) - timedelta(seconds=STEP_SECONDS))
        _, token = sessions.authenticate(username, DEMO_PASSWORD, code, client="demo")
        actors[username] = sessions.resume(token)
        if admin is None:
            admin = actors[username]
        people.append(DemoPerson(username, full_name, role, tuple(sorted(labs)), secret))
    return people, actors
