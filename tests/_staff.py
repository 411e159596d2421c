"""Named staff for tests that act as a logged-in person (accounts, TOTP, sessions).

Cheap argon2 parameters: the suite creates many accounts. The first account is
the network-wide lab_admin that bootstraps an empty vault; it creates the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from argon2 import PasswordHasher

from etanche.access import Accounts, Actor, Passwords, Role, Sessions, current_code
from etanche.vault import Vault

STAFF_PASSWORD = "Goelette-Brume-Ouessant-29"


def cheap() -> Passwords:
    return Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@dataclass
class Staff:
    """Creates, enrols and logs in named people on one vault."""

    vault: Vault
    secrets: dict[str, str] = field(default_factory=dict)
    root: Actor | None = None
    root_token: str | None = None

    def __post_init__(self) -> None:
        self.accounts = Accounts(self.vault, passwords=cheap())
        self.sessions = Sessions(self.vault, accounts=self.accounts)

    def _ensure_root(self) -> Actor:
        if self.root is None:
            self.accounts.add(
                "ylegoff", "Yannick Le Goff", Role.LAB_ADMIN, {"*"}, STAFF_PASSWORD, None
            )
            self.root_token = self.login("ylegoff")
            self.root = self.sessions.resume(self.root_token)
        return self.root

    def add(self, username: str, full_name: str, role: Role, labs: Iterable[str]) -> str:
        """Create and enrol an account; returns a fresh session token for it."""
        self.accounts.add(username, full_name, role, set(labs), STAFF_PASSWORD, self._ensure_root())
        return self.login(username)

    def login(self, username: str) -> str:
        if username not in self.secrets:
            _, secret, _ = self.sessions.begin_enrolment(username, STAFF_PASSWORD)
            self.secrets[username] = secret
        code = current_code(self.secrets[username], datetime.now(UTC))
        _, token = self.sessions.authenticate(username, STAFF_PASSWORD, code, client="test")
        return token
