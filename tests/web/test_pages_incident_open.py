"""The DPO opens an incident from the page and follows it there (no CLI needed).

The form starts the 72-hour clock at the discovery typed in Paris time; the
incident opens through the service (audited ``incident.manage``); its detail
page says so and takes the next notes. Wrong input is named field by field and
opens nothing; a role without ``incident.manage`` is refused.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

from fastapi.testclient import TestClient

from etanche.access import Role
from etanche.web._pages_common import fr_long_date, now_paris

if TYPE_CHECKING:
    from tests.web.conftest import WebVault


def _count(client: TestClient) -> int:
    return len(re.findall(r'href="/incidents/INC-', client.get("/incidents").text))


def test_a_dpo_opens_an_incident_and_adds_a_note(web_vault: WebVault, client: TestClient) -> None:
    csrf = web_vault.sign_in(client, web_vault.members[Role.DPO])
    form = client.get("/incidents/new")
    assert form.status_code == 200 and "Ouvrir un incident" in form.text
    before = _count(client)
    moment = now_paris() - timedelta(hours=2)
    discovered = moment.strftime("%Y-%m-%dT%H:%M")
    bad = client.post(
        "/incidents/new", data={"csrf": csrf, "titre": "", "decouverte": "hier", "lieu": "lune"}
    )
    assert bad.status_code == 422
    assert "Indiquez ce qui a été constaté." in bad.text
    assert "Date et heure invalides" in bad.text and "Lieu inconnu." in bad.text
    assert _count(client) == before  # nothing half-opened
    done = client.post(
        "/incidents/new",
        data={
            "csrf": csrf,
            "titre": "Fichier de patients trouvé sur un forum",
            "decouverte": discovered,
            "lieu": "forum",
            "contact": "dpo@reseau.example",
        },
    )
    assert done.status_code == 303, done.text
    page = client.get(done.headers["location"]).text
    assert "L'incident est ouvert" in page or "L&#39;incident est ouvert" in page
    assert "Fichier de patients trouvé sur un forum" in page
    assert f"{fr_long_date(moment)} à {moment:%H} h {moment:%M}" in page  # Paris, in French
    assert _count(client) == before + 1
    incident_id = done.headers["location"].split("/")[2].split("?")[0]
    noted = client.post(
        f"/incidents/{incident_id}/notes", data={"csrf": csrf, "note": "Forum contacté."}
    )
    assert noted.status_code == 303
    assert "Forum contacté." in client.get(f"/incidents/{incident_id}").text
    web_vault.flush(client.app)
    opened = [
        e for e in web_vault.events("incident.manage") if e.details.get("operation") == "open"
    ]
    assert opened and opened[-1].actor == web_vault.members[Role.DPO].username


def test_the_form_is_refused_without_incident_rights(
    web_vault: WebVault, client: TestClient
) -> None:
    csrf = web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    assert client.get("/incidents/new").status_code == 403
    refused = client.post("/incidents/new", data={"csrf": csrf, "titre": "x", "decouverte": ""})
    assert refused.status_code in (403, 422)
    assert "incident est ouvert" not in refused.text
