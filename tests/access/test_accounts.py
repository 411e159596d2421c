"""Accounts: one per named person, no generic or shared account, progressive lock-out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from access_support import PASSWORD, Clock, People

from etanche.access import Action, Role, check_full_name, check_labs, check_username
from etanche.errors import (
    AccountLocked,
    AuthenticationFailed,
    PermissionDenied,
    RecordNotFound,
    SessionExpired,
    ValidationError,
)
from etanche.synth import staff_rpps

WRONG = "Pas le bon mot de passe 1"


@pytest.mark.parametrize(
    "username",
    [
        "admin",
        "root",
        "test",
        "reception",
        "accueil",
        "labo",
        "user",
        "guest",
        "shared",
        "secretariat",
        "biologiste",
        "service",
        "Accueil",
        "accueil2",
        "labo-l01",
        "admin.nantes",
        "secretariat_rennes",
        "lab_admin",
        "migration_operator",
        "dpo",
    ],
)
def test_generic_user_names_are_refused(username: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_username(username)
    assert caught.value.field == "username"


@pytest.mark.parametrize("username", ["ab", "1dupont", "j dupont", "jé.dupont", "a" * 65, "x1"])
def test_malformed_user_names_are_refused(username: str) -> None:
    with pytest.raises(ValidationError):
        check_username(username)


@pytest.mark.parametrize("username", ["mleguen", "marie.le-guen", "jdupont2", "Y.Kervella"])
def test_personal_user_names_are_accepted(username: str) -> None:
    assert check_username(username) == username.lower()


@pytest.mark.parametrize(
    "full_name",
    ["Marie", "  ", "Accueil Nantes", "Secrétariat Labo", "Compte Partagé", "R2D2 Robot"],
)
def test_full_name_must_name_one_person(full_name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_full_name(full_name)
    assert caught.value.field == "full_name"


def test_full_names_are_tidied() -> None:
    assert check_full_name("  Anne-Sophie   d'Argentré ") == "Anne-Sophie d'Argentré"
    assert check_full_name("Jean-Pierre O'Neill") == "Jean-Pierre O'Neill"
    assert check_full_name("Hélène Bureau") == "Hélène Bureau"  # a real surname


def test_labs_rules() -> None:
    assert check_labs(Role.RECEPTION, ["L01"], ["L01", "L02"]) == {"L01"}
    assert check_labs(Role.DPO, ["*"], ["L01"]) == {"*"}
    for role, labs in (
        (Role.RECEPTION, []),
        (Role.RECEPTION, ["*"]),
        (Role.BIOLOGIST, ["*"]),
        (Role.LAB_ADMIN, ["*", "L01"]),
        (Role.RECEPTION, ["L09"]),
    ):
        with pytest.raises(ValidationError) as caught:
            check_labs(role, labs, ["L01", "L02"])
        assert caught.value.field == "labs"


def test_add_get_list(people: People) -> None:
    user = people.add("mleguen", "Marie Le Guen", Role.RECEPTION, {"L01"})
    assert user.username == "mleguen" and user.role is Role.RECEPTION
    assert user.labs == {"L01"} and not user.totp_enrolled and user.active
    assert people.root is not None and user.created_by == people.root.user_id
    assert people.accounts.get("MLeGuen") == user
    assert [u.username for u in people.accounts.list()] == ["cmorvan", "mleguen", "nquillec"]
    with pytest.raises(RecordNotFound):
        people.accounts.get("nobody-here")


def test_user_names_are_unique_and_one_person_has_one_account(people: People) -> None:
    people.add("mleguen", "Marie Le Guen", Role.RECEPTION, {"L01"})
    with pytest.raises(ValidationError) as caught:
        people.add("mleguen", "Marc Le Guen", Role.RECEPTION, {"L01"})
    assert caught.value.field == "username"
    with pytest.raises(ValidationError) as caught:
        people.add("mleguen2", "marie le  guen", Role.BIOLOGIST, {"L02"})
    assert caught.value.field == "full_name"


def test_generic_account_refused_by_the_store(people: People) -> None:
    with pytest.raises(ValidationError):
        people.add("accueil", "Marie Le Guen", Role.RECEPTION, {"L01"})
    with pytest.raises(ValidationError):
        people.add("mleguen", "Accueil Nantes", Role.RECEPTION, {"L01"})
    with pytest.raises(ValidationError):
        people.add("mleguen", "Marie Le Guen", Role.RECEPTION, {"L07"})  # no such lab
    assert people.accounts.count() == 2  # the first lab admin and the DPO


def test_a_person_cannot_become_another(people: People) -> None:
    people.add("mleguen", "Marie Le Guen", Role.RECEPTION, {"L01"})
    assert people.root is not None
    with pytest.raises(ValidationError) as caught:
        people.accounts.update("mleguen", by=people.root, full_name="Paul Tanguy")
    assert caught.value.field == "full_name"
    people.accounts.update(
        "mleguen", by=people.root, role=Role.BIOLOGIST, labs={"L02"}, rpps=staff_rpps("mleguen")
    )
    assert people.approver is not None
    people.approvals.approve("mleguen", people.approver)
    moved = people.accounts.get("mleguen")
    assert moved.full_name == "Marie Le Guen" and moved.role is Role.BIOLOGIST
    assert moved.labs == {"L02"}


def test_nobody_widens_their_own_account(people: People) -> None:
    admin = people.add("ytanguy", "Yann Tanguy", Role.LAB_ADMIN, {"L01"})
    people.enrol(admin)
    local, _ = people.login("ytanguy")
    with pytest.raises(PermissionDenied):
        people.accounts.update("ytanguy", by=local, role=Role.BIOLOGIST)
    with pytest.raises(PermissionDenied):
        people.accounts.update("ytanguy", by=local, labs={"L01", "L02"})
    assert people.root is not None
    with pytest.raises(PermissionDenied):  # a lab admin of L01 cannot hand out L02
        people.add("mleguen", "Marie Le Guen", Role.RECEPTION, {"L01"})
        people.accounts.update("mleguen", by=local, labs={"L02"})


def test_bootstrap_only_on_an_empty_vault(people: People) -> None:
    with pytest.raises(PermissionDenied):
        people.accounts.add("mleguen", "Marie Le Guen", Role.LAB_ADMIN, {"*"}, PASSWORD, None)


def test_who_may_create_whom(people: People) -> None:
    admin = people.add("ytanguy", "Yann Tanguy", Role.LAB_ADMIN, {"L01"})
    people.enrol(admin)
    local, _ = people.login("ytanguy")
    people.accounts.add("mleguen", "Marie Le Guen", Role.RECEPTION, {"L01"}, PASSWORD, local)
    with pytest.raises(PermissionDenied):
        people.accounts.add("pjaouen", "Paul Jaouen", Role.RECEPTION, {"L02"}, PASSWORD, local)
    with pytest.raises(PermissionDenied):
        people.accounts.add("aprigent", "Anne Prigent", Role.DPO, {"*"}, PASSWORD, local)
    reception = people.accounts.get("mleguen")
    people.enrol(reception)
    desk, _ = people.login("mleguen")
    with pytest.raises(PermissionDenied):
        people.accounts.add("pjaouen", "Paul Jaouen", Role.RECEPTION, {"L01"}, PASSWORD, desk)
    with pytest.raises(PermissionDenied):
        people.accounts.disable("ytanguy", desk)


def test_disable_ends_sessions_and_tokens(people: People) -> None:
    user = people.add("mleguen", "Marie Le Guen", Role.RECEPTION, {"L01"})
    people.enrol(user)
    actor, token = people.login("mleguen")
    _, api = people.tokens.create_token(actor, "desk script", {Action.PATIENT_SEARCH}, 30)
    assert people.root is not None
    disabled = people.accounts.disable("mleguen", people.root)
    assert not disabled.active
    with pytest.raises(SessionExpired):
        people.sessions.resume(token)
    with pytest.raises(SessionExpired):
        people.tokens.actor_for_token(api)
    with pytest.raises(AuthenticationFailed) as caught:
        people.sessions.authenticate("mleguen", PASSWORD, people.code("mleguen"))
    assert "disabled" not in str(caught.value)  # same answer as a wrong password


def test_nobody_disables_their_own_account(people: People) -> None:
    assert people.root is not None
    with pytest.raises(PermissionDenied):
        people.accounts.disable("cmorvan", people.root)


def test_change_password(people: People) -> None:
    user = people.add("mleguen", "Marie Le Guen", Role.RECEPTION, {"L01"})
    people.enrol(user)
    me, mine = people.login("mleguen")
    _, other = people.login("mleguen")
    new = "Phare d'Eckmühl au loin"
    with pytest.raises(AuthenticationFailed):
        people.accounts.change_password("mleguen", new, by=me, old_password=WRONG)
    with pytest.raises(ValidationError):
        people.accounts.change_password("mleguen", "short", by=me, old_password=PASSWORD)
    people.accounts.change_password("mleguen", new, by=me, old_password=PASSWORD)
    people.sessions.resume(mine)  # the session making the change goes on
    with pytest.raises(SessionExpired):
        people.sessions.resume(other)
    people.accounts.check_password("mleguen", new)
    assert people.root is not None
    people.accounts.change_password("mleguen", PASSWORD, by=people.root)  # admin reset
    with pytest.raises(SessionExpired):
        people.sessions.resume(mine)


def test_lock_out_is_progressive_and_success_resets(people: People, clock: Clock) -> None:
    user = people.add("mleguen", "Marie Le Guen", Role.RECEPTION, {"L01"})
    people.enrol(user)
    sessions = people.sessions

    def fail() -> None:
        with pytest.raises(AuthenticationFailed):
            sessions.authenticate("mleguen", WRONG, "000000")

    for _ in range(4):
        fail()
    assert people.accounts.get("mleguen").locked_until is None
    expected_minutes = [1, 2, 4, 8, 16, 32, 60, 60]
    for minutes in expected_minutes:
        fail()
        locked = people.accounts.get("mleguen").locked_until
        assert locked == clock() + timedelta(minutes=minutes)
        # while locked, even the right password and code are refused, and not counted
        with pytest.raises(AccountLocked) as caught:
            sessions.authenticate("mleguen", PASSWORD, people.code("mleguen"))
        assert PASSWORD not in str(caught.value)
        clock.advance(minutes=minutes, seconds=-1)
        with pytest.raises(AccountLocked):
            people.accounts.check_password("mleguen", PASSWORD)
        clock.advance(seconds=1)
    assert people.accounts.get("mleguen").failed_attempts == 12
    people.login("mleguen")
    after = people.accounts.get("mleguen")
    assert after.failed_attempts == 0 and after.locked_until is None
    fail()  # back to the start: one failure does not lock
    assert people.accounts.get("mleguen").locked_until is None


def test_wrong_codes_count_towards_lock_out(people: People, clock: Clock) -> None:
    user = people.add("mleguen", "Marie Le Guen", Role.RECEPTION, {"L01"})
    people.enrol(user)
    for _ in range(5):
        wrong = f"{(int(people.code('mleguen')) + 1) % 1_000_000:06d}"
        with pytest.raises(AuthenticationFailed):
            people.sessions.authenticate("mleguen", PASSWORD, wrong)
    with pytest.raises(AccountLocked):
        people.sessions.authenticate("mleguen", PASSWORD, people.code("mleguen"))
