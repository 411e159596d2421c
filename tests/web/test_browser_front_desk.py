"""The front desk in Chromium (fr-FR): prefix + birth-year search, linking a patient
known in another lab, and break-glass from the page. Screenshots with
ETANCHE_SCREENSHOTS=1: search-prefix.png, cross-lab-link.png, break-glass.png.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from browser_support import log_in, shot

from etanche.access import Role

if TYPE_CHECKING:
    from tests.web.conftest import WebVault


def test_prefix_and_birth_year_search(tabs: Any, web_vault: WebVault) -> None:
    maelle = web_vault.maelle
    page = tabs()
    log_in(page, web_vault, web_vault.person(Role.RECEPTION))
    card = page.locator("form", has=page.get_by_role("group", name="Par début de nom et naissance"))
    card.get_by_label("Début du nom de naissance").fill(maelle.birth_name[:6].lower())
    card.get_by_label("Année ou date de naissance").fill(str(maelle.birth_date.year))
    card.get_by_role("button", name="Rechercher par début de nom").click()
    results = page.locator("#resultats")
    results.wait_for()
    assert "Résultats : 1 dossier" in results.inner_text()
    assert maelle.birth_name not in results.inner_text()
    assert "cherchez par NIR ou par identité complète" in results.inner_text()
    shot(page, "search-prefix")
    card = page.locator("form", has=page.get_by_role("group", name="Par début de nom et naissance"))
    card.get_by_label("Année ou date de naissance").fill(f"{maelle.birth_date:%d%m%Y}")
    card.get_by_role("button", name="Rechercher par début de nom").click()
    page.locator("#resultats").wait_for()
    assert "Résultats : 1 dossier" in page.locator("#resultats").inner_text()


def test_a_patient_known_elsewhere_is_linked_from_the_search(
    tabs: Any, web_vault: WebVault
) -> None:
    other = web_vault.patient("L02", index=11, nir=True)
    assert other.nir is not None
    page = tabs()
    log_in(page, web_vault, web_vault.person(Role.RECEPTION))
    card = page.locator("form", has=page.get_by_role("group", name=re.compile("Par NIR")))
    card.get_by_label("NIR").fill(other.nir)
    card.get_by_role("button", name="Rechercher par NIR").click()
    known = page.locator("#connu-ailleurs")
    known.wait_for()
    assert "Patient connu dans le réseau" in known.inner_text()
    assert page.get_by_role("link", name="Créer un nouveau dossier").count() == 0
    shot(page, "cross-lab-link")
    known.get_by_role("button", name="Rattacher à mon laboratoire").click()
    page.wait_for_url(re.compile(r".*/patients/[0-9a-f]{32}\?ok=rattache"))
    flash = page.get_by_role("status").first.inner_text()
    assert "rattaché à l'identité connue dans le réseau" in flash or "rattaché" in page.content()
    assert other.birth_name.upper() in page.get_by_role("heading", level=1).inner_text().upper()


def test_break_glass_from_the_page(tabs: Any, web_vault: WebVault) -> None:
    other = web_vault.patient("L02", index=12, nir=True)
    assert other.nir is not None
    page = tabs()
    log_in(page, web_vault, web_vault.person(Role.RECEPTION))
    card = page.locator("form", has=page.get_by_role("group", name=re.compile("Par NIR")))
    card.get_by_label("NIR").fill(other.nir)
    card.get_by_role("button", name="Rechercher par NIR").click()
    page.locator("#connu-ailleurs").get_by_role("link", name=re.compile("bris de glace")).click()
    page.wait_for_url("**/break-glass")
    assert page.get_by_role("heading", level=1).inner_text() == "Accès d'urgence (bris de glace)"
    page.get_by_label("Motif").fill("Patient adressé en urgence par le SAMU, bilan demandé")
    page.get_by_label("Durée").select_option("15")
    shot(page, "break-glass")
    page.get_by_role("button", name="Activer le bris de glace").click()
    page.wait_for_url("**/patients?ok=bris")
    banner = page.locator(".bris-de-glace").first.inner_text()
    assert "Bris de glace actif jusqu'à" in banner
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", banner)
    card = page.locator("form", has=page.get_by_role("group", name=re.compile("Par NIR")))
    card.get_by_label("NIR").fill(other.nir)
    card.get_by_role("button", name="Rechercher par NIR").click()
    results = page.locator("#resultats")
    results.wait_for()
    assert "Résultats : 1 dossier" in results.inner_text()
