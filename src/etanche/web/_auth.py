"""Who is asking: every route but login, static files and /health needs a person.

Pages use the session cookie (HttpOnly, SameSite=Strict, Secure over TLS) and a
CSRF token on every form; the FHIR API uses bearer tokens (API tokens or a web
session token). One dependency each, so no route can forget.
"""

from __future__ import annotations

from fastapi import Depends, Form, Request

from etanche.errors import AccessError, EtancheError, PermissionDenied, ServiceSealed
from etanche.web._operations import Operations
from etanche.web._state import COOKIE, Person, ServerState, client_of, server


class LoginRequired(AccessError):
    """No valid session: pages redirect to /login, the API answers 401."""


class CsrfRejected(AccessError):
    """A form came without the CSRF token of its session."""


def _open_or_sealed(state: ServerState) -> None:
    """A sealed service says so (exit 9 on the CLI) rather than "login required"."""
    if state.sealed:
        raise ServiceSealed("service: sealed; its custodians must unseal it (`etanche unseal`)")


def page_person(request: Request, state: ServerState = Depends(server)) -> Person:
    """The person of a page request, from the session cookie."""
    _open_or_sealed(state)
    token = request.cookies.get(COOKIE)
    if not token:
        raise LoginRequired("login: no session")
    try:
        session = state.people().page_session(token)
    except EtancheError:
        raise LoginRequired("login: session expired or unknown") from None
    return Person(session.actor(), token, client_of(request), state, gender=session.gender)


def form_person(
    request: Request,
    csrf: str | None = Form(default=None),
    person: Person = Depends(page_person),
) -> Person:
    """The person of a form submission: also checks the CSRF token."""
    submitted = csrf or request.headers.get("X-CSRF-Token")
    if not person.state.csrf.valid(person.token, submitted):
        raise CsrfRejected("csrf: missing or wrong form token; reload the page")
    return person


def api_person(request: Request, state: ServerState = Depends(server)) -> Person:
    """The person of an API request, from ``Authorization: Bearer <token>``."""
    _open_or_sealed(state)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise LoginRequired("authorization: a bearer token is required")
    token = token.strip()
    try:
        actor = state.people().actor_for(token)
    except EtancheError:
        raise LoginRequired("authorization: token expired, revoked or unknown") from None
    person = Person(actor, token, client_of(request), state, via_cookie=False)
    if actor.via_token:
        _within_scopes(request, person)
    return person


def _within_scopes(request: Request, person: Person) -> None:
    """A token calls an operation only if its scopes hold every action the operation performs.

    An operation missing from the table (web/_operations.py) is refused: fail closed.
    The server does not start with an unmapped route under /fhir or /api/v1, so
    only a route elsewhere that takes bearer tokens could get there.
    """
    operations: Operations = request.app.state.operations
    operation = operations.of(request.scope.get("route"), request.method)
    if operation is None:
        raise PermissionDenied(f"{request.method}: this operation has no scope mapping")
    person.require_scopes(operation.name, operation.actions)


def any_person(request: Request, state: ServerState = Depends(server)) -> Person:
    """A bearer token if one is given, else the session cookie."""
    if request.headers.get("Authorization"):
        return api_person(request, state)
    return page_person(request, state)
