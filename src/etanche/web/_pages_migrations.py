"""Migrations: plans, their approvals, packages and deletion certificates.

The operator, the approvers (lab admin, DPO) and the DPO closing a plan see the
same page; the plan's exact registered text is shown so that a named approver
approves what they read, and the approval is the same signed act as
``etanche migrate approve``. Everything shown is about staff, keys and counts:
a plan or certificate holds no patient value.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from etanche.access import Action, role_actions
from etanche.audit import DetailValue
from etanche.errors import PermissionDenied, RecordNotFound
from etanche.migrate import CERTIFICATE_KIND, PACKAGE_KIND, Plans, parse_plan
from etanche.vault import Documents
from etanche.web._auth import form_person, page_person
from etanche.web._pages_common import authorize, record, render
from etanche.web._state import Person

router = APIRouter(tags=["pages"])

_VIEW_ACTIONS = (Action.MIGRATION_PLAN, Action.MIGRATION_APPROVE, Action.MIGRATION_CLOSE)
STATES = {
    "pending": "en attente d'approbation",
    "approved": "approuvé",
    "packaged": "paquet construit",
    "closed": "clos, artefacts détruits",
    "building": "en construction (reprise possible)",
    "built": "construit",
}


def _view_action(person: Person) -> Action:
    """The first migration action this role holds: the right to see the page."""
    allowed = role_actions(person.actor.role)
    for action in _VIEW_ACTIONS:
        if action in allowed:
            return action
    return Action.MIGRATION_PLAN  # refused by the policy, and audited


def _scope(person: Person) -> str | None:
    """None for a network-wide account; else one of its labs (plans are filtered to them)."""
    return None if person.actor.network_wide else sorted(person.actor.labs)[0]


def _visible(person: Person, labs: tuple[str, ...]) -> bool:
    return person.actor.network_wide or (bool(labs) and set(labs) <= person.actor.labs)


@router.get("/migrations")
def migrations_page(request: Request, person: Person = Depends(page_person)) -> Response:
    """Every plan with its approvals, packages and certificate (of the person's labs)."""
    authorize(person, _view_action(person), {"operation": "list"}, lab_id=_scope(person))
    vault = person.state.vault
    docs = Documents(vault)
    packages: dict[str, list[dict[str, object]]] = {}
    for document in docs.list(PACKAGE_KIND):
        body = document.body
        packages.setdefault(str(body["plan_id"]), []).append(
            {
                "id": document.id,
                "state": STATES.get(document.state, document.state),
                "records": body.get("records"),
                "finished_at": body.get("finished_at", ""),
                "folder": str(body.get("directory", "")).rsplit("/", 1)[-1],
            }
        )
    certificates = {d.id: d.body["certificate"] for d in docs.list(CERTIFICATE_KIND)}
    plans = [p for p in Plans(vault).all() if _visible(person, p.labs)]
    record(person, _view_action(person), details={"operation": "list", "count": len(plans)})
    return render(
        request,
        person,
        "migrations.html",
        {
            "plans": plans,
            "packages": packages,
            "certificates": certificates,
            "states": STATES,
        },
    )


@router.get("/migrations/{plan_id}")
def plan_page(plan_id: str, request: Request, person: Person = Depends(page_person)) -> Response:
    """The registered text of one plan, and the approval form for its named approvers."""
    authorize(person, _view_action(person), {"plan": plan_id[:48]}, lab_id=_scope(person))
    plans = Plans(person.state.vault)
    try:
        plan_record = plans.get(plan_id)
    except RecordNotFound:
        raise RecordNotFound(f"plan {plan_id[:48]}: not registered") from None
    if not _visible(person, plan_record.labs):
        raise RecordNotFound(f"plan {plan_id[:48]}: not registered")
    text = str(plans.body(plan_id).get("text", ""))
    approvers: list[str] = []
    if text:
        plan = parse_plan(text.encode(), source=f"plan {plan_id}", base=Path("."))
        approvers = [a.username for a in plan.approvers]
    can_approve = (
        Action.MIGRATION_APPROVE in role_actions(person.actor.role)
        and person.actor.username in approvers
        and person.actor.username not in {a["username"] for a in plan_record.approvals}
        and plan_record.state == "pending"
    )
    return render(
        request,
        person,
        "migration.html",
        {
            "plan": plan_record,
            "text": text,
            "approvers": approvers,
            "can_approve": can_approve,
            "states": STATES,
        },
    )


@router.post("/migrations/{plan_id}/approve")
def approve(plan_id: str, person: Person = Depends(form_person)) -> Response:
    """Sign the registered plan as one of its named approvers."""
    plans = Plans(person.state.vault)
    text = str(plans.body(plan_id).get("text", ""))
    if not text:
        raise PermissionDenied(f"migration.approve: plan {plan_id[:48]} is closed")
    plan = parse_plan(text.encode(), source=f"plan {plan_id}", base=Path("."))
    single = plan.labs[0] if len(plan.labs) == 1 else None
    authorize(person, Action.MIGRATION_APPROVE, {"plan": plan_id[:48]}, lab_id=single)
    result = plans.approve(plan, person.actor.username)
    record(person, Action.MIGRATION_APPROVE, details={"plan": plan.id, "state": result.state})
    return RedirectResponse(f"/migrations/{plan.id}", status_code=303)


@router.get("/migrations/{plan_id}/certificate.json")
def certificate(plan_id: str, person: Person = Depends(page_person)) -> Response:
    """The signed deletion certificate, as `etanche migrate verify-certificate` reads it."""
    details: dict[str, DetailValue] = {"plan": plan_id[:48], "operation": "certificate"}
    authorize(person, _view_action(person), details, lab_id=_scope(person))
    if not _visible(person, Plans(person.state.vault).get(plan_id).labs):
        raise RecordNotFound(f"plan {plan_id[:48]}: not registered")
    signed = Documents(person.state.vault).get(CERTIFICATE_KIND, plan_id).body
    record(person, _view_action(person), details=details)
    return Response(
        json.dumps(signed, indent=1, sort_keys=True),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="deletion-{plan_id}.json"'},
    )
