"""The account of one named person, as the rest of Étanche sees it (no secrets)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row

from etanche.names import Role

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they were stored in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def session_id_of(token_hash: bytes) -> str:
    """A short, non-secret handle of a session for logs and audit (hash prefix)."""
    return token_hash[:8].hex()


def split_labs(text: str) -> frozenset[str]:
    return frozenset(part for part in text.split(",") if part)


def join_labs(labs: frozenset[str]) -> str:
    return ",".join(sorted(labs))


@dataclass(frozen=True, slots=True)
class User:
    """A person's account. Holds no password hash and no TOTP seed on purpose."""

    id: str
    username: str
    full_name: str
    role: Role
    labs: frozenset[str]
    created_at: datetime
    created_by: str | None
    totp_enrolled: bool
    failed_attempts: int
    locked_until: datetime | None
    disabled_at: datetime | None
    rpps: str | None = None
    approved_at: datetime | None = None
    gender: str | None = None  # "F", "M" or None: how the pages word the role

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    @property
    def pending(self) -> bool:
        """Created but not yet approved by a second person: it cannot log in."""
        return self.approved_at is None

    @property
    def state(self) -> str:
        """disabled, pending (second approval), locked (for now) or active."""
        if self.disabled_at is not None:
            return "disabled"
        if self.approved_at is None:
            return "pending"
        if self.locked_until is not None and self.locked_until > utc_now():
            return "locked"
        return "active"

    @classmethod
    def from_row(cls, row: Row[Any]) -> User:
        created = aware(row.created_at)
        assert created is not None
        return cls(
            id=row.id,
            username=row.username,
            full_name=row.full_name,
            role=Role(row.role),
            labs=split_labs(row.labs),
            created_at=created,
            created_by=row.created_by,
            totp_enrolled=row.totp_enrolled_at is not None,
            failed_attempts=int(row.failed_attempts or 0),
            locked_until=aware(row.locked_until),
            disabled_at=aware(row.disabled_at),
            rpps=row.rpps,
            approved_at=aware(row.approved_at),
            gender=getattr(row, "gender", None),
        )
