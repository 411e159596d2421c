"""The DPO's rights requests in Chromium (fr-FR): register, check identity, find and link the
record, extend once, close; the list shows the deadline and the days left in French.
The French form errors (HTTP 422) are tested without a browser: test_pages_rights.py."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from browser_support import log_in, shot

from etanche.access import Role

if TYPE_CHECKING:
    from tests.web.conftest import WebVault


def test_a_dpo_registers_checks_extends_and_closes_a_request(
    tabs: Any, web_vault: WebVault
) -> None:
    maelle = web_vault.maelle
    page = tabs()
    log_in(page, web_vault, web_vault.person(Role.DPO, ("*",)))
    page.get_by_role("link", name="Demandes de droits").click()
    page.wait_for_url("**/rights-requests")
    assert page.get_by_role("heading", level=1).inner_text() == "Demandes d'exercice des droits"

    page.get_by_label("Droit exercé").select_option("rectification")
    page.get_by_label("Adresse de réponse du demandeur").fill("12 rue des Ajoncs, 29200 Brest")
    page.get_by_label("Objet de la demande (facultatif)").fill("Nom d'usage à corriger")
    page.get_by_role("button", name="Enregistrer la demande").click()
    page.wait_for_url(re.compile(r"/rights-requests/DR-\d{8}-[0-9a-f]{6}\?fait=enregistree$"))
    assert "La demande a été enregistrée" in page.locator(".flash").inner_text()
    details = page.locator("dl.donnees").inner_text()
    assert "reçue" in details and "jours restants" in details

    page.get_by_label("Pièce présentée").select_option("id_card")
    page.get_by_role("button", name="Enregistrer la vérification").click()
    page.wait_for_url("**?fait=identite")
    assert "sur carte nationale d'identité" in page.locator("dl.donnees").inner_text()

    search = page.locator("form", has=page.get_by_role("button", name="Rechercher"))
    search.get_by_label("Nom de naissance").fill(maelle.birth_name)
    search.get_by_label("Prénom").fill(maelle.first_names[0])
    search.get_by_label("Date de naissance").fill(maelle.birth_date.isoformat())
    search.get_by_role("button", name="Rechercher").click()
    found = page.locator("ul.correspondances")
    found.wait_for()
    assert maelle.id in found.inner_text() and maelle.birth_name not in found.inner_text()
    found.locator("li", has_text=maelle.id).get_by_role("button").click()
    page.wait_for_url("**?fait=rattachee")
    assert "en cours" in page.locator("dl.donnees").inner_text()

    page.get_by_label("Motif de la prolongation").fill("Dossiers dans plusieurs laboratoires")
    page.get_by_role("button", name="Prolonger la demande").click()
    page.wait_for_url("**?fait=prolongee")
    assert "prolongée" in page.locator("dl.donnees").inner_text()
    assert page.get_by_role("button", name="Prolonger la demande").count() == 0
    shot(page, "rights-request-detail")

    page.get_by_label("Accordée").check()
    page.get_by_role("button", name="Clore la demande").click()
    page.wait_for_url("**?fait=close")
    assert "accordée" in page.locator("dl.donnees").inner_text()

    page.get_by_role("link", name="Toutes les demandes").click()
    page.wait_for_url("**/rights-requests")
    table = page.locator("table.tableau").inner_text()
    assert "rectification (art. 16)" in table and "close : accordée" in table
    page.get_by_label("Droit exercé").select_option("erasure")
    page.get_by_label("Adresse de réponse du demandeur").fill("courriel du demandeur")
    page.get_by_role("button", name="Enregistrer la demande").click()
    page.wait_for_url("**?fait=enregistree")
    page.get_by_role("link", name="Toutes les demandes").click()
    assert re.search(r"\d{2}/\d{2}/\d{4}", page.locator("table.tableau").inner_text())
    shot(page, "rights-request")
