"""The migrations page: plans, approvals signed from the page, certificates."""

from __future__ import annotations

from html import unescape
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from fastapi.testclient import TestClient

from etanche.access import Role
from etanche.crypto import AgeIdentity
from etanche.migrate import Plans, load_plan

if TYPE_CHECKING:
    from tests.web.conftest import WebVault


def _register(web_vault: WebVault, tmp_path: Path, plan_id: str) -> str:
    admin, dpo = web_vault.members[Role.LAB_ADMIN], web_vault.members[Role.DPO]
    plan = {
        "plan": plan_id,
        "controller": {"name": "Groupe BioNord", "labs": ["L01", "L02"]},
        "processor": {"name": "LabSoft SAS"},
        "purpose": "Move L01 to the new lab system",
        "source": {"format": "legacy-csv", "path": "export.csv"},
        "scope": {"labs": ["L01"]},
        "fields": {"admin": ["birth_name", "nir"]},
        "recipients": [{"name": "NewLIS SAS", "age": AgeIdentity.generate().public_text()}],
        "retention": {"expires": "2099-12-31"},
        "approvers": [
            {"username": admin.username, "role": "lab_admin"},
            {"username": dpo.username, "role": "dpo"},
        ],
    }
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    operator = web_vault.members[Role.MIGRATION_OPERATOR]
    Plans(web_vault.vault).register(load_plan(path), operator.username)
    return plan_id


def test_named_approvers_approve_from_the_page(
    web_vault: WebVault, client: TestClient, tmp_path: Path
) -> None:
    plan_id = _register(web_vault, tmp_path, "web-plan-01")
    operator = web_vault.members[Role.MIGRATION_OPERATOR]
    web_vault.sign_in(client, operator)
    listing = client.get("/migrations")
    assert listing.status_code == 200 and "web-plan-01" in listing.text
    assert "en attente d'approbation" in unescape(listing.text)
    page = client.get(f"/migrations/{plan_id}")
    assert "J'approuve" not in unescape(page.text)  # the operator is not a named approver

    for role in (Role.LAB_ADMIN, Role.DPO):
        member = web_vault.members[role]
        csrf = web_vault.sign_in(client, member)
        page = client.get(f"/migrations/{plan_id}")
        assert page.status_code == 200 and "J'approuve ce plan" in unescape(page.text)
        assert "Move L01 to the new lab system" in page.text  # the exact registered text
        done = client.post(f"/migrations/{plan_id}/approve", data={"csrf": csrf})
        assert done.status_code == 303
    record = Plans(web_vault.vault).get(plan_id)
    assert record.state == "approved" and len(record.approvals) == 2
    web_vault.flush(client.app)
    assert [e for e in web_vault.events("migration.approve") if e.outcome == "ok"]


def test_approval_needs_the_csrf_token_and_a_named_person(
    web_vault: WebVault, client: TestClient, tmp_path: Path
) -> None:
    plan_id = _register(web_vault, tmp_path, "web-plan-02")
    member = web_vault.members[Role.DPO]
    web_vault.sign_in(client, member)
    assert client.post(f"/migrations/{plan_id}/approve", data={}).status_code == 403
    reception = web_vault.members[Role.RECEPTION]
    csrf = web_vault.sign_in(client, reception)
    assert client.get("/migrations").status_code == 403
    assert client.post(f"/migrations/{plan_id}/approve", data={"csrf": csrf}).status_code == 403
    assert Plans(web_vault.vault).get(plan_id).approvals == ()
