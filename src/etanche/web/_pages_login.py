"""Login with password and TOTP, first-login TOTP enrolment, logout.

The login forms come before any session, so their CSRF token is bound to a
short-lived pre-login cookie (double submit): a page of another site can
neither read the token nor send the Strict cookie, so it cannot log a person
into someone else's account. Every attempt, good or bad, is an audit event;
attempts are rate-limited per client address.
"""

from __future__ import annotations

import secrets

import segno
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from etanche.errors import AuthenticationFailed, EtancheError
from etanche.service import Enrolment
from etanche.web._auth import form_person, page_person
from etanche.web._pages_common import home_for, render
from etanche.web._pages_fr import STATUS_MESSAGES, error_fr
from etanche.web._state import COOKIE, Person, ServerState, client_of, server

router = APIRouter(tags=["pages"])

PRELOGIN_COOKIE = "etanche_login"
_PRELOGIN_SECONDS = 30 * 60
_MAX_NAME = 64
_MAX_SECRET = 1024  # bounds the hashing work one request can ask for


def _nonce(request: Request) -> str:
    given = request.cookies.get(PRELOGIN_COOKIE, "")
    return given if 20 <= len(given) <= 64 else secrets.token_urlsafe(24)


def _login_csrf(state: ServerState, nonce: str) -> str:
    return state.csrf.token_for("login:" + nonce)


def _login_page(
    request: Request,
    state: ServerState,
    *,
    error: str | None = None,
    status_code: int = 200,
    template: str = "login.html",
    extra: dict[str, object] | None = None,
) -> Response:
    nonce = _nonce(request)
    context: dict[str, object] = {"login_csrf": _login_csrf(state, nonce), "error": error}
    context.update(extra or {})
    response = render(request, None, template, context, status_code=status_code)
    response.set_cookie(
        PRELOGIN_COOKIE,
        nonce,
        max_age=_PRELOGIN_SECONDS,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=state.config.secure_cookies,
    )
    return response


def _refused(request: Request, state: ServerState, username: str, csrf: str) -> Response | None:
    """The answer to an attempt that must not reach the password check, if any."""
    client = client_of(request) or "unknown"
    if not state.csrf.valid("login:" + request.cookies.get(PRELOGIN_COOKIE, ""), csrf):
        return _login_page(
            request,
            state,
            error="Le formulaire a expiré : saisissez à nouveau vos identifiants.",
            status_code=403,
        )
    if not state.login_limit.allow(client):
        state.people(client_of(request)).login_refused(username, "RateLimited")
        return _login_page(request, state, error=STATUS_MESSAGES[429], status_code=429)
    return None


def _logged_in(request: Request, state: ServerState, token: str) -> Response:
    actor = state.people(client_of(request)).logged_in(token, "web")
    response = RedirectResponse(home_for(actor), status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        path="/",
        httponly=True,
        samesite="strict",
        secure=state.config.secure_cookies,
    )
    response.delete_cookie(PRELOGIN_COOKIE, path="/login")
    return response


def _enrolment(request: Request, state: ServerState, enrolment: Enrolment) -> Response:
    """A fresh TOTP seed for an account without one, shown once as a local QR code."""
    secret = enrolment.secret
    qr = segno.make(enrolment.uri, error="m").svg_data_uri(scale=5, border=2, dark="#111111")
    return _login_page(
        request,
        state,
        template="enrol.html",
        extra={
            "username": enrolment.username,
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "qr": qr,
        },
    )


@router.get("/login")
def login_page(request: Request, state: ServerState = Depends(server)) -> Response:
    """The login form (public)."""
    return _login_page(request, state)


@router.post("/login")
def login(
    request: Request,
    state: ServerState = Depends(server),
    username: str = Form(default=""),
    password: str = Form(default=""),
    code: str = Form(default=""),
    csrf: str = Form(default=""),
) -> Response:
    """Password and code; an account without TOTP is shown its QR code instead.

    The password is hashed once per attempt (argon2id is the cost of a login).
    """
    username = username.strip().lower()[:_MAX_NAME]
    password = password[:_MAX_SECRET]
    refused = _refused(request, state, username, csrf)
    if refused is not None:
        return refused
    people = state.people(client_of(request))
    try:
        answer = people.web_login(username, password, code.strip())
    except EtancheError as exc:
        return _login_page(request, state, error=error_fr(exc), status_code=401)
    if isinstance(answer, Enrolment):
        return _enrolment(request, state, answer)
    return _logged_in(request, state, answer)


@router.get("/login/enrol")
def enrol_page() -> Response:
    """Enrolment starts from the login form (the QR code is shown once, after the password)."""
    return RedirectResponse("/login", status_code=303)


@router.post("/login/enrol")
def enrol(
    request: Request,
    state: ServerState = Depends(server),
    username: str = Form(default=""),
    password: str = Form(default=""),
    code: str = Form(default=""),
    csrf: str = Form(default=""),
) -> Response:
    """Confirm the new TOTP seed with its first code (and the password again)."""
    username = username.strip().lower()[:_MAX_NAME]
    password = password[:_MAX_SECRET]
    refused = _refused(request, state, username, csrf)
    if refused is not None:
        return refused
    people = state.people(client_of(request))
    try:
        token = people.web_enrol(username, password, code.strip() or None)
    except EtancheError as exc:
        message = error_fr(exc)
        if isinstance(exc, AuthenticationFailed):
            message += " Reconnectez-vous pour obtenir un nouveau code QR."
        return _login_page(request, state, error=message, status_code=401)
    return _logged_in(request, state, token)


@router.post("/logout")
def logout(request: Request, person: Person = Depends(form_person)) -> Response:
    """End the session (POST with the CSRF token: a link cannot log anyone out)."""
    state = person.state
    person.people().logout(person.actor, person.token, kind="web")
    response = RedirectResponse("/login?ok=deconnecte", status_code=303)
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="strict", secure=state.config.secure_cookies
    )
    return response


@router.get("/")
def root(person: Person = Depends(page_person)) -> Response:
    """Each role lands on its first page."""
    return RedirectResponse(home_for(person.actor), status_code=303)


@router.get("/home")
def home(request: Request, person: Person = Depends(page_person)) -> Response:
    """For roles without a page yet (migration operators: exports are coming)."""
    return render(request, person, "home.html")
