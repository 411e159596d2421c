"""The front desk's pages: prefix + birth-year search, French dates, cross-lab link,
break-glass from the page, and no silent duplicate of a person known elsewhere."""

from __future__ import annotations

from html import unescape

from fastapi.testclient import TestClient

from etanche.domain import name_prefix
from etanche.names import Role

from .conftest import WebVault


def test_prefix_and_birth_year_search_lists_own_lab_patients(
    web_vault: WebVault, client: TestClient
) -> None:
    mine = web_vault.patient("L01", index=3)
    other = web_vault.patient("L02", index=3)
    csrf = web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    for born in (
        str(mine.birth_date.year),
        f"{mine.birth_date:%m/%Y}",
        f"{mine.birth_date:%d%m%Y}",
    ):
        found = client.post(
            "/patients/search",
            data={"csrf": csrf, "mode": "debut", "prefix": mine.birth_name, "born": born},
        )
        assert found.status_code == 200
        assert f'href="/patients/{mine.id}"' in found.text
    theirs = client.post(
        "/patients/search",
        data={
            "csrf": csrf,
            "mode": "debut",
            "prefix": name_prefix(other.birth_name),
            "born": str(other.birth_date.year),
        },
    )
    assert other.id not in theirs.text
    short = client.post(
        "/patients/search", data={"csrf": csrf, "mode": "debut", "prefix": "ma", "born": "12/59"}
    )
    assert short.status_code == 422
    assert "au moins les 3 premières lettres" in short.text
    assert "1959, 12/1959 ou 12/12/1959" in short.text


def test_identity_search_takes_dates_as_typed(web_vault: WebVault, client: TestClient) -> None:
    mine = web_vault.patient("L01", index=4)
    csrf = web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    for typed in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d%m%Y"):
        found = client.post(
            "/patients/search",
            data={
                "csrf": csrf,
                "mode": "nom",
                "birth_name": mine.birth_name,
                "first_name": mine.first_names[0],
                "birth_date": mine.birth_date.strftime(typed),
            },
        )
        assert f'href="/patients/{mine.id}"' in found.text, typed


def test_a_nir_known_elsewhere_offers_link_and_break_glass_and_links(
    web_vault: WebVault, client: TestClient
) -> None:
    other = web_vault.patient("L02", index=5, nir=True)
    member = web_vault.person(Role.RECEPTION)
    csrf = web_vault.sign_in(client, member)
    hidden = client.post("/patients/search", data={"csrf": csrf, "mode": "nir", "nir": other.nir})
    assert "Rattacher à mon laboratoire" in hidden.text
    assert 'href="/break-glass"' in hidden.text
    assert "Créer un nouveau dossier" not in hidden.text
    linked = client.post("/patients/link", data={"csrf": csrf, "nir": other.nir, "lab_id": "L01"})
    assert linked.status_code == 303
    new_id = linked.headers["location"].split("/")[2].split("?")[0]
    sheet = client.get(linked.headers["location"])
    assert "rattaché à l'identité connue dans le réseau" in unescape(sheet.text)
    web_vault.flush(client.app)
    events = web_vault.events(action="patient.link", object_id=new_id)
    assert {e.details["lab"] for e in events} == {"L01", "L02"}
    again = client.post("/patients/link", data={"csrf": csrf, "nir": other.nir, "lab_id": "L01"})
    assert again.status_code == 409
    assert "déjà un dossier de cette personne" in unescape(again.text)
    refused = client.post("/patients/link", data={"csrf": csrf, "nir": other.nir, "lab_id": "L02"})
    assert refused.status_code == 403


def test_break_glass_from_the_page(web_vault: WebVault, client: TestClient) -> None:
    member = web_vault.person(Role.RECEPTION)
    csrf = web_vault.sign_in(client, member)
    page = client.get("/break-glass")
    assert page.status_code == 200 and "Motif" in page.text
    short = client.post("/break-glass", data={"csrf": csrf, "reason": "urgent", "minutes": "30"})
    assert short.status_code == 422
    assert "15 caractères au moins" in short.text
    done = client.post(
        "/break-glass",
        data={"csrf": csrf, "reason": "Patient adressé en urgence par le SAMU", "minutes": "15"},
    )
    assert done.status_code == 303
    patients = client.get(done.headers["location"])
    assert "Bris de glace actif jusqu'à" in unescape(patients.text)
    other = web_vault.patient("L02", index=6, nir=True)
    found = client.post("/patients/search", data={"csrf": csrf, "mode": "nir", "nir": other.nir})
    assert f'href="/patients/{other.id}"' in found.text
    web_vault.flush(client.app)
    declared = [
        e for e in web_vault.events(action="auth.break_glass") if e.actor == member.username
    ]
    assert declared and declared[-1].details["minutes"] == 15


def test_a_lab_admin_cannot_break_the_glass(web_vault: WebVault, client: TestClient) -> None:
    csrf = web_vault.sign_in(client, web_vault.members[Role.LAB_ADMIN])
    refused = client.post(
        "/break-glass",
        data={"csrf": csrf, "reason": "Je veux voir un dossier ailleurs", "minutes": "15"},
    )
    assert refused.status_code == 403


def test_creating_a_person_known_elsewhere_needs_a_confirmation_and_a_reason(
    web_vault: WebVault, client: TestClient
) -> None:
    other = web_vault.patient("L02", index=7, nir=True)
    csrf = web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    form = {
        "csrf": csrf,
        "lab_id": "L01",
        "birth_name": other.birth_name,
        "first_names": " ".join(other.first_names),
        "sex": other.sex.value,
        "birth_date": f"{other.birth_date:%d/%m/%Y}",
        "nir": other.nir or "",
        "identity_status": "PROV",
    }
    asked = client.post("/patients/new", data=form)
    assert asked.status_code == 409
    assert "déjà connue dans un autre laboratoire" in unescape(asked.text)
    unexplained = client.post("/patients/new", data={**form, "confirm_duplicate": "oui"})
    assert unexplained.status_code == 409
    reason = "Homonyme : NIR différent sur la carte Vitale"
    created = client.post(
        "/patients/new", data={**form, "confirm_duplicate": "oui", "duplicate_reason": reason}
    )
    assert created.status_code == 303
    new_id = created.headers["location"].split("/")[2].split("?")[0]
    web_vault.flush(client.app)
    [event] = web_vault.events(action="patient.create", object_id=new_id)
    assert event.details["duplicate_confirmed"] is True
    assert event.purpose is not None and reason in event.purpose


def test_the_audit_filter_takes_the_8_characters_it_shows(
    web_vault: WebVault, client: TestClient
) -> None:
    patient = web_vault.patient(index=9)
    reader = web_vault.person(Role.BIOLOGIST)
    web_vault.sign_in(client, reader)
    client.get(f"/patients/{patient.id}")
    web_vault.flush(client.app)
    web_vault.sign_in(client, web_vault.members[Role.DPO])
    page = client.get(f"/audit?patient={patient.id[-8:].upper()}&action=patient.read")
    assert page.status_code == 200
    assert reader.username in page.text
    assert f"…{patient.id[-8:]}" in page.text
    other = web_vault.patient(index=10)
    assert other.id[-8:] != patient.id[-8:]
    assert f"…{other.id[-8:]}" not in page.text
