"""The DPO's incident pages: countdown and severity in the list, the detail, notes (CSRF)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from etanche.access import Role
from etanche.audit import Outcome
from etanche.leak.incident import HEADINGS, Incident, parse_circumstances
from etanche.service import IncidentService, Trail

if TYPE_CHECKING:
    from tests.web.conftest import WebVault

HTML = {"Accept": "text/html"}


def open_incident(web_vault: WebVault, title: str, hours_ago: float) -> Incident:
    """An incident opened through the desk, as ``etanche incident open`` does."""
    dpo = web_vault.members[Role.DPO]
    actor = web_vault.staff.sessions.resume(dpo.token)
    trail = Trail.for_vault(web_vault.vault)
    try:
        desk = IncidentService(web_vault.vault.session(()), trail, actor, client="test")
        patient = web_vault.patient()
        categories = ("nir", "name", "address", "health")
        return desk.open(
            title,
            discovered_at=datetime.now(UTC) - timedelta(hours=hours_ago),
            circumstances=parse_circumstances(["published"]),
            report={
                "files": [],
                "bytes": 10,
                "rows": 3,
                "persons": 3,
                "special_category": True,
                "categories": {c: {"count": 3} for c in categories},
                "vault_matches": {"L01": 1},
            },
            matched={"L01": [patient.id]},
        )
    finally:
        trail.close()


@pytest.fixture(scope="module")
def incidents(web_vault: WebVault) -> tuple[Incident, Incident]:
    fresh = open_incident(web_vault, "Export retrouvé sur un forum", hours_ago=2)
    late = open_incident(web_vault, "Clé USB perdue au laboratoire", hours_ago=80)
    return fresh, late


def test_the_list_shows_each_deadline_and_severity(
    web_vault: WebVault, client: TestClient, incidents: tuple[Incident, Incident]
) -> None:
    web_vault.sign_in(client, web_vault.members[Role.DPO])
    page = client.get("/incidents", headers=HTML)
    assert page.status_code == 200
    for incident in incidents:
        assert f'href="/incidents/{incident.id}"' in page.text
    assert "reste 2 j 2" in page.text or "reste 2 j 1" in page.text  # ~70 hours left
    assert "dépassé de 8 h" in page.text or "dépassé de 7 h" in page.text
    assert "très élevée" in page.text
    assert web_vault.patient().birth_name not in page.text
    assert 'href="/incidents"' in page.text  # the navigation entry, no longer "bientôt"
    assert "Incidents (bientôt)" not in page.text


def test_the_detail_has_the_timeline_the_severity_and_the_draft(
    web_vault: WebVault, client: TestClient, incidents: tuple[Incident, Incident]
) -> None:
    web_vault.sign_in(client, web_vault.members[Role.DPO])
    fresh, _ = incidents
    page = client.get(f"/incidents/{fresh.id}", headers=HTML)
    assert page.status_code == 200
    text = page.text.replace("&#39;", "'")
    for heading in HEADINGS:
        assert heading in text, heading
    for words in ("Chronologie", "Découverte de la violation", "DPC", "NIR", "article 34"):
        assert words in text
    patient = web_vault.patient()
    assert patient.birth_name not in text and patient.id not in text
    assert "style=" not in text and "<script>" not in text  # the CSP forbids inline code
    assert 'for="f-note"' in text and 'for="f-mesure"' in text
    shown = [e for e in web_vault.events("incident.manage") if e.details.get("operation") == "show"]
    assert shown and shown[-1].object_ids == (fresh.id,)


def test_a_note_is_added_with_the_csrf_token_and_audited(
    web_vault: WebVault, client: TestClient, incidents: tuple[Incident, Incident]
) -> None:
    csrf = web_vault.sign_in(client, web_vault.members[Role.DPO])
    fresh, _ = incidents
    path = f"/incidents/{fresh.id}/notes"
    assert client.post(path, data={"note": "Sans jeton."}).status_code == 403
    empty = client.post(path, data={"csrf": csrf, "note": "  "}, headers=HTML)
    assert empty.status_code == 422 and "Écrivez ce qui a été constaté" in empty.text
    done = client.post(
        path, data={"csrf": csrf, "note": "Hébergeur saisi pour retrait.", "mesure": "oui"}
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?note=mesure")
    page = client.get(done.headers["location"], headers=HTML)
    assert "Hébergeur saisi pour retrait." in page.text and "La mesure a été ajoutée" in page.text
    web_vault.flush(client.app)
    measures = [
        e for e in web_vault.events("incident.manage") if e.details.get("operation") == "measure"
    ]
    assert measures and measures[-1].object_ids == (fresh.id,)
    assert "Hébergeur" not in str(measures[-1].details)


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.BIOLOGIST, Role.AUDITOR])
def test_other_roles_are_refused_and_see_no_entry(
    web_vault: WebVault, client: TestClient, incidents: tuple[Incident, Incident], role: Role
) -> None:
    member = web_vault.members[role]
    csrf = web_vault.sign_in(client, member)
    fresh, _ = incidents

    def refusals() -> int:
        web_vault.flush(client.app)
        return sum(
            1
            for e in web_vault.events("incident.manage")
            if e.outcome is Outcome.DENIED and e.actor == member.username
        )

    before = refusals()  # the shared members may have been refused by other tests
    assert client.get("/incidents", headers=HTML).status_code == 403
    assert client.get(f"/incidents/{fresh.id}", headers=HTML).status_code == 403
    posted = client.post(f"/incidents/{fresh.id}/notes", data={"csrf": csrf, "note": "x"})
    assert posted.status_code == 403
    home = client.get("/home", headers=HTML)
    assert 'href="/incidents"' not in home.text
    assert refusals() - before == 3


def test_an_unknown_incident_is_not_found(web_vault: WebVault, client: TestClient) -> None:
    web_vault.sign_in(client, web_vault.members[Role.DPO])
    assert client.get("/incidents/INC-20200101-000000", headers=HTML).status_code == 404
