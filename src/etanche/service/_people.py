"""People operations: log in, enrol, log out, break glass, accounts and API tokens.

Every adapter (web pages, the JSON API behind the CLI) calls these, so each
login, refusal and account change is decided and audited once, here. Account
changes are ``user.manage`` events whose ``operation`` (add, role, approve,
refuse, disable, reset-password, reset-totp) the alert rules watch; a privileged
account or role waits for a second person (``access._approvals``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from etanche.access import (
    NETWORK_WIDE,
    AccountRequest,
    Accounts,
    Action,
    Actor,
    ApiTokens,
    Approvals,
    Passwords,
    Resource,
    Role,
    Session,
    Sessions,
    TokenInfo,
    User,
    can,
    check_full_name,
    check_gender,
    check_labs,
    check_rpps,
    check_username,
    needs_approval,
)
from etanche.audit import DetailValue, Outcome
from etanche.errors import (
    AccountLocked,
    AuthenticationFailed,
    EnrolmentRequired,
    EtancheError,
    PermissionDenied,
    SessionExpired,
    UsageError,
)
from etanche.service._trail import Trail
from etanche.service._views import aware_iso
from etanche.vault import Vault

_REFUSED = "login: wrong user name, password or code"


@contextmanager
def _lock_hidden() -> Iterator[None]:
    """A locked account answers like a wrong password (after its event is recorded):
    otherwise a probe learns which user names exist, and which it has locked."""
    try:
        yield
    except AccountLocked:
        raise AuthenticationFailed(_REFUSED) from None


@dataclass(frozen=True)
class Enrolment:
    """A first login's TOTP seed, shown once to its person."""

    username: str
    secret: str
    uri: str


class People:
    """Accounts, sessions and tokens of one vault, every step audited."""

    def __init__(
        self,
        vault: Vault,
        trail: Trail,
        *,
        client: str | None = None,
        passwords: Passwords | None = None,
        quorum: Callable[[], tuple[str, ...]] | None = None,
    ) -> None:
        self.vault = vault
        self.trail = trail
        self.client = client
        self.accounts = Accounts(vault, passwords=passwords)
        self.sessions = Sessions(vault, accounts=self.accounts)
        self.tokens = ApiTokens(vault)
        self.approvals = Approvals(vault, self.accounts)
        self._quorum = quorum  # the custodians' approval of a first DPO, consumed once

    # -- who is asking ---------------------------------------------------------
    def actor_for(self, token: str) -> Actor:
        """The person behind a session token or an API token (etk_…)."""
        if token.startswith("etk_"):
            return self.tokens.actor_for_token(token)
        return self.sessions.resume(token)

    def session_actor(self, token: str) -> Actor:
        """The person behind a login session only (a page cookie never carries an API token)."""
        return self.sessions.resume(token)

    def page_session(self, token: str) -> Session:
        """A login session as a page needs it: the actor and the account's gender."""
        return self.sessions.resume_session(token)

    def identify(self, token: str | None) -> Actor:
        """Like ``actor_for``, but a missing or dead token is an audited failed login."""
        try:
            if not token:
                raise SessionExpired("login: no session (run `etanche login`)")
            return self.actor_for(token)
        except EtancheError as exc:
            self._event(None, Action.LOGIN, Outcome.FAILED, {"reason": type(exc).__name__})
            raise

    # -- sessions --------------------------------------------------------------
    def begin_enrolment(self, username: str, password: str, *, kind: str) -> Enrolment:
        """First login: the password is checked, then a TOTP seed is issued once."""
        with _lock_hidden(), self._audited(username, Action.LOGIN, {"kind": kind, "step": "enrol"}):
            user, secret, uri = self.sessions.begin_enrolment(username, password)
        return Enrolment(user.username, secret, uri)

    def login(self, username: str, password: str, code: str | None, *, kind: str) -> str:
        """Password and TOTP code in, a session token out (shown once)."""
        with _lock_hidden(), self._audited(username, Action.LOGIN, {"kind": kind}):
            _, token = self.sessions.authenticate(
                username,
                password,
                code,
                client=self.client,
                kind=kind,  # type: ignore[arg-type]
            )
        return token

    def web_login(self, username: str, password: str, code: str) -> str | Enrolment:
        """A login form: a session token, or a first TOTP seed if the account has none.

        The password is hashed once per attempt; a failure is an audited failed login.
        """
        with _lock_hidden(), self._failed_login(username):
            if not code:
                # No code: only a first login (or a reset TOTP) may go on, to its QR code.
                user = self.accounts.check_password(username, password)
                if user.totp_enrolled:
                    if self.accounts.record_failure(user.id):  # counts toward lock-out
                        raise AccountLocked("login: account locked after repeated failures")
                    raise AuthenticationFailed("login: a TOTP code is required")
                return self._enrolment(user)
            try:
                _, token = self.sessions.authenticate(
                    username, password, code, client=self.client, kind="web"
                )
            except EnrolmentRequired:
                # The password was right (checked once): a seed instead.
                return self._enrolment(self.accounts.get(username))
        return token

    def web_enrol(self, username: str, password: str, code: str | None) -> str:
        """Confirm a pending TOTP seed with its first code: a session token out."""
        with _lock_hidden(), self._failed_login(username):
            _, token = self.sessions.authenticate(
                username, password, code, client=self.client, kind="web"
            )
        return token

    def first_factor(self, username: str, password: str, *, kind: str) -> User:
        """The password alone (the CLI asks for a code next); a failure is audited and a
        locked account answers like a wrong password."""
        with _lock_hidden(), self._failed_login(username, kind=kind):
            return self.accounts.check_password(username, password)

    def login_refused(self, username: str, error: str, *, kind: str = "web") -> None:
        """An attempt stopped before the password check (rate limit): still audited."""
        self._event(username or "?", Action.LOGIN, Outcome.FAILED, {"kind": kind, "error": error})

    def _enrolment(self, user: User) -> Enrolment:
        secret, uri = self.sessions.totp.begin_enrolment(user)
        return Enrolment(user.username, secret, uri)

    @contextmanager
    def _failed_login(self, username: str, *, kind: str = "web") -> Iterator[None]:
        try:
            yield
        except EtancheError as exc:
            self.login_refused(username, type(exc).__name__, kind=kind)
            raise

    def logged_in(self, token: str, kind: str) -> Actor:
        """Record the successful login of a session just opened."""
        actor = self.sessions.resume(token)
        self._event(actor, Action.LOGIN, Outcome.OK, {"kind": kind})
        return actor

    def session(self, token: str) -> Session:
        return self.sessions.current(token)

    def logout(self, actor: Actor, token: str, *, kind: str) -> None:
        with self._audited(actor, Action.LOGOUT, {"kind": kind}):
            self.sessions.logout(token)

    def break_glass(self, actor: Actor, token: str, reason: str, minutes: int) -> Session:
        """Emergency access outside one's labs for a while: audited and alerted."""
        if actor.via_token:
            raise UsageError("break-glass: needs a login session, not an API token")
        with self._audited(actor, Action.BREAK_GLASS, {"minutes": minutes, "break_glass": True}):
            return self.sessions.break_glass(token, reason, minutes)

    def whoami(self, actor: Actor, token: str) -> dict[str, Any]:
        user = self.accounts.get_by_id(actor.user_id)
        expires: datetime | None = None
        if not actor.via_token:
            expires = self.sessions.current(token).expires_at
        return {
            "username": actor.username,
            "full_name": user.full_name,
            "gender": user.gender,
            "role": actor.role.value,
            "labs": sorted(actor.labs),
            "via": "token" if actor.via_token else "session",
            "scopes": sorted(actor.scopes) if actor.scopes is not None else None,
            "session_ends": aware_iso(expires) if expires else None,
            "break_glass_until": (
                aware_iso(actor.break_glass.until) if actor.break_glass else None
            ),
        }

    # -- accounts --------------------------------------------------------------
    def add_user(
        self,
        by: Actor | None,
        username: str,
        full_name: str,
        role: Role,
        labs: Sequence[str],
        password: str,
        rpps: str | None = None,
        gender: str | None = None,
    ) -> User:
        """Create the account of one named person (``by`` is None only for the first).

        A privileged account comes back pending: it logs in after a second approval.
        """
        if by is None and self.accounts.count() > 0:
            raise PermissionDenied("users: only a logged-in lab admin creates accounts")
        details: dict[str, DetailValue] = {
            "operation": "add",
            "account": username,
            "role": role.value,
            "labs": ",".join(sorted(labs)),
            "privileged": needs_approval(role, frozenset(labs)),
        }
        # invalid fields are failed attempts too: logged like any other outcome
        with self._audited(by, Action.USER_MANAGE, details) as event:
            check_username(username)
            check_full_name(full_name)
            check_labs(role, list(labs))
            check_rpps(role, rpps)
            check_gender(gender)
            user = self.accounts.add(
                username, full_name, role, set(labs), password, by, rpps=rpps, gender=gender
            )
            event["pending"] = user.pending
        return user

    def change_role(
        self,
        by: Actor,
        username: str,
        role: Role,
        labs: Sequence[str] | None = None,
        rpps: str | None = None,
    ) -> tuple[User, bool]:
        """Give an account another role or labs: (account, pending).

        A privileged role, or more labs for one, waits for a second approval and
        the account keeps its old role meanwhile; a narrowing applies at once.
        """
        details: dict[str, DetailValue] = {
            "operation": "role",
            "account": username,
            "role": role.value,
        }
        with self._audited(by, Action.USER_MANAGE, details) as event:
            before = self.accounts.get(username)
            chosen = frozenset(labs) if labs is not None else before.labs
            event["labs"] = ",".join(sorted(chosen))
            event["privileged"] = needs_approval(role, chosen, (before.role, before.labs))
            user = self.accounts.update(username, by=by, role=role, labs=chosen, rpps=rpps)
            pending = user.role is not role or user.labs != chosen
            event["pending"] = pending
        return user, pending

    # -- second approvals ------------------------------------------------------
    def pending_requests(self, actor: Actor) -> list[AccountRequest]:
        """Requests the person made, may decide, or whose labs they manage."""
        allowed = can(actor, Action.USER_APPROVE, Resource("user-request"))
        if not allowed:
            self._event(actor, Action.USER_APPROVE, Outcome.DENIED, {"operation": "pending"})
            raise PermissionDenied(allowed.reason)
        return self.approvals.visible_to(actor)

    def may_decide(self, actor: Actor, request: AccountRequest) -> bool:
        """Whether ``actor`` may approve ``request`` (a page shows the button only then)."""
        return self.approvals.verdict(actor, request).decision.allowed

    def approve(self, actor: Actor, username: str) -> AccountRequest:
        """A second person approves the pending request of ``username``: it takes effect."""
        details: dict[str, DetailValue] = {"operation": "approve", "account": username}
        with self._audited(actor, Action.USER_MANAGE, details) as event:
            request, custodians = self.approvals.approve(username, actor, quorum=self._quorum)
            event.update(_request_details(request))
            if custodians:
                event["custodians"] = ",".join(custodians)
        return request

    def refuse(self, actor: Actor, username: str) -> AccountRequest:
        """Refuse (or withdraw) the pending request of ``username``."""
        details: dict[str, DetailValue] = {"operation": "refuse", "account": username}
        with self._audited(actor, Action.USER_MANAGE, details) as event:
            request = self.approvals.refuse(username, actor)
            event.update(_request_details(request))
        return request

    def manageable_users(self, actor: Actor) -> list[User]:
        """Accounts of the labs ``actor`` manages (denied if they manage none)."""
        probe = next(iter(sorted(actor.labs)), NETWORK_WIDE)
        decision = can(
            actor, Action.USER_MANAGE, Resource("user", None if probe == NETWORK_WIDE else probe)
        )
        if not decision:
            self._event(actor, Action.USER_MANAGE, Outcome.DENIED, {"operation": "list"})
            raise PermissionDenied(decision.reason)

        def covered(user: User) -> bool:
            return any(
                can(
                    actor,
                    Action.USER_MANAGE,
                    Resource("user", None if lab == NETWORK_WIDE else lab),
                )
                for lab in user.labs
            )

        return [u for u in self.accounts.list() if covered(u)]

    def set_gender(self, actor: Actor, username: str, gender: str | None) -> User:
        """How the pages word a person's role: theirs, or of an account they manage."""
        details: dict[str, DetailValue] = {"operation": "gender", "account": username}
        with self._audited(actor, Action.USER_MANAGE, details):
            return self.accounts.set_gender(username, gender, actor)

    def disable_user(self, actor: Actor, username: str) -> User:
        with self._audited(
            actor, Action.USER_MANAGE, {"operation": "disable", "account": username}
        ):
            return self.accounts.disable(username, actor)

    def reset_totp(self, actor: Actor, username: str) -> None:
        details: dict[str, DetailValue] = {"operation": "reset-totp", "account": username}
        with self._audited(actor, Action.USER_MANAGE, details):
            self.accounts.reset_totp(username, actor)

    def reset_password(self, actor: Actor, username: str, password: str) -> None:
        """A lab admin sets a new password for a person of their labs; their sessions end."""
        if actor.username == username.strip().lower():
            raise UsageError("reset-password: change your own password with your current one")
        details: dict[str, DetailValue] = {"operation": "reset-password", "account": username}
        with self._audited(actor, Action.USER_MANAGE, details):
            self.accounts.change_password(username, password, by=actor)

    # -- API tokens ------------------------------------------------------------
    def create_token(
        self, actor: Actor, name: str, scopes: set[Action], days: int
    ) -> tuple[str, str]:
        details: dict[str, DetailValue] = {
            "operation": "create",
            "scopes": " ".join(sorted(scopes)),
            "days": days,
        }
        with self._audited(actor, Action.TOKEN_MANAGE, details) as event:
            token_id, token = self.tokens.create_token(actor, name, scopes, days)
            event["token"] = token_id
        return token_id, token

    def revoke_token(self, actor: Actor, token_id: str) -> None:
        with self._audited(actor, Action.TOKEN_MANAGE, {"operation": "revoke", "token": token_id}):
            self.tokens.revoke(token_id, actor)

    def list_tokens(self, actor: Actor) -> list[TokenInfo]:
        return self.tokens.list_for(actor.user_id)

    # -- audit -----------------------------------------------------------------
    @contextmanager
    def _audited(
        self,
        who: Actor | str | None,
        action: Action,
        details: dict[str, DetailValue] | None = None,
    ) -> Iterator[dict[str, DetailValue]]:
        """One audit event with the outcome of the body (ok, denied or failed)."""
        extra: dict[str, DetailValue] = dict(details or {})
        try:
            yield extra
        except PermissionDenied as exc:
            extra["reason"] = str(exc)[:200]
            self._event(who, action, Outcome.DENIED, extra)
            raise
        except EtancheError as exc:
            extra["error"] = type(exc).__name__
            self._event(who, action, Outcome.FAILED, extra)
            raise
        self._event(who, action, Outcome.OK, extra)

    def _event(
        self,
        who: Actor | str | None,
        action: Action,
        outcome: Outcome,
        details: dict[str, DetailValue],
    ) -> None:
        self.trail.record(who, action, outcome, client=self.client, details=details)


def _request_details(request: AccountRequest) -> dict[str, DetailValue]:
    return {
        "request": request.id,
        "kind": request.kind,
        "role": request.role.value,
        "labs": ",".join(sorted(request.labs)),
        "requested_by": request.requester,
        "privileged": True,
    }
