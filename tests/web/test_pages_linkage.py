"""The identity officer's queue page: French, no identity value, a review link per pair."""

from __future__ import annotations

from datetime import UTC, datetime
from html import unescape
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

from fastapi.testclient import TestClient
from web_people import MAELLE, MAELLE_ELSEWHERE

from etanche.access import Role
from etanche.vault import StoredPair, replace_pairs

if TYPE_CHECKING:
    from tests.web.conftest import WebVault

LEVELS = {
    "surname": "exact",
    "first_name": "swapped",
    "birth_date": "day_month_swapped",
    "sex": "exact",
    "birthplace": "null",
    "nir": "null",
    "postcode": "different",
    "phone": "exact",
    "email": "null",
}


def _queue(web_vault: WebVault) -> StoredPair:
    left, right = sorted((MAELLE, MAELLE_ELSEWHERE), key=lambda p: p.id)
    pair = StoredPair(
        left.id,
        right.id,
        left.lab_id,
        right.lab_id,
        14.25,
        0.99994,
        LEVELS,
        "run1",
        datetime(2026, 12, 3, 23, 30, tzinfo=UTC),
    )
    replace_pairs(web_vault.vault.engine, [pair])
    return pair


def test_the_dpo_sees_the_queue_in_french_with_review_links(
    web_vault: WebVault, client: TestClient
) -> None:
    pair = _queue(web_vault)
    web_vault.sign_in(client, web_vault.members[Role.DPO])
    response = client.get("/identity/pairs")
    assert response.status_code == 200
    text = unescape(response.text)
    assert "Doublons potentiels" in text and "<strong>1</strong> paire à examiner" in text
    assert "Nom de naissance : identique" in text
    assert "Prénom : prénoms inversés" in text
    assert "Date de naissance : jour et mois inversés" in text
    assert "Code postal" in text  # a discordance
    assert "14,2" in text and "100,0 %" in text
    assert "04/12/2026 00:30" in text  # Paris time, French date
    assert f"{pair.left_lab} / {pair.right_lab}" in text
    links = [part.split('"')[0] for part in response.text.split('href="')[1:] if "review" in part]
    (link,) = links
    url = urlparse(unescape(link))
    assert url.path == "/identity/review"
    assert parse_qs(url.query) == {"left": [pair.left_id], "right": [pair.right_id]}
    for value in (MAELLE.birth_name, MAELLE.nir, "Maëlle", "+33612345678", "1985"):
        assert value and value not in text
    assert 'href="/identity/pairs"' in response.text  # in the navigation of the DPO
    web_vault.flush(client.app)
    reads = [e for e in web_vault.events(action="identity.pairs") if e.outcome.value == "ok"]
    assert reads and reads[-1].actor == web_vault.members[Role.DPO].username


def test_staff_without_the_action_are_refused(web_vault: WebVault, client: TestClient) -> None:
    _queue(web_vault)
    for role in (Role.RECEPTION, Role.BIOLOGIST, Role.LAB_ADMIN, Role.AUDITOR):
        member = web_vault.members[role]
        web_vault.sign_in(client, member)
        response = client.get("/identity/pairs")
        assert response.status_code == 403, role
        assert MAELLE.id not in response.text
        assert 'href="/identity/pairs"' not in client.get("/home").text
    web_vault.flush(client.app)
    denied = [e for e in web_vault.events(action="identity.pairs") if e.outcome.value == "denied"]
    assert len(denied) >= 4


def test_an_empty_queue_says_so(web_vault: WebVault, client: TestClient) -> None:
    replace_pairs(web_vault.vault.engine, [])
    web_vault.sign_in(client, web_vault.members[Role.DPO])
    response = client.get("/identity/pairs?page=abc")
    assert response.status_code == 200
    assert "Aucune paire à examiner." in unescape(response.text)
