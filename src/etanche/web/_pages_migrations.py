"""Migrations: plans, their approvals, packages and deletion certificates.

The operator, the approvers (lab admin, DPO) and the DPO closing a plan see the
same page; the plan's exact registered text is shown so that a named approver
approves what they read, and the approval is the same signed act as
``etanche migrate approve``. Everything shown is about staff, keys and counts:
a plan or certificate holds no patient value.
"""

from __future__ import annotations

import json
from dataclasses import replace

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from etanche.web._auth import form_person, page_person
from etanche.web._pages_common import render
from etanche.web._state import Person

router = APIRouter(tags=["pages"])

STATES = {
    "pending": "en attente d'approbation",
    "approved": "approuvé",
    "packaged": "paquet construit",
    "closed": "clos, artefacts détruits",
    "building": "en construction (reprise possible)",
    "built": "construit",
}

# Why a plan was closed (``migrate.close_plan``'s fixed English reasons), in French.
CLOSE_REASONS = {
    "retention date passed": "échéance de conservation atteinte",
    "closed on demand": "clos à la demande",
}


@router.get("/migrations")
def migrations_page(request: Request, person: Person = Depends(page_person)) -> Response:
    """Every plan with its approvals, packages and certificate (of the person's labs)."""
    overview = person.migrations().overview()
    packages = {
        plan_id: [replace(p, state=STATES.get(p.state, p.state)) for p in built]
        for plan_id, built in overview.packages.items()
    }
    return render(
        request,
        person,
        "migrations.html",
        {
            "plans": overview.plans,
            "packages": packages,
            "certificates": overview.certificates,
            "states": STATES,
            "reasons": CLOSE_REASONS,
        },
    )


@router.get("/migrations/{plan_id}")
def plan_page(plan_id: str, request: Request, person: Person = Depends(page_person)) -> Response:
    """The registered text of one plan, and the approval form for its named approvers."""
    view = person.migrations().plan_view(plan_id)
    return render(
        request,
        person,
        "migration.html",
        {
            "plan": view.plan,
            "text": view.text,
            "approvers": list(view.approvers),
            "can_approve": view.can_approve,
            "states": STATES,
        },
    )


@router.post("/migrations/{plan_id}/approve")
def approve(plan_id: str, person: Person = Depends(form_person)) -> Response:
    """Sign the registered plan as one of its named approvers."""
    signed = person.migrations().approve_by_id(plan_id)
    return RedirectResponse(f"/migrations/{signed.id}", status_code=303)


@router.get("/migrations/{plan_id}/certificate.json")
def certificate(plan_id: str, person: Person = Depends(page_person)) -> Response:
    """The signed deletion certificate, as `etanche migrate verify-certificate` reads it."""
    signed = person.migrations().certificate_for_view(plan_id)
    return Response(
        json.dumps(signed, indent=1, sort_keys=True),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="deletion-{plan_id}.json"'},
    )
