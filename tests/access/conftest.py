"""Fixtures of the access room: a frozen clock, cheap argon2, labs and enrolled people."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).parent))  # after tests/: `conftest` stays the root one

from access_support import PASSWORD, Clock, People, cheap_passwords

from etanche.access import Accounts, ApiTokens, Passwords, Role, Sessions
from etanche.domain import Lab
from etanche.vault import Vault


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def passwords() -> Passwords:
    return cheap_passwords()


@pytest.fixture
def people(vault: Vault, clock: Clock, passwords: Passwords) -> People:
    for code, city in (("L01", "Nantes"), ("L02", "Rennes")):
        vault.add_lab(Lab(code, f"Laboratoire de {city}", "440000000", city))
    accounts = Accounts(vault, passwords=passwords, clock=clock)
    sessions = Sessions(vault, accounts=accounts, clock=clock)
    room = People(vault, clock, accounts, sessions, ApiTokens(vault, clock=clock))
    first = accounts.add(
        "cmorvan", "Claire Morvan", Role.LAB_ADMIN, {"*"}, PASSWORD, created_by=None
    )
    room.enrol(first)
    room.root, _ = room.login("cmorvan")
    # the first DPO: approved by the custodians' quorum, then the second person of the rest
    dpo = room.add("nquillec", "Nolwenn Quillec", Role.DPO, {"*"})
    room.approvals.approve(dpo.username, room.root, quorum=lambda: ("custodian",))
    room.enrol(room.accounts.get(dpo.username))
    room.approver, _ = room.login(dpo.username)
    return room
