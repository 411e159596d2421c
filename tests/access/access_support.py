"""Helpers of the access tests: a hand-moved clock, cheap argon2, an access room."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher

from etanche.access import (
    Accounts,
    Actor,
    ApiTokens,
    Approvals,
    Passwords,
    Role,
    Sessions,
    User,
    current_code,
)
from etanche.synth import staff_rpps
from etanche.vault import Vault

START = datetime(2026, 3, 2, 8, 0, 0, tzinfo=UTC)
PASSWORD = "Brise-lames du Croisic 44"


class Clock:
    """A clock tests move by hand: no sleeps."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def cheap_passwords() -> Passwords:
    """argon2id with minimal cost: the suite hashes hundreds of times."""
    return Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@dataclass
class People:
    """An access room over one vault: accounts, sessions, tokens, one clock."""

    vault: Vault
    clock: Clock
    accounts: Accounts
    sessions: Sessions
    tokens: ApiTokens
    secrets: dict[str, str] = field(default_factory=dict)
    root: Actor | None = None
    approver: Actor | None = None  # the DPO, second person of every privileged account

    @property
    def approvals(self) -> Approvals:
        return Approvals(self.vault, self.accounts, clock=self.clock)

    def add(
        self,
        username: str,
        full_name: str,
        role: Role,
        labs: set[str],
        password: str = PASSWORD,
        *,
        rpps: str | None = None,
    ) -> User:
        """Create an account; a privileged one is approved by ``approver`` when there is one.

        Biologists get a synthetic RPPS number unless ``rpps`` is given.
        """
        if rpps is None and role is Role.BIOLOGIST:
            rpps = staff_rpps(username)
        user = self.accounts.add(username, full_name, role, labs, password, self.root, rpps=rpps)
        if user.pending and self.approver is not None:
            self.approvals.approve(username, self.approver)
            user = self.accounts.get(username)
        return user

    def enrol(self, user: User, password: str = PASSWORD) -> str:
        """First login of ``user``: returns the TOTP secret (and opens a session)."""
        _, secret, _ = self.sessions.begin_enrolment(user.username, password)
        self.sessions.authenticate(user.username, password, current_code(secret, self.clock()))
        self.secrets[user.username] = secret
        self.clock.advance(seconds=30)  # next login uses a fresh step
        return secret

    def code(self, username: str) -> str:
        return current_code(self.secrets[username], self.clock())

    def login(self, username: str, password: str = PASSWORD) -> tuple[Actor, str]:
        _, token = self.sessions.authenticate(username, password, self.code(username))
        self.clock.advance(seconds=30)
        return self.sessions.resume(token), token
