"""Sessions, break-glass and API tokens: expiry on an injected clock, hashes only, no echo."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from access_support import PASSWORD, Clock, People
from sqlalchemy import select

from etanche.access import (
    Action,
    Resource,
    Role,
    SessionPolicy,
    Sessions,
    can,
)
from etanche.access._schema import api_tokens, sessions
from etanche.crypto import hash_token
from etanche.errors import (
    AccessError,
    AccountLocked,
    AuthenticationFailed,
    PermissionDenied,
    SessionExpired,
    ValidationError,
)

REASON = "Emergency admission, patient unconscious"


def reception(people: People, labs: set[str] | None = None) -> None:
    user = people.add("mleguen", "Marie Le Guen", Role.RECEPTION, labs or {"L01"})
    people.enrol(user)


def test_login_gives_an_opaque_token_stored_as_a_hash(people: People) -> None:
    reception(people)
    session, token = people.sessions.authenticate(
        "mleguen", PASSWORD, people.code("mleguen"), client="10.0.0.7", kind="web"
    )
    assert len(token) > 40 and session.kind == "web" and session.client == "10.0.0.7"
    with people.vault.engine.connect() as conn:
        rows = conn.execute(select(sessions)).all()
    stored = [r.token_hash for r in rows]
    assert hash_token(token) in stored
    assert not any(token in str(value) for r in rows for value in r)
    actor = people.sessions.resume(token)
    assert (actor.username, actor.role, actor.labs) == ("mleguen", Role.RECEPTION, {"L01"})
    assert actor.scopes is None and actor.session_id == session.id


def test_failures_say_the_same_thing(people: People) -> None:
    reception(people)
    messages = set()
    for username, password in (("mleguen", "Pas le bon mot 12"), ("nobody-here", PASSWORD)):
        with pytest.raises(AuthenticationFailed) as caught:
            people.sessions.authenticate(username, password, "123456")
        messages.add(str(caught.value))
    assert len(messages) == 1


def test_kind_is_cli_or_web(people: People) -> None:
    reception(people)
    with pytest.raises(ValidationError):
        people.sessions.authenticate(
            "mleguen",
            PASSWORD,
            people.code("mleguen"),
            kind="ftp",  # type: ignore[arg-type]
        )


def test_idle_timeout(people: People, clock: Clock) -> None:
    reception(people)
    _, token = people.sessions.authenticate("mleguen", PASSWORD, people.code("mleguen"))
    for _ in range(3):  # activity keeps it alive
        clock.advance(minutes=29, seconds=59)
        people.sessions.resume(token)
    clock.advance(minutes=30)
    with pytest.raises(SessionExpired) as caught:
        people.sessions.resume(token)
    assert "idle" in str(caught.value)
    clock.advance(seconds=1)  # and it stays ended
    with pytest.raises(SessionExpired):
        people.sessions.resume(token)


def test_absolute_timeout(people: People, clock: Clock) -> None:
    reception(people)
    _, token = people.sessions.authenticate("mleguen", PASSWORD, people.code("mleguen"))
    for _ in range(35):  # 35 × 20 min = 11 h 40
        clock.advance(minutes=20)
        people.sessions.resume(token)
    clock.advance(minutes=20)
    with pytest.raises(SessionExpired) as caught:
        people.sessions.resume(token)
    assert "12 h" in str(caught.value)


def test_timeouts_are_configurable(people: People, clock: Clock) -> None:
    reception(people)
    short = Sessions(
        people.vault,
        accounts=people.accounts,
        clock=clock,
        policy=SessionPolicy(idle=timedelta(minutes=5), absolute=timedelta(hours=1)),
    )
    _, token = short.authenticate("mleguen", PASSWORD, people.code("mleguen"))
    clock.advance(minutes=5)
    with pytest.raises(SessionExpired):
        short.resume(token)


def test_logout(people: People) -> None:
    reception(people)
    _, token = people.sessions.authenticate("mleguen", PASSWORD, people.code("mleguen"))
    assert people.sessions.logout(token)
    assert not people.sessions.logout(token)
    with pytest.raises(SessionExpired):
        people.sessions.resume(token)


def test_break_glass_needs_a_reason_and_expires(people: People, clock: Clock) -> None:
    reception(people)
    _, token = people.sessions.authenticate("mleguen", PASSWORD, people.code("mleguen"))
    for reason in ("", "   ", "urgence", "x" * 14):
        with pytest.raises(ValidationError) as caught:
            people.sessions.break_glass(token, reason)
        assert caught.value.field == "reason"
    with pytest.raises(ValidationError):
        people.sessions.break_glass(token, REASON, minutes=0)
    with pytest.raises(ValidationError):
        people.sessions.break_glass(token, REASON, minutes=24 * 60)
    other = Resource("patient", "L02")
    before = people.sessions.resume(token)
    assert not can(before, Action.PATIENT_READ, other, now=clock())

    session = people.sessions.break_glass(token, REASON, minutes=30)
    assert session.break_glass is not None and session.break_glass.reason == REASON
    assert session.break_glass.until == clock() + timedelta(minutes=30)
    with people.vault.engine.connect() as conn:
        recorded = conn.execute(select(sessions.c.break_glass_reason)).scalars().all()
    assert REASON in recorded
    actor = people.sessions.resume(token)
    decision = can(actor, Action.PATIENT_READ, other, now=clock())
    assert decision.allowed and decision.break_glass_used
    assert not can(actor, Action.PATIENT_ERASE, other, now=clock())
    assert not can(actor, Action.PATIENT_CREATE, other, now=clock())

    clock.advance(minutes=20)
    assert people.sessions.resume(token).break_glass is not None
    clock.advance(minutes=10)
    after = people.sessions.resume(token)
    assert after.break_glass is None
    assert not can(after, Action.PATIENT_READ, other, now=clock())


def test_break_glass_ends_with_the_session(people: People, clock: Clock) -> None:
    reception(people)
    _, token = people.sessions.authenticate("mleguen", PASSWORD, people.code("mleguen"))
    for _ in range(35):
        clock.advance(minutes=20)
        people.sessions.resume(token)
    session = people.sessions.break_glass(token, REASON, minutes=60)
    assert session.break_glass is not None
    assert session.break_glass.until == session.expires_at


def test_break_glass_is_for_patient_roles_only(people: People) -> None:
    assert people.root is not None
    _, token = people.login("cmorvan")
    with pytest.raises(PermissionDenied):
        people.sessions.break_glass(token, REASON)


# -- API tokens --------------------------------------------------------------------
def test_token_scopes_limit_the_actor(people: People) -> None:
    reception(people)
    actor, _ = people.login("mleguen")
    token_id, token = people.tokens.create_token(actor, "desk script", {Action.PATIENT_SEARCH}, 30)
    via = people.tokens.actor_for_token(token)
    assert via.scopes == {Action.PATIENT_SEARCH} and via.session_id == f"token:{token_id}"
    assert can(via, Action.PATIENT_SEARCH, Resource("patient", "L01"))
    assert not can(via, Action.PATIENT_READ, Resource("patient", "L01"))
    assert not can(via, Action.PATIENT_SEARCH, Resource("patient", "L02"))
    with people.vault.engine.connect() as conn:
        row = conn.execute(select(api_tokens)).one()
    assert row.token_hash == hash_token(token)
    assert not any(token in str(value) for value in row)
    listed = people.tokens.list_for(actor.user_id)
    assert [t.id for t in listed] == [token_id] and listed[0].last_used_at is not None


def test_token_creation_rules(people: People) -> None:
    reception(people)
    actor, _ = people.login("mleguen")
    create = people.tokens.create_token
    for beyond in ({Action.PATIENT_ERASE}, {Action.TOKEN_MANAGE}):  # not a reception's token
        with pytest.raises(PermissionDenied, match="scopes: not allowed to the reception role"):
            create(actor, "script", beyond, 30)
    for scopes, days, field in (
        (set(), 30, "scopes"),
        ({"patient.steal"}, 30, "scopes"),
        ({Action.PATIENT_READ}, 91, "days"),
        ({Action.PATIENT_READ}, 0, "days"),
    ):
        with pytest.raises(ValidationError) as caught:
            create(actor, "script", scopes, days)  # type: ignore[arg-type]
        assert caught.value.field == field
    _, token = create(actor, "script", {Action.PATIENT_READ}, 90)
    via = people.tokens.actor_for_token(token)
    with pytest.raises(PermissionDenied):  # a token never mints tokens
        create(via, "child", {Action.PATIENT_READ}, 1)


def test_token_expires(people: People, clock: Clock) -> None:
    reception(people)
    actor, _ = people.login("mleguen")
    _, token = people.tokens.create_token(actor, "script", {Action.PATIENT_READ}, 30)
    clock.advance(days=29, hours=23)
    people.tokens.actor_for_token(token)
    clock.advance(hours=1)
    with pytest.raises(SessionExpired):
        people.tokens.actor_for_token(token)


def test_token_revocation(people: People) -> None:
    reception(people)
    colleague = people.add("pjaouen", "Paul Jaouen", Role.RECEPTION, {"L01"})
    people.enrol(colleague)
    actor, _ = people.login("mleguen")
    other, _ = people.login("pjaouen")
    first_id, first = people.tokens.create_token(actor, "one", {Action.PATIENT_READ}, 30)
    second_id, second = people.tokens.create_token(actor, "two", {Action.PATIENT_READ}, 30)
    with pytest.raises(PermissionDenied):
        people.tokens.revoke(first_id, other)
    people.tokens.revoke(first_id, actor)
    with pytest.raises(SessionExpired):
        people.tokens.actor_for_token(first)
    assert people.root is not None
    people.tokens.revoke(second_id, people.root)  # a lab admin of the owner's labs
    with pytest.raises(SessionExpired):
        people.tokens.actor_for_token(second)
    with pytest.raises(SessionExpired):
        people.tokens.actor_for_token("etk_" + "A" * 43)


# -- nothing secret in errors or logs ------------------------------------------------
def test_passwords_and_codes_never_reach_logs_or_errors(
    people: People, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    typed_wrong = "Mauvais-mot-de-passe-tape-42"
    new_password = "Phare d'Eckmühl au loin"
    errors: list[str] = []
    user = people.add("mleguen", "Marie Le Guen", Role.RECEPTION, {"L01"})
    _, secret, _ = people.sessions.begin_enrolment("mleguen", PASSWORD)
    people.secrets["mleguen"] = secret
    code = people.code("mleguen")
    _, token = people.sessions.authenticate("mleguen", PASSWORD, code)
    try:
        people.accounts.add(
            "pjaouen", "Paul Jaouen", Role.RECEPTION, {"L01"}, "pjaouen123456", None
        )
    except (AccessError, ValidationError) as exc:
        errors.append(str(exc))
    for attempt in range(7):
        try:
            people.sessions.authenticate("mleguen", typed_wrong, code)
        except (AuthenticationFailed, AccountLocked) as exc:
            errors.append(str(exc))
        clock.advance(seconds=attempt)
    actor = people.sessions.resume(token)
    for bad in ("short", "mleguen-mleguen-1", "azertyuiop123"):
        try:
            people.accounts.change_password("mleguen", bad, by=actor, old_password=PASSWORD)
        except ValidationError as exc:
            errors.append(str(exc))
    people.accounts.change_password("mleguen", new_password, by=actor, old_password=PASSWORD)
    people.sessions.break_glass(token, REASON)
    _, api = people.tokens.create_token(actor, "script", {Action.PATIENT_READ}, 30)
    people.tokens.actor_for_token(api)
    assert user.id in caplog.text  # the log does say what happened, by pseudonymous id
    assert len(errors) >= 10
    everything = caplog.text + "\n".join(errors)
    for value in (PASSWORD, typed_wrong, new_password, "azertyuiop123", secret, token, api, REASON):
        assert value not in everything
    assert "mleguen-mleguen-1" not in everything
