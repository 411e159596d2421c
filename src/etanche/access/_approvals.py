"""The second person on a privileged account or role: who may approve, and the approval.

Rules (README, "Privileged accounts"):

- nobody approves their own request, nor a request about their own account;
- a lab role (biologist, lab admin of named labs) is approved by a DPO, or by a
  lab admin of another lab: one who shares no lab with the request (a
  network-wide lab admin shares every lab);
- a network role (DPO, auditor, migration operator, network-wide lab admin) is
  approved by a DPO;
- a DPO is approved by another DPO. While the network has no other active DPO
  (the first one), the custodians approve instead: a fresh quorum approval of
  ``approve-dpo`` (the same ceremony as a KEK rotation), applied by a lab admin
  who manages the account; the requester may apply it, the custodians being
  the second persons.

A refusal, or the requester's withdrawal, closes the request; a refused new
account is disabled for good (its user name is never reused).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update

from etanche.access._accounts import Accounts
from etanche.access._policy import NETWORK_WIDE, Actor, Decision, Resource, can
from etanche.access._requests import AccountRequest, load_requests
from etanche.access._schema import account_requests, users
from etanche.access._user import Clock, utc_now
from etanche.errors import PermissionDenied, RecordNotFound
from etanche.names import Action, Role
from etanche.vault import Vault

__all__ = ["Approvals", "Verdict", "approval_decision"]

log = logging.getLogger("etanche.access")

Quorum = Callable[[], tuple[str, ...]]
"""Consumes the custodians' fresh approval (raises below the quorum); their names."""

_APPROVE = Action.USER_APPROVE


def _deny(reason: str) -> Decision:
    return Decision(False, f"{_APPROVE}: {reason}")


def _manages(actor: Actor, labs: frozenset[str]) -> bool:
    return all(
        can(actor, Action.USER_MANAGE, Resource("user", None if lab == NETWORK_WIDE else lab))
        for lab in labs
    )


@dataclass(frozen=True, slots=True)
class Verdict:
    """The rule's answer, and whether the custodians' quorum must also approve."""

    decision: Decision
    needs_quorum: bool = False


def approval_decision(approver: Actor, request: AccountRequest, *, other_dpo: bool) -> Verdict:
    """May ``approver`` be the second person on ``request``? ``other_dpo``: an active
    DPO other than the account exists (else a DPO request goes to the custodians)."""
    allowed = can(approver, _APPROVE, Resource("user-request"))
    if not allowed:
        return Verdict(allowed)
    if approver.user_id == request.user_id:
        return Verdict(_deny("nobody approves their own account"))
    if request.role is Role.DPO and not other_dpo:
        if approver.role is Role.LAB_ADMIN and _manages(approver, request.labs):
            return Verdict(
                Decision(True, f"{_APPROVE}: the first DPO is approved by the custodians"),
                needs_quorum=True,
            )
        return Verdict(
            _deny("the first DPO is approved by the custodians' quorum, applied by a lab admin")
        )
    if approver.user_id == request.requested_by:
        return Verdict(_deny("the requester cannot approve their own request"))
    if approver.role is Role.DPO:
        return Verdict(Decision(True, f"{_APPROVE}: a DPO approves privileged accounts"))
    if not request.lab_request:
        scope = "network-wide " if NETWORK_WIDE in request.labs else ""
        return Verdict(_deny(f"a {scope}{request.role} account is approved by a DPO"))
    if approver.role is Role.LAB_ADMIN:
        if approver.network_wide or approver.labs & request.labs:
            return Verdict(
                _deny(
                    "a lab admin of the same lab cannot be the second approver; ask a DPO or "
                    "a lab admin of another lab"
                )
            )
        return Verdict(Decision(True, f"{_APPROVE}: a lab admin of another lab approves"))
    return Verdict(_deny(f"not allowed to the {approver.role} role"))


class Approvals:
    """Pending account requests of one vault: list, approve, refuse."""

    def __init__(self, vault: Vault, accounts: Accounts, *, clock: Clock | None = None) -> None:
        self._engine = vault.engine
        self._accounts = accounts
        self._clock = clock if clock is not None else utc_now

    def pending(self) -> list[AccountRequest]:
        with self._engine.connect() as conn:
            return load_requests(conn, account_requests.c.decision.is_(None))

    def pending_for(self, username: str) -> AccountRequest:
        name = username.strip().lower()
        with self._engine.connect() as conn:
            found = load_requests(
                conn, account_requests.c.decision.is_(None), users.c.username == name
            )
        if not found:
            raise RecordNotFound(f"user {name}: no request waiting for approval")
        return found[0]

    def history(self, username: str) -> list[AccountRequest]:
        with self._engine.connect() as conn:
            return load_requests(conn, users.c.username == username.strip().lower())

    def verdict(self, approver: Actor, request: AccountRequest) -> Verdict:
        return approval_decision(approver, request, other_dpo=self._other_dpo(request.user_id))

    def visible_to(self, actor: Actor) -> list[AccountRequest]:
        """What a person sees: requests they made, may decide, or whose labs they manage."""
        return [
            r
            for r in self.pending()
            if r.requested_by == actor.user_id
            or self.verdict(actor, r).decision.allowed
            or _manages(actor, r.labs | r.current_labs)
        ]

    def approve(
        self, username: str, by: Actor, *, quorum: Quorum | None = None
    ) -> tuple[AccountRequest, tuple[str, ...]]:
        """Approve the pending request of ``username``; it takes effect now.

        Returns the request and the custodians who approved (a first DPO only).
        """
        request = self.pending_for(username)
        verdict = self.verdict(by, request)
        if not verdict.decision:
            raise PermissionDenied(verdict.decision.reason)
        custodians: tuple[str, ...] = ()
        if verdict.needs_quorum:
            if quorum is None:
                raise PermissionDenied(f"{_APPROVE}: the first DPO needs the custodians' quorum")
            custodians = quorum()
        now = self._clock()
        with self._engine.begin() as conn:
            state = conn.execute(
                select(users.c.disabled_at).where(users.c.id == request.user_id)
            ).scalar_one()
            if state is not None:
                raise PermissionDenied(f"{_APPROVE}: the account was disabled meanwhile")
            done = conn.execute(
                update(account_requests)
                .where(account_requests.c.id == request.id, account_requests.c.decision.is_(None))
                .values(
                    decision="approved",
                    decided_by=by.user_id,
                    decided_at=now,
                    custodians=",".join(custodians) or None,
                )
            ).rowcount
            if done != 1:
                raise RecordNotFound(f"user {request.username}: the request was decided meanwhile")
            if request.kind == "create":
                conn.execute(
                    update(users).where(users.c.id == request.user_id).values(approved_at=now)
                )
            else:
                self._accounts.apply_role(
                    conn, request.user_id, request.role, request.labs, request.rpps
                )
        log.info("account %s: request %s approved", request.user_id, request.id)
        return request, custodians

    def refuse(self, username: str, by: Actor) -> AccountRequest:
        """Refuse (or, by its requester, withdraw) the pending request of ``username``.

        A refused new account is disabled for good; a refused role leaves the old one.
        """
        request = self.pending_for(username)
        if request.requested_by != by.user_id and by.role is not Role.DPO:
            verdict = self.verdict(by, request)  # a refusal needs no quorum
            if not verdict.decision:
                raise PermissionDenied(verdict.decision.reason)
        now = self._clock()
        with self._engine.begin() as conn:
            done = conn.execute(
                update(account_requests)
                .where(account_requests.c.id == request.id, account_requests.c.decision.is_(None))
                .values(decision="refused", decided_by=by.user_id, decided_at=now)
            ).rowcount
            if done != 1:
                raise RecordNotFound(f"user {request.username}: the request was decided meanwhile")
            if request.kind == "create":
                conn.execute(
                    update(users)
                    .where(users.c.id == request.user_id, users.c.disabled_at.is_(None))
                    .values(disabled_at=now)
                )
        log.info("account %s: request %s refused", request.user_id, request.id)
        return request

    def _other_dpo(self, user_id: str) -> bool:
        with self._engine.connect() as conn:
            found = conn.execute(
                select(users.c.id).where(
                    users.c.role == Role.DPO.value,
                    users.c.disabled_at.is_(None),
                    users.c.approved_at.is_not(None),
                    users.c.id != user_id,
                )
            ).first()
        return found is not None
