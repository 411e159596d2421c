"""A birthplace outside the synthetic list: its code with the département, or born abroad."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from etanche.access import Role
from etanche.web._pages_common import fr_place

if TYPE_CHECKING:
    from tests.web.conftest import WebVault


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ("29019", "Brest"),
        ("99350", "Maroc"),
        ("29077", "commune INSEE 29077 (Finistère)"),
        ("2A041", "commune INSEE 2A041 (Corse-du-Sud)"),
        ("99401", "né(e) à l'étranger (pays de code INSEE 99401)"),
        ("97501", "code INSEE 97501"),
    ],
)
def test_a_code_reads_as_a_name_or_its_departement(code: str, shown: str) -> None:
    assert fr_place(code) == shown


def test_the_sheet_shows_the_departement_of_an_unlisted_commune(
    web_vault: WebVault, client: TestClient
) -> None:
    patient = web_vault.patient(index=13)
    web_vault.vault.update(replace(patient, birthplace_insee="29077"))
    try:
        web_vault.sign_in(client, web_vault.members[Role.RECEPTION])
        sheet = client.get(f"/patients/{patient.id}").text
        assert "<dt>Lieu de naissance</dt><dd>commune INSEE 29077 (Finistère)</dd>" in sheet
        web_vault.vault.update(replace(patient, birthplace_insee="99401"))
        sheet = client.get(f"/patients/{patient.id}").text.replace("&#39;", "'")
        assert "<dd>né(e) à l'étranger (pays de code INSEE 99401)</dd>" in sheet
    finally:
        web_vault.vault.update(patient)
