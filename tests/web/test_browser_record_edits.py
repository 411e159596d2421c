"""The full record edited by who may, in Chromium (fr-FR).

- a secretary enters the insurance at intake, then edits it: the sheet names the
  régime (« Régime agricole (MSA) »), not its code alone;
- a biologist edits the clinical part with a reason (the form's errors, HTTP 422,
  are tested without a browser in test_pages_record_edits.py); the history page shows the
  version: who (name and role), when (Paris time, French format), which fields
  (French names) and why.

Each new page is also read for English words with the page walk's test (which
walks them too, following the sheet's links). Screenshots with
ETANCHE_SCREENSHOTS=1: insurance-edit.png, clinical-edit.png, clinical-history.png.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from browser_support import log_in, shot
from test_browser_lab_day import VISIBLE_TEXT, english_in

from etanche.access import Role
from etanche.domain import Sex

if TYPE_CHECKING:
    from tests.web.conftest import WebVault


def _field(page: Any, label: str) -> Any:
    return page.get_by_label(label, exact=True)


def test_the_desk_enters_and_edits_insurance(tabs: Any, web_vault: WebVault) -> None:
    page = tabs()
    log_in(page, web_vault, web_vault.person(Role.RECEPTION))
    page.goto("/patients/new")
    _field(page, "Laboratoire du dossier (obligatoire)").select_option("L01")
    _field(page, "Nom de naissance (obligatoire)").fill("Kerhervé")
    _field(page, "Prénoms de naissance (obligatoire)").fill("Loeiz Yann")
    page.get_by_label("Masculin").check()
    _field(page, "Date de naissance (obligatoire)").fill("1961-09-23")
    _field(page, "Régime obligatoire").select_option("01")
    _field(page, "Caisse").fill("291")
    _field(page, "Complémentaire santé").fill("Mutuelle des Abers")
    _field(page, "Numéro d'adhérent").fill("AB 5512")
    page.get_by_role("button", name="Créer le dossier").click()
    page.wait_for_url(re.compile(r".*/patients/[0-9a-f]{32}\?ok=cree"))
    sheet = page.locator("main").inner_text()
    assert "Régime général" in sheet and "Mutuelle des Abers" in sheet
    page.get_by_role("link", name="Modifier l'identité").click()
    page.wait_for_url(re.compile(r".*/edit$"))
    _field(page, "Régime obligatoire").select_option("02")
    _field(page, "Caisse").fill("29")
    _field(page, "Caisse").press("Tab")  # checked as soon as the field is left
    message = page.locator("#amo_caisse-erreur")
    message.filter(has_text="Code caisse invalide").wait_for()
    assert "3 chiffres attendus" in message.inner_text()
    _field(page, "Caisse").fill("292")
    _field(page, "Caisse").press("Tab")
    page.wait_for_function("() => !document.querySelector('#amo_caisse-erreur').textContent.trim()")
    page.locator("#f-amo_caisse").scroll_into_view_if_needed()
    shot(page, "insurance-edit")
    assert english_in(page.evaluate(VISIBLE_TEXT)) == []
    page.get_by_role("button", name="Enregistrer les modifications").click()
    page.wait_for_url(re.compile(r".*/patients/[0-9a-f]{32}\?ok=modifie"))
    assert page.locator("#regime").inner_text().startswith("Régime agricole (MSA)")
    assert "292" in page.locator("main").inner_text()
    assert page.get_by_role("link", name="Modifier les données cliniques").count() == 0


def test_a_biologist_edits_the_clinical_part_with_a_reason(tabs: Any, web_vault: WebVault) -> None:
    patient = [
        p
        for p in web_vault.patients
        if p.lab_id == "L01" and p.sex is Sex.FEMALE and p.id != web_vault.maelle.id
    ][-2]
    biologist = web_vault.person(Role.BIOLOGIST)
    page = tabs()
    log_in(page, web_vault, biologist)
    page.goto(f"/patients/{patient.id}")
    page.get_by_role("link", name="Modifier les données cliniques").click()
    page.wait_for_url(re.compile(r".*/clinique$"))
    _field(page, "Groupe sanguin").select_option("O-")
    page.get_by_label("Oui", exact=True).check()
    _field(page, "Traitements en cours").fill("Lévothyrox (H03AA01)\nFer (B03AA07)")
    _field(page, "Commentaires").fill("Contrôle de la ferritine à 3 mois")
    page.get_by_label("Motif (obligatoire)").fill("Groupe contrôlé sur deux déterminations")
    shot(page, "clinical-edit")
    assert english_in(page.evaluate(VISIBLE_TEXT)) == []
    page.get_by_role("button", name="Enregistrer les données cliniques").click()
    page.wait_for_url(re.compile(r".*\?ok=clinique$"))
    assert (
        "Les données cliniques ont été mises à jour"
        in page.get_by_role("status").first.inner_text()
    )
    clinical = page.locator(".clinique").inner_text()
    assert "O-" in clinical and "Fer" in clinical
    page.get_by_role("link", name="Historique").click()
    page.wait_for_url(re.compile(r".*/history$"))
    row = page.locator("tbody tr").first.inner_text()
    assert "Groupe contrôlé sur deux déterminations" in row
    assert f"{biologist.full_name} (biologiste)" in row
    assert "groupe sanguin" in row and "traitements" in row
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}", row)
    shot(page, "clinical-history")
    assert english_in(page.evaluate(VISIBLE_TEXT)) == []
