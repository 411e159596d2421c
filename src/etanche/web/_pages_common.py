"""What every page shares: rendering, navigation, form reading, policy checks.

Pages are thin: the service decides (policy), records (audit) and alerts; this
module only shapes its answers into French HTML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from etanche.domain import Lab, department_name, place_name, regime_name
from etanche.names import Action
from etanche.service import (
    OUTCOMES,
    ROLES,
    Actor,
    PatientService,
    SearchTally,
    actions_of,
)
from etanche.service import allowed as allowed_on
from etanche.web._audit_fr import ACTIONS, actor_fr, details_fr, role_fr, summary_fr
from etanche.web._pages_fr import IDENTITY_STATUSES, SEXES, role_label
from etanche.web._state import Person, ServerState

PARIS = ZoneInfo("Europe/Paris")  # the network's labs are in France: times shown locally


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str | None  # None: announced but not there yet ("bientôt")
    current: bool = False


# (label, path, the actions of which a person needs one to see the entry)
_NAV: tuple[tuple[str, str, Action | tuple[Action, ...]], ...] = (
    ("Rechercher un patient", "/patients", Action.PATIENT_SEARCH),
    ("Nouveau patient", "/patients/new", Action.PATIENT_CREATE),
    ("Utilisateurs", "/users", Action.USER_MANAGE),
    ("Journal d'audit", "/audit", Action.AUDIT_READ),
    ("Qui a consulté ?", "/acces", Action.RIGHTS_ACCESS_REPORT),
    ("Alertes", "/alerts", Action.ALERT_READ),
    ("Leurres", "/decoys", Action.DECOY_MANAGE),
    (
        "Migrations",
        "/migrations",
        (Action.MIGRATION_PLAN, Action.MIGRATION_APPROVE, Action.MIGRATION_CLOSE),
    ),
    ("Incidents", "/incidents", Action.INCIDENT_MANAGE),
    ("Demandes de droits", "/rights-requests", Action.RIGHTS_READ),
    ("Identitovigilance", "/identity/merges", Action.IDENTITY_REVIEW),
    ("Demandes de comptes", "/account-requests", Action.USER_APPROVE),
    ("Doublons potentiels", "/identity/pairs", Action.IDENTITY_PAIRS),
)
_LATER: tuple[str, ...] = ()

# Fixed flash messages, chosen by a code in the query string: no value travels in a URL.
FLASHES = {
    "cree": "Le dossier patient a été créé.",
    "modifie": "Le dossier patient a été mis à jour.",
    "prelevement": "Le prélèvement a été enregistré.",
    "clinique": "Les données cliniques ont été mises à jour ; la version précédente est "
    "conservée avec le motif dans l'historique du dossier.",
    "rattache": "Le dossier a été créé et rattaché à l'identité connue dans le réseau : seuls les "
    "traits d'identité ont été repris ; vérifiez-les sur pièce et complétez les coordonnées.",
    "bris": "Bris de glace activé : vous pouvez rechercher et consulter hors de vos laboratoires "
    "jusqu'à l'échéance ; chaque accès est enregistré et signalé au DPO.",
    "compte": "Le compte a été créé ; la personne configurera son code TOTP à la première "
    "connexion.",
    "demande": "Le compte est créé en attente : il ne pourra se connecter qu'après l'approbation "
    "d'une seconde personne (Demandes de comptes).",
    "approuvee": "La demande a été approuvée : elle prend effet immédiatement.",
    "refusee": "La demande a été refusée.",
    "desactive": "Le compte a été désactivé : ses sessions et jetons sont révoqués.",
    "totp": "Le code TOTP a été réinitialisé : la personne le configurera à sa prochaine "
    "connexion.",
    "acquittee": "L'alerte a été acquittée.",
    "civilite": "La civilité du compte a été enregistrée.",
    "plantes": "Les dossiers leurres ont été ajoutés.",
    "deconnecte": "Vous êtes déconnecté.",
}


def nav_for(actor: Actor, path: str) -> list[NavItem]:
    """The entries this person's role can use (each route still asks the policy)."""
    allowed = actions_of(actor)
    items: list[NavItem] = []
    for label, href, needed in _NAV:
        if href in _NETWORK_ENTRIES and not any(_network(actor, a) for a in _as_tuple(needed)):
            continue  # a network-wide queue: a lab-scoped account would meet a refusal
        if _any_allowed(needed, allowed):
            current = path == href or (href != "/" and path.startswith(href + "/"))
            if href == "/patients" and path.startswith("/patients/new"):
                current = False
            items.append(NavItem(label, href, current))
    items.extend(NavItem(f"{label} (bientôt)", None) for label in _LATER)
    return items


# Entries whose page works on the whole network (the policy decides on no lab).
_NETWORK_ENTRIES = frozenset({"/identity/pairs"})


def _as_tuple(needed: Action | tuple[Action, ...]) -> tuple[Action, ...]:
    return needed if isinstance(needed, tuple) else (needed,)


def _network(actor: Actor, action: Action) -> bool:
    return allowed_on(actor, action, None)


def home_for(actor: Actor) -> str:
    """Where a person lands after login: the first page of their role."""
    allowed = actions_of(actor)
    for _, href, needed in _NAV:
        if _any_allowed(needed, allowed):
            return href
    return "/home"


def _any_allowed(needed: Action | tuple[Action, ...], allowed: frozenset[Action]) -> bool:
    wanted = needed if isinstance(needed, tuple) else (needed,)
    return any(action in allowed for action in wanted)


def render(
    request: Request,
    person: Person | None,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """A page in the common layout; the CSRF token goes into a meta tag and every form."""
    state: ServerState = request.app.state.etanche
    install_filters(state)
    values: dict[str, Any] = {
        "person": person,
        "actor": person.actor if person else None,
        "role_label": role_label(person.actor.role, person.gender) if person else None,
        "labs_label": labs_label(person.actor.labs) if person else None,
        "csrf": person.csrf_token if person else None,
        "nav": nav_for(person.actor, request.url.path) if person else [],
        "flash": FLASHES.get(request.query_params.get("ok", "")),
        "allowed": {a.value for a in actions_of(person.actor)} if person else set(),
    }
    values.update(context or {})
    return state.templates.TemplateResponse(request, template, values, status_code=status_code)


def labs_label(labs: frozenset[str]) -> str:
    return "tout le réseau" if "*" in labs else ", ".join(sorted(labs))


async def form_data(request: Request) -> FormData:
    """The submitted form (already parsed, and CSRF-checked, by ``form_person``)."""
    return await request.form()


def field(form: FormData, name: str, limit: int = 500) -> str:
    """One text field, stripped and bounded: a page never stores an unbounded value."""
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def person_labs(state: ServerState, actor: Actor) -> list[Lab]:
    """The labs this person works in (every lab for a network-wide account)."""
    labs = state.door.labs()
    if actor.network_wide:
        return labs
    return [lab for lab in labs if lab.id in actor.labs]


def counting_patients(person: Person) -> tuple[PatientService, SearchTally]:
    """A patient service whose searches also report the hidden matches."""
    return person.state.door.counting_patients(person.actor, client=person.client)


# -- formatting (Jinja filters) ----------------------------------------------------
def fr_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return local(value).strftime("%d/%m/%Y %H:%M")
    return value.strftime("%d/%m/%Y")


def fr_datetime_seconds(value: datetime | None) -> str:
    return local(value).strftime("%d/%m/%Y %H:%M:%S") if value is not None else ""


def local(value: datetime) -> datetime:
    """Aware times shown in Paris time; naive ones were written as local wall time."""
    if value.tzinfo is None:
        return value
    return value.astimezone(PARIS)


def fr_nir(value: str | None) -> str:
    """A NIR grouped as on the carte Vitale: 1 89 07 35 238 855 50."""
    if not value or len(value) != 15:
        return value or ""
    parts = (value[0], value[1:3], value[3:5], value[5:7], value[7:10], value[10:13], value[13:])
    return " ".join(parts)


def fr_phone(value: str) -> str:
    """An E.164 number in the national form for French numbers (06 12 34 56 78)."""
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        return value
    form = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 33
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, form)


_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre")  # fmt: skip
NO_DEADLINE_YEAR = 2099  # plans written "until further notice" put their expiry this far


def fr_long_date(value: date | datetime | None) -> str:
    """« 3 décembre 2026 » (a time is first brought to Paris)."""
    if value is None:
        return ""
    day = local(value).date() if isinstance(value, datetime) else value
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first} {_MONTHS[day.month - 1]} {day.year}"


def fr_when(value: str | datetime | None) -> str:
    """An ISO time (as plans and certificates store it) as « 03/12/2026 à 18:12 », Paris."""
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the service writes UTC
    return local(moment).strftime("%d/%m/%Y à %H:%M")


def fr_deadline(value: datetime | None) -> str:
    """A plan's expiry: its day (the plan's own date, end of day), or « sans échéance »."""
    if value is None or value.year >= NO_DEADLINE_YEAR:
        return "sans échéance"
    day = value.astimezone(UTC).date() if value.tzinfo else value.date()
    return f"{fr_long_date(day)} (fin de journée)"


def fr_plural(count: int, one: str, many: str) -> str:
    """« 1 clé détruite », « 2 clés détruites », « 0 clé détruite »."""
    return f"{count} {one if count <= 1 else many}"


def fr_place(code: str) -> str:
    """A birthplace's name; else the code with its département, or « né(e) à l'étranger »
    for a country code (99xxx): never a guessed name."""
    name = place_name(code)
    if name is not None:
        return name
    if code.startswith("99"):
        return f"né(e) à l'étranger (pays de code INSEE {code})"
    department = department_name(code)
    return f"commune INSEE {code} ({department})" if department else f"code INSEE {code}"


def now_paris() -> datetime:
    return datetime.now(UTC).astimezone(PARIS)


def install_filters(state: ServerState) -> None:
    """Register the French formatting filters once per template environment."""
    env = state.templates.env
    if "fr_date" in env.filters:
        return
    env.filters["fr_date"] = fr_date
    env.filters["fr_seconds"] = fr_datetime_seconds
    env.filters["nir"] = fr_nir
    env.filters["phone"] = fr_phone
    env.filters["place"] = fr_place
    env.filters["regime"] = regime_name
    env.filters["fr_long"] = fr_long_date
    env.filters["fr_when"] = fr_when
    env.filters["deadline"] = fr_deadline
    env.globals["plural"] = fr_plural
    env.globals["SEXES"] = SEXES
    env.globals["IDENTITY_STATUSES"] = IDENTITY_STATUSES
    env.globals["ROLES"] = ROLES
    env.globals["ACTIONS"] = ACTIONS
    env.globals["OUTCOMES"] = OUTCOMES
    env.globals["details_fr"] = details_fr
    env.globals["lab_name"] = lambda code: next(
        (lab.name for lab in state.door.labs() if lab.id == code), code
    )  # labs read by name (« Laboratoire de Brest Siam »), not by code
    env.filters["actor"] = actor_fr
    env.filters["role"] = role_fr
    env.globals["summary_fr"] = summary_fr
