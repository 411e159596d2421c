"""Time-based one-time passwords (RFC 6238) as the second factor of every account.

Seeds are sealed by the vault's system key, bound to their user row, so a copy of
the database gives no seed. A code is accepted in a ±1 step window (clock drift)
and only once: the last accepted time step is stored per user and a code of that
step or an earlier one is refused, so an observed code cannot be replayed.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import pyotp
from sqlalchemy import or_, select, update

from etanche.access._schema import users
from etanche.access._user import Clock, User, utc_now
from etanche.errors import AuthenticationFailed, UsageError
from etanche.vault import Vault

__all__ = [
    "ISSUER",
    "STEP_SECONDS",
    "WINDOW",
    "Totp",
    "current_code",
    "matching_step",
    "new_secret",
    "provisioning_uri",
]

ISSUER = "Étanche"
STEP_SECONDS = 30
DIGITS = 6
WINDOW = 1  # steps accepted either side of now
_TABLE = "users"


def new_secret() -> str:
    """A fresh 160-bit base32 seed (RFC 4226's recommended length)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app reads (as a QR code or pasted)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=ISSUER
    )


def current_code(secret: str, at: datetime) -> str:
    """The code of the step holding ``at`` (what an authenticator app shows)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).at(at)


def matching_step(secret: str, code: str, at: datetime, window: int = WINDOW) -> int | None:
    """The time step whose code equals ``code`` within ±``window`` steps, else None.

    Compares in constant time and checks every step of the window, so timing
    does not tell which step matched.
    """
    cleaned = code.replace(" ", "")
    if len(cleaned) != DIGITS or not cleaned.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    now_step = int(at.timestamp()) // STEP_SECONDS
    found: int | None = None
    for offset in range(-window, window + 1):
        expected = totp.at(at, counter_offset=offset)
        if secrets.compare_digest(expected, cleaned) and found is None:
            found = now_step + offset
    return found


class Totp:
    """TOTP enrolment and verification for the accounts of one vault."""

    def __init__(self, vault: Vault, *, clock: Clock | None = None) -> None:
        self._vault = vault
        self._clock = clock if clock is not None else utc_now

    def begin_enrolment(self, user: User) -> tuple[str, str]:
        """New pending seed for an account without a confirmed TOTP: (secret, URI).

        Shown once to the person; nothing is usable until ``confirm_enrolment``.
        A confirmed TOTP is never replaced here: a lab admin resets it first.
        """
        user_id = user.id
        with self._vault.engine.begin() as conn:
            row = conn.execute(
                select(users.c.totp_enrolled_at).where(users.c.id == user_id)
            ).first()
            if row is None:
                raise UsageError("totp: no such account")
            if row.totp_enrolled_at is not None:
                raise UsageError("totp: already enrolled (a lab admin can reset it)")
            secret = new_secret()
            sealed = self._vault.seal_system(_TABLE, user_id, secret.encode("ascii"))
            conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(totp_secret=sealed, totp_last_step=None)
            )
        return secret, provisioning_uri(secret, user.username)

    def confirm_enrolment(self, user: User, code: str) -> None:
        """Confirm the pending seed with a first code; the step is spent at once."""
        user_id = user.id
        with self._vault.engine.begin() as conn:
            row = conn.execute(
                select(users.c.totp_secret, users.c.totp_enrolled_at).where(users.c.id == user_id)
            ).first()
            if row is None or row.totp_secret is None:
                raise UsageError("totp: no enrolment in progress (log in to start one)")
            if row.totp_enrolled_at is not None:
                raise UsageError("totp: already enrolled")
        self._spend(user_id, code, require_enrolled=False)
        with self._vault.engine.begin() as conn:
            conn.execute(
                update(users).where(users.c.id == user_id).values(totp_enrolled_at=self._clock())
            )

    def verify(self, user: User, code: str) -> None:
        """Accept a code of an enrolled account once; raise AuthenticationFailed otherwise."""
        self._spend(user.id, code, require_enrolled=True)

    def is_pending(self, user: User) -> bool:
        """A seed was issued but never confirmed."""
        with self._vault.engine.connect() as conn:
            row = conn.execute(
                select(users.c.totp_secret, users.c.totp_enrolled_at).where(users.c.id == user.id)
            ).first()
        return row is not None and row.totp_secret is not None and row.totp_enrolled_at is None

    def reset(self, user: User) -> None:
        """Forget the seed (lost phone): the next login enrols again."""
        with self._vault.engine.begin() as conn:
            conn.execute(
                update(users)
                .where(users.c.id == user.id)
                .values(totp_secret=None, totp_enrolled_at=None, totp_last_step=None)
            )

    def _spend(self, user_id: str, code: str, *, require_enrolled: bool) -> None:
        failed = AuthenticationFailed("login: wrong user name, password or code")
        with self._vault.engine.connect() as conn:
            row = conn.execute(
                select(users.c.totp_secret, users.c.totp_enrolled_at).where(users.c.id == user_id)
            ).first()
        if row is None or row.totp_secret is None:
            raise failed
        if require_enrolled and row.totp_enrolled_at is None:
            raise failed
        secret = self._vault.open_system(_TABLE, user_id, row.totp_secret).decode("ascii")
        step = matching_step(secret, code, self._clock())
        if step is None:
            raise failed
        # One conditional UPDATE: of two logins racing with the same code, one wins.
        with self._vault.engine.begin() as conn:
            spent = conn.execute(
                update(users)
                .where(
                    users.c.id == user_id,
                    or_(users.c.totp_last_step.is_(None), users.c.totp_last_step < step),
                )
                .values(totp_last_step=step)
            ).rowcount
        if spent != 1:
            raise failed
