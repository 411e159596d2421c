"""Who changed a record: the staff behind the user names of its history.

A version keeps the user name of whoever wrote it; the history page names them
as colleagues know them (full name, role in their grammatical gender). Staff
names are not patient data, and whoever may read the history may read this.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from etanche.access import Accounts, Role
from etanche.errors import EtancheError
from etanche.vault import Vault

__all__ = ["Author", "authors_of"]


@dataclass(frozen=True, slots=True)
class Author:
    """A member of staff as the history names them."""

    username: str
    full_name: str
    role: Role
    gender: str | None


def authors_of(vault: Vault, usernames: Iterable[str]) -> dict[str, Author]:
    """The accounts behind ``usernames``; names with no account (gone, "unknown") are left out."""
    accounts = Accounts(vault)
    found: dict[str, Author] = {}
    for name in set(usernames):
        try:
            user = accounts.get(name)
        except EtancheError:
            continue
        found[name] = Author(user.username, user.full_name, user.role, user.gender)
    return found
