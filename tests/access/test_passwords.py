"""Password policy and argon2id hashing: sound defaults, rehash on login, no echo."""

from __future__ import annotations

import unicodedata

import pytest
from access_support import PASSWORD, Clock, People, cheap_passwords
from argon2 import PasswordHasher, Type
from sqlalchemy import select

from etanche.access import (
    Accounts,
    Passwords,
    check_password_policy,
    default_hasher,
)
from etanche.access._schema import users
from etanche.errors import ValidationError


def test_production_parameters_are_sound() -> None:
    hasher = default_hasher()
    assert hasher.type is Type.ID
    assert hasher.time_cost >= 3
    assert hasher.memory_cost >= 64 * 1024
    assert Passwords().hasher.memory_cost == hasher.memory_cost


def test_hash_is_argon2id_salted_and_verifies() -> None:
    passwords = cheap_passwords()
    first, second = passwords.hash(PASSWORD), passwords.hash(PASSWORD)
    assert first.startswith("$argon2id$") and first != second
    assert PASSWORD not in first
    assert passwords.verify(first, PASSWORD)
    assert not passwords.verify(first, PASSWORD + "x")
    assert not passwords.verify(None, PASSWORD)
    assert not passwords.verify("not a hash", PASSWORD)


def test_same_password_typed_composed_or_decomposed() -> None:
    passwords = cheap_passwords()
    typed = "Pêcheur d'Étel 1952"
    stored = passwords.hash(unicodedata.normalize("NFC", typed))
    assert passwords.verify(stored, unicodedata.normalize("NFD", typed))


def test_needs_rehash_when_parameters_change() -> None:
    old = cheap_passwords()
    stored = old.hash(PASSWORD)
    assert not old.needs_rehash(stored)
    newer = Passwords(PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))
    assert newer.needs_rehash(stored)


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Court3!xyz", "at least 12"),
        ("x" * 5 + "Aa1!" * 31, "at most 128"),
        ("jdupont-jdupont", "user name"),
        ("JDupont du 44 nord", "user name"),
        ("Motdepasse2024!", "too common"),
        ("azertyuiop1234", "too common"),
        ("123456789012", "too common"),
        ("Password!!!!2024", "too common"),
        ("aaaaaaaaaaaaaa", "too common"),
        ("Gwenaelle-Kerjean!", "person's name"),
    ],
)
def test_policy_refuses(password: str, rule: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_password_policy(password, "jdupont", "Gwenaëlle Kerjean")
    assert caught.value.field == "password"
    assert rule in caught.value.reason
    assert password not in str(caught.value)


@pytest.mark.parametrize("password", ["a" * 4 + "Bc1!" * 2, PASSWORD, "é" * 3 + "Zx9?" * 31])
def test_policy_accepts_long_personal_passphrases(password: str) -> None:
    assert 12 <= len(password) <= 128
    check_password_policy(password, "jdupont", "Gwenaëlle Kerjean")


def test_login_rehashes_when_parameters_changed(people: People, clock: Clock) -> None:
    user = people.add("jkerjean", "Jeanne Kerjean", "reception", {"L01"})  # type: ignore[arg-type]
    people.enrol(user)
    with people.vault.engine.connect() as conn:
        before = conn.execute(select(users.c.password_hash).where(users.c.id == user.id)).scalar()
    stronger = Passwords(PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))
    accounts = Accounts(people.vault, passwords=stronger, clock=clock)
    accounts.check_password("jkerjean", PASSWORD)
    with people.vault.engine.connect() as conn:
        after = conn.execute(select(users.c.password_hash).where(users.c.id == user.id)).scalar()
    assert before != after and "m=2048,t=2" in after
    assert not stronger.needs_rehash(after)
    assert stronger.verify(after, PASSWORD)
