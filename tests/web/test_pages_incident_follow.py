"""The DPO follows an incident from its page: assess, draft (PDF), filing, closing.

Each step goes through the service (audited ``incident.manage`` with its
operation), shows its date in Paris time and the CNIL deadline in French; a wrong
field is named in French and changes nothing; other roles are refused.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from fastapi.testclient import TestClient
from tests.web.test_pages_incidents import HTML, open_incident

from etanche.access import Role
from etanche.leak.incident import Incident
from etanche.web._incident_steps import deadline_sentence, fr_moment
from etanche.web._pages_common import now_paris

if TYPE_CHECKING:
    from tests.web.conftest import WebVault


def _operations(web_vault: WebVault, client: TestClient, incident: Incident) -> list[str]:
    web_vault.flush(client.app)
    return [
        str(e.details.get("operation"))
        for e in web_vault.events("incident.manage")
        if e.object_ids == (incident.id,)
    ]


def test_the_deadline_reads_in_french_in_paris_time() -> None:
    from datetime import UTC, datetime

    from etanche.leak.incident import parse_circumstances

    discovered = datetime(2026, 12, 2, 13, 30, tzinfo=UTC)  # 14:30 in Paris
    incident = Incident(
        id="INC-1",
        state="open",
        title="t",
        discovered_at=discovered,
        opened_at=discovered,
        opened_by="dpo",
        circumstances=parse_circumstances([]),
        timeline=(),
    )
    now = discovered + timedelta(hours=31, minutes=10)
    assert deadline_sentence(incident, now) == (
        "échéance CNIL : 5 décembre 2026 à 14:30, dans 40 h"
    )
    later = discovered + timedelta(hours=75)
    assert deadline_sentence(incident, later).endswith("dépassée de 3 h")
    assert fr_moment(datetime(2026, 7, 1, 8, 5, tzinfo=UTC)) == "1er juillet 2026 à 10:05"


def test_the_dpo_assesses_drafts_files_and_closes_from_the_page(
    web_vault: WebVault, client: TestClient
) -> None:
    csrf = web_vault.sign_in(client, web_vault.members[Role.DPO])
    incident = open_incident(web_vault, "Sauvegarde exposée sur un serveur", hours_ago=5)
    base = f"/incidents/{incident.id}"
    page = client.get(base, headers=HTML).text
    assert "Échéance CNIL : " in page and ", dans 6" in page  # 67 h left, said in hours
    assert "à faire" in page

    assessed = client.post(
        f"{base}/evaluer",
        data={"csrf": csrf, "confidentialite": "copied", "indice": ["malicious"]},
    )
    assert assessed.status_code == 303 and assessed.headers["location"].endswith("=evaluee")
    page = client.get(assessed.headers["location"], headers=HTML).text
    assert "La gravité a été réévaluée." in page
    assert "Circonstances réévaluées" in page and 'value="copied" checked' in page

    pdf = client.post(f"{base}/notification", data={"csrf": csrf})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf.headers["content-disposition"]

    future = (now_paris() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    refused = client.post(f"{base}/depot", data={"csrf": csrf, "depot": future}, headers=HTML)
    assert refused.status_code == 422 and "ne peut pas être dans le futur" in refused.text
    moment = now_paris() - timedelta(minutes=30)
    filed = client.post(
        f"{base}/depot",
        data={"csrf": csrf, "depot": moment.strftime("%Y-%m-%dT%H:%M"), "reference": "CNIL-42"},
    )
    assert filed.status_code == 303
    page = client.get(base, headers=HTML).text
    assert f"notifiée le {fr_moment(moment.replace(second=0, microsecond=0))}" in page
    assert "(dans le délai)" in page and "référence CNIL-42" in page

    empty = client.post(f"{base}/cloture", data={"csrf": csrf, "conclusion": " "}, headers=HTML)
    assert empty.status_code == 422 and "Écrivez la conclusion" in empty.text
    closed = client.post(
        f"{base}/cloture", data={"csrf": csrf, "conclusion": "Copie retirée, accès fermé."}
    )
    assert closed.status_code == 303
    page = client.get(closed.headers["location"], headers=HTML).text.replace("&#39;", "'")
    assert "L'incident est clos" in page and "Conclusion : Copie retirée, accès fermé." in page
    assert "form-cloture" not in page  # nothing more to do on a closed incident
    again = client.post(f"{base}/cloture", data={"csrf": csrf, "conclusion": "x"}, headers=HTML)
    assert again.status_code == 422 and "déjà clos" in again.text

    done = _operations(web_vault, client, incident)
    for operation in ("assess", "report", "filed", "close"):
        assert operation in done, operation
    closing = [
        e for e in web_vault.events("incident.manage") if e.details.get("operation") == "close"
    ]
    assert "Copie" not in str(closing[-1].details)  # the conclusion stays in the incident


def test_other_roles_cannot_follow_an_incident(web_vault: WebVault, client: TestClient) -> None:
    incident = open_incident(web_vault, "Clé USB perdue", hours_ago=1)
    csrf = web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    for step, data in (
        ("evaluer", {"confidentialite": "published"}),
        ("notification", {}),
        ("depot", {"reference": "x"}),
        ("cloture", {"conclusion": "x"}),
    ):
        answer = client.post(f"/incidents/{incident.id}/{step}", data={"csrf": csrf, **data})
        assert answer.status_code == 403, step
    web_vault.sign_in(client, web_vault.members[Role.DPO])
    page = client.get(f"/incidents/{incident.id}", headers=HTML).text
    assert "Circonstances réévaluées" not in page and "Incident clos" not in page


def test_an_alert_cited_in_an_incident_reads_in_french_in_the_draft(
    web_vault: WebVault, client: TestClient
) -> None:
    admin = web_vault.person(Role.LAB_ADMIN)  # a fresh actor: its first refused alert is this one
    refused = client.get(
        f"/api/v1/patients/{web_vault.maelle.id}",
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    assert refused.status_code == 403  # refused, audited and alerted (rule « refused »)
    state: Any = client.app.state.etanche  # type: ignore[attr-defined]
    state.core.trail.flush()
    alert = next(
        a
        for a in state.core.trail.alerts.list_alerts(open_only=False)
        if a.rule == "refused" and a.actor == admin.username
    )
    assert " was refused " in alert.summary  # the log's English sentence

    csrf = web_vault.sign_in(client, web_vault.members[Role.DPO])
    incident = open_incident(web_vault, "Consultation refusée répétée", hours_ago=1)
    base = f"/incidents/{incident.id}"
    unknown = client.post(f"{base}/alerte", data={"csrf": csrf, "alerte": "nope"}, headers=HTML)
    assert unknown.status_code == 422 and "Alerte introuvable." in unknown.text
    cited = client.post(f"{base}/alerte", data={"csrf": csrf, "alerte": alert.id})
    assert cited.status_code == 303
    page = client.get(cited.headers["location"], headers=HTML).text.replace("&#39;", "'")
    draft = page.split("Projet de notification à la CNIL (article 33)", 1)[1]
    assert f"{admin.username} s'est vu refuser : lecture de dossier" in draft
    assert "Alerte « Acte sensible refusé » (gravité" in draft
    assert alert.summary not in page and "was refused" not in page and "patient.read" not in draft
    assert "alert" in _operations(web_vault, client, incident)
