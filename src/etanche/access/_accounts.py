"""Accounts: one per named person, no generic or shared account (CNIL finding F7).

A shared "accueil" account makes every access anonymous, so the audit log could
never say who read a record. Here an account carries a person's full name (fixed
for life: a new person gets a new account), a personal user name that is not a
service or role name, a role and the labs it covers. Failed logins lock the
account progressively, so guessing a password or a code is slow. A privileged
account or role is only a request until a second person approves it
(``_requests``, ``_approvals``).
"""

from __future__ import annotations

import logging
import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, func, insert, select, update

from etanche.access._passwords import Passwords, check_password_policy
from etanche.access._policy import NETWORK_ROLES, NETWORK_WIDE, Actor, Resource, can
from etanche.access._requests import check_rpps, needs_approval, open_request
from etanche.access._schema import api_tokens, sessions, users
from etanche.access._totp import Totp
from etanche.access._user import Clock, User, aware, join_labs, session_id_of, utc_now
from etanche.errors import (
    AccountLocked,
    AuthenticationFailed,
    PermissionDenied,
    RecordNotFound,
    ValidationError,
)
from etanche.names import Action, Role
from etanche.vault import Vault

__all__ = [
    "GENERIC_NAMES",
    "Accounts",
    "LockoutPolicy",
    "check_full_name",
    "check_labs",
    "check_username",
    "validate_account",
]

log = logging.getLogger("etanche.access")

# Names of services, roles, places and placeholders: an account named so is an
# account several people would share. Compared accent- and case-insensitively,
# word by word (so "accueil2", "labo-l01" and "admin.nantes" are refused too).
GENERIC_NAMES = frozenset(
    {
        "accueil",
        "account",
        "admin",
        "administrateur",
        "administrator",
        "anonymous",
        "anonyme",
        "auditeur",
        "auditor",
        "biologie",
        "biologist",
        "biologiste",
        "bureau",
        "caisse",
        "commun",
        "common",
        "compte",
        "contact",
        "default",
        "demo",
        "desk",
        "dpo",
        "equipe",
        "etanche",
        "example",
        "generic",
        "generique",
        "guest",
        "helpdesk",
        "infirmier",
        "infirmiere",
        "info",
        "interim",
        "invite",
        "lab",
        "labo",
        "laboratoire",
        "laboratory",
        "maintenance",
        "migration",
        "nobody",
        "nurse",
        "office",
        "operateur",
        "operator",
        "partage",
        "personnel",
        "poste",
        "prestataire",
        "preleveur",
        "reception",
        "remplacant",
        "root",
        "secretaire",
        "secretariat",
        "secretary",
        "service",
        "services",
        "shared",
        "staff",
        "stagiaire",
        "standard",
        "station",
        "superuser",
        "support",
        "sysadmin",
        "system",
        "systeme",
        "team",
        "technicien",
        "technician",
        "temp",
        "test",
        "tests",
        "tmp",
        "user",
        "users",
        "utilisateur",
        "vendor",
    }
)

# Full names are checked against fewer words: some generic words are real surnames
# (Bureau, Poste, Lab...), but nobody is called "Accueil" or "Secrétariat".
_NOT_A_PERSON = GENERIC_NAMES - {
    "bureau",
    "caisse",
    "common",
    "commun",
    "contact",
    "default",
    "desk",
    "dpo",
    "example",
    "info",
    "lab",
    "maintenance",
    "migration",
    "office",
    "poste",
    "standard",
    "station",
    "temp",
    "tmp",
    "vendor",
}

_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,63}$")
_WORDS = re.compile(r"[a-z]+")
_NAME_WORD = re.compile(r"^[^\W\d_]+(?:['’.-][^\W\d_]*)*$")


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """After ``threshold`` failures lock for ``first``, doubling per failure up to ``longest``."""

    threshold: int = 5
    first: timedelta = timedelta(minutes=1)
    longest: timedelta = timedelta(hours=1)

    def lock_for(self, failures: int) -> timedelta | None:
        if failures < self.threshold:
            return None
        doublings = min(failures - self.threshold, 32)
        longer: timedelta = self.first * (1 << doublings)
        return min(longer, self.longest)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def check_username(username: str) -> str:
    """A personal user name: lowercase, 3–64 characters, no service or role word."""
    name = username.strip().lower()
    if not _USERNAME.match(name):
        raise ValidationError(
            "username",
            "3 to 64 characters: lowercase letters, digits, '.', '-', '_', starting with a letter",
        )
    words = _WORDS.findall(name)
    if any(word in GENERIC_NAMES for word in words) or name.replace("-", "_") in {
        r.value for r in Role
    }:
        raise ValidationError(
            "username", "names a service, role or placeholder; use the person's own name"
        )
    if sum(len(word) for word in words) < 3:
        raise ValidationError("username", "must hold at least 3 letters of the person's name")
    return name


def check_full_name(full_name: str) -> str:
    """First and last name of one person (two words at least), not a service."""
    name = " ".join(unicodedata.normalize("NFC", full_name).split())
    words = name.split(" ")
    if len(words) < 2 or any(not _NAME_WORD.match(word) for word in words):
        raise ValidationError("full_name", "first and last name of one person (two words at least)")
    if len(name) > 200:
        raise ValidationError("full_name", "must have at most 200 characters")
    if any(part in _NOT_A_PERSON for word in words for part in _WORDS.findall(_fold(word))):
        raise ValidationError("full_name", "names a service or role, not a person")
    return name


def check_labs(
    role: Role, labs: Iterable[str], known: Iterable[str] | None = None
) -> frozenset[str]:
    """At least one lab; ``"*"`` alone and only for network roles; labs must exist."""
    chosen = frozenset(lab.strip() for lab in labs if lab.strip())
    if not chosen:
        raise ValidationError("labs", "at least one lab (or '*' for a network-wide role)")
    if NETWORK_WIDE in chosen:
        if role not in NETWORK_ROLES:
            raise ValidationError("labs", f"'*' (every lab) is not allowed to the {role} role")
        if len(chosen) > 1:
            raise ValidationError("labs", "'*' already covers every lab; give it alone")
        return chosen
    if known is not None:
        missing = sorted(chosen - set(known))
        if missing:
            raise ValidationError("labs", f"not in the vault: {', '.join(missing)}")
    return chosen


def validate_account(
    username: str,
    full_name: str,
    role: Role,
    labs: Iterable[str],
    password: str,
    known_labs: Iterable[str] | None = None,
    rpps: str | None = None,
) -> tuple[str, str, frozenset[str]]:
    """Every check of a new account that needs no database: (username, full name, labs)."""
    name = check_username(username)
    person = check_full_name(full_name)
    chosen = check_labs(Role(role), labs, known_labs)
    check_rpps(Role(role), rpps)
    check_password_policy(password, name, person)
    return name, person, chosen


def _user_resource(lab: str) -> Resource:
    return Resource("user", None if lab == NETWORK_WIDE else lab)


def require_user_manage(by: Actor, labs: Iterable[str]) -> None:
    """``by`` must be allowed ``user.manage`` in every one of ``labs``."""
    for lab in sorted(labs):
        decision = can(by, Action.USER_MANAGE, _user_resource(lab))
        if not decision:
            raise PermissionDenied(decision.reason)


class Accounts:
    """The accounts of one vault (``vault.engine``)."""

    def __init__(
        self,
        vault: Vault,
        *,
        passwords: Passwords | None = None,
        lockout: LockoutPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._vault = vault
        self._engine = vault.engine
        self._passwords = passwords if passwords is not None else Passwords()
        self._lockout = lockout if lockout is not None else LockoutPolicy()
        self._clock = clock if clock is not None else utc_now
        self._totp = Totp(vault, clock=self._clock)

    @property
    def passwords(self) -> Passwords:
        return self._passwords

    # -- reads ------------------------------------------------------------------
    def get(self, username: str) -> User:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(users).where(users.c.username == username.strip().lower())
            ).first()
        if row is None:
            raise RecordNotFound("user: no account with that user name")
        return User.from_row(row)

    def get_by_id(self, user_id: str) -> User:
        with self._engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
        if row is None:
            raise RecordNotFound(f"user {user_id}: not found")
        return User.from_row(row)

    def list(self) -> list[User]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.username)).all()
        return [User.from_row(row) for row in rows]

    def count(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(users)).scalar_one())

    # -- writes -----------------------------------------------------------------
    def add(
        self,
        username: str,
        full_name: str,
        role: Role,
        labs: Iterable[str],
        password: str,
        created_by: Actor | None,
        *,
        rpps: str | None = None,
        gender: str | None = None,
    ) -> User:
        """Create the account of one named person.

        ``created_by`` must hold ``user.manage`` over every lab of the new account.
        It may be None only to bootstrap an empty vault, and then only for a
        network-wide lab admin. A privileged account is created pending: it logs
        in once a second person approved its request.
        """
        role = Role(role)
        name, person, chosen = validate_account(
            username, full_name, role, labs, password, [lab.id for lab in self._vault.labs()], rpps
        )
        number = check_rpps(role, rpps)
        if created_by is None:
            if self.count() > 0:
                raise PermissionDenied("user.manage: log in to create accounts")
            if role is not Role.LAB_ADMIN or chosen != {NETWORK_WIDE}:
                raise PermissionDenied(
                    "user.manage: the first account must be a network-wide lab_admin"
                )
        else:
            require_user_manage(created_by, chosen)
        password_hash = self._passwords.hash(password)
        now = self._clock()
        user_id = uuid.uuid4().hex
        pending = created_by is not None and needs_approval(role, chosen)
        with self._engine.begin() as conn:
            taken = conn.execute(select(users.c.id).where(users.c.username == name)).first()
            if taken is not None:
                raise ValidationError("username", "already taken (user names are never reused)")
            if self._same_person_active(conn, person):
                raise ValidationError(
                    "full_name",
                    "an active account already belongs to a person of that name; one account "
                    "per person (tell homonyms apart with a middle name)",
                )
            self._check_rpps_free(conn, number, None)
            conn.execute(
                insert(users),
                [
                    {
                        "id": user_id,
                        "username": name,
                        "full_name": person,
                        "role": role.value,
                        "labs": join_labs(chosen),
                        "password_hash": password_hash,
                        "totp_secret": None,
                        "totp_enrolled_at": None,
                        "totp_last_step": None,
                        "failed_attempts": 0,
                        "locked_until": None,
                        "created_at": now,
                        "created_by": created_by.user_id if created_by else None,
                        "password_changed_at": now,
                        "disabled_at": None,
                        "rpps": number,
                        "approved_at": None if pending else now,
                        "gender": check_gender(gender),
                    }
                ],
            )
            if pending:
                assert created_by is not None
                open_request(
                    conn,
                    user_id=user_id,
                    kind="create",
                    role=role,
                    labs=chosen,
                    rpps=number,
                    requested_by=created_by.user_id,
                    now=now,
                )
        log.info("account %s created (%s%s)", user_id, role.value, ", pending" if pending else "")
        return self.get_by_id(user_id)

    def update(
        self,
        username: str,
        *,
        by: Actor,
        role: Role | None = None,
        labs: Iterable[str] | None = None,
        full_name: str | None = None,
        rpps: str | None = None,
    ) -> User:
        """Change a person's role or labs. The full name never changes: an account is a person.

        A privileged role, or more labs for one, becomes a request for a second
        person's approval: the account keeps its current role meanwhile (check
        ``user.role`` of the answer against what was asked).
        """
        user = self.get(username)
        if user.id == by.user_id and (role is not None or labs is not None):
            raise PermissionDenied("user.manage: a person cannot change their own role or labs")
        if full_name is not None and check_full_name(full_name) != user.full_name:
            raise ValidationError(
                "full_name", "cannot change: an account belongs to one person; create a new one"
            )
        new_role = Role(role) if role is not None else user.role
        new_labs = check_labs(
            new_role,
            labs if labs is not None else user.labs,
            [lab.id for lab in self._vault.labs()],
        )
        require_user_manage(by, user.labs | new_labs)
        number = check_rpps(new_role, rpps if rpps is not None else user.rpps)
        if not user.active:
            raise ValidationError("username", "the account is disabled; create a new one")
        now = self._clock()
        with self._engine.begin() as conn:
            self._check_rpps_free(conn, number, user.id)
            if user.pending or needs_approval(new_role, new_labs, (user.role, user.labs)):
                open_request(
                    conn,
                    user_id=user.id,
                    kind="role",
                    role=new_role,
                    labs=new_labs,
                    rpps=number,
                    requested_by=by.user_id,
                    now=now,
                )
                log.info("account %s: role %s requested", user.id, new_role.value)
                return user
            self.apply_role(conn, user.id, new_role, new_labs, number)
        return self.get_by_id(user.id)

    def apply_role(
        self,
        conn: Connection,
        user_id: str,
        role: Role,
        labs: frozenset[str],
        rpps: str | None,
    ) -> None:
        """Give the role (decided or approved): every session of the account ends."""
        conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(role=role.value, labs=join_labs(labs), rpps=rpps)
        )
        self._revoke_sessions(conn, user_id)

    def set_gender(self, username: str, gender: str | None, by: Actor) -> User:
        """How the pages word this person's role (« Déléguée », « Délégué »); anyone's own too."""
        user = self.get(username)
        if user.id != by.user_id:
            require_user_manage(by, user.labs)
        with self._engine.begin() as conn:
            conn.execute(
                update(users).where(users.c.id == user.id).values(gender=check_gender(gender))
            )
        return self.get_by_id(user.id)

    def disable(self, username: str, by: Actor) -> User:
        """Disable an account for good: its sessions and API tokens stop at once."""
        user = self.get(username)
        if user.id == by.user_id:
            raise PermissionDenied("user.manage: a person cannot disable their own account")
        require_user_manage(by, user.labs)
        now = self._clock()
        with self._engine.begin() as conn:
            conn.execute(
                update(users)
                .where(users.c.id == user.id, users.c.disabled_at.is_(None))
                .values(disabled_at=now)
            )
            self._revoke_sessions(conn, user.id)
            conn.execute(
                update(api_tokens)
                .where(api_tokens.c.user_id == user.id, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        log.info("account %s disabled", user.id)
        return self.get_by_id(user.id)

    def change_password(
        self,
        username: str,
        new_password: str,
        *,
        by: Actor,
        old_password: str | None = None,
    ) -> None:
        """A person changes their own password (old one required), or an admin resets it.

        Every session of the account ends except the one making the change.
        """
        user = self.get(username)
        if by.user_id == user.id:
            with self._engine.connect() as conn:
                stored = conn.execute(
                    select(users.c.password_hash).where(users.c.id == user.id)
                ).scalar_one()
            if old_password is None or not self._passwords.verify(stored, old_password):
                raise AuthenticationFailed("password: the current password is wrong")
        else:
            require_user_manage(by, user.labs)
        check_password_policy(new_password, user.username, user.full_name)
        password_hash = self._passwords.hash(new_password)
        with self._engine.begin() as conn:
            conn.execute(
                update(users)
                .where(users.c.id == user.id)
                .values(password_hash=password_hash, password_changed_at=self._clock())
            )
            self._revoke_sessions(conn, user.id, keep=by.session_id)

    def reset_totp(self, username: str, by: Actor) -> None:
        """Forget a lost TOTP device; the person enrols again at the next login."""
        user = self.get(username)
        require_user_manage(by, user.labs)
        self._totp.reset(user)
        with self._engine.begin() as conn:
            self._revoke_sessions(conn, user.id)

    # -- authentication ---------------------------------------------------------
    def check_password(self, username: str, password: str) -> User:
        """First factor, with lock-out. Does not reset the failure count: only a
        complete login (password and code) does, so a known password does not
        buy unlimited code guesses.
        """
        failed = AuthenticationFailed("login: wrong user name, password or code")
        with self._engine.connect() as conn:
            row = conn.execute(
                select(users).where(users.c.username == username.strip().lower())
            ).first()
        if row is None or row.disabled_at is not None:
            self._passwords.verify(None, password)  # same time as a real check
            raise failed
        now = self._clock()
        locked_until = aware(row.locked_until)
        right = self._passwords.verify(row.password_hash, password)  # same time, locked or not
        if locked_until is not None and locked_until > now:
            raise AccountLocked("login: account locked after repeated failures")
        if not right:
            if self.record_failure(row.id):
                raise AccountLocked("login: account locked after repeated failures")
            raise failed
        if row.approved_at is None:  # said only to whoever knows the password
            raise AuthenticationFailed("login: this account waits for a second person's approval")
        if self._passwords.needs_rehash(row.password_hash):
            with self._engine.begin() as conn:
                conn.execute(
                    update(users)
                    .where(users.c.id == row.id)
                    .values(password_hash=self._passwords.hash(password))
                )
        return User.from_row(row)

    def record_failure(self, user_id: str) -> bool:
        """Count a failed login; lock progressively past the threshold (True: it locked now)."""
        now = self._clock()
        with self._engine.begin() as conn:
            conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(failed_attempts=users.c.failed_attempts + 1)
            )
            failures = int(
                conn.execute(
                    select(users.c.failed_attempts).where(users.c.id == user_id)
                ).scalar_one()
            )
            lock = self._lockout.lock_for(failures)
            if lock is not None:
                conn.execute(
                    update(users).where(users.c.id == user_id).values(locked_until=now + lock)
                )
        if lock is not None:
            log.warning(
                "account %s locked for %d s after %d failures",
                user_id,
                lock.total_seconds(),
                failures,
            )
        return lock is not None

    def record_success(self, user_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(failed_attempts=0, locked_until=None)
            )

    # -- internals --------------------------------------------------------------
    def _check_rpps_free(self, conn: Connection, rpps: str | None, user_id: str | None) -> None:
        """An RPPS number names one professional: one active account per number."""
        if rpps is None:
            return
        holder = conn.execute(
            select(users.c.id).where(
                users.c.rpps == rpps, users.c.disabled_at.is_(None), users.c.id != (user_id or "")
            )
        ).first()
        if holder is not None:
            raise ValidationError("rpps", "already carried by another active account")

    def _same_person_active(self, conn: Connection, person: str) -> bool:
        folded = _fold(person)
        names = conn.execute(select(users.c.full_name).where(users.c.disabled_at.is_(None)))
        return any(_fold(row.full_name) == folded for row in names)

    def _revoke_sessions(self, conn: Connection, user_id: str, keep: str | None = None) -> None:
        now = self._clock()
        live = conn.execute(
            select(sessions.c.token_hash).where(
                sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None)
            )
        ).all()
        for row in live:
            if keep is not None and session_id_of(row.token_hash) == keep:
                continue
            conn.execute(
                update(sessions)
                .where(sessions.c.token_hash == row.token_hash)
                .values(revoked_at=now)
            )


GENDERS = frozenset({"F", "M"})


def check_gender(gender: str | None) -> str | None:
    """ "F", "M" or None (not given: the pages show both forms of the role)."""
    if gender is None or gender == "":
        return None
    if gender not in GENDERS:
        raise ValidationError("gender", "expected F, M or nothing")
    return gender
