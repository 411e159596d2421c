"""The DPO follows an incident in Chromium (fr-FR): opens it, assesses it, downloads the
CNIL draft, records the filing and closes it with a conclusion; each step shows its
Paris date and the CNIL deadline reads in French. Field errors: test_pages_incident_follow.py.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from browser_support import log_in, shot
from tests.web.test_browser_lab_day import VISIBLE_TEXT, english_in

from etanche.access import Role
from etanche.web._pages_common import now_paris

if TYPE_CHECKING:
    from tests.web.conftest import WebVault


def test_the_dpo_opens_assesses_files_and_closes_an_incident(
    tabs: Any, web_vault: WebVault
) -> None:
    page = tabs()
    log_in(page, web_vault, web_vault.person(Role.DPO, ("*",)))
    page.goto("/incidents/new")
    page.get_by_label(re.compile("^Intitulé")).fill("Sauvegarde exposée sur un serveur de test")
    discovered = (now_paris() - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label(re.compile("^Date et heure de la découverte")).fill(discovered)
    page.get_by_role("button", name="Ouvrir l'incident").click()
    page.wait_for_url(re.compile(r"/incidents/INC-[^?]+\?note=ouvert$"))
    deadline = page.locator("#echeance").inner_text()
    assert re.fullmatch(r"Échéance CNIL : \d{1,2}(er)? \w+ \d{4} à \d\d:\d\d, dans 6\d h", deadline)

    page.get_by_label(re.compile("^Données publiées ou communiquées")).check()
    page.get_by_label(re.compile("^Intention malveillante")).check()
    page.get_by_role("button", name="Enregistrer l'évaluation").click()
    page.wait_for_url("**?note=evaluee")
    assert "La gravité a été réévaluée." in page.locator("p.flash").inner_text()

    with page.expect_download() as download:
        page.get_by_role("button", name="Télécharger le projet en PDF").click()
    assert download.value.suggested_filename.startswith("notification-cnil-INC-")

    page.get_by_label("Référence attribuée par la CNIL").fill("NOTIF-2026-0042")
    page.get_by_role("button", name="Enregistrer le dépôt").click()
    page.wait_for_url("**?note=deposee")
    assert "notifiée le" in page.locator("#echeance").inner_text()
    steps = page.locator("#etapes tbody").inner_text()
    assert "référence NOTIF-2026-0042" in steps
    assert steps.count("à faire") == 2  # the letters and the closing are still to do

    page.get_by_label(re.compile("^Conclusion")).fill("Copie retirée, accès au serveur fermé.")
    page.get_by_role("button", name="Clore l'incident").click()
    page.wait_for_url("**?note=close")
    steps = page.locator("#etapes tbody").inner_text()
    assert steps.count("à faire") == 1  # only the letters, which the CLI writes
    assert re.search(r"Clôture\s+\d{1,2}(er)? \w+ \d{4} à \d\d:\d\d", steps)
    assert "Conclusion : Copie retirée" in page.locator("ol.chronologie").inner_text()
    assert english_in(page.evaluate(VISIBLE_TEXT)) == []
    shot(page, "incident-follow")
