"""The audit page tells the DPO how far the witnesses cosigned the log, in French."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from _witness import running_witness
from etanche.access import Role
from etanche.audit import AuditLog
from etanche.web import create_app

from .conftest import WebVault


def test_the_audit_page_shows_what_the_witness_cosigned(
    web_vault: WebVault, tmp_path: Path
) -> None:
    log_vkey = AuditLog.for_vault(web_vault.vault).note_key().text()
    with running_witness(tmp_path / "witness", log_vkey, "temoin.test/dpo") as witness:
        listing = tmp_path / "witnesses.txt"
        listing.write_text(f"{witness.vkey} {witness.url}\n", encoding="utf-8")
        app = create_app(web_vault.config(witnesses=listing))
        with TestClient(app, follow_redirects=False) as client:
            web_vault.sign_in(client, web_vault.members[Role.DPO])
            trail = client.app.state.etanche.core.trail  # type: ignore[attr-defined]
            trail.flush()
            trail.log.sign_head()  # now, not at the next minute's head: the witness cosigns it
            deadline = time.monotonic() + 30
            page = client.get("/audit/verification").text
            while "contresignée le" not in page and time.monotonic() < deadline:
                time.sleep(0.2)
                page = client.get("/audit/verification").text
    assert "Témoin" in page and "temoin.test/dpo" in page, page
    assert "contresignée par 1 témoin sur 1" in page, page
    assert "aucun témoin configuré" not in page
