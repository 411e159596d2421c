"""The DPO finds who opened a patient's file and produces the art. 15 report (Chromium, fr-FR).

A biologist opens Maëlle's sheet; the DPO finds her record from her NIR (and
from the audit browser filtered on it), reads « Qui a consulté ce dossier ? » in
French (Paris time, role, lab, action), then produces the report: one ZIP download holding
the PDF and the FHIR copy, each age-encrypted to the passphrase she typed.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import TYPE_CHECKING, Any

import pyrage.passphrase
from browser_support import log_in, shot

from etanche.access import Role

if TYPE_CHECKING:
    from tests.web.conftest import WebVault

PASSPHRASE = "pointe du Raz 2026"


def test_dpo_finds_who_opened_a_file_and_produces_the_report(
    tabs: Any, web_vault: WebVault
) -> None:
    maelle = web_vault.maelle
    biologist = tabs()
    log_in(biologist, web_vault, web_vault.person(Role.BIOLOGIST))
    biologist.goto(f"/patients/{maelle.id}")
    assert "LE BIHAN" in biologist.get_by_role("heading", level=1).inner_text()

    page = tabs()
    log_in(page, web_vault, web_vault.person(Role.DPO, ("*",)))
    page.get_by_role("link", name="Qui a consulté ?").click()  # from the patient's NIR
    page.get_by_label("NIR du patient").fill(maelle.nir or "")
    page.get_by_role("button", name="Rechercher le dossier").click()
    page.get_by_role("link", name=re.compile(f"Dossier …{maelle.id[-8:]}")).click()
    page.wait_for_url(re.compile(r"/acces\?dossier="))
    assert page.get_by_role("heading", level=1).inner_text() == "Qui a consulté ce dossier ?"
    page.goto(f"/audit?patient={maelle.id}")  # the audit browser links to the same page
    page.get_by_role("link", name="Qui a consulté ce dossier ?").click()
    page.wait_for_url(re.compile(r"/acces\?dossier="))
    table = page.locator("table")
    rows = table.locator("tbody tr")
    assert rows.count() >= 1
    text = table.inner_text()
    assert "Consultation du dossier" in text and "Biologiste" in text
    assert re.search(r"\d\d/\d\d/20\d\d à \d\d h \d\d", text)
    assert maelle.birth_name not in page.content() and (maelle.nir or "-") not in page.content()
    shot(page, "access-list")

    page.get_by_label("Phrase de passe", exact=True).fill(PASSPHRASE)
    page.get_by_label("Phrase de passe (confirmation)").fill(PASSPHRASE)
    with page.expect_download(timeout=60_000) as info:  # the service builds and encrypts
        page.get_by_role("button", name="Produire le rapport").click(no_wait_after=True)
    download = info.value
    assert download.suggested_filename == f"acces-{maelle.id[-8:]}.zip"
    with zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read())) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    assert sorted(files) == [
        f"acces-{maelle.id[-8:]}.fhir.json.age",
        f"acces-{maelle.id[-8:]}.pdf.age",
    ]
    pdf = pyrage.passphrase.decrypt(files[f"acces-{maelle.id[-8:]}.pdf.age"], PASSPHRASE)
    assert pdf.startswith(b"%PDF")
    bundle = json.loads(
        pyrage.passphrase.decrypt(files[f"acces-{maelle.id[-8:]}.fhir.json.age"], PASSPHRASE)
    )
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "AuditEvent", "Binary", "Composition"} <= kinds
