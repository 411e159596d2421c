"""The JSON API (and so the CLI's --json) answers zone-aware times only.

SQLite hands stored UTC times back without their zone; specimens typed on a form
are Paris wall times. Every time in an answer carries its offset all the same.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi.testclient import TestClient

from etanche.access import Role
from etanche.service import aware_iso, patient_detail

if TYPE_CHECKING:
    from tests.web.conftest import WebVault

OFFSET = re.compile(r"(Z|[+-]\d{2}:\d{2})$")
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _times(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [t for v in value.values() for t in _times(v)]
    if isinstance(value, list):
        return [t for v in value for t in _times(v)]
    return [value] if isinstance(value, str) and ISO_TIME.match(value) else []


def test_naive_times_get_their_zone() -> None:
    assert aware_iso(datetime(2026, 12, 3, 17, 12)) == "2026-12-03T17:12:00+00:00"
    aware = datetime(2026, 12, 3, 17, 12, tzinfo=UTC)
    assert aware_iso(aware) == "2026-12-03T17:12:00+00:00"


def test_a_specimen_typed_in_paris_reads_with_the_paris_offset(web_vault: WebVault) -> None:
    sheet = patient_detail(
        web_vault.maelle,
        web_vault.vault.specimens_of(web_vault.maelle.id),
        reveal=True,
        clinical_open=False,
    )
    assert sheet["specimens"][0]["collected_at"] == "2025-11-03T08:15:00+01:00"


def test_every_time_of_the_account_answers_carries_its_offset(
    web_vault: WebVault, client: TestClient
) -> None:
    admin = web_vault.members[Role.LAB_ADMIN]
    bearer = {"Authorization": f"Bearer {admin.token}"}
    seen: list[str] = []
    for path in ("/api/v1/users", "/api/v1/users/requests", "/api/v1/whoami", "/api/v1/tokens"):
        answer = client.get(path, headers=bearer)
        assert answer.status_code == 200, (path, answer.text)
        seen += _times(answer.json())
    assert seen, "the answers hold times"
    assert [t for t in seen if not OFFSET.search(t)] == []
