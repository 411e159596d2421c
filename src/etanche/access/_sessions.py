"""Sessions: password + TOTP give a short-lived, revocable, opaque token.

The token is 256 bits from ``secrets``; the database keeps only its SHA-256, so a
copy of the sessions table opens nothing. A session ends after 30 minutes idle or
12 hours in all (configurable), at logout, or when its account is disabled.
Break-glass widens a reception or biologist session, for a limited time and for a
stated reason, to patient search and read outside the person's labs.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Row, bindparam, insert, select, update

from etanche.access._accounts import Accounts
from etanche.access._passwords import Passwords
from etanche.access._policy import Actor, BreakGlass
from etanche.access._schema import sessions, users
from etanche.access._totp import Totp
from etanche.access._user import Clock, User, aware, session_id_of, split_labs, utc_now
from etanche.crypto import hash_token
from etanche.errors import (
    AccountLocked,
    AuthenticationFailed,
    EnrolmentRequired,
    PermissionDenied,
    SessionExpired,
    ValidationError,
)
from etanche.names import Role
from etanche.vault import Vault

__all__ = [
    "BREAK_GLASS_MIN_REASON",
    "Session",
    "SessionPolicy",
    "Sessions",
]

log = logging.getLogger("etanche.access")

_TOUCH_EVERY = timedelta(seconds=15)
# Every request reads its session: one statement built once (its compiled form is cached).
_LIVE_ROW = (
    select(
        sessions,
        users.c.username,
        users.c.role,
        users.c.labs,
        users.c.disabled_at,
        users.c.approved_at,
        users.c.gender,
    )
    .join(users, users.c.id == sessions.c.user_id)
    .where(sessions.c.token_hash == bindparam("digest"))
)
SESSION_PREFIX = "ets_"  # a prefix that lets secret scanners spot tokens
BREAK_GLASS_MIN_REASON = 15
_BREAK_GLASS_ROLES = frozenset({Role.RECEPTION, Role.BIOLOGIST})
SessionKind = Literal["cli", "web"]


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """How long sessions and break-glass last."""

    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)
    break_glass_longest: timedelta = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class Session:
    """What a session is (never the token itself)."""

    id: str
    user_id: str
    username: str
    role: Role
    labs: frozenset[str]
    kind: str
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime
    client: str | None
    break_glass: BreakGlass | None
    gender: str | None = None  # the account's grammatical gender, for the pages' header

    def actor(self) -> Actor:
        return Actor(
            username=self.username,
            user_id=self.user_id,
            role=self.role,
            labs=self.labs,
            scopes=None,
            break_glass=self.break_glass,
            session_id=self.id,
        )


def _when(moment: datetime | None) -> datetime:
    value = aware(moment)
    assert value is not None
    return value


class Sessions:
    """Log in, resume, log out and break the glass, over one vault."""

    def __init__(
        self,
        vault: Vault,
        *,
        accounts: Accounts | None = None,
        passwords: Passwords | None = None,
        policy: SessionPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._clock = clock if clock is not None else utc_now
        self._engine = vault.engine
        self._accounts = (
            accounts
            if accounts is not None
            else Accounts(vault, passwords=passwords, clock=self._clock)
        )
        self._totp = Totp(vault, clock=self._clock)
        self._policy = policy if policy is not None else SessionPolicy()

    @property
    def accounts(self) -> Accounts:
        return self._accounts

    @property
    def totp(self) -> Totp:
        return self._totp

    @property
    def policy(self) -> SessionPolicy:
        return self._policy

    # -- login ------------------------------------------------------------------
    def begin_enrolment(self, username: str, password: str) -> tuple[User, str, str]:
        """First login: check the password, then issue a TOTP seed to confirm.

        Returns (user, secret, otpauth URI); the secret is shown once to the person.
        """
        user = self._accounts.check_password(username, password)
        if user.totp_enrolled:
            raise ValidationError("totp", "already enrolled (a lab admin can reset it)")
        secret, uri = self._totp.begin_enrolment(user)
        return user, secret, uri

    def authenticate(
        self,
        username: str,
        password: str,
        totp_code: str | None,
        *,
        client: str | None = None,
        kind: SessionKind = "cli",
    ) -> tuple[Session, str]:
        """Password and TOTP code in, (session, token) out; the token is shown once.

        An account without a confirmed TOTP opens a session only by confirming a
        pending enrolment (``begin_enrolment``) with its first code.
        """
        if kind not in ("cli", "web"):
            raise ValidationError("kind", "must be cli or web")
        user = self._accounts.check_password(username, password)
        if not user.totp_enrolled and not self._totp.is_pending(user):
            raise EnrolmentRequired(
                "login: this account has no TOTP yet; run `etanche login` in a terminal to enrol"
            )
        try:
            if totp_code is None:
                raise AuthenticationFailed("login: a TOTP code is required")
            if user.totp_enrolled:
                self._totp.verify(user, totp_code)
            else:
                self._totp.confirm_enrolment(user, totp_code)
        except AuthenticationFailed:
            if self._accounts.record_failure(user.id):
                raise AccountLocked("login: account locked after repeated failures") from None
            raise
        self._accounts.record_success(user.id)
        return self._open(user, kind, client)

    def _open(self, user: User, kind: str, client: str | None) -> tuple[Session, str]:
        token = SESSION_PREFIX + secrets.token_urlsafe(32)
        digest = hash_token(token)
        now = self._clock()
        with self._engine.begin() as conn:
            conn.execute(
                insert(sessions),
                [
                    {
                        "token_hash": digest,
                        "user_id": user.id,
                        "kind": kind,
                        "created_at": now,
                        "expires_at": now + self._policy.absolute,
                        "last_seen_at": now,
                        "client": client[:64] if client else None,
                        "break_glass_reason": None,
                        "break_glass_until": None,
                        "revoked_at": None,
                    }
                ],
            )
        log.info("session %s opened for account %s", session_id_of(digest), user.id)
        return self._session(digest), token

    # -- use --------------------------------------------------------------------
    def resume(self, token: str) -> Actor:
        """The actor behind a live session; refreshes its idle timer."""
        return self.resume_session(token).actor()

    def resume_session(self, token: str) -> Session:
        """A live session, as ``resume`` refreshes it (one query for pages: the account's
        gender comes with it)."""
        digest = hash_token(token)
        row = self._live_row(digest)
        now = self._clock()
        # The idle timer counts in minutes: refresh it at most every few seconds, so
        # a page with many requests does not turn every read into a database write.
        if now - _when(row.last_seen_at) >= _TOUCH_EVERY:
            with self._engine.begin() as conn:
                conn.execute(
                    update(sessions)
                    .where(sessions.c.token_hash == digest, sessions.c.revoked_at.is_(None))
                    .values(last_seen_at=now)
                )
        return _session_from(row, now)

    def current(self, token: str) -> Session:
        """What a live session is, without refreshing it (``whoami``)."""
        digest = hash_token(token)
        return _session_from(self._live_row(digest), self._clock())

    def logout(self, token: str) -> bool:
        """End a session; False if it was unknown or already ended."""
        digest = hash_token(token)
        with self._engine.begin() as conn:
            ended = conn.execute(
                update(sessions)
                .where(sessions.c.token_hash == digest, sessions.c.revoked_at.is_(None))
                .values(revoked_at=self._clock())
            ).rowcount
        if ended:
            log.info("session %s closed", session_id_of(digest))
        return bool(ended)

    def break_glass(self, token: str, reason: str, minutes: int = 30) -> Session:
        """Widen a live session for ``minutes`` for a stated reason; recorded on the session.

        The reason goes to the audit log: it must say why, not name the patient.
        """
        actor = self.resume(token)
        if actor.role not in _BREAK_GLASS_ROLES:
            raise PermissionDenied(
                "auth.break_glass: only reception and biologist sessions can break the glass"
            )
        text = " ".join(reason.split())
        if len(text) < BREAK_GLASS_MIN_REASON:
            raise ValidationError(
                "reason",
                f"at least {BREAK_GLASS_MIN_REASON} characters saying why access is needed",
            )
        if len(text) > 500:
            raise ValidationError("reason", "at most 500 characters")
        longest = int(self._policy.break_glass_longest.total_seconds() // 60)
        if not 1 <= minutes <= longest:
            raise ValidationError("minutes", f"between 1 and {longest}")
        digest = hash_token(token)
        now = self._clock()
        with self._engine.begin() as conn:
            expires = _when(
                conn.execute(
                    select(sessions.c.expires_at).where(sessions.c.token_hash == digest)
                ).scalar_one()
            )
            until = min(now + timedelta(minutes=minutes), expires)
            conn.execute(
                update(sessions)
                .where(sessions.c.token_hash == digest)
                .values(break_glass_reason=text, break_glass_until=until)
            )
        log.warning("break-glass on session %s for %d min", session_id_of(digest), minutes)
        return self.current(token)

    def revoke_all(self, user_id: str) -> int:
        """End every session of an account (password reset, compromise)."""
        with self._engine.begin() as conn:
            return int(
                conn.execute(
                    update(sessions)
                    .where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
                    .values(revoked_at=self._clock())
                ).rowcount
            )

    # -- internals --------------------------------------------------------------
    def _session(self, digest: bytes) -> Session:
        return _session_from(self._live_row(digest), self._clock())

    def _live_row(self, digest: bytes) -> Row[Any]:
        with self._engine.connect() as conn:
            row = conn.execute(_LIVE_ROW, {"digest": digest}).first()
        if row is None or row.revoked_at is not None:
            raise SessionExpired("session: unknown or ended (run `etanche login`)")
        if row.disabled_at is not None:
            raise SessionExpired("session: the account is disabled")
        if row.approved_at is None:
            raise SessionExpired("session: the account waits for a second person's approval")
        now = self._clock()
        if now >= _when(row.expires_at):
            self._end(digest)
            raise SessionExpired(
                f"session: expired after {_span(self._policy.absolute)} (run `etanche login`)"
            )
        if now - _when(row.last_seen_at) >= self._policy.idle:
            self._end(digest)
            raise SessionExpired(
                f"session: expired after {_span(self._policy.idle)} idle (run `etanche login`)"
            )
        return row

    def _end(self, digest: bytes) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(sessions)
                .where(sessions.c.token_hash == digest, sessions.c.revoked_at.is_(None))
                .values(revoked_at=self._clock())
            )


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    return f"{minutes} min"


def _session_from(row: Row[Any], now: datetime) -> Session:
    until = aware(row.break_glass_until)
    glass = (
        BreakGlass(row.break_glass_reason, until)
        if until is not None and row.break_glass_reason and now < until
        else None
    )
    return Session(
        id=session_id_of(row.token_hash),
        user_id=row.user_id,
        username=row.username,
        role=Role(row.role),
        labs=split_labs(row.labs),
        kind=row.kind,
        created_at=_when(row.created_at),
        expires_at=_when(row.expires_at),
        last_seen_at=_when(row.last_seen_at),
        client=row.client,
        break_glass=glass,
        gender=row.gender,
    )
