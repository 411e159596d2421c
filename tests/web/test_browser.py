"""The pages in a real Chromium (Debian's), driven by Playwright, against a live server.

What a person does with a keyboard and a browser: log in with a TOTP code, search,
open a sheet, get a live field error on a wrong NIR key, record a specimen,
manage accounts, acknowledge an alert. Any console error (a CSP violation, a
script error) fails the test. Fixtures and helpers: ``browser_support.py``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from browser_support import log_in, shot

from etanche.access import Role
from etanche.audit._decoys import plant_decoys
from etanche.synth import staff_rpps

if TYPE_CHECKING:
    from tests.web.conftest import WebVault


def test_reception_logs_in_searches_and_opens_a_sheet_without_clinical_data(
    tabs: Any, web_vault: WebVault
) -> None:
    maelle = web_vault.maelle
    page = tabs()
    log_in(page, web_vault, web_vault.person(Role.RECEPTION), screenshot=True)
    assert page.get_by_role("heading", level=1).inner_text() == "Rechercher un patient"
    identity = page.locator("form", has=page.get_by_role("group", name="Par traits d'identité"))
    identity.get_by_label("Nom de naissance", exact=True).fill(maelle.birth_name)
    identity.get_by_label("Premier prénom de naissance").fill(maelle.first_names[0])
    identity.get_by_label("Date de naissance", exact=True).fill(maelle.birth_date.isoformat())
    identity.get_by_role("button", name="Rechercher par identité").click()
    results = page.locator("#resultats")
    results.wait_for()
    assert "Résultats : 1 dossier" in results.inner_text()
    assert "L•••" in results.inner_text()  # masked
    assert maelle.birth_name not in results.inner_text()
    assert "existe dans un autre laboratoire du réseau" in results.inner_text()
    shot(page, "search-results")
    results.get_by_role("link", name=re.compile("Ouvrir la fiche")).click()
    page.wait_for_url(f"**/patients/{maelle.id}")
    assert "LE BIHAN Maëlle Anne" in page.get_by_role("heading", level=1).inner_text()
    clinical = page.locator("section", has=page.get_by_role("heading", name="Données cliniques"))
    assert "Données cliniques non accessibles pour votre rôle" in clinical.inner_text()
    assert "A+" not in clinical.inner_text()
    shot(page, "patient-sheet-reception")


def test_intake_shows_a_live_nir_error_then_creates_the_patient(
    tabs: Any, web_vault: WebVault
) -> None:
    page = tabs()
    log_in(page, web_vault, web_vault.person(Role.RECEPTION))
    page.get_by_role("link", name="Nouveau patient").click()
    page.wait_for_url("**/patients/new")
    page.get_by_label(re.compile(r"^Nom de naissance")).fill("Kerjean")
    page.get_by_label("Prénoms de naissance").fill("Yannig Erwan")
    page.get_by_label("Masculin").check()
    page.get_by_label(re.compile(r"^Date de naissance")).fill("1978-11-02")
    first13 = "1781129019044"
    good = first13 + f"{97 - int(first13) % 97:02d}"
    wrong = first13 + f"{(int(good[13:]) + 7) % 97:02d}"
    nir = page.get_by_label("NIR (matricule INS)")
    nir.focus()
    page.keyboard.type(wrong)
    page.keyboard.press("Tab")  # leaving the field validates it (htmx, on change)
    error = page.locator("#nir-erreur")
    page.wait_for_function(
        "() => document.querySelector('#nir-erreur').textContent.includes('clé du NIR')"
    )
    assert "La clé du NIR est incorrecte" in error.inner_text()
    page.wait_for_function("() => document.querySelector('#f-nir').ariaInvalid === 'true'")
    assert error.get_attribute("aria-live") == "polite"
    shot(page, "intake-nir-error")
    nir.fill(good)
    page.keyboard.press("Tab")
    page.wait_for_function("() => !document.querySelector('#f-nir').hasAttribute('aria-invalid')")
    assert error.inner_text().strip() == ""
    page.get_by_label("Téléphone").fill("06 77 88 99 00")
    page.get_by_role("button", name="Créer le dossier").click()
    page.wait_for_url(re.compile(r"/patients/[0-9a-f]{32}\?ok=cree$"))
    assert "Le dossier patient a été créé." in page.locator(".flash").inner_text()
    assert "KERJEAN Yannig Erwan" in page.get_by_role("heading", level=1).inner_text()


def test_a_biologist_sees_clinical_data_and_records_a_specimen(
    tabs: Any, web_vault: WebVault
) -> None:
    maelle = web_vault.maelle
    page = tabs()
    log_in(page, web_vault, web_vault.person(Role.BIOLOGIST))
    page.goto(f"/patients/{maelle.id}")
    clinical = page.locator("section", has=page.get_by_role("heading", name="Données cliniques"))
    assert "A+" in clinical.inner_text()
    assert "Lévothyrox" in clinical.inner_text()
    shot(page, "patient-sheet")
    page.get_by_role("link", name="Enregistrer un prélèvement").click()
    page.wait_for_url("**/specimens/new")
    accession = page.get_by_label("Numéro d'enregistrement").input_value()
    assert accession.startswith("L01")
    page.get_by_label("Type de prélèvement").select_option("urine")
    page.get_by_label("Nom du prescripteur").fill("Dr Céline Courtois")
    page.get_by_label("Numéro RPPS").fill("10507989589")
    shot(page, "specimen-form")
    page.get_by_role("button", name="Enregistrer le prélèvement").click()
    page.wait_for_url(re.compile(r"\?prelevement=[0-9a-f]{32}&ok=prelevement$"))
    specimens = page.locator("section", has=page.get_by_role("heading", name=re.compile("Prél")))
    assert accession in specimens.inner_text()
    assert "urine" in specimens.inner_text()


def test_a_lab_admin_adds_then_disables_an_account(tabs: Any, web_vault: WebVault) -> None:
    page = tabs()
    log_in(page, web_vault, web_vault.person(Role.LAB_ADMIN))
    assert page.get_by_role("heading", level=1).inner_text() == "Utilisateurs"
    form = page.locator("form", has=page.get_by_role("button", name="Créer le compte"))
    form.get_by_label(re.compile(r"^Identifiant")).fill("gcadiou")
    form.get_by_label(re.compile(r"^Nom complet")).fill("Gwenola Cadiou")
    form.get_by_label(re.compile(r"^Rôle")).select_option("biologist")
    form.get_by_label(re.compile("L01 —")).check()
    form.get_by_label(re.compile(r"^Numéro RPPS")).fill(staff_rpps("gcadiou"))
    password = "Pointe-Saint-Mathieu-1835"
    form.get_by_label(re.compile(r"^Mot de passe initial")).fill(password)
    form.get_by_label(re.compile(r"^Confirmation du mot de passe")).fill(password)
    form.get_by_role("button", name="Créer le compte").click()
    page.wait_for_url("**/users?ok=demande")  # a biologist waits for a second person
    row = page.locator("tr", has=page.get_by_text("gcadiou", exact=True))
    assert "en attente d'une seconde approbation" in row.inner_text()
    shot(page, "users")
    row.get_by_role("button", name=re.compile("^Désactiver")).click()  # confirm() accepted
    page.wait_for_url("**/users?ok=desactive")
    row = page.locator("tr", has=page.get_by_text("gcadiou", exact=True))
    assert "désactivé" in row.inner_text()


def test_a_dpo_verifies_the_log_and_acknowledges_a_decoy_alert(
    tabs: Any, web_vault: WebVault
) -> None:
    decoy = next(
        pid
        for _ in range(10)
        for pid in plant_decoys(web_vault.vault, 3)
        if web_vault.vault.lab_of(pid) == "L01"
    )
    reader = web_vault.person(Role.BIOLOGIST)
    bio = tabs()
    log_in(bio, web_vault, reader)
    bio.goto(f"/patients/{decoy}")  # nobody has a reason to open a decoy
    bio.get_by_role("heading", level=1).wait_for()

    page = tabs()
    log_in(page, web_vault, web_vault.person(Role.DPO, ("*",)))
    assert page.get_by_role("heading", level=1).inner_text() == "Journal d'audit"
    page.locator("#verification").get_by_text("Journal intègre").wait_for()
    page.get_by_label("Personne (identifiant)").fill(reader.username)
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url(re.compile(r"/audit\?acteur="))
    page.locator("#verification").get_by_text("Journal intègre").wait_for()
    events = page.locator("table").inner_text()
    assert "Lecture de dossier" in events
    assert "Connexion" in events
    shot(page, "audit")

    page.get_by_role("link", name="Alertes").click()
    page.wait_for_url("**/alerts")
    card = page.locator("li.alerte", has=page.get_by_text("Dossier leurre consulté")).filter(
        has=page.get_by_role("link", name=reader.username)
    )
    assert "gravité critique" in card.inner_text()
    card.get_by_label("Note d'acquittement").fill("Biologiste joint : ouverture par erreur.")
    shot(page, "alerts")
    card.get_by_role("button", name=re.compile("^Acquitter")).click()
    page.wait_for_url("**/alerts?ok=acquittee")
    assert "L'alerte a été acquittée." in page.locator(".flash").inner_text()
    page.get_by_role("link", name="afficher aussi les alertes acquittées").click()
    page.wait_for_url("**/alerts?tous=1")
    assert "Biologiste joint : ouverture par erreur." in page.locator("main").inner_text()
    page.get_by_role("link", name="Leurres").click()
    assert "dossiers leurres dans le réseau" in page.locator("main").inner_text()


def test_a_first_login_enrols_the_totp_with_a_local_qr_code(tabs: Any, web_vault: WebVault) -> None:
    root = web_vault.staff.root
    assert root is not None
    web_vault.staff.accounts.add(
        "mriou", "Malo Riou", Role.BIOLOGIST, {"L01"}, web_vault.password, root,
        rpps=staff_rpps("mriou"),
    )  # fmt: skip
    web_vault.staff.approve("mriou")  # the second person
    page = tabs()
    page.goto("/login")
    page.get_by_label("Identifiant", exact=True).fill("mriou")
    page.get_by_label("Mot de passe", exact=True).fill(web_vault.password)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("heading", name="Première connexion").wait_for()
    qr = page.get_by_role("img", name=re.compile("Code QR"))
    assert qr.get_attribute("src").startswith("data:image/svg+xml")  # type: ignore[union-attr]
    assert qr.evaluate("img => img.naturalWidth") > 0
    shot(page, "enrolment")
    web_vault.staff.secrets["mriou"] = page.locator("#secret-totp").inner_text().replace(" ", "")
    page.get_by_label("Mot de passe (à nouveau)").fill(web_vault.password)
    page.get_by_label("Premier code affiché par l'application").fill(web_vault.code("mriou"))
    page.get_by_role("button", name="Confirmer et se connecter").click()
    page.wait_for_url("**/patients")
    assert "mriou" in page.locator(".session").inner_text()
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/login?ok=deconnecte")
    assert "Vous êtes déconnecté." in page.locator(".flash").inner_text()
