"""The identity officer's queue in a real Chromium: French, no value, a review link per pair."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from browser_support import log_in, shot
from web_people import MAELLE, MAELLE_ELSEWHERE

from etanche.access import Role
from etanche.vault import StoredPair, replace_pairs

if TYPE_CHECKING:
    from tests.web.conftest import WebVault


def test_the_dpo_opens_the_queue_from_the_navigation(tabs: Any, web_vault: WebVault) -> None:
    left, right = sorted((MAELLE, MAELLE_ELSEWHERE), key=lambda p: p.id)
    levels = {
        "surname": "exact",
        "first_name": "exact",
        "birth_date": "exact",
        "sex": "exact",
        "birthplace": "null",
        "nir": "null",
        "postcode": "null",
        "phone": "exact",
        "email": "null",
    }
    replace_pairs(
        web_vault.vault.engine,
        [
            StoredPair(
                left.id,
                right.id,
                left.lab_id,
                right.lab_id,
                21.4,
                0.99999,
                levels,
                "r",
                datetime(2026, 12, 3, 8, 0, tzinfo=UTC),
            )
        ],
    )
    page = tabs()
    log_in(page, web_vault, web_vault.person(Role.DPO, ("*",)))
    page.get_by_role("link", name="Doublons potentiels").click()
    page.wait_for_url("**/identity/pairs")
    assert page.get_by_role("heading", level=1).inner_text() == "Doublons potentiels"
    table = page.get_by_role("table")
    text = table.inner_text()
    assert "Nom de naissance : identique" in text and "Téléphone : identique" in text
    assert "03/12/2026 09:00" in text
    assert MAELLE.birth_name not in page.content()
    link = table.get_by_role("link", name="Examiner")
    assert link.get_attribute("href") == f"/identity/review?left={left.id}&right={right.id}"
    shot(page, "identity-pairs")
