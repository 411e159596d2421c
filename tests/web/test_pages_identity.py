"""Identity vigilance pages: status moves from the sheet, the masked review, merge and unmerge.

Values of the reviewed records appear only after a reveal with a purpose; every
reveal is a ``patient.read`` in the log. The FHIR Patient shows the status with
how it was validated.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from html import unescape
from typing import TYPE_CHECKING

from fastapi.testclient import TestClient

from etanche.access import Role
from etanche.domain import (
    DocumentCheck,
    IdentityDocument,
    IdentityStatus,
    InsRetrieval,
    Patient,
    Sex,
    strict_traits,
)
from etanche.web.fhir._patient import patient_resource

if TYPE_CHECKING:
    from tests.web.conftest import WebVault


def _fresh(web_vault: WebVault, index: int, lab: str = "L01") -> str:
    """A synthetic record put back to provisoire, for this test alone."""
    patient = web_vault.patient(lab, index=index)
    web_vault.vault.update(replace(patient, identity_status=IdentityStatus.PROVISIONAL))
    return patient.id


def test_reception_validates_at_the_desk_and_cannot_qualify_without_ins(
    web_vault: WebVault, client: TestClient
) -> None:
    pid = _fresh(web_vault, 20)
    csrf = web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    sheet = unescape(client.get(f"/patients/{pid}").text)
    assert "Statut de l'identité (RNIV)" in sheet and "Valider l'identité" in sheet
    assert "Rétrograder" not in sheet  # the officer's
    low = client.post(
        f"/patients/{pid}/identite/valider", data={"csrf": csrf, "document": "permis"}
    )
    assert low.headers["location"].endswith("identite=refus&champ=document#identitovigilance")
    done = client.post(f"/patients/{pid}/identite/valider", data={"csrf": csrf, "document": "cni"})
    assert done.status_code == 303
    sheet = unescape(client.get(f"/patients/{pid}").text)
    assert "Identité validée" in sheet and "Carte nationale d'identité, contrôlée par" in sheet
    refused = client.post(f"/patients/{pid}/identite/qualifier", data={"csrf": csrf})
    assert "champ=ins" in refused.headers["location"]
    notice = unescape(client.get(refused.headers["location"]).text)
    assert "Opération refusée : l'INS est absent" in notice
    assert web_vault.vault.get(pid).identity_status is IdentityStatus.VALIDATED


def test_an_insi_result_then_qualification_from_the_sheet(
    web_vault: WebVault, client: TestClient
) -> None:
    pid = _fresh(web_vault, 21)
    patient = web_vault.vault.get(pid)
    csrf = web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    client.post(f"/patients/{pid}/identite/valider", data={"csrf": csrf, "document": "passeport"})
    form = {
        "csrf": csrf,
        "matricule": "2 85 07 29 019 123 45",
        "oid": "1.2.250.1.213.1.4.8",
        "ins_birth_name": patient.birth_name.upper(),
        "ins_first_names": " ".join(patient.first_names),
        "ins_sex": patient.sex.value,
        "ins_birth_date": patient.birth_date.isoformat(),
        "ins_birthplace": patient.birthplace_insee or "",
        "retrieved_on": "2026-12-02",
    }
    entered = client.post(f"/patients/{pid}/identite/ins", data=form)
    assert entered.headers["location"].endswith("identite=ins#identitovigilance")
    qualified = client.post(f"/patients/{pid}/identite/qualifier", data={"csrf": csrf})
    assert qualified.headers["location"].endswith("identite=qualifie#identitovigilance")
    assert web_vault.vault.get(pid).identity_status is IdentityStatus.QUALIFIED
    assert "Identité qualifiée" in unescape(client.get(f"/patients/{pid}").text)


def test_the_review_page_masks_until_a_reveal_with_a_purpose(
    web_vault: WebVault, client: TestClient
) -> None:
    left, right = _fresh(web_vault, 22), _fresh(web_vault, 23)
    shown = web_vault.vault.get(left)
    officer = web_vault.members[Role.IDENTITY_OFFICER]
    csrf = web_vault.sign_in(client, officer)
    page = unescape(client.get(f"/identity/review?left={left}&right={right}").text)
    assert "Examen d'un doublon potentiel" in page and 'class="differe"' in page
    assert shown.birth_name not in page and shown.birth_date.strftime("%d/%m/%Y") not in page
    reads = len(web_vault.events("patient.read", left))
    no_purpose = client.post(
        "/identity/review", data={"csrf": csrf, "left": left, "right": right, "show": "left"}
    )
    assert no_purpose.status_code == 422 and shown.birth_name not in unescape(no_purpose.text)
    revealed = client.post(
        "/identity/review",
        data={
            "csrf": csrf,
            "left": left,
            "right": right,
            "show": "left",
            "purpose": "doublon signalé",
        },
    )
    text = unescape(revealed.text)
    assert shown.birth_name in text and shown.birth_date.strftime("%d/%m/%Y") in text
    events = web_vault.events("patient.read", left)
    assert len(events) == reads + 1
    assert events[-1].purpose == "doublon signalé" and events[-1].actor == officer.username


def test_merge_then_unmerge_from_the_pages(web_vault: WebVault, client: TestClient) -> None:
    survivor, absorbed = _fresh(web_vault, 24), _fresh(web_vault, 25)
    csrf = web_vault.sign_in(client, web_vault.members[Role.IDENTITY_OFFICER])
    merged = client.post(
        "/identity/merge",
        data={
            "csrf": csrf,
            "left": survivor,
            "right": absorbed,
            "survivor": "left",
            "confirm": "oui",
        },
    )
    assert merged.status_code == 303
    merge_page = unescape(client.get(merged.headers["location"]).text)
    assert "dossiers fusionnés" in merge_page and "Annuler la fusion" in merge_page
    banner = unescape(client.get(f"/patients/{absorbed}").text)
    assert "Ce dossier a été fusionné dans le dossier" in banner
    merge_id = re.search(r"/identity/merges/([0-9a-f]{32})", merged.headers["location"])
    assert merge_id is not None
    undone = client.post(
        f"/identity/merges/{merge_id.group(1)}/unmerge", data={"csrf": csrf, "confirm": "oui"}
    )
    assert undone.status_code == 303
    assert "fusion annulée" in unescape(client.get(undone.headers["location"]).text)
    assert "fusionné dans" not in unescape(client.get(f"/patients/{absorbed}").text)
    reception = web_vault.members[Role.RECEPTION]
    csrf = web_vault.sign_in(client, reception)
    refused = client.post(
        "/identity/merge",
        data={"csrf": csrf, "left": survivor, "right": absorbed, "confirm": "oui"},
    )
    assert refused.status_code == 403


def test_fhir_patient_shows_status_validation_mode_and_ins() -> None:
    base = _domain_patient()
    at = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    patient = replace(
        base,
        nir=None,
        identity_status=IdentityStatus.QUALIFIED,
        identity_document=DocumentCheck(IdentityDocument.PASSPORT, "mleguen", at),
        ins=InsRetrieval("285072901912345", "1.2.250.1.213.1.4.8", strict_traits(base), at, "x"),
    )
    doc = patient_resource(patient)
    parts = {e["url"]: e for e in doc["extension"][0]["extension"]}
    assert parts["identityStatus"]["valueCoding"]["code"] == "QUAL"
    assert parts["validationMode"]["valueCoding"]["code"] == "PA"
    assert parts["validationDate"]["valueDate"] == "2026-12-02"
    assert doc["identifier"][0]["system"] == "urn:oid:1.2.250.1.213.1.4.8"
    assert doc["identifier"][0]["value"] == "285072901912345"


def _domain_patient() -> Patient:
    return Patient(
        id="0" * 32,
        lab_id="L01",
        birth_name="Le Bihan",
        first_names=("Maëlle",),
        sex=Sex.FEMALE,
        birth_date=date(1985, 7, 14),
        birthplace_insee="29019",
    )


def test_a_merge_across_labs_waits_for_the_other_labs_officer(
    web_vault: WebVault, client: TestClient
) -> None:
    survivor, absorbed = _fresh(web_vault, 26), _fresh(web_vault, 20, "L02")
    first = web_vault.person(Role.IDENTITY_OFFICER, ("L01",))
    csrf = web_vault.sign_in(client, first)
    asked = client.post(
        "/identity/merge",
        data={"csrf": csrf, "left": survivor, "right": absorbed, "confirm": "oui"},
    )
    page = unescape(client.get(asked.headers["location"]).text)
    assert "en attente d'approbation" in page and "En attente du référent de" in page
    approve = asked.headers["location"] + "/approve"
    assert client.post(approve, data={"csrf": csrf}).status_code == 403  # not twice
    other = web_vault.person(Role.IDENTITY_OFFICER, ("L02",))
    csrf = web_vault.sign_in(client, other)
    done = client.post(approve, data={"csrf": csrf})
    assert done.status_code == 303
    page = unescape(client.get(done.headers["location"]).text)
    assert "dossiers fusionnés" in page and first.username in page and other.username in page
