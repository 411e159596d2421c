"""Account requests: a privileged account or role is a request until a second person approves.

One lab admin alone once made a biologist, a migration operator and another lab
admin under invented names: enough to read clinical data and approve a plan.
So creating such an account, or giving such a role, writes a request here; the
account stays pending (it cannot log in, the old role keeps working) until a
second person approves it (``_approvals``). Health professionals carry their
RPPS number, checked (11 digits, Luhn key) and unique among active accounts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select
from sqlalchemy.orm import aliased

from etanche.access._policy import NETWORK_WIDE
from etanche.access._schema import account_requests, users
from etanche.access._user import aware, join_labs, split_labs
from etanche.domain import validate_rpps
from etanche.errors import ValidationError
from etanche.names import Role

__all__ = [
    "LAB_ROLES",
    "PRIVILEGED_ROLES",
    "AccountRequest",
    "check_rpps",
    "is_lab_request",
    "needs_approval",
]

PRIVILEGED_ROLES = frozenset(Role) - {Role.RECEPTION}
"""Roles that read clinical data, manage people, approve plans, export or supervise."""

LAB_ROLES = frozenset({Role.BIOLOGIST, Role.LAB_ADMIN})
"""Roles tied to labs: a lab admin of another lab may be their second approver."""

HEALTH_PROFESSIONALS = frozenset({Role.BIOLOGIST})
"""Roles held by registered health professionals, who carry an RPPS number."""


def needs_approval(
    role: Role, labs: frozenset[str], before: tuple[Role, frozenset[str]] | None = None
) -> bool:
    """Whether giving ``role`` over ``labs`` (to a new account, or one that had
    ``before``) waits for a second person: any privileged role, unless it only narrows."""
    if role not in PRIVILEGED_ROLES:
        return False
    if before is None:
        return True
    old_role, old_labs = before
    if role is not old_role:
        return True
    return NETWORK_WIDE not in old_labs and not labs <= old_labs


def is_lab_request(role: Role, labs: frozenset[str]) -> bool:
    """A lab role over named labs (not network-wide)."""
    return role in LAB_ROLES and NETWORK_WIDE not in labs


def check_rpps(role: Role, rpps: str | None) -> str | None:
    """The RPPS number, checked; required of health professionals, optional otherwise."""
    if rpps is None or not rpps.strip():
        if role in HEALTH_PROFESSIONALS:
            raise ValidationError(
                "rpps", f"required for the {role} role (the 11-digit RPPS number)"
            )
        return None
    return validate_rpps(rpps, field="rpps")


@dataclass(frozen=True, slots=True)
class AccountRequest:
    """A privileged account or role waiting for (or given) a second person's decision."""

    id: str
    user_id: str
    username: str
    kind: str  # "create" or "role"
    role: Role
    labs: frozenset[str]
    current_role: Role  # what the account holds meanwhile (the requested role if "create")
    current_labs: frozenset[str]
    requested_by: str | None  # user id
    requester: str | None  # user name
    requested_at: datetime
    decision: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    rpps: str | None = None

    @property
    def lab_request(self) -> bool:
        return is_lab_request(self.role, self.labs)


def open_request(
    conn: Connection,
    *,
    user_id: str,
    kind: str,
    role: Role,
    labs: frozenset[str],
    rpps: str | None,
    requested_by: str | None,
    now: datetime,
) -> str:
    """Write a pending request; one pending request per account at a time."""
    if pending_row(conn, user_id) is not None:
        raise ValidationError(
            "role", "this account already has a request waiting for approval; decide it first"
        )
    request_id = uuid.uuid4().hex
    conn.execute(
        insert(account_requests).values(
            id=request_id,
            user_id=user_id,
            kind=kind,
            role=role.value,
            labs=join_labs(labs),
            rpps=rpps,
            requested_by=requested_by,
            requested_at=now,
        )
    )
    return request_id


def pending_row(conn: Connection, user_id: str) -> Row[Any] | None:
    return conn.execute(
        select(account_requests.c.id).where(
            account_requests.c.user_id == user_id, account_requests.c.decision.is_(None)
        )
    ).first()


def load_requests(conn: Connection, *conditions: Any) -> list[AccountRequest]:
    """Requests matching ``conditions``, oldest first, with the names they concern."""
    requester = aliased(users)
    query = (
        select(
            account_requests,
            users.c.username,
            users.c.role.label("current_role"),
            users.c.labs.label("current_labs"),
            requester.c.username.label("requester"),
        )
        .join(users, users.c.id == account_requests.c.user_id)
        .outerjoin(requester, requester.c.id == account_requests.c.requested_by)
        .where(*conditions)
        .order_by(account_requests.c.requested_at, account_requests.c.id)
    )
    return [_request(row) for row in conn.execute(query)]


def _request(row: Row[Any]) -> AccountRequest:
    requested = aware(row.requested_at)
    assert requested is not None
    return AccountRequest(
        id=row.id,
        user_id=row.user_id,
        username=row.username,
        kind=row.kind,
        role=Role(row.role),
        labs=split_labs(row.labs),
        current_role=Role(row.current_role),
        current_labs=split_labs(row.current_labs),
        requested_by=row.requested_by,
        requester=row.requester,
        requested_at=requested,
        decision=row.decision,
        decided_by=row.decided_by,
        decided_at=aware(row.decided_at),
        rpps=row.rpps,
    )
