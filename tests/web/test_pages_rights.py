"""The DPO's rights-request pages: French form errors, the steps by form (CSRF), refusals."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from etanche.access import Role
from etanche.audit import Outcome
from etanche.web._pages_forms import patient_raw

if TYPE_CHECKING:
    from tests.web.conftest import WebVault

HTML = {"Accept": "text/html"}


def _registered(client: TestClient, csrf: str, kind: str = "erasure") -> str:
    done = client.post(
        "/rights-requests", data={"csrf": csrf, "type": kind, "contact": "Boîte 7, Quimper"}
    )
    assert done.status_code == 303
    match = re.search(
        r"/rights-requests/(DR-\d{8}-[0-9a-f]{6})\?fait=enregistree$", done.headers["location"]
    )
    assert match
    return match.group(1)


def test_form_errors_are_in_french_and_nothing_is_written(
    web_vault: WebVault, client: TestClient
) -> None:
    csrf = web_vault.sign_in(client, web_vault.members[Role.DPO])
    empty = client.post(
        "/rights-requests", data={"csrf": csrf, "recue": "2999-01-01"}, headers=HTML
    )
    assert empty.status_code == 422
    assert "Choisissez le droit exercé." in empty.text
    assert "Indiquez où adresser la réponse" in empty.text
    assert "ne peut pas être dans le futur" in empty.text
    rid = _registered(client, csrf)
    page = client.get(f"/rights-requests/{rid}", headers=HTML)
    assert "La demande a été enregistrée" not in page.text  # no flash without the code
    assert "effacement (art. 17)" in page.text and "Boîte 7, Quimper" in page.text
    path = f"/rights-requests/{rid}"
    refused = client.post(
        f"{path}/cloture", data={"csrf": csrf, "reponse": "refused"}, headers=HTML
    )
    assert refused.status_code == 422 and "Un refus doit être motivé" in refused.text
    granted = client.post(
        f"{path}/cloture", data={"csrf": csrf, "reponse": "granted"}, headers=HTML
    )
    assert granted.status_code == 422 and "Vérifiez d&#39;abord" in granted.text
    no_reason = client.post(f"{path}/prolongation", data={"csrf": csrf, "motif": ""}, headers=HTML)
    assert no_reason.status_code == 422 and "Indiquez pourquoi" in no_reason.text
    assert client.post(f"{path}/identite", data={"piece": "passport"}).status_code == 403  # CSRF


def test_an_erasure_under_retention_is_refused_with_its_legal_reason(
    web_vault: WebVault, client: TestClient
) -> None:
    csrf = web_vault.sign_in(client, web_vault.members[Role.DPO])
    rid = _registered(client, csrf)
    path = f"/rights-requests/{rid}"
    maelle = web_vault.maelle
    found = client.post(
        f"{path}/recherche",
        data={
            "csrf": csrf,
            "nom": maelle.birth_name,
            "prenom": maelle.first_names[0],
            "naissance": maelle.birth_date.isoformat(),
        },
        headers=HTML,
    )
    assert maelle.id in found.text and "Rattacher ce dossier" in found.text
    for step, data in (
        ("dossier", {"dossier": maelle.id}),
        ("identite", {"piece": "passport"}),
        ("cloture", {"reponse": "granted"}),
    ):
        done = client.post(f"{path}/{step}", data={"csrf": csrf, **data})
        assert done.status_code == 303, (step, done.text[:300])
    page = client.get(path, headers=HTML)
    assert "refusée" in page.text and "Effacement refusé" in page.text
    assert "L.1142-28" in page.text and "jusqu&#39;au" in page.text


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.BIOLOGIST, Role.LAB_ADMIN])
def test_other_roles_are_refused_and_see_no_entry(
    web_vault: WebVault, client: TestClient, role: Role
) -> None:
    member = web_vault.members[role]
    csrf = web_vault.sign_in(client, member)

    def refusals() -> int:
        web_vault.flush(client.app)
        return sum(
            1
            for action in ("rights.read", "rights.add")
            for e in web_vault.events(action)
            if e.outcome is Outcome.DENIED and e.actor == member.username
        )

    before = refusals()
    assert client.get("/rights-requests", headers=HTML).status_code == 403
    posted = client.post("/rights-requests", data={"csrf": csrf, "type": "access", "contact": "x"})
    assert posted.status_code == 403
    assert 'href="/rights-requests"' not in client.get("/home", headers=HTML).text
    assert refusals() - before == 2


def _l01_patient(web_vault: WebVault, index: int) -> str:
    ids = [p.id for p in web_vault.patients if p.lab_id == "L01" and p.id != web_vault.maelle.id]
    return ids[index]


def test_an_edit_keeps_the_earlier_version_with_its_reason(
    web_vault: WebVault, client: TestClient
) -> None:
    patient_id = _l01_patient(web_vault, 3)
    csrf = web_vault.sign_in(client, web_vault.members[Role.BIOLOGIST])
    form = client.get(f"/patients/{patient_id}/edit", headers=HTML)
    assert "Motif de la modification" in form.text
    values = patient_raw(web_vault.vault.get(patient_id))
    values.update({"csrf": csrf, "used_name": "Kervella", "demande": "DR-20261203-abcdef"})
    values.pop("motif", None)
    no_reason = client.post(f"/patients/{patient_id}/edit", data=values, headers=HTML)
    assert no_reason.status_code == 422 and "Indiquez le motif" in no_reason.text
    values["motif"] = "Nom d'usage déclaré par la patiente"
    done = client.post(f"/patients/{patient_id}/edit", data=values)
    assert done.status_code == 303, re.findall(r'erreur" aria-live="polite">([^<]+)', done.text)
    history = client.get(f"/patients/{patient_id}/history", headers=HTML)
    assert history.status_code == 200
    assert "Nom d&#39;usage déclaré par la patiente" in history.text
    assert "DR-20261203-abcdef" in history.text and "nom d&#39;usage" in history.text
    web_vault.flush(client.app)
    updates = web_vault.events("patient.update", object_id=patient_id)
    assert updates[-1].details.get("request") == "DR-20261203-abcdef"
    assert "Kervella" not in str(updates[-1].details) and "patiente" not in str(updates[-1].details)


def test_a_restricted_record_shows_a_banner_and_no_edit(
    web_vault: WebVault, client: TestClient
) -> None:
    patient_id = _l01_patient(web_vault, 4)
    csrf = web_vault.sign_in(client, web_vault.members[Role.DPO])
    rid = _registered(client, csrf, "restriction")
    path = f"/rights-requests/{rid}"
    for step, data in (
        ("dossier", {"dossier": patient_id}),
        ("identite", {"piece": "passport"}),
        ("cloture", {"reponse": "granted"}),
    ):
        assert client.post(f"{path}/{step}", data={"csrf": csrf, **data}).status_code == 303
    assert "Lever la limitation" in client.get(path, headers=HTML).text
    try:
        web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
        sheet = client.get(f"/patients/{patient_id}", headers=HTML)
        assert "Traitement limité (article 18 du RGPD)" in sheet.text
        assert "Modifier l&#39;identité" not in sheet.text
    finally:
        csrf = web_vault.sign_in(client, web_vault.members[Role.DPO])
        assert client.post(f"{path}/levee", data={"csrf": csrf}).status_code == 303
    web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
    assert "Traitement limité" not in client.get(f"/patients/{patient_id}", headers=HTML).text
