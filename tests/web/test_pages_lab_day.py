"""The sheet as a lab's day needs it: last visit, accession, tube label, names not codes.

Through the pages (TestClient): a specimen moves the record's last visit and the
success message repeats its accession number; the tube label is an audited PDF
whose Code 128 decodes back to that number; the prescriber is prefilled from
the treating doctor; birthplace and labs read as names; pregnancy is asked of
women only.
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

import pypdfium2
import zxingcpp
from fastapi.testclient import TestClient

from etanche.access import Role
from etanche.domain import Sex
from etanche.vault import new_record_id

if TYPE_CHECKING:
    from tests.web.conftest import WebVault


def decode_label(pdf: bytes) -> list[str]:
    """The barcodes a maintained reader (zxing-cpp) finds on the label rendered at 600 dpi."""
    document = pypdfium2.PdfDocument(io.BytesIO(pdf))
    try:
        image = document[0].render(scale=600 / 72).to_pil()
    finally:
        document.close()
    return [f"{found.format.name}:{found.text}" for found in zxingcpp.read_barcodes(image)]


def _specimen_form(csrf: str, accession: str, when: str) -> dict[str, str]:
    return {
        "csrf": csrf,
        "lab_id": "L01",
        "accession": accession,
        "collected_at": when,
        "specimen_type": "sang veineux",
        "prescriber_name": "Dr Yann Caradec",
        "prescriber_rpps": "10507989589",
    }


def test_a_specimen_moves_the_last_visit_and_its_label_decodes_to_the_accession(
    web_vault: WebVault, client: TestClient
) -> None:
    patient = web_vault.patient(index=7)
    web_vault.vault.update(replace(patient, last_visit=date(2024, 1, 5)))
    csrf = web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    done = client.post(
        f"/patients/{patient.id}/specimens/new",
        data=_specimen_form(csrf, "L01LABDAY00042", "2025-03-04T09:10"),
    )
    assert done.status_code == 303, done.text
    sheet = client.get(done.headers["location"]).text
    assert 'Prélèvement n° <strong class="code">L01LABDAY00042</strong> enregistré' in sheet
    assert "<dt>Dernière visite</dt><dd>04/03/2025</dd>" in sheet
    assert web_vault.vault.get(patient.id).last_visit == date(2025, 3, 4)

    # an older specimen never moves the last visit back
    older = client.post(
        f"/patients/{patient.id}/specimens/new",
        data=_specimen_form(csrf, "L01LABDAY00041", "2024-12-01T09:10"),
    )
    assert older.status_code == 303
    assert web_vault.vault.get(patient.id).last_visit == date(2025, 3, 4)

    specimen = next(
        s for s in web_vault.vault.specimens_of(patient.id) if s.accession == "L01LABDAY00042"
    )
    label = client.get(f"/patients/{patient.id}/specimens/{specimen.id}/etiquette.pdf")
    assert label.status_code == 200
    assert label.headers["content-type"] == "application/pdf"
    assert label.headers["cache-control"] == "no-store"
    assert decode_label(label.content) == ["Code128:L01LABDAY00042"]
    web_vault.flush(client.app)
    printed = web_vault.events("specimen.label", patient.id)
    assert [e.outcome.value for e in printed] == ["ok"]
    assert specimen.id in printed[0].object_ids


def test_a_label_is_refused_outside_ones_labs_and_for_another_patients_specimen(
    web_vault: WebVault, client: TestClient
) -> None:
    maelle = web_vault.maelle
    specimen = web_vault.vault.specimens_of(maelle.id)[0]
    stranger = web_vault.person(Role.RECEPTION, ("L02",))
    web_vault.sign_in(client, stranger)
    refused = client.get(f"/patients/{maelle.id}/specimens/{specimen.id}/etiquette.pdf")
    assert refused.status_code == 403
    assert "%PDF" not in refused.text
    web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    other = web_vault.patient(index=2)
    mismatched = client.get(f"/patients/{other.id}/specimens/{specimen.id}/etiquette.pdf")
    assert mismatched.status_code == 404
    missing = client.get(f"/patients/{maelle.id}/specimens/{new_record_id()}/etiquette.pdf")
    assert missing.status_code == 404


def test_the_prescriber_is_prefilled_from_the_treating_doctor(
    web_vault: WebVault, client: TestClient
) -> None:
    web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    form = client.get(f"/patients/{web_vault.maelle.id}/specimens/new").text
    assert 'value="Dr Céline Courtois"' in form
    assert 'value="10507989589"' in form


def test_the_sheet_names_places_and_labs_and_asks_pregnancy_of_women_only(
    web_vault: WebVault, client: TestClient
) -> None:
    web_vault.sign_in(client, web_vault.members[Role.BIOLOGIST])
    sheet = client.get(f"/patients/{web_vault.maelle.id}").text
    assert "<dt>Lieu de naissance</dt><dd>Brest</dd>" in sheet
    assert "29019" not in sheet
    lab_name = next(lab.name for lab in web_vault.vault.labs() if lab.id == "L01")
    assert f"<td>{lab_name}</td>" in sheet
    assert "<td>L01</td>" not in sheet
    assert "Grossesse" in sheet  # asked of her, even when unknown

    man = next(
        p
        for p in web_vault.patients
        if p.lab_id == "L01" and p.sex is Sex.MALE and p.clinical.pregnant is None
    )
    his = client.get(f"/patients/{man.id}").text
    assert "Grossesse" not in his


def test_search_results_name_the_lab(web_vault: WebVault, client: TestClient) -> None:
    csrf = web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    maelle = web_vault.maelle
    found = client.post("/patients/search", data={"csrf": csrf, "mode": "nir", "nir": maelle.nir})
    assert found.status_code == 200
    lab_name = next(lab.name for lab in web_vault.vault.labs() if lab.id == "L01")
    assert f"<td>{lab_name}</td>" in found.text
    assert "<td>L01</td>" not in found.text
