"""Password hashing (argon2id) and the password policy.

A password is only ever held in memory: never logged, never put in an error
message, never echoed. Policy errors name the field ``password`` and the rule,
not the value.
"""

from __future__ import annotations

import re
import unicodedata

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from etanche.errors import ValidationError

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "Passwords",
    "check_password_policy",
    "default_hasher",
]

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128  # bounds hashing work an attacker can make us do

# The most common passwords (and French lab-flavoured ones) once digits and symbols
# are stripped: "Azerty123456!" and "motdepasse2024" are refused with their base.
_COMMON = frozenset(
    {
        "password",
        "passw",
        "passwordpassword",
        "motdepasse",
        "mdp",
        "azerty",
        "azertyuiop",
        "qwerty",
        "qwertyuiop",
        "abc",
        "abcdef",
        "abcdefghijkl",
        "iloveyou",
        "jetaime",
        "soleil",
        "bonjour",
        "doudou",
        "chouchou",
        "loulou",
        "marseille",
        "football",
        "letmein",
        "welcome",
        "bienvenue",
        "admin",
        "administrateur",
        "administrator",
        "changeme",
        "secret",
        "laboratoire",
        "labo",
        "biologie",
        "accueil",
        "etanche",
        "sunshine",
        "princess",
        "dragon",
        "monkey",
    }
)
_NOT_LETTERS = re.compile(r"[^a-z]+")
# Keyboard and counting runs: "123456789012" or "azertyuiopqs" are guessed first.
_RUNS = (
    "01234567890123456789012345678901234567890",
    "09876543210987654321098765432109876543210",
    "abcdefghijklmnopqrstuvwxyz",
    "azertyuiopqsdfghjklmwxcvbn",
    "qwertyuiopasdfghjklzxcvbnm",
)


def default_hasher() -> PasswordHasher:
    """Production argon2id: 3 passes over 64 MiB, 4 lanes (RFC 9106's second choice)."""
    return PasswordHasher(
        time_cost=3, memory_cost=64 * 1024, parallelism=4, hash_len=32, salt_len=16, type=Type.ID
    )


def _normalise(password: str) -> str:
    """NFKC, as NIST SP 800-63B asks, so the same typed password always hashes alike."""
    return unicodedata.normalize("NFKC", password)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def check_password_policy(password: str, username: str, full_name: str | None = None) -> None:
    """Refuse short, overlong, common or name-based passwords; never echoes the value."""
    value = _normalise(password)
    if len(value) < MIN_PASSWORD_LENGTH:
        raise ValidationError("password", f"must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(value) > MAX_PASSWORD_LENGTH:
        raise ValidationError("password", f"must have at most {MAX_PASSWORD_LENGTH} characters")
    folded = _fold(value)
    if username and _fold(username) in folded:
        raise ValidationError("password", "must not contain the user name")
    if full_name:
        for word in re.split(r"[\s'-]+", _fold(full_name)):
            if len(word) >= 4 and word in folded:
                raise ValidationError("password", "must not contain the person's name")
    letters = _NOT_LETTERS.sub("", folded)
    too_easy = len(set(folded)) < 4 or any(folded in run for run in _RUNS)
    if folded in _COMMON or letters in _COMMON or too_easy:
        raise ValidationError("password", "is too common or too easy to guess")


class Passwords:
    """Hash and verify passwords with argon2id; says when a stored hash is outdated.

    The hasher is injectable so tests run with cheap parameters; the default is
    ``default_hasher()``.
    """

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher if hasher is not None else default_hasher()
        self._decoy: str | None = None

    @property
    def hasher(self) -> PasswordHasher:
        return self._hasher

    def hash(self, password: str) -> str:
        return self._hasher.hash(_normalise(password))

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; a None hash burns the same time and fails."""
        if stored_hash is None and self._decoy is None:
            # Hash of nothing anyone types: an unknown user costs a real verification.
            self._decoy = self._hasher.hash("decoy password, never a real one")
        target = stored_hash if stored_hash is not None else self._decoy
        assert target is not None
        try:
            ok = self._hasher.verify(target, _normalise(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return ok and stored_hash is not None

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with other parameters than today's."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except (InvalidHashError, ValueError):
            return True
