"""A secretary with a real account forges the biologists' clinical edit form.

The page shows her no link and refuses the address; here she posts the form
herself, with her own valid session and CSRF token, and slips clinical fields
into the identity edit form too. Nothing of the clinical part changes, and the
refusal is in the audit log under her name. A biologist of another lab fares
no better.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from _service import Served, passphrase_custody, served
from etanche.access import Role
from etanche.audit import AuditLog, Outcome
from etanche.domain import Patient
from etanche.synth import SynthConfig, generate
from etanche.vault import ALL_COMPARTMENTS
from etanche.web import WebConfig, create_app
from etanche.web._pages_forms import patient_raw
from etanche.web._state import COOKIE

NETWORK = generate(SynthConfig(patients=30, labs=2, seed=23))
FORGED = {
    "blood_group": "AB-",
    "pregnant": "non",
    "treatments": "Warfarine (B01AA03)",
    "pathologies": "Inventée",
    "comments": "Écrit par l'accueil",
    "motif": "Correction demandée par téléphone",
}


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    with served(tmp_path, monkeypatch, NETWORK) as s:
        yield s


def _client(site: Served, token: str) -> tuple[TestClient, str]:
    app = create_app(WebConfig(site.location, passphrase_custody(site.location, site.passphrase)))
    client = TestClient(app, follow_redirects=False)
    client.__enter__()
    client.cookies.set(COOKIE, token)
    return client, app.state.etanche.csrf.token_for(token)


def _stored(site: Served, patient_id: str) -> Patient:
    with site.open() as vault:
        vault.unlock(ALL_COMPARTMENTS)
        return vault.get(patient_id)


def _refusals(site: Served, username: str) -> list[str]:
    with site.open() as vault:
        events = AuditLog.for_vault(vault).events(actor=username, action="clinical.update")
    return [str(e.details.get("reason")) for _, e in events if e.outcome is Outcome.DENIED]


def test_a_secretarys_forged_clinical_form_changes_nothing_and_is_logged(site: Served) -> None:
    patient = next(p for p in NETWORK.patients() if p.lab_id == "L01" and p.clinical.blood_group)
    token = site.staff.add("mleguen", "Marie Le Guen", Role.RECEPTION, ["L01"])
    client, csrf = _client(site, token)
    try:
        posted = client.post(
            f"/patients/{patient.id}/clinique",
            data={**FORGED, "csrf": csrf},
            headers={"Accept": "text/html"},
        )
        assert posted.status_code == 403
        assert "pas permise" in posted.text
        # the same values slipped into the identity edit she may post: ignored
        form = {**patient_raw(patient), **FORGED, "csrf": csrf}
        edited = client.post(f"/patients/{patient.id}/edit", data=form)
        assert edited.status_code == 303
    finally:
        client.__exit__(None, None, None)
    assert _stored(site, patient.id).clinical == patient.clinical
    refusals = _refusals(site, "mleguen")
    assert len(refusals) == 1 and "reception" in refusals[0]


def test_a_biologist_of_another_lab_cannot_edit_the_clinical_part(site: Served) -> None:
    patient = next(p for p in NETWORK.patients() if p.lab_id == "L01")
    token = site.staff.add("ajaouen", "Anne Jaouen", Role.BIOLOGIST, ["L02"])
    client, csrf = _client(site, token)
    try:
        posted = client.post(f"/patients/{patient.id}/clinique", data={**FORGED, "csrf": csrf})
        assert posted.status_code == 403
    finally:
        client.__exit__(None, None, None)
    assert _stored(site, patient.id).clinical == patient.clinical
    assert len(_refusals(site, "ajaouen")) == 1
