"""Lab admins' user management: list, add, disable, reset TOTP, for their labs.

A privileged account is created pending: it shows so here, and its second
approval happens on the requests page (``_pages_requests``).

The service's ``People`` decides who may manage whom (``user.manage`` over every
lab of the account) and logs each change as for the CLI (operation, account,
outcome); these pages show the accounts of the admin's labs and its answers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from etanche.errors import PermissionDenied, ValidationError
from etanche.names import Role
from etanche.service import NETWORK_WIDE, ROLES, User
from etanche.web._auth import form_person, page_person
from etanche.web._pages_common import field, form_data, labs_label, person_labs, render
from etanche.web._pages_fr import GENDERS, invalid_fr, role_label
from etanche.web._state import Person

router = APIRouter(tags=["pages"])

_ACCOUNT_FIELDS = ("username", "full_name", "role", "labs", "password", "rpps", "gender")
REQUIRED = "Ce champ est obligatoire."
MISMATCH = "Les deux mots de passe diffèrent."


def _state_of(user: User) -> str:
    if user.disabled_at is not None:
        return "désactivé"
    if user.pending:
        return "en attente d'une seconde approbation"
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
    users = person.people().manageable_users(person.actor)
    rows = [
        {
            "username": u.username,
            "full_name": u.full_name,
            "role": role_label(u.role, u.gender),
            "gender": u.gender or "",
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
            "genders": list(GENDERS.items()),
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
        "rpps": field(form, "rpps", 16),
        "gender": field(form, "gender", 1),
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
    try:
        user = person.people().add_user(
            person.actor,
            values["username"],
            values["full_name"],
            role,
            values["labs"],
            password[:1024],
            values["rpps"] or None,
            values["gender"] or None,
        )
    except ValidationError as exc:
        name = exc.field if exc.field in _ACCOUNT_FIELDS else "_form"
        return _page(
            request, person, values=values, errors={name: invalid_fr(exc)}, status_code=422
        )
    except PermissionDenied:
        message = "Vous ne pouvez créer de comptes que pour vos laboratoires."
        return _page(request, person, values=values, errors={"_form": message}, status_code=403)
    return RedirectResponse(
        "/users?ok=demande" if user.pending else "/users?ok=compte", status_code=303
    )


@router.post("/users/{username}/gender")
def set_gender(
    username: str, person: Person = Depends(form_person), form: FormData = Depends(form_data)
) -> Response:
    """Change how the pages word a person's role (Madame, Monsieur, not given)."""
    gender = field(form, "gender", 1)
    person.people().set_gender(person.actor, username[:64], gender or None)
    return RedirectResponse("/users?ok=civilite", status_code=303)


@router.post("/users/{username}/disable")
def disable_user(username: str, person: Person = Depends(form_person)) -> Response:
    """Disable an account for good: its sessions and API tokens stop at once."""
    person.people().disable_user(person.actor, username[:64])
    return RedirectResponse("/users?ok=desactive", status_code=303)


@router.post("/users/{username}/reset-totp")
def reset_totp(username: str, person: Person = Depends(form_person)) -> Response:
    """Forget a lost TOTP device: the person enrols again at the next login."""
    person.people().reset_totp(person.actor, username[:64])
    return RedirectResponse("/users?ok=totp", status_code=303)
