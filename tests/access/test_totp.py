"""TOTP: valid and wrong codes, the ±1 step window, replay refused, first-login enrolment."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from access_support import PASSWORD, START, Clock, People
from sqlalchemy import select

from etanche.access import Role, current_code, provisioning_uri
from etanche.access._schema import users
from etanche.access._totp import matching_step, new_secret
from etanche.errors import AuthenticationFailed, EnrolmentRequired, UsageError, ValidationError

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
STEP = int(START.timestamp()) // 30


def test_new_secrets_are_160_bit_base32_and_fresh() -> None:
    first, second = new_secret(), new_secret()
    assert len(first) == 32 and first != second
    assert set(first) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def test_provisioning_uri_names_the_issuer() -> None:
    uri = provisioning_uri(SECRET, "mleguen")
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    query = parse_qs(parsed.query)
    assert query["issuer"] == ["Étanche"] and query["secret"] == [SECRET]
    assert unquote(parsed.path) == "/Étanche:mleguen"


def test_valid_code_matches_its_step() -> None:
    assert matching_step(SECRET, current_code(SECRET, START), START) == STEP
    code = current_code(SECRET, START)
    assert matching_step(SECRET, f"{code[:3]} {code[3:]}", START) == STEP


def test_window_is_one_step_either_side() -> None:
    for offset, accepted in ((-2, False), (-1, True), (0, True), (1, True), (2, False)):
        code = current_code(SECRET, START + timedelta(seconds=30 * offset))
        step = matching_step(SECRET, code, START)
        assert (step == STEP + offset) if accepted else step is None, offset


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12345a"])
def test_malformed_codes_never_match(code: str) -> None:
    assert matching_step(SECRET, code, START) is None


def test_wrong_code_is_refused(people: People) -> None:
    user = people.add("mleguen", "Marie Le Guen", Role.RECEPTION, {"L01"})
    people.enrol(user)
    good = people.code("mleguen")
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    with pytest.raises(AuthenticationFailed):
        people.sessions.totp.verify(user, wrong)
    people.sessions.totp.verify(user, good)


def test_replay_is_refused(people: People, clock: Clock) -> None:
    user = people.add("mleguen", "Marie Le Guen", Role.RECEPTION, {"L01"})
    secret = people.enrol(user)
    totp = people.sessions.totp
    code = current_code(secret, clock())
    totp.verify(user, code)
    with pytest.raises(AuthenticationFailed):
        totp.verify(user, code)  # same code, same step
    # still inside the window, but an earlier step than the one spent
    earlier = current_code(secret, clock() - timedelta(seconds=30))
    with pytest.raises(AuthenticationFailed):
        totp.verify(user, earlier)
    clock.advance(seconds=30)
    totp.verify(user, current_code(secret, clock()))


def test_replay_through_login_is_refused(people: People) -> None:
    user = people.add("mleguen", "Marie Le Guen", Role.RECEPTION, {"L01"})
    people.enrol(user)
    code = people.code("mleguen")
    people.sessions.authenticate("mleguen", PASSWORD, code)
    with pytest.raises(AuthenticationFailed):
        people.sessions.authenticate("mleguen", PASSWORD, code)


def test_first_login_needs_enrolment(people: People, clock: Clock) -> None:
    user = people.add("mleguen", "Marie Le Guen", Role.RECEPTION, {"L01"})
    with pytest.raises(EnrolmentRequired):
        people.sessions.authenticate("mleguen", PASSWORD, "123456")
    returned, secret, uri = people.sessions.begin_enrolment("mleguen", PASSWORD)
    assert returned.id == user.id and secret in uri
    wrong = f"{(int(current_code(secret, clock())) + 1) % 1_000_000:06d}"
    with pytest.raises(AuthenticationFailed):
        people.sessions.authenticate("mleguen", PASSWORD, wrong)
    assert not people.accounts.get("mleguen").totp_enrolled
    session, _ = people.sessions.authenticate("mleguen", PASSWORD, current_code(secret, clock()))
    assert session.username == "mleguen"
    assert people.accounts.get("mleguen").totp_enrolled
    with pytest.raises(ValidationError):  # a confirmed TOTP is not replaced by a login
        people.sessions.begin_enrolment("mleguen", PASSWORD)


def test_enrolment_needs_the_password(people: People) -> None:
    people.add("mleguen", "Marie Le Guen", Role.RECEPTION, {"L01"})
    with pytest.raises(AuthenticationFailed):
        people.sessions.begin_enrolment("mleguen", "not the right one at all")


def test_low_level_enrolment(people: People, clock: Clock) -> None:
    user = people.add("mleguen", "Marie Le Guen", Role.RECEPTION, {"L01"})
    totp = people.sessions.totp
    with pytest.raises(UsageError):
        totp.confirm_enrolment(user, "123456")  # nothing pending
    secret, _ = totp.begin_enrolment(user)
    assert totp.is_pending(user)
    totp.confirm_enrolment(user, current_code(secret, clock()))
    assert people.accounts.get("mleguen").totp_enrolled
    with pytest.raises(UsageError):
        totp.begin_enrolment(people.accounts.get("mleguen"))


def test_seed_is_sealed_in_storage(people: People) -> None:
    user = people.add("mleguen", "Marie Le Guen", Role.RECEPTION, {"L01"})
    secret = people.enrol(user)
    with people.vault.engine.connect() as conn:
        sealed = conn.execute(select(users.c.totp_secret).where(users.c.id == user.id)).scalar()
    assert sealed is not None and secret.encode() not in sealed
    assert people.vault.open_system("users", user.id, sealed) == secret.encode()


def test_reset_makes_the_next_login_enrol_again(people: People) -> None:
    user = people.add("mleguen", "Marie Le Guen", Role.RECEPTION, {"L01"})
    people.enrol(user)
    assert people.root is not None
    people.accounts.reset_totp("mleguen", people.root)
    with pytest.raises(EnrolmentRequired):
        people.sessions.authenticate("mleguen", PASSWORD, people.code("mleguen"))
