"""The French pages of second approvals: a privileged account waits, the right person decides."""

from __future__ import annotations

import uuid
from html import unescape
from typing import TYPE_CHECKING

from fastapi.testclient import TestClient
from sqlalchemy import select

from etanche.access import Role
from etanche.access._schema import users
from etanche.synth import staff_rpps

if TYPE_CHECKING:
    from tests.web.conftest import WebVault

PASSWORD = "Chaland-Iroise-Marée-42"


def _approved(web_vault: WebVault, username: str) -> bool:
    with web_vault.vault.engine.connect() as conn:
        row = conn.execute(select(users.c.approved_at).where(users.c.username == username)).one()
    return row.approved_at is not None


def _biologist_form(csrf: str, username: str, rpps: str) -> dict[str, str]:
    return {
        "csrf": csrf,
        "username": username,
        "full_name": f"Soizic {username.capitalize()}",
        "role": "biologist",
        "labs": "L01",
        "rpps": rpps,
        "password": PASSWORD,
        "password_confirm": PASSWORD,
    }


def test_a_biologist_waits_for_a_lab_admin_of_another_lab(
    web_vault: WebVault, client: TestClient
) -> None:
    username = "sbiolo" + uuid.uuid4().hex[:6].translate(str.maketrans("0123456789", "ghijklmnop"))
    local = web_vault.members[Role.LAB_ADMIN]  # of L01
    csrf = web_vault.sign_in(client, local)
    missing = client.post("/users", data=_biologist_form(csrf, username, ""))
    assert missing.status_code == 422
    assert "Le numéro RPPS (11 chiffres) est obligatoire pour ce rôle." in unescape(missing.text)
    rpps = staff_rpps(username)
    wrong = client.post("/users", data=_biologist_form(csrf, username, rpps[:-1] + "x"))
    assert wrong.status_code == 422
    made = client.post("/users", data=_biologist_form(csrf, username, rpps))
    assert made.status_code == 303 and made.headers["location"] == "/users?ok=demande"
    assert "en attente d'une seconde approbation" in unescape(client.get("/users").text)
    assert not _approved(web_vault, username)

    page = client.get("/account-requests")
    assert page.status_code == 200 and username in page.text
    assert f"/account-requests/{username}/approve" not in page.text  # not for the requester
    assert "Retirer" in page.text
    refused = client.post(f"/account-requests/{username}/approve", data={"csrf": csrf})
    assert refused.status_code == 403
    assert "ne peut pas l'approuver lui-même" in unescape(refused.text)
    assert not _approved(web_vault, username)

    other = web_vault.person(Role.LAB_ADMIN, ("L02",))
    csrf = web_vault.sign_in(client, other)
    page = client.get("/account-requests")
    assert f"/account-requests/{username}/approve" in page.text
    done = client.post(f"/account-requests/{username}/approve", data={"csrf": csrf})
    assert done.status_code == 303 and done.headers["location"] == "/account-requests?ok=approuvee"
    assert _approved(web_vault, username)
    assert username not in client.get("/account-requests").text

    web_vault.sign_in(client, web_vault.members[Role.DPO])
    web_vault.flush(client.app)
    alerts = unescape(client.get("/alerts").text)
    assert "Modification d'un compte" in alerts and f"compte {username}" in alerts


def test_the_dpo_refuses_and_the_account_is_disabled(
    web_vault: WebVault, client: TestClient
) -> None:
    username = "rbiolo" + uuid.uuid4().hex[:6].translate(str.maketrans("0123456789", "ghijklmnop"))
    csrf = web_vault.sign_in(client, web_vault.members[Role.LAB_ADMIN])
    made = client.post("/users", data=_biologist_form(csrf, username, staff_rpps(username)))
    assert made.status_code == 303
    csrf = web_vault.sign_in(client, web_vault.members[Role.DPO])
    page = client.get("/account-requests")
    assert (
        "Demandes de comptes" in page.text and f"/account-requests/{username}/refuse" in page.text
    )
    done = client.post(f"/account-requests/{username}/refuse", data={"csrf": csrf})
    assert done.status_code == 303
    with web_vault.vault.engine.connect() as conn:
        row = conn.execute(select(users.c.disabled_at).where(users.c.username == username)).one()
    assert row.disabled_at is not None
    again = client.post(f"/account-requests/{username}/approve", data={"csrf": csrf})
    assert again.status_code == 404 and "n'attend plus" in unescape(again.text)
