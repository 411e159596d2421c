"""The identity vigilance officer in a real Chromium (fr-FR): a pair reviewed masked,
revealed with a purpose, merged with a confirmation, then the merge undone; and the
status block of a sheet after a document check at the desk."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from browser_support import log_in, shot

from etanche.access import Role
from etanche.domain import IdentityStatus

if TYPE_CHECKING:
    from tests.web.conftest import WebVault


def _fresh(web_vault: WebVault, index: int) -> str:
    patient = web_vault.patient("L01", index=index)
    web_vault.vault.update(replace(patient, identity_status=IdentityStatus.PROVISIONAL))
    return patient.id


def test_the_officer_reviews_reveals_merges_and_unmerges(tabs: Any, web_vault: WebVault) -> None:
    left, right = _fresh(web_vault, 30), _fresh(web_vault, 31)
    shown = web_vault.vault.get(left)
    page = tabs()
    log_in(page, web_vault, web_vault.person(Role.IDENTITY_OFFICER))
    page.goto(f"/identity/review?left={left}&right={right}")
    assert page.get_by_role("heading", level=1).inner_text() == "Examen d'un doublon potentiel"
    table = page.get_by_role("table", name="Comparaison des deux dossiers")
    assert shown.birth_name not in table.inner_text() and "•••••" in table.inner_text()
    assert page.locator("tr.differe").count() >= 1
    page.get_by_label("Motif de la consultation").fill("doublon signalé par l'accueil")
    page.get_by_label("Dossier A", exact=True).check()
    page.get_by_label("Dossier B", exact=True).check()
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_load_state()
    assert shown.birth_name in page.get_by_role("table").inner_text()
    shot(page, "identity-review")
    page.get_by_role("button", name="Fusionner les deux dossiers").click()  # dialog accepted
    page.wait_for_url("**/identity/merges/*")
    assert "dossiers fusionnés" in page.locator("main").inner_text()
    page.get_by_role("link", name=f"…{right[-8:]}").click()
    page.wait_for_url(f"**/patients/{right}")
    assert "Ce dossier a été fusionné dans le dossier" in page.locator("main").inner_text()
    page.get_by_role("link", name="Voir la fusion").click()
    page.get_by_role("button", name="Annuler la fusion").click()
    page.wait_for_load_state()
    assert "fusion annulée" in page.locator("main").inner_text()
    reads = [e for e in web_vault.events("patient.read", left) if e.details.get("via")]
    assert reads and reads[-1].purpose == "doublon signalé par l'accueil"


def test_the_status_block_after_a_document_check(tabs: Any, web_vault: WebVault) -> None:
    pid = _fresh(web_vault, 32)
    page = tabs()
    log_in(page, web_vault, web_vault.person(Role.IDENTITY_OFFICER))
    page.goto(f"/patients/{pid}")
    block = page.locator("#identitovigilance")
    assert "Identité provisoire" in block.inner_text()
    block.get_by_label("Pièce contrôlée au guichet").select_option("passeport")
    block.get_by_role("button", name="Valider l'identité").click()
    page.wait_for_url(f"**/patients/{pid}?identite=valide*")
    block = page.locator("#identitovigilance")
    assert "Identité validée" in block.inner_text()
    assert "Passeport, contrôlée par" in block.inner_text()
    block.get_by_text("Saisir le résultat du téléservice INSi").click()
    block.scroll_into_view_if_needed()
    shot(page, "identity-status")
