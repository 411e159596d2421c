"""Lab admins' user management: list, add, disable, reset TOTP, for their labs.

``Accounts`` enforces who may manage whom (``user.manage`` over every lab of
the account); these pages only show the accounts of the admin's labs and log
each change as the CLI does (operation, account, outcome).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from etanche.access import NETWORK_WIDE, Accounts, Action, Actor, Resource, Role, User, can
from etanche.audit import Outcome
from etanche.audit._events import DetailValue
from etanche.errors import EtancheError, PermissionDenied, ValidationError
from etanche.web._auth import form_person, page_person
from etanche.web._pages_common import field, form_data, labs_label, person_labs, record, render
from etanche.web._pages_fr import ROLES, invalid_fr
from etanche.web._state import Person

router = APIRouter(tags=["pages"])

_ACCOUNT_FIELDS = ("username", "full_name", "role", "labs", "password")
REQUIRED = "Ce champ est obligatoire."
MISMATCH = "Les deux mots de passe diffèrent."


def _resource(lab: str) -> Resource:
    return Resource("user", None if lab == NETWORK_WIDE else lab)


def _manageable(person: Person, users: list[User]) -> list[User]:
    """The accounts of the labs this person manages; refused (and logged) if none."""
    actor = person.actor
    probe = next(iter(sorted(actor.labs)), NETWORK_WIDE)
    decision = can(actor, Action.USER_MANAGE, _resource(probe))
    if not decision:
        record(person, Action.USER_MANAGE, Outcome.DENIED, {"operation": "list"})
        raise PermissionDenied(decision.reason)
    return [
        u for u in users if any(can(actor, Action.USER_MANAGE, _resource(lab)) for lab in u.labs)
    ]


def _state_of(user: User) -> str:
    if user.disabled_at is not None:
        return "désactivé"
    if user.locked_until is not None and user.locked_until > datetime.now(UTC):
        return "verrouillé"
    return "actif" if user.totp_enrolled else "en attente du code TOTP"


def _lab_choices(person: Person) -> list[tuple[str, str]]:
    labs = person_labs(person.state, person.actor)
    choices = [(lab.id, f"{lab.id} — {lab.name}") for lab in labs]
    if person.actor.network_wide:
        choices.insert(0, (NETWORK_WIDE, "Tout le réseau (rôles de réseau uniquement)"))
    return choices


def _page(
    request: Request,
    person: Person,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    users = _manageable(person, Accounts(person.state.vault).list())
    rows = [
        {
            "username": u.username,
            "full_name": u.full_name,
            "role": ROLES[u.role],
            "labs": labs_label(u.labs),
            "state": _state_of(u),
            "active": u.active,
            "self": u.id == person.actor.user_id,
            "created_at": u.created_at,
        }
        for u in users
    ]
    return render(
        request,
        person,
        "users.html",
        {
            "rows": rows,
            "roles": [(role.value, ROLES[role]) for role in Role],
            "lab_choices": _lab_choices(person),
            "values": values or {"role": Role.RECEPTION.value, "labs": []},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/users")
def users_page(request: Request, person: Person = Depends(page_person)) -> Response:
    """Accounts of the admin's labs, and the form to add one."""
    return _page(request, person)


def _audited(person: Person, details: dict[str, DetailValue], work: Any) -> Any:
    """Run an account change and log its outcome like the CLI (denied, failed, ok)."""
    try:
        result = work()
    except PermissionDenied:
        record(person, Action.USER_MANAGE, Outcome.DENIED, details)
        raise
    except EtancheError as exc:
        record(person, Action.USER_MANAGE, Outcome.FAILED, {**details, "error": type(exc).__name__})
        raise
    record(person, Action.USER_MANAGE, Outcome.OK, details)
    return result


@router.post("/users")
def add_user(
    request: Request,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """Create the account of one named person; TOTP is set up at their first login."""
    values: dict[str, Any] = {
        "username": field(form, "username", 64).lower(),
        "full_name": field(form, "full_name", 200),
        "role": field(form, "role", 32),
        "labs": [lab for lab in form.getlist("labs") if isinstance(lab, str)][:50],
    }
    password = form.get("password")
    password = password if isinstance(password, str) else ""
    confirm = form.get("password_confirm")
    errors: dict[str, str] = {}
    try:
        role = Role(values["role"])
    except ValueError:
        errors["role"] = "Choisissez un rôle."
    if not password:
        errors["password"] = REQUIRED
    elif password != confirm:
        errors["password_confirm"] = MISMATCH
    if errors:
        return _page(request, person, values=values, errors=errors, status_code=422)
    details: dict[str, DetailValue] = {
        "operation": "add",
        "account": values["username"],
        "role": role.value,
        "labs": ",".join(sorted(values["labs"])),
    }
    accounts = Accounts(person.state.vault)
    actor: Actor = person.actor
    try:
        _audited(
            person,
            details,
            lambda: accounts.add(
                values["username"],
                values["full_name"],
                role,
                values["labs"],
                password[:1024],
                actor,
            ),
        )
    except ValidationError as exc:
        name = exc.field if exc.field in _ACCOUNT_FIELDS else "_form"
        return _page(
            request, person, values=values, errors={name: invalid_fr(exc)}, status_code=422
        )
    except PermissionDenied:
        message = "Vous ne pouvez créer de comptes que pour vos laboratoires."
        return _page(request, person, values=values, errors={"_form": message}, status_code=403)
    return RedirectResponse("/users?ok=compte", status_code=303)


@router.post("/users/{username}/disable")
def disable_user(username: str, person: Person = Depends(form_person)) -> Response:
    """Disable an account for good: its sessions and API tokens stop at once."""
    name = username[:64]
    accounts = Accounts(person.state.vault)
    details: dict[str, DetailValue] = {"operation": "disable", "account": name}
    _audited(person, details, lambda: accounts.disable(name, person.actor))
    return RedirectResponse("/users?ok=desactive", status_code=303)


@router.post("/users/{username}/reset-totp")
def reset_totp(username: str, person: Person = Depends(form_person)) -> Response:
    """Forget a lost TOTP device: the person enrols again at the next login."""
    name = username[:64]
    accounts = Accounts(person.state.vault)
    details: dict[str, DetailValue] = {"operation": "reset-totp", "account": name}
    _audited(person, details, lambda: accounts.reset_totp(name, person.actor))
    return RedirectResponse("/users?ok=totp", status_code=303)
