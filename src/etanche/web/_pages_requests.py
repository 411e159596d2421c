"""Second approvals of privileged accounts and roles: the pending requests, approve, refuse.

A lab admin sees the requests of their labs and those they may decide (lab roles
of other labs); a DPO sees them all. ``People`` decides who may approve (never
the requester, never a lab admin of the same lab) and audits every decision;
this page shows its answers in French.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from etanche.errors import PermissionDenied, RecordNotFound
from etanche.service import ROLES
from etanche.web._auth import form_person, page_person
from etanche.web._pages_common import labs_label, render
from etanche.web._pages_fr import approval_fr
from etanche.web._state import Person

router = APIRouter(tags=["pages"])

PATH = "/account-requests"
_KINDS = {"create": "Nouveau compte", "role": "Changement de rôle"}


def _page(
    request: Request, person: Person, *, error: str | None = None, status: int = 200
) -> Response:
    people = person.people()
    found = people.pending_requests(person.actor)
    rows = [
        {
            "username": r.username,
            "kind": _KINDS.get(r.kind, r.kind),
            "role": ROLES[r.role],
            "labs": labs_label(r.labs),
            "current": ROLES[r.current_role] if r.kind == "role" else "—",
            "rpps": r.rpps or "—",
            "requester": r.requester or "—",
            "requested_at": r.requested_at,
            "may_approve": people.may_decide(person.actor, r),
            "mine": r.requested_by == person.actor.user_id,
        }
        for r in found
    ]
    return render(
        request, person, "account_requests.html", {"rows": rows, "error": error}, status_code=status
    )


@router.get(PATH)
def requests_page(request: Request, person: Person = Depends(page_person)) -> Response:
    """Privileged accounts and roles waiting for a second person."""
    return _page(request, person)


def _decide(request: Request, person: Person, username: str, decision: str) -> Response:
    people = person.people()
    act = people.approve if decision == "approve" else people.refuse
    try:
        act(person.actor, username[:64])
    except PermissionDenied as exc:
        return _page(request, person, error=approval_fr(str(exc)), status=403)
    except RecordNotFound:
        return _page(request, person, error="Cette demande n'attend plus.", status=404)
    done = "approuvee" if decision == "approve" else "refusee"
    return RedirectResponse(f"{PATH}?ok={done}", status_code=303)


@router.post(PATH + "/{username}/approve")
def approve(request: Request, username: str, person: Person = Depends(form_person)) -> Response:
    """Be the second person: the account or role takes effect at once."""
    return _decide(request, person, username, "approve")


@router.post(PATH + "/{username}/refuse")
def refuse(request: Request, username: str, person: Person = Depends(form_person)) -> Response:
    """Refuse the request (or withdraw one's own): a requested account is disabled for good."""
    return _decide(request, person, username, "refuse")
