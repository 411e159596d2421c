"""The service operations the pages call: decided, audited and alerted in service/.

The pages' own tests (test_pages.py) check what a person sees; these check the
operations beneath them, through the door of a running app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from etanche.errors import AuthenticationFailed, PermissionDenied, ValidationError
from etanche.names import Action, Role
from etanche.service import Actor, Door, Outcome, allowed, sheet_rights

if TYPE_CHECKING:
    from tests.web.conftest import Member, WebVault


def _door(client: TestClient) -> Door:
    app: Any = client.app
    door: Door = app.state.etanche.door
    return door


def _actor(client: TestClient, member: Member) -> Actor:
    return _door(client).people("testclient").session_actor(member.token)


def _last(web_vault: WebVault, client: TestClient, username: str, action: Action) -> Any:
    client.app.state.etanche.core.trail.flush()  # type: ignore[attr-defined]
    mine = [e for e in web_vault.events(action.value) if e.actor == username]
    return mine[-1] if mine else None


def test_decoys_are_counted_for_the_dpo_and_refused_to_reception(
    client: TestClient, web_vault: WebVault
) -> None:
    dpo = web_vault.person(Role.DPO, ("*",))
    reception = web_vault.person(Role.RECEPTION)
    door = _door(client)
    assert door.oversight(_actor(client, dpo)).decoys() >= 0
    assert _last(web_vault, client, dpo.username, Action.DECOY_MANAGE).outcome is Outcome.OK
    with pytest.raises(PermissionDenied):
        door.oversight(_actor(client, reception)).decoys()
    refused = _last(web_vault, client, reception.username, Action.DECOY_MANAGE)
    assert refused.outcome is Outcome.DENIED
    assert refused.details["operation"] == "count"


def test_planting_out_of_bounds_plants_nothing(client: TestClient, web_vault: WebVault) -> None:
    dpo = web_vault.person(Role.DPO, ("*",))
    oversight = _door(client).oversight(_actor(client, dpo))
    before = oversight.decoys_unlogged()
    with pytest.raises(ValidationError) as caught:
        oversight.plant(0, 500)
    assert caught.value.field == "count"
    assert oversight.decoys_unlogged() == before
    assert _last(web_vault, client, dpo.username, Action.DECOY_MANAGE) is None


def test_an_empty_acknowledgement_is_refused_before_the_engine(
    client: TestClient, web_vault: WebVault
) -> None:
    dpo = web_vault.person(Role.DPO, ("*",))
    with pytest.raises(ValidationError) as caught:
        _door(client).oversight(_actor(client, dpo)).acknowledge("no-such-alert", "")
    assert caught.value.field == "note"
    assert _last(web_vault, client, dpo.username, Action.ALERT_ACK) is None


def test_reading_the_log_over_fhir_is_decided_and_audited(
    client: TestClient, web_vault: WebVault
) -> None:
    biologist = web_vault.person(Role.BIOLOGIST)
    with pytest.raises(PermissionDenied):
        _door(client).oversight(_actor(client, biologist)).log_reader(["x1"])
    refused = _last(web_vault, client, biologist.username, Action.AUDIT_READ)
    assert refused.outcome is Outcome.DENIED
    assert refused.object_ids == ("x1",)
    assert refused.details["resource"] == "AuditEvent"
    auditor = web_vault.person(Role.AUDITOR, ("*",))
    oversight = _door(client).oversight(_actor(client, auditor))
    rows = oversight.log_reader([])(actor=biologist.username, limit=10)
    assert [event.outcome for _, event in rows] == [Outcome.DENIED]
    oversight.log_read([], len(rows), "agent-name")
    read = _last(web_vault, client, auditor.username, Action.AUDIT_READ)
    assert read.outcome is Outcome.OK
    assert read.details["results"] == 1


def test_rights_shown_by_pages_come_from_the_policy(
    client: TestClient, web_vault: WebVault
) -> None:
    maelle = web_vault.maelle
    reception = _actor(client, web_vault.members[Role.RECEPTION])
    biologist = _actor(client, web_vault.members[Role.BIOLOGIST])
    dpo = _actor(client, web_vault.members[Role.DPO])
    at_reception = sheet_rights(reception, maelle.lab_id, maelle.id)
    assert not at_reception.clinical_open
    assert at_reception.can_edit
    assert sheet_rights(biologist, maelle.lab_id, maelle.id).clinical_open
    assert not sheet_rights(biologist, "L02", web_vault.maelle_elsewhere.id).can_edit
    assert allowed(dpo, Action.AUDIT_READ)
    assert not allowed(reception, Action.AUDIT_READ)


def test_a_search_tally_counts_what_the_policy_hid(client: TestClient, web_vault: WebVault) -> None:
    reception = web_vault.person(Role.RECEPTION)
    service, tally = _door(client).counting_patients(_actor(client, reception))
    found = service.find_by_phone(web_vault.maelle.phones[0])
    assert [p.id for p in found] == [web_vault.maelle.id]
    assert tally.hidden == 1


def test_a_failed_web_login_is_one_failed_event(client: TestClient, web_vault: WebVault) -> None:
    member = web_vault.person(Role.RECEPTION)
    people = _door(client).people("testclient")
    with pytest.raises(AuthenticationFailed):
        people.web_login(member.username, "not the password at all", "000000")
    failed = _last(web_vault, client, member.username, Action.LOGIN)
    assert failed.outcome is Outcome.FAILED
    assert failed.details == {"kind": "web", "error": "AuthenticationFailed"}


def test_an_invalid_account_is_a_failed_audited_attempt(
    client: TestClient, web_vault: WebVault
) -> None:
    admin = web_vault.members[Role.LAB_ADMIN]
    people = _door(client).people("testclient")
    with pytest.raises(ValidationError):
        people.add_user(
            _actor(client, admin), "x", "Ana Kerbrat", Role.RECEPTION, ["L01"], "pw" * 8
        )
    failed = _last(web_vault, client, admin.username, Action.USER_MANAGE)
    assert failed.outcome is Outcome.FAILED
    assert failed.details["account"] == "x"
