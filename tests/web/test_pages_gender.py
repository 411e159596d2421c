"""Role labels in the person's grammatical gender: « Déléguée », « Délégué », or both forms.

An account carries "F", "M" or nothing (then both forms show); it is chosen at
creation (Civilité) and changed from the accounts page or by the person; the
change is an audited ``user.manage``; anything else is refused naming the field.
"""

from __future__ import annotations

from html import unescape
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from etanche.access import Role
from etanche.errors import ValidationError
from etanche.names import Role as NamedRole
from etanche.web._pages_fr import ROLE_FORMS, role_label

if TYPE_CHECKING:
    from tests.web.conftest import WebVault


def test_every_role_has_its_three_forms() -> None:
    assert set(ROLE_FORMS) == set(NamedRole)
    assert role_label(Role.DPO, "F") == "Déléguée à la protection des données"
    assert role_label(Role.DPO, "M") == "Délégué à la protection des données"
    assert role_label(Role.DPO, None) == "Délégué(e) à la protection des données"
    assert role_label(Role.RECEPTION, "F") == "Secrétaire"


def test_the_header_follows_the_persons_gender(web_vault: WebVault, client: TestClient) -> None:
    dpo = web_vault.person(Role.DPO, ("*",))
    actor = web_vault.staff.sessions.resume(dpo.token)
    web_vault.sign_in(client, dpo)
    assert "Délégué(e) à la protection des données" in client.get("/audit").text
    web_vault.staff.accounts.set_gender(dpo.username, "F", actor)
    assert "Déléguée à la protection des données" in client.get("/audit").text
    web_vault.staff.accounts.set_gender(dpo.username, "M", actor)
    page = client.get("/audit").text
    assert "Délégué à la protection des données" in page and "Déléguée" not in page
    with pytest.raises(ValidationError) as refused:
        web_vault.staff.accounts.set_gender(dpo.username, "X", actor)
    assert refused.value.field == "gender"


def test_a_lab_admin_chooses_and_changes_the_civility(
    web_vault: WebVault, client: TestClient
) -> None:
    csrf = web_vault.sign_in(client, web_vault.members[Role.LAB_ADMIN])
    form = {
        "csrf": csrf,
        "username": "ykerhervé".replace("é", "e"),
        "full_name": "Yuna Kerhervé",
        "gender": "F",
        "role": "reception",
        "labs": "L01",
        "password": "Goémon de Molène 2026 !",
        "password_confirm": "Goémon de Molène 2026 !",
    }
    created = client.post("/users", data=form)
    assert created.status_code == 303, created.text
    assert web_vault.staff.accounts.get("ykerherve").gender == "F"
    bad = client.post("/users", data={**form, "username": "ykerherve2", "gender": "Z"})
    assert bad.status_code == 422
    changed = client.post("/users/ykerherve/gender", data={"csrf": csrf, "gender": "M"})
    assert changed.status_code == 303
    assert web_vault.staff.accounts.get("ykerherve").gender == "M"
    assert "La civilité du compte a été enregistrée." in unescape(
        client.get(changed.headers["location"]).text
    )
    web_vault.flush(client.app)
    events = [
        e
        for e in web_vault.events("user.manage")
        if e.details.get("operation") == "gender" and e.details.get("account") == "ykerherve"
    ]
    assert [e.outcome.value for e in events] == ["ok"]
