"""API tokens: a person's credential for scripts, narrower and shorter-lived than a session.

A token belongs to one named person, carries explicit scopes (a subset of what
the person's role may do), expires within 90 days and can be revoked. It never
grants break-glass and never mints other tokens. Only its SHA-256 is stored; the
token itself is shown once at creation.
"""

from __future__ import annotations

import logging
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from etanche.access._accounts import require_user_manage
from etanche.access._policy import Actor, Resource, can, role_actions
from etanche.access._schema import api_tokens, users
from etanche.access._user import Clock, aware, split_labs, utc_now
from etanche.crypto import hash_token
from etanche.errors import PermissionDenied, RecordNotFound, SessionExpired, ValidationError
from etanche.names import Action, Role
from etanche.vault import Vault

__all__ = ["MAX_TOKEN_DAYS", "ApiTokens", "TokenInfo"]

log = logging.getLogger("etanche.access")

MAX_TOKEN_DAYS = 90
TOKEN_PREFIX = "etk_"  # noqa: S105 (a prefix that lets secret scanners spot tokens)
_NAME = re.compile(r"^[\w .:-]{1,100}$")


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as listed: never the token itself."""

    id: str
    user_id: str
    name: str
    scopes: frozenset[Action]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiTokens:
    """Create, list, revoke and resolve API tokens of one vault."""

    def __init__(self, vault: Vault, *, clock: Clock | None = None) -> None:
        self._engine = vault.engine
        self._clock = clock if clock is not None else utc_now

    def create_token(
        self, user: Actor, name: str, scopes: Iterable[Action], days: int
    ) -> tuple[str, str]:
        """A new token of ``user`` (who must be logged in): (token id, token), shown once."""
        decision = can(user, Action.TOKEN_MANAGE, Resource("token"))
        if not decision:
            raise PermissionDenied(decision.reason)
        label = name.strip()
        if not _NAME.match(label):
            raise ValidationError("name", "1 to 100 letters, digits, spaces or . : - _")
        try:
            wanted = frozenset(Action(s) for s in scopes)
        except ValueError:
            raise ValidationError("scopes", "unknown action name") from None
        if not wanted:
            raise ValidationError("scopes", "at least one action")
        grantable = role_actions(user.role) - {Action.TOKEN_MANAGE}
        beyond = sorted(wanted - grantable)
        if beyond:  # asking for more than the role holds is a refusal, not a typo
            raise PermissionDenied(
                f"scopes: not allowed to the {user.role} role: {', '.join(beyond)}"
            )
        if not 1 <= days <= MAX_TOKEN_DAYS:
            raise ValidationError("days", f"between 1 and {MAX_TOKEN_DAYS}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = uuid.uuid4().hex
        now = self._clock()
        with self._engine.begin() as conn:
            conn.execute(
                insert(api_tokens),
                [
                    {
                        "id": token_id,
                        "user_id": user.user_id,
                        "name": label,
                        "token_hash": hash_token(token),
                        "scopes": " ".join(sorted(wanted)),
                        "created_at": now,
                        "expires_at": now + timedelta(days=days),
                        "revoked_at": None,
                        "last_used_at": None,
                    }
                ],
            )
        log.info("API token %s created for account %s", token_id, user.user_id)
        return token_id, token

    def revoke(self, token_id: str, by: Actor) -> None:
        """Revoke a token: its owner, or someone who manages the owner's labs."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(api_tokens.c.user_id, users.c.labs)
                .join(users, users.c.id == api_tokens.c.user_id)
                .where(api_tokens.c.id == token_id)
            ).first()
        if row is None:
            raise RecordNotFound(f"token {token_id}: not found")
        if row.user_id == by.user_id:
            decision = can(by, Action.TOKEN_MANAGE, Resource("token"))
            if not decision:
                raise PermissionDenied(decision.reason)
        else:
            require_user_manage(by, split_labs(row.labs))
        with self._engine.begin() as conn:
            conn.execute(
                update(api_tokens)
                .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=self._clock())
            )
        log.info("API token %s revoked", token_id)

    def list_for(self, user_id: str) -> list[TokenInfo]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(api_tokens)
                .where(api_tokens.c.user_id == user_id)
                .order_by(api_tokens.c.created_at)
            ).all()
        return [
            TokenInfo(
                id=r.id,
                user_id=r.user_id,
                name=r.name,
                scopes=_scopes(r.scopes),
                created_at=_when(r.created_at),
                expires_at=_when(r.expires_at),
                revoked_at=aware(r.revoked_at),
                last_used_at=aware(r.last_used_at),
            )
            for r in rows
        ]

    def actor_for_token(self, token: str) -> Actor:
        """The person behind a live token, limited to the token's scopes."""
        digest = hash_token(token)
        with self._engine.connect() as conn:
            row = conn.execute(
                select(
                    api_tokens,
                    users.c.username,
                    users.c.role,
                    users.c.labs,
                    users.c.disabled_at,
                    users.c.approved_at,
                )
                .join(users, users.c.id == api_tokens.c.user_id)
                .where(api_tokens.c.token_hash == digest)
            ).first()
        if row is None or row.revoked_at is not None:
            raise SessionExpired("token: unknown or revoked")
        if row.disabled_at is not None:
            raise SessionExpired("token: the account is disabled")
        if row.approved_at is None:
            raise SessionExpired("token: the account waits for a second person's approval")
        now = self._clock()
        if now >= _when(row.expires_at):
            raise SessionExpired(f"token {row.id}: expired")
        with self._engine.begin() as conn:
            conn.execute(
                update(api_tokens).where(api_tokens.c.id == row.id).values(last_used_at=now)
            )
        return Actor(
            username=row.username,
            user_id=row.user_id,
            role=Role(row.role),
            labs=split_labs(row.labs),
            scopes=_scopes(row.scopes),
            break_glass=None,
            session_id=f"token:{row.id}",
        )


def _scopes(text: str) -> frozenset[Action]:
    return frozenset(Action(part) for part in text.split())


def _when(moment: datetime | None) -> datetime:
    value = aware(moment)
    assert value is not None
    return value
