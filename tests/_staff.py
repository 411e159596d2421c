"""Named staff for tests that act as a logged-in person (accounts, TOTP, sessions).

Cheap argon2 parameters: the suite creates many accounts. The first account is
the network-wide lab_admin that bootstraps an empty vault; it creates the rest.
A privileged account takes effect only once a second person approves it: the
staff's DPO (``nquillec``, herself the first DPO, approved by the custodians'
quorum as the README says) approves every privileged account the tests add.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from argon2 import PasswordHasher

from etanche.access import (
    Accounts,
    Actor,
    Approvals,
    Passwords,
    Role,
    Sessions,
    current_code,
)
from etanche.synth import staff_rpps
from etanche.vault import Vault

STAFF_PASSWORD = "Goelette-Brume-Ouessant-29"
APPROVER = ("nquillec", "Nolwenn Quillec")  # the staff's DPO, second person of every approval
CUSTODIANS = ("test-custodian-1", "test-custodian-2")  # the quorum that approves the first DPO


def cheap() -> Passwords:
    return Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@dataclass
class Staff:
    """Creates, enrols and logs in named people on one vault."""

    vault: Vault
    secrets: dict[str, str] = field(default_factory=dict)
    root: Actor | None = None
    root_token: str | None = None
    approver: Actor | None = None
    approver_token: str | None = None

    def __post_init__(self) -> None:
        self.accounts = Accounts(self.vault, passwords=cheap())
        self.sessions = Sessions(self.vault, accounts=self.accounts)
        self.approvals = Approvals(self.vault, self.accounts)

    def _ensure_root(self) -> Actor:
        if self.root is None:
            self.accounts.add(
                "ylegoff", "Yannick Le Goff", Role.LAB_ADMIN, {"*"}, STAFF_PASSWORD, None
            )
            self.root_token = self.login("ylegoff")
            self.root = self.sessions.resume(self.root_token)
            username, full_name = APPROVER
            self.accounts.add(username, full_name, Role.DPO, {"*"}, STAFF_PASSWORD, self.root)
            self.approvals.approve(username, self.root, quorum=lambda: CUSTODIANS)
            self.approver_token = self.login(username)
            self.approver = self.sessions.resume(self.approver_token)
        return self.root

    def add(
        self,
        username: str,
        full_name: str,
        role: Role,
        labs: Iterable[str],
        *,
        rpps: str | None = None,
    ) -> str:
        """Create, approve if need be, and enrol an account; returns a fresh session token.

        Biologists get a synthetic RPPS number unless ``rpps`` is given.
        """
        if rpps is None and role is Role.BIOLOGIST:
            rpps = staff_rpps(username)
        root = self._ensure_root()
        user = self.accounts.add(
            username, full_name, role, set(labs), STAFF_PASSWORD, root, rpps=rpps
        )
        if user.pending:
            self.approve(username)
        return self.login(username)

    def approve(self, username: str) -> None:
        """The staff's DPO approves the pending request of ``username``."""
        assert self.approver is not None
        self.approvals.approve(username, self.approver)

    def login(self, username: str) -> str:
        if username not in self.secrets:
            _, secret, _ = self.sessions.begin_enrolment(username, STAFF_PASSWORD)
            self.secrets[username] = secret
        code = current_code(self.secrets[username], datetime.now(UTC))
        _, token = self.sessions.authenticate(username, STAFF_PASSWORD, code, client="test")
        return token
