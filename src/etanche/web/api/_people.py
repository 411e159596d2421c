"""Sessions, accounts and API tokens over JSON: the CLI's login, users and tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from etanche.errors import AccessError, AuthenticationFailed, UsageError
from etanche.names import Action, Role
from etanche.service import People, aware_iso
from etanche.web._auth import api_person
from etanche.web._state import Person, ServerState, client_of, server

router = APIRouter(tags=["people"])

_NAME = 64
_SECRET = 1024  # bounds the hashing work one request can ask for


class LoginBody(BaseModel):
    username: str = Field(max_length=_NAME)
    password: str = Field(max_length=_SECRET)
    code: str | None = Field(default=None, max_length=16)


class BreakGlassBody(BaseModel):
    reason: str = Field(max_length=500)
    minutes: int = Field(default=30, ge=1, le=24 * 60)


class NewUser(BaseModel):
    username: str = Field(max_length=_NAME)
    full_name: str = Field(max_length=200)
    role: Role
    labs: list[str] = Field(max_length=100)
    password: str = Field(max_length=_SECRET)
    rpps: str | None = Field(default=None, max_length=16)
    gender: str | None = Field(default=None, max_length=1)  # "F", "M": the role's wording


class RoleChange(BaseModel):
    role: Role
    labs: list[str] | None = Field(default=None, max_length=100)
    rpps: str | None = Field(default=None, max_length=16)


class NewPassword(BaseModel):
    password: str = Field(max_length=_SECRET)


class NewToken(BaseModel):
    name: str = Field(max_length=200)
    scopes: list[str] = Field(max_length=64)
    days: int = Field(default=30, ge=1, le=3650)


def _people(request: Request, state: ServerState) -> People:
    return state.people(_client(request))


def _client(request: Request) -> str:
    host = client_of(request) or "unix"
    return f"api@{host}"[:64]


@router.post("/login")
def login(body: LoginBody, request: Request, state: ServerState = Depends(server)) -> Any:
    """Password and TOTP code; without a code, says what the account needs next.

    An enrolled account answers ``{"need": "totp"}``; an account without TOTP
    answers its new seed once (``{"need": "enrolment", "secret", "uri"}``).
    """
    people = _people(request, state)
    username = body.username.strip().lower()
    address = client_of(request) or "unix"
    if not state.login_limit.open(address):  # counted in the vault: every worker sees it
        # the login page's limit, counted on failures: an address guessing passwords waits
        people.login_refused(username, "RateLimited", kind="cli")
        raise AuthenticationFailed("login: too many failed attempts from this address; wait")
    try:
        return _login(people, username, body)
    except AccessError:
        state.login_limit.count(address)
        raise


def _login(people: People, username: str, body: LoginBody) -> Any:
    if body.code is None:
        user = people.first_factor(username, body.password, kind="cli")
        if user.totp_enrolled:
            return {"need": "totp"}
        enrolment = people.begin_enrolment(username, body.password, kind="cli")
        return {"need": "enrolment", "secret": enrolment.secret, "uri": enrolment.uri}
    token = people.login(username, body.password, body.code.strip(), kind="cli")
    session = people.session(token)
    return {
        "token": token,
        "username": session.username,
        "role": session.role,
        "labs": sorted(session.labs),
        "expires_at": aware_iso(session.expires_at),
        "idle_minutes": int(people.sessions.policy.idle.total_seconds() // 60),
    }


@router.post("/logout")
def logout(request: Request, person: Person = Depends(api_person)) -> dict[str, Any]:
    """End the session whose token came with the request."""
    _people(request, person.state).logout(person.actor, person.token, kind="cli")
    return {"ok": True}


@router.get("/whoami")
def whoami(request: Request, person: Person = Depends(api_person)) -> dict[str, Any]:
    """Who the token belongs to and what it may do."""
    return _people(request, person.state).whoami(person.actor, person.token)


@router.post("/break-glass")
def break_glass(
    body: BreakGlassBody, request: Request, person: Person = Depends(api_person)
) -> dict[str, Any]:
    """Emergency access outside one's labs (search and read only), audited and alerted."""
    session = _people(request, person.state).break_glass(
        person.actor, person.token, body.reason, body.minutes
    )
    assert session.break_glass is not None
    return {"until": aware_iso(session.break_glass.until)}


@router.post("/users")
def add_user(body: NewUser, request: Request, person: Person = Depends(api_person)) -> Any:
    """Create the account of one named person; a privileged one waits for a second approval."""
    user = _people(request, person.state).add_user(
        person.actor,
        body.username,
        body.full_name,
        body.role,
        body.labs,
        body.password,
        body.rpps,
        body.gender,
    )
    return {
        "username": user.username,
        "role": user.role.value,
        "labs": sorted(user.labs),
        "pending": user.pending,
    }


@router.get("/users/requests")
def pending_requests(request: Request, person: Person = Depends(api_person)) -> dict[str, Any]:
    """Privileged accounts and roles waiting for a second person, as this person sees them."""
    people = _people(request, person.state)
    found = people.pending_requests(person.actor)
    rows = [
        {
            "id": r.id,
            "username": r.username,
            "kind": r.kind,
            "role": r.role.value,
            "labs": sorted(r.labs),
            "current_role": r.current_role.value if r.kind == "role" else None,
            "rpps": r.rpps,
            "requested_by": r.requester,
            "requested_at": aware_iso(r.requested_at),
            "you_may_approve": people.may_decide(person.actor, r),
        }
        for r in found
    ]
    return {"count": len(rows), "requests": rows}


def _decided(decision: str, found: Any) -> dict[str, Any]:
    return {
        "username": found.username,
        "decision": decision,
        "kind": found.kind,
        "role": found.role.value,
        "labs": sorted(found.labs),
    }


@router.post("/users/{username}/approve")
def approve(username: str, request: Request, person: Person = Depends(api_person)) -> Any:
    """Second approval of a pending privileged account or role: it takes effect now."""
    found = _people(request, person.state).approve(person.actor, username[:_NAME])
    return _decided("approved", found)


@router.post("/users/{username}/refuse")
def refuse(username: str, request: Request, person: Person = Depends(api_person)) -> Any:
    """Refuse (or, as its requester, withdraw) a pending request."""
    found = _people(request, person.state).refuse(person.actor, username[:_NAME])
    return _decided("refused", found)


@router.post("/users/{username}/role")
def change_role(
    username: str, body: RoleChange, request: Request, person: Person = Depends(api_person)
) -> Any:
    """Another role or other labs; a privileged one waits for a second approval."""
    user, pending = _people(request, person.state).change_role(
        person.actor, username[:_NAME], body.role, body.labs, body.rpps
    )
    return {
        "username": user.username,
        "role": user.role.value,
        "labs": sorted(user.labs),
        "pending": pending,
    }


@router.post("/users/{username}/reset-password")
def reset_password(
    username: str, body: NewPassword, request: Request, person: Person = Depends(api_person)
) -> Any:
    """A new password set by a lab admin; the person's sessions end."""
    _people(request, person.state).reset_password(person.actor, username[:_NAME], body.password)
    return {"username": username.strip().lower()}


@router.get("/users")
def list_users(request: Request, person: Person = Depends(api_person)) -> dict[str, Any]:
    """Accounts of the labs the person manages."""
    users = _people(request, person.state).manageable_users(person.actor)
    rows = [
        {
            "username": u.username,
            "full_name": u.full_name,
            "role": u.role.value,
            "labs": sorted(u.labs),
            "totp": u.totp_enrolled,
            "state": u.state,
            "rpps": u.rpps,
            "created_at": aware_iso(u.created_at),
        }
        for u in users
    ]
    return {"count": len(rows), "users": rows}


@router.post("/users/{username}/disable")
def disable_user(username: str, request: Request, person: Person = Depends(api_person)) -> Any:
    """Disable an account for good: its sessions and tokens stop at once."""
    user = _people(request, person.state).disable_user(person.actor, username)
    return {"username": user.username, "state": "disabled"}


@router.post("/users/{username}/reset-totp")
def reset_totp(username: str, request: Request, person: Person = Depends(api_person)) -> Any:
    """Forget a lost TOTP device; the person enrols again at the next login."""
    _people(request, person.state).reset_totp(person.actor, username)
    return {"username": username.strip().lower()}


@router.post("/tokens")
def create_token(body: NewToken, request: Request, person: Person = Depends(api_person)) -> Any:
    """A personal API token, returned once."""
    try:
        scopes = {Action(s) for s in body.scopes}
    except ValueError:
        known = ", ".join(a.value for a in Action)
        raise UsageError(f"--scope: unknown action (one of {known})") from None
    token_id, token = _people(request, person.state).create_token(
        person.actor, body.name, scopes, body.days
    )
    return {"id": token_id, "token": token, "scopes": sorted(scopes), "days": body.days}


@router.get("/tokens")
def list_tokens(request: Request, person: Person = Depends(api_person)) -> dict[str, Any]:
    """The person's own API tokens (never the tokens themselves)."""
    found = _people(request, person.state).list_tokens(person.actor)
    rows = [
        {
            "id": t.id,
            "name": t.name,
            "scopes": sorted(t.scopes),
            "expires_at": aware_iso(t.expires_at),
            "revoked": t.revoked_at is not None,
        }
        for t in found
    ]
    return {"count": len(rows), "tokens": rows}


@router.post("/tokens/{token_id}/revoke")
def revoke_token(token_id: str, request: Request, person: Person = Depends(api_person)) -> Any:
    """Revoke an API token at once."""
    _people(request, person.state).revoke_token(person.actor, token_id)
    return {"id": token_id, "revoked": True}
