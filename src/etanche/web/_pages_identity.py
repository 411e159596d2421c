"""Identity vigilance pages: status moves from the sheet, pair review, merges.

The review page shows two records side by side with every value masked; the
officer reveals one side with a purpose (an audited read of that record), sees
which fields differ, and merges with a confirmation. The merge page offers the
second lab's approval and the unmerge. ``IdentityService`` decides and logs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from etanche.domain import (
    INS_OIDS,
    DowngradeReason,
    IdentityDocument,
    IdentityStatus,
    InsTraits,
    Patient,
    Sex,
)
from etanche.errors import UsageError, ValidationError
from etanche.names import Action
from etanche.service import actions_of
from etanche.web._auth import form_person, page_person
from etanche.web._pages_common import field, form_data, render
from etanche.web._pages_fr import IDENTITY_STATUSES, SEXES
from etanche.web._state import Person

router = APIRouter(tags=["pages"])

_ID = re.compile(r"^[0-9a-f]{32}$")
MASK = "•••••"

DOCUMENTS = {
    IdentityDocument.ID_CARD: "Carte nationale d'identité",
    IdentityDocument.PASSPORT: "Passeport",
    IdentityDocument.RESIDENCE_PERMIT: "Titre de séjour",
    IdentityDocument.FAMILY_BOOK: "Livret de famille (mineur, avec la pièce d'un parent)",
    IdentityDocument.BIRTH_CERTIFICATE: "Extrait d'acte de naissance (mineur, avec la pièce "
    "d'un parent)",
}
REASONS = {
    DowngradeReason.STRICT_TRAIT_CHANGED: "Trait strict modifié",
    DowngradeReason.DOCUMENT_DOUBT: "Doute sur la pièce d'identité",
    DowngradeReason.INS_DOUBT: "Doute sur l'INS retourné (collision, autre personne)",
    DowngradeReason.IDENTITY_DOUBT: "Doute sur l'identité (usurpation, collision)",
}
TRAITS = {
    "birth_name": "Nom de naissance",
    "first_names": "Prénoms de naissance",
    "sex": "Sexe",
    "birth_date": "Date de naissance",
    "birthplace_insee": "Lieu de naissance (code INSEE)",
    "used_name": "Nom utilisé",
    "nir": "NIR",
    "addresses": "Adresse",
    "phones": "Téléphone",
    "emails": "Adresse électronique",
}
# Fixed messages chosen by a code in the query string: no value travels in a URL.
NOTICES = {
    "valide": "La pièce d'identité est enregistrée.",
    "ins": "Le résultat du téléservice INSi est enregistré.",
    "qualifie": "L'identité est qualifiée.",
    "retrograde": "Le statut de l'identité a été abaissé.",
    "retabli": "Le statut de l'identité a été rétabli.",
    "refus": "Opération refusée : ",
}
_FIELD_FR = {
    "document": "cette pièce n'est pas un justificatif à haut niveau de confiance (CNI, "
    "passeport, titre de séjour ; livret de famille ou extrait de naissance pour un mineur)",
    "identity_document": "aucune pièce d'identité à haut niveau de confiance n'a été contrôlée",
    "ins": "l'INS est absent ou ses traits diffèrent de ceux du dossier",
    "identity_status": "le statut actuel ne permet pas ce passage",
    "matricule": "le matricule INS doit comporter 15 caractères",
    "oid": "l'OID n'est pas celui d'une autorité d'affectation de l'INS",
    "traits": "les traits retournés par l'INSi sont incomplets",
    "purpose": "indiquez le motif de la consultation",
}


def _checked(patient_id: str) -> str:
    if not _ID.fullmatch(patient_id):
        raise UsageError("patient id: expected 32 hexadecimal characters")
    return patient_id


def identity_context(person: Person, patient: Patient) -> dict[str, Any]:
    """What the sheet shows of identity vigilance: evidence, moves offered, merges."""
    service = person.identity()
    allowed = actions_of(person.actor)
    merges = service.sheet_merges(patient.id)
    return {
        "documents": DOCUMENTS,
        "downgrade_reasons": REASONS,
        "traits_fr": TRAITS,
        "ins_oids": INS_OIDS,
        "ins_differ": service.mismatches(patient),
        "may": {a.value for a in allowed},
        "merge": merges.merge,
        "merged_into": merges.merged_into,
        "merged_specimens": merges.merged_specimens,
        "merged_hidden": merges.merged_hidden,
        "statuses": IDENTITY_STATUSES,
    }


def _moved(patient_id: str, code: str, work: Callable[[], object]) -> Response:
    """Run a status move; back to the sheet with its notice, or the refusal's field."""
    try:
        work()
    except ValidationError as exc:
        return _refused(patient_id, exc)
    return RedirectResponse(f"/patients/{patient_id}?identite={code}#identitovigilance", 303)


def _refused(patient_id: str, exc: ValidationError) -> Response:
    return RedirectResponse(
        f"/patients/{patient_id}?identite=refus&champ={exc.field}#identitovigilance", 303
    )


def notice_for(code: str, champ: str) -> str | None:
    """The French notice of a status move (codes only in the URL)."""
    if code == "refus":
        return NOTICES["refus"] + _FIELD_FR.get(champ, "le passage n'est pas possible") + "."
    return NOTICES.get(code)


@router.post("/patients/{patient_id}/identite/valider")
def validate(
    patient_id: str,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """A high-trust document checked at the desk (its kind only)."""
    pid = _checked(patient_id)
    document = field(form, "document", 40)
    return _moved(pid, "valide", lambda: person.identity().validate(pid, document))


@router.post("/patients/{patient_id}/identite/ins")
def retrieve(
    patient_id: str,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """Enter the INSi teleservice's answer (read from its screen or its file)."""
    pid = _checked(patient_id)

    def enter() -> object:
        traits = InsTraits(
            field(form, "ins_birth_name", 100),
            tuple(field(form, "ins_first_names", 200).split()),
            _sex(field(form, "ins_sex", 1)),
            _date(field(form, "ins_birth_date", 10), "ins_birth_date"),
            field(form, "ins_birthplace", 5) or None,
        )
        return person.identity().retrieve_ins(
            pid,
            field(form, "matricule", 25).replace(" ", ""),
            field(form, "oid", 40),
            traits,
            _moment(field(form, "retrieved_on", 10)),
        )

    return _moved(pid, "ins", enter)


@router.post("/patients/{patient_id}/identite/qualifier")
def qualify(patient_id: str, person: Person = Depends(form_person)) -> Response:
    pid = _checked(patient_id)
    return _moved(pid, "qualifie", lambda: person.identity().qualify(pid))


@router.post("/patients/{patient_id}/identite/retrograder")
def downgrade(
    patient_id: str,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    pid = _checked(patient_id)
    try:
        target = IdentityStatus(field(form, "target", 8))
        reason = DowngradeReason(field(form, "reason", 40))
    except ValueError:
        return _refused(pid, ValidationError("identity_status", "unknown status or reason"))
    return _moved(pid, "retrograde", lambda: person.identity().downgrade(pid, target, reason))


@router.post("/patients/{patient_id}/identite/retablir")
def restore(patient_id: str, person: Person = Depends(form_person)) -> Response:
    pid = _checked(patient_id)
    return _moved(pid, "retabli", lambda: person.identity().restore(pid))


# -- review of a pair ----------------------------------------------------------------
@router.get("/identity/review")
def review_page(
    request: Request,
    left: str = Query(..., max_length=32),
    right: str = Query(..., max_length=32),
    person: Person = Depends(page_person),
) -> Response:
    """Two records side by side, every value masked (an audited ``identity.review``)."""
    return _review(request, person, _checked(left), _checked(right), set(), "")


@router.post("/identity/review")
def reveal(
    request: Request,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """Reveal one or both sides: each side shown is an audited read with the purpose."""
    left, right = _checked(field(form, "left", 32)), _checked(field(form, "right", 32))
    wanted = {s for s in form.getlist("show") if s in ("left", "right")}
    purpose = field(form, "purpose", 200)
    return _review(request, person, left, right, wanted, purpose)


def _review(
    request: Request, person: Person, left: str, right: str, wanted: set[str], purpose: str
) -> Response:
    service = person.identity()
    pair = service.review(left, right)
    shown: dict[str, Patient] = {}
    error = ""
    if wanted and not purpose.strip():
        error = "Indiquez le motif de la consultation avant d'afficher un dossier."
    else:
        for side, record, may in (
            ("left", pair.left, pair.left_open),
            ("right", pair.right, pair.right_open),
        ):
            if side in wanted and may:
                shown[side] = service.reveal(record.id, purpose)
    rows = [
        (
            TRAITS[name],
            name in pair.differing,
            _display(shown.get("left"), name),
            _display(shown.get("right"), name),
        )
        for name in TRAITS
    ]
    return render(
        request,
        person,
        "identity_review.html",
        {
            "pair": pair,
            "rows": rows,
            "shown": shown,
            "purpose": purpose,
            "error": error,
            "statuses": IDENTITY_STATUSES,
            "may_merge": Action.IDENTITY_MERGE.value in {a.value for a in actions_of(person.actor)},
        },
        status_code=422 if error else 200,
    )


def _display(patient: Patient | None, name: str) -> str:
    if patient is None:
        return MASK
    value = getattr(patient, name)
    if value in (None, "", ()):
        return "non renseigné"
    if name == "sex":
        return SEXES[Sex(value)]
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if name == "addresses":
        return " ; ".join(f"{a.line}, {a.postcode} {a.city}" for a in value)
    if isinstance(value, tuple):
        return " ".join(str(v) for v in value)
    return str(value)


@router.post("/identity/merge")
def merge(person: Person = Depends(form_person), form: FormData = Depends(form_data)) -> Response:
    """Merge a reviewed pair (confirmed on the page): the other record is absorbed."""
    left, right = _checked(field(form, "left", 32)), _checked(field(form, "right", 32))
    if field(form, "confirm", 3) != "oui":
        raise UsageError("merge: not confirmed")
    survivor, absorbed = (left, right) if field(form, "survivor", 5) != "right" else (right, left)
    done = person.identity().merge(survivor, absorbed)
    return RedirectResponse(f"/identity/merges/{done.id}", status_code=303)


# -- merges ----------------------------------------------------------------------------
@router.get("/identity/merges")
def merges_page(request: Request, person: Person = Depends(page_person)) -> Response:
    """Merges of this person's labs: waiting for an approval, done, undone."""
    found = person.identity().merges()
    return render(
        request,
        person,
        "identity_merges.html",
        {"merges": sorted(found, key=lambda m: m.at, reverse=True)},
    )


@router.get("/identity/merges/{merge_id}")
def merge_page(request: Request, merge_id: str, person: Person = Depends(page_person)) -> Response:
    found = {m.id: m for m in person.identity().merges()}
    merge = found.get(_checked(merge_id))
    if merge is None:
        raise UsageError(f"merge {merge_id}: not found among the merges of this account's labs")
    return render(request, person, "identity_merge.html", {"merge": merge})


@router.post("/identity/merges/{merge_id}/approve")
def approve(merge_id: str, person: Person = Depends(form_person)) -> Response:
    done = person.identity().approve(_checked(merge_id))
    return RedirectResponse(f"/identity/merges/{done.id}", status_code=303)


@router.post("/identity/merges/{merge_id}/unmerge")
def unmerge(
    merge_id: str, person: Person = Depends(form_person), form: FormData = Depends(form_data)
) -> Response:
    if field(form, "confirm", 3) != "oui":
        raise UsageError("unmerge: not confirmed")
    done = person.identity().unmerge(_checked(merge_id))
    return RedirectResponse(f"/identity/merges/{done.id}", status_code=303)


def _sex(value: str) -> Sex:
    try:
        return Sex(value.upper())
    except ValueError:
        raise ValidationError("traits", "sex must be M, F or I") from None


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError("traits", f"{name}: expected a date") from None


def _moment(value: str) -> datetime:
    day = _date(value, "retrieved_on") if value else datetime.now(UTC).date()
    return datetime.combine(day, time(12, 0), tzinfo=UTC)


__all__ = ["identity_context", "notice_for", "router"]
