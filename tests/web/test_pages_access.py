"""The page « Qui a consulté ce dossier ? »: DPO only, French errors, print only when asked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi.testclient import TestClient

from etanche.access import Role

if TYPE_CHECKING:
    from tests.web.conftest import WebVault


def test_access_page_errors_print_and_refusal(client: TestClient, web_vault: WebVault) -> None:
    maelle = web_vault.maelle
    dpo = web_vault.members[Role.DPO]
    csrf = web_vault.sign_in(client, dpo)
    typed = maelle.nir or "2850129019001"  # a NIR typed into the record id field
    page = client.get("/acces", params={"dossier": typed})
    assert page.status_code == 422 and "Aucun dossier ne porte cet identifiant" in page.text
    web_vault.flush(client.app)
    assert web_vault.events("rights.access_report", typed) == []  # never logged

    bad = client.post("/acces/nir", data={"csrf": csrf, "nir": "1234"})
    assert bad.status_code == 422 and "NIR invalide" in bad.text
    found = client.post("/acces/nir", data={"csrf": csrf, "nir": maelle.nir})
    assert f"/acces?dossier={maelle.id}" in found.text and maelle.birth_name not in found.text
    assert web_vault.events("rights.access_report", maelle.id)[-1].details["index"] == "nir"

    form = {"csrf": csrf, "dossier": maelle.id, "phrase": "trop court", "phrase2": "trop court"}
    refused = client.post("/acces/rapport", data=form)
    assert refused.status_code == 422 and "au moins 12 caractères" in refused.text
    form |= {"phrase": "une longue phrase", "phrase2": "une autre phrase!"}
    refused = client.post("/acces/rapport", data=form)
    assert "ne sont pas identiques" in refused.text

    printed = client.post(
        "/acces/rapport", data={"csrf": csrf, "dossier": maelle.id, "imprimer": "oui"}
    )
    assert printed.status_code == 200 and printed.content.startswith(b"%PDF")
    assert printed.headers["content-type"] == "application/pdf"
    assert printed.headers["cache-control"] == "no-store"

    front = web_vault.members[Role.RECEPTION]
    csrf = web_vault.sign_in(client, front)
    assert "Qui a consulté" not in client.get("/patients").text
    assert client.get("/acces", params={"dossier": maelle.id}).status_code == 403
    denied = client.post(
        "/acces/rapport", data={"csrf": csrf, "dossier": maelle.id, "imprimer": "oui"}
    )
    assert denied.status_code == 403
