"""The full record edited by who may, through the pages (TestClient).

Insurance at the front desk: named régime on the sheet, one French message per
bad field. A changed strict identity trait needs a reason. The clinical part:
a biologist edits it with a reason and the history names who, when, which
fields and why; a secretary has no link and gets the French refusal page.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from fastapi.testclient import TestClient

from etanche.access import Role
from etanche.domain import Patient, Sex
from etanche.web._pages_forms import patient_raw

if TYPE_CHECKING:
    from tests.web.conftest import WebVault

HTML = {"Accept": "text/html"}


def _l01(web_vault: WebVault, back: int, sex: Sex | None = None) -> Patient:
    """A patient of L01 taken from the end of the list (other tests take from the start)."""
    found = [
        p
        for p in web_vault.patients
        if p.lab_id == "L01" and (sex is None or p.sex is sex) and p.id != web_vault.maelle.id
    ]
    return found[-back]


def _errors(text: str) -> dict[str, str]:
    return dict(re.findall(r'id="(\w+)-erreur" aria-live="polite">([^<]+)<', text))


def test_the_desk_enters_insurance_and_the_sheet_names_the_regime(
    web_vault: WebVault, client: TestClient
) -> None:
    patient = _l01(web_vault, 1)
    csrf = web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    form = client.get(f"/patients/{patient.id}/edit", headers=HTML)
    assert "Régime obligatoire" in form.text and "02 — Régime agricole (MSA)" in form.text
    values = {**patient_raw(web_vault.vault.get(patient.id)), "csrf": csrf}
    values.update(amo_regime="77", amo_caisse="29A", amc_name="", amc_member_number="Z9")
    bad = client.post(f"/patients/{patient.id}/edit", data=values, headers=HTML)
    assert bad.status_code == 422
    errors = _errors(bad.text)
    assert errors["amo_regime"] == "Choisissez le régime obligatoire dans la liste."
    assert errors["amo_caisse"].startswith("Code caisse invalide : 3 chiffres")
    assert errors["amc_name"].startswith("Indiquez le nom de la complémentaire")
    assert web_vault.vault.get(patient.id).insurance == patient.insurance  # nothing written
    values.update(amo_regime="02", amo_caisse="291", amc_name="Mutuelle des Abers")
    values.update(amc_member_number="AB 7781204")
    done = client.post(f"/patients/{patient.id}/edit", data=values)
    assert done.status_code == 303, _errors(done.text)
    stored = web_vault.vault.get(patient.id).insurance
    assert stored is not None and (stored.amo_regime, stored.amo_caisse) == ("02", "291")
    assert stored.amc_name == "Mutuelle des Abers"
    sheet = client.get(f"/patients/{patient.id}", headers=HTML).text
    assert "Régime agricole (MSA)" in sheet and "Complémentaire santé" in sheet
    assert "Mutuelle des Abers" in sheet and ">291<" in sheet


def test_a_changed_strict_trait_needs_a_reason(web_vault: WebVault, client: TestClient) -> None:
    patient = _l01(web_vault, 2)
    csrf = web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    values = {**patient_raw(web_vault.vault.get(patient.id)), "csrf": csrf}
    values["first_names"] = values["first_names"] + " Soizic"
    refused = client.post(f"/patients/{patient.id}/edit", data=values, headers=HTML)
    assert refused.status_code == 422
    assert _errors(refused.text)["motif"].startswith("Indiquez le motif : un trait strict")
    assert web_vault.vault.get(patient.id).first_names == patient.first_names
    values["motif"] = "Second prénom lu sur la carte d'identité"
    assert client.post(f"/patients/{patient.id}/edit", data=values).status_code == 303
    values = {**patient_raw(web_vault.vault.get(patient.id)), "csrf": csrf}
    values["city"] = values["city"] or "Brest"  # a contact: no reason needed
    values["address_line"] = "8 rue de la Mairie"
    values["postcode"] = "29200"
    assert client.post(f"/patients/{patient.id}/edit", data=values).status_code == 303


def test_a_biologist_edits_the_clinical_part_and_the_history_says_who_and_why(
    web_vault: WebVault, client: TestClient
) -> None:
    patient = _l01(web_vault, 1, Sex.FEMALE)
    bio = web_vault.members[Role.BIOLOGIST]
    csrf = web_vault.sign_in(client, bio)
    sheet = client.get(f"/patients/{patient.id}", headers=HTML).text
    assert f'href="/patients/{patient.id}/clinique"' in sheet
    page = client.get(f"/patients/{patient.id}/clinique", headers=HTML)
    assert page.status_code == 200 and "Motif" in page.text and "Grossesse" in page.text
    form = {
        "csrf": csrf,
        "blood_group": "B-",
        "pregnant": "oui",
        "treatments": "Lévothyrox (H03AA01)\nParacétamol 500",
        "pathologies": "Hypothyroïdie",
        "comments": "",
        "motif": "",
    }
    bad = client.post(f"/patients/{patient.id}/clinique", data=form, headers=HTML)
    assert bad.status_code == 422
    errors = _errors(bad.text)
    assert errors["motif"].startswith("Indiquez le motif")
    assert errors["treatments"].startswith("Ligne 2 :")
    assert web_vault.vault.get(patient.id).clinical == patient.clinical
    form.update(treatments="Lévothyrox (H03AA01)", motif="Groupe contrôlé sur deux déterminations")
    done = client.post(f"/patients/{patient.id}/clinique", data=form)
    assert done.status_code == 303 and done.headers["location"].endswith("?ok=clinique")
    clinical = web_vault.vault.get(patient.id).clinical
    assert str(clinical.blood_group) == "B-" and clinical.pregnant is True
    assert [t.atc for t in clinical.treatments] == ["H03AA01"]
    flash = client.get(done.headers["location"], headers=HTML).text
    assert "Les données cliniques ont été mises à jour" in flash
    history = client.get(f"/patients/{patient.id}/history", headers=HTML).text
    assert "Groupe contrôlé sur deux déterminations" in history
    assert f"{bio.full_name} (biologiste)" in history
    assert "groupe sanguin" in history and "grossesse" in history
    assert re.search(r"<td>\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}</td>", history)


def test_pregnancy_is_refused_for_a_man_with_a_french_message(
    web_vault: WebVault, client: TestClient
) -> None:
    patient = _l01(web_vault, 1, Sex.MALE)
    csrf = web_vault.sign_in(client, web_vault.members[Role.BIOLOGIST])
    page = client.get(f"/patients/{patient.id}/clinique", headers=HTML)
    assert page.status_code == 200
    if patient.clinical.pregnant is None:
        assert "Grossesse" not in page.text  # shown only when it applies
    form = {"csrf": csrf, "pregnant": "oui", "motif": "Erreur de saisie corrigée"}
    bad = client.post(f"/patients/{patient.id}/clinique", data=form, headers=HTML)
    assert bad.status_code == 422
    assert _errors(bad.text)["pregnant"].startswith("Une grossesse ne peut être indiquée")


def test_a_secretary_has_no_link_and_the_form_is_refused_in_french(
    web_vault: WebVault, client: TestClient
) -> None:
    patient = _l01(web_vault, 3)
    web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    sheet = client.get(f"/patients/{patient.id}", headers=HTML).text
    assert "/clinique" not in sheet and "Modifier les données cliniques" not in sheet
    refused = client.get(f"/patients/{patient.id}/clinique", headers=HTML)
    assert refused.status_code == 403
    assert "Cette action n&#39;est pas permise à votre compte" in refused.text
