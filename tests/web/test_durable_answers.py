"""No answer before its audit events are committed, even on a buffered trail.

The server's trail batches commits; here its window is stretched to a minute,
so only the answer's own wait (web/_durable.py, ``Core.settle``) can have
committed the event by the time the answer arrives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from etanche.access import Role
from etanche.audit import AuditLog
from etanche.errors import VaultError
from etanche.service import Trail
from etanche.web import create_app

if TYPE_CHECKING:
    from tests.web.conftest import WebVault


def _unwritable_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every batch the trail's writer commits fails, as a lost database would."""

    def failed(self: AuditLog, events: Any) -> list[int]:
        raise VaultError("audit log: write failed 6 times (OperationalError)")

    monkeypatch.setattr(AuditLog, "append_many", failed)


@pytest.fixture
def slow_trail(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every trail of the app buffers events for up to 60 s unless flushed."""
    original = Trail.for_vault

    def for_vault(vault: Any, rules: Any = None, **kw: Any) -> Trail:
        return original(vault, rules, **{**kw, "flush_ms": 60_000})

    monkeypatch.setattr(Trail, "for_vault", staticmethod(for_vault))


def test_the_read_is_logged_before_the_answer(web_vault: WebVault, slow_trail: None) -> None:
    member = web_vault.members[Role.BIOLOGIST]
    patient = web_vault.patient(next(iter(sorted(member.labs))))
    app = create_app(web_vault.config(trail_mode="buffered"))
    with TestClient(app) as client:
        before = len(web_vault.events("patient.read", patient.id))
        answer = client.get(
            f"/api/v1/patients/{patient.id}",
            headers={"Authorization": f"Bearer {member.token}"},
        )
        assert answer.status_code == 200, answer.text
        assert len(web_vault.events("patient.read", patient.id)) == before + 1


def test_an_unwritable_log_withholds_the_answer(
    web_vault: WebVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = web_vault.members[Role.BIOLOGIST]
    patient = web_vault.patient(next(iter(sorted(member.labs))))
    app = create_app(web_vault.config(trail_mode="buffered"))
    # the writer's failure is raised again when the service stops: it fails closed
    with pytest.raises(VaultError), TestClient(app) as client:
        _unwritable_log(monkeypatch)  # once the service has started
        answer = client.get(
            f"/api/v1/patients/{patient.id}",
            headers={"Authorization": f"Bearer {member.token}"},
        )
    assert answer.status_code == 503
    assert "not confirmed" in answer.json()["error"]
    assert patient.birth_name not in answer.text


def test_the_sheet_page_is_logged_before_it_leaves_with_its_headers(
    web_vault: WebVault, slow_trail: None
) -> None:
    member = web_vault.members[Role.BIOLOGIST]
    patient = web_vault.patient(next(iter(sorted(member.labs))))
    app = create_app(web_vault.config(trail_mode="buffered"))
    with TestClient(app) as client:
        web_vault.sign_in(client, member)
        before = len(web_vault.events("patient.read", patient.id))
        answer = client.get(f"/patients/{patient.id}")
        assert answer.status_code == 200
        assert len(web_vault.events("patient.read", patient.id)) == before + 1
        assert len(web_vault.events("specimen.list", patient.id)) >= 1
    assert answer.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Frame-Options"] == "DENY"


def test_a_withheld_sheet_page_shows_nothing_of_the_patient_and_keeps_its_headers(
    web_vault: WebVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = web_vault.members[Role.BIOLOGIST]
    patient = web_vault.patient(next(iter(sorted(member.labs))))
    app = create_app(web_vault.config(trail_mode="buffered"))
    with pytest.raises(VaultError), TestClient(app) as client:
        web_vault.sign_in(client, member)
        _unwritable_log(monkeypatch)  # once the service has started
        answer = client.get(f"/patients/{patient.id}")
    assert answer.status_code == 503
    assert patient.birth_name not in answer.text
    assert int(answer.headers["Content-Length"]) == len(answer.content)
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_static_files_skip_the_wait_and_may_be_cached(web_vault: WebVault) -> None:
    app = create_app(web_vault.config(trail_mode="buffered"))
    with TestClient(app) as client:
        answer = client.get("/static/app.css")
    assert answer.status_code == 200
    assert answer.headers.get("Cache-Control") != "no-store"
    assert answer.headers["X-Frame-Options"] == "DENY"
