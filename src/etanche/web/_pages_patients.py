"""Patient pages: search, sheet, intake and edit with live validation, specimens.

Every read, search and write goes through ``PatientService``: the policy
decides, the vault session unwraps only the compartments granted, the trail
logs it (opening a sheet is an audited ``patient.read``). Search terms travel
in POST bodies, never in URLs, so they stay out of history and server logs.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from etanche.domain import (
    Patient,
    normalize_phone,
    parse_birth,
    parse_french_date,
    search_prefix,
    validate_email,
    validate_nir,
)
from etanche.errors import RecordNotFound, ValidationError
from etanche.service import DUPLICATE_MIN_REASON, PatientService, new_record_id, sheet_rights
from etanche.service.masks import mask_nir, mask_text
from etanche.web._auth import form_person, page_person
from etanche.web._pages_change import (
    FIELD_NAMES_FR,
    STRICT_TRAIT_REASON,
    ChangeReason,
    change_reason,
    strict_traits_changed,
)
from etanche.web._pages_common import (
    counting_patients,
    form_data,
    now_paris,
    person_labs,
    render,
)
from etanche.web._pages_forms import (
    IDENTITY_FIELDS,
    PATIENT_FIELDS,
    REQUIRED,
    SPECIMEN_FIELDS,
    SPECIMEN_TYPES,
    Checked,
    build_patient,
    build_specimen,
    check_patient,
    check_specimen,
    domain_errors,
    final_check,
    parse_date,
    patient_raw,
    raw_values,
    validate_field,
)
from etanche.web._pages_fr import SEXES, invalid_fr, role_label
from etanche.web._pages_identity import identity_context, notice_for
from etanche.web._pages_insurance import regime_options
from etanche.web._state import Person, ServerState, server

router = APIRouter(tags=["pages"])

_PATIENT_ID = re.compile(r"^[0-9a-f]{32}$")
SEARCH_MODES = ("nir", "nom", "debut", "telephone", "courriel")
SEARCH_FIELDS: tuple[str, ...] = ("nir", "birth_name", "first_name", "birth_date")
SEARCH_FIELDS += ("prefix", "born", "sound", "phone", "email")


def _checked_id(patient_id: str) -> str:
    """Ids are 32 hex digits; anything else is not found (and stays out of the log)."""
    if not _PATIENT_ID.match(patient_id):
        raise RecordNotFound("patient: not found")
    return patient_id


def lab_options(person: Person) -> list[tuple[str, str]]:
    return [(lab.id, f"{lab.id} — {lab.name}") for lab in person_labs(person.state, person.actor)]


def summary(patient: Patient) -> dict[str, str]:
    """One masked line of a result list (like the CLI's default output)."""
    return {
        "id": patient.id,
        "lab": patient.lab_id,
        "birth_name": mask_text(patient.birth_name),
        "first_names": " ".join(mask_text(n) for n in patient.first_names),
        "birth_year": f"••/••/{patient.birth_date.year}",
        "sex": SEXES[patient.sex],
        "nir": mask_nir(patient.nir),
    }


@dataclass
class Matches:
    """What a search found: visible rows, and how many the policy hid."""

    rows: list[dict[str, str]]
    hidden: int


# -- search ------------------------------------------------------------------------
@router.get("/patients")
def search_page(request: Request, person: Person = Depends(page_person)) -> Response:
    """The search forms: NIR, INS traits, phone, email."""
    return render(request, person, "search.html", {"mode": "nir", "values": {}, "errors": {}})


@router.post("/patients/search")
def search(
    request: Request,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """Run one search; results are masked, hidden matches only counted."""
    mode = form.get("mode")
    mode = mode if isinstance(mode, str) and mode in SEARCH_MODES else "nir"
    values = raw_values(form, SEARCH_FIELDS)
    errors: dict[str, str] = {}
    service, tally = counting_patients(person)
    found: list[Patient] | None = None
    try:
        if mode == "nir":
            if not values["nir"]:
                errors["nir"] = REQUIRED
            else:
                found = service.find_by_nir(validate_nir(values["nir"]))
        elif mode == "nom":
            for name in ("birth_name", "first_name", "birth_date"):
                if not values[name]:
                    errors[name] = REQUIRED
            if not errors:
                try:
                    birth = parse_french_date(values["birth_date"])
                except ValidationError:
                    errors["birth_date"] = BAD_DATE
                else:
                    found = service.find_by_name(
                        values["birth_name"], values["first_name"].split()[0], birth
                    )
        elif mode == "debut":
            found = _prefix_search(service, values, errors)
        elif mode == "telephone":
            if not values["phone"]:
                errors["phone"] = REQUIRED
            else:
                found = service.find_by_phone(normalize_phone(values["phone"]))
        elif not values["email"]:
            errors["email"] = REQUIRED
        else:
            found = service.find_by_email(validate_email(values["email"]))
    except ValidationError as exc:
        key = {"nir": "nir", "telephone": "phone", "courriel": "email"}.get(mode, "birth_name")
        errors[key] = invalid_fr(exc)
    matches = Matches([summary(p) for p in found], tally.hidden) if found is not None else None
    return render(
        request,
        person,
        "search.html",
        {
            "mode": mode,
            "values": values,
            "errors": errors,
            "matches": matches,
            "lab_options": lab_options(person),
        },
        status_code=422 if errors else 200,
    )


BAD_DATE = "Date invalide : tapez-la comme 12/12/1959, 12.12.1959 ou 12121959."
BAD_BORN = "Date invalide : tapez l'année (1959), le mois et l'année (12/1959) ou la date."
SHORT_PREFIX = "Tapez au moins les 3 premières lettres du nom de naissance."


def _prefix_search(
    service: PatientService, values: dict[str, str], errors: dict[str, str]
) -> list[Patient] | None:
    """Start of the birth name (or its sound) with the birth year, month or date."""
    prefix = birth = None
    try:
        prefix = search_prefix(values["prefix"], "prefix")
    except ValidationError:
        errors["prefix"] = SHORT_PREFIX if values["prefix"] else REQUIRED
    try:
        birth = parse_birth(values["born"], "born")
    except ValidationError:
        errors["born"] = BAD_BORN if values["born"] else REQUIRED
    if prefix is None or birth is None:
        return None
    if values["sound"] == "oui":
        return service.find_by_sound(values["prefix"], birth)
    return service.find_by_prefix(prefix, birth)


# -- intake and edit -----------------------------------------------------------------
def _duplicates(person: Person, raw: dict[str, str], exclude: str | None) -> Matches | None:
    """Records of the same person (same NIR, or same INS traits) across the network.

    Visible ones are listed (masked); those the policy hides are only counted:
    the person exists in another lab, and that is all this page may say.
    """
    checked = check_patient(raw)
    clean, errors = checked.clean, checked.errors
    service, tally = counting_patients(person)
    seen: dict[str, Patient] = {}
    searched = False
    if clean.get("nir") and "nir" not in errors:
        searched = True
        seen.update((p.id, p) for p in service.find_by_nir(clean["nir"]))
    traits = ("birth_name", "first_names", "birth_date")
    if all(raw.get(t) for t in traits) and not any(t in errors for t in traits):
        searched = True
        first = raw["first_names"].split()[0]
        birth = parse_date(raw["birth_date"])
        seen.update((p.id, p) for p in service.find_by_name(raw["birth_name"], first, birth))
    if not searched:
        return None
    rows = [summary(p) for pid, p in seen.items() if pid != exclude]
    return Matches(rows, tally.hidden)


def _form_page(
    request: Request,
    person: Person,
    *,
    raw: dict[str, str],
    errors: dict[str, str],
    patient: Patient | None,
    duplicates: Matches | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        person,
        "patient_form.html",
        {
            "values": raw,
            "errors": errors,
            "patient": patient,
            "lab_options": lab_options(person),
            "regime_options": regime_options(raw.get("amo_regime", "")),
            "duplicates": duplicates,
            "action": f"/patients/{patient.id}/edit" if patient else "/patients/new",
        },
        status_code=status_code,
    )


@router.get("/patients/new")
def new_patient_page(request: Request, person: Person = Depends(page_person)) -> Response:
    """The intake form."""
    labs = person_labs(person.state, person.actor)
    raw = {name: "" for name in PATIENT_FIELDS}
    raw["lab_id"] = labs[0].id if len(labs) == 1 else ""
    raw["identity_status"] = "PROV"
    return _form_page(request, person, raw=raw, errors={}, patient=None)


@router.post("/patients/new")
def create_patient(
    request: Request,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """Create a patient: all field errors at once; a confirmed duplicate only."""
    raw = raw_values(form, PATIENT_FIELDS)
    allowed = {lab.id for lab in person_labs(person.state, person.actor)}
    checked = check_patient(raw, allowed)
    patient: Patient | None = None
    if checked.ok:
        patient = build_patient(checked, new_record_id(), raw["lab_id"], None)
        final_check(patient, checked)
    return _save(request, person, form, checked, patient, base=None)


@router.get("/patients/{patient_id}/edit")
def edit_patient_page(
    request: Request, patient_id: str, person: Person = Depends(page_person)
) -> Response:
    """The edit form, filled from an audited read."""
    patient = person.patients().get(_checked_id(patient_id))
    return _form_page(request, person, raw=patient_raw(patient), errors={}, patient=patient)


@router.post("/patients/{patient_id}/edit")
def update_patient(
    request: Request,
    patient_id: str,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """Save the identity and contacts; clinical data and further contacts are kept."""
    base = person.patients().get(_checked_id(patient_id))
    raw = raw_values(form, PATIENT_FIELDS)
    raw["lab_id"] = base.lab_id  # a record never changes lab
    checked = check_patient(raw, known_regime=base.insurance.amo_regime if base.insurance else "")
    why = change_reason(form)
    checked.raw.update({"motif": why.reason or "", "demande": why.request_id or ""})
    checked.errors.update(why.errors)
    patient: Patient | None = None
    if checked.ok and not why.errors:
        patient = build_patient(checked, base.id, base.lab_id, base)
        final_check(patient, checked)
        if why.reason is None and strict_traits_changed(base, patient):
            checked.errors["motif"] = STRICT_TRAIT_REASON
    return _save(request, person, form, checked, patient, base=base, why=why)


def _save(
    request: Request,
    person: Person,
    form: FormData,
    checked: Checked,
    patient: Patient | None,
    *,
    base: Patient | None,
    why: ChangeReason | None = None,
) -> Response:
    if patient is None or not checked.ok or (why is not None and why.errors):
        return _form_page(
            request, person, raw=checked.raw, errors=checked.errors, patient=base, status_code=422
        )
    duplicates = _duplicates(person, checked.raw, patient.id)
    errors = _unconfirmed(duplicates, form, creating=base is None)
    if errors:
        return _form_page(
            request,
            person,
            raw=checked.raw,
            errors=errors,
            patient=base,
            duplicates=duplicates,
            status_code=409,
        )
    service = person.patients()
    known = duplicates is not None and bool(duplicates.rows or duplicates.hidden)
    try:
        if base is None:
            service.add(
                patient, duplicate_reason=_text(form, "duplicate_reason") if known else None
            )
        else:
            reason = why.reason if why is not None else None
            request_id = why.request_id if why is not None else None
            service.update(patient, reason=reason, request_id=request_id)
    except ValidationError as exc:  # the vault's own check: shown on the form
        return _form_page(
            request,
            person,
            raw=checked.raw,
            errors=domain_errors(exc),
            patient=base,
            status_code=422,
        )
    flash = "cree" if base is None else "modifie"
    return RedirectResponse(f"/patients/{patient.id}?ok={flash}", status_code=303)


DUPLICATE_HERE = (
    "Un dossier de la même personne existe déjà dans vos laboratoires : ouvrez-le plutôt, "
    "ou confirmez qu'il s'agit d'une autre personne en donnant le motif."
)
DUPLICATE_ELSEWHERE = (
    "Cette personne est déjà connue dans un autre laboratoire du réseau : rattachez son "
    "identité à votre laboratoire depuis la recherche (NIR ou identité complète), ou confirmez "
    "qu'il s'agit d'une autre personne en donnant le motif."
)
SHORT_REASON = "Donnez le motif en une phrase (15 caractères au moins) : il est enregistré."


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return " ".join(value.split()) if isinstance(value, str) else ""


def _unconfirmed(duplicates: Matches | None, form: FormData, *, creating: bool) -> dict[str, str]:
    """Errors while a probable duplicate is not confirmed (with a reason, on creation).

    A record of a person already known in the network is never created silently:
    the page asks for a confirmation and a reason, which the service audits.
    """
    if duplicates is None or not (duplicates.rows or (creating and duplicates.hidden)):
        return {}
    message = DUPLICATE_HERE if duplicates.rows else DUPLICATE_ELSEWHERE
    if form.get("confirm_duplicate") != "oui":
        return {"_duplicate": message}
    if creating and len(_text(form, "duplicate_reason")) < DUPLICATE_MIN_REASON:
        return {"_duplicate": message, "duplicate_reason": SHORT_REASON}
    return {}


@router.post("/patients/validate")
def validate(
    request: Request,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """Live validation (htmx): the error of the field just left, and duplicates.

    Answers a fragment: the field's message for its aria-live region, plus
    out-of-band updates of the NIR message (it depends on sex and birth date)
    and of the duplicate warning when an identity field changed.
    """
    name = request.headers.get("HX-Trigger-Name") or form.get("field") or ""
    name = name if isinstance(name, str) else ""
    raw = raw_values(form, PATIENT_FIELDS + SPECIMEN_FIELDS)
    context: dict[str, Any] = {"field": name, "message": validate_field(name, raw)}
    if name in ("sex", "birth_date") and raw.get("nir"):
        context["nir_message"] = validate_field("nir", raw)
    if form.get("check_duplicates") == "oui" and name in IDENTITY_FIELDS | {"sex"}:
        exclude = form.get("patient_id")
        context["duplicates"] = _duplicates(
            person, raw, exclude if isinstance(exclude, str) else None
        )
        context["duplicates_checked"] = True
    return render(request, person, "_validation.html", context)


# -- the sheet -------------------------------------------------------------------------
@router.get("/patients/{patient_id}")
async def patient_sheet(
    request: Request, patient_id: str, state: ServerState = Depends(server)
) -> Response:
    """The patient sheet: an audited read; clinical data only if the role holds its key.

    The page's whole work (session, policy, read, audit, rendering) makes one trip
    to the thread pool: a sync dependency (``page_person``) would cost a second.
    """
    return await run_in_threadpool(
        lambda: _sheet_page(request, page_person(request, state), patient_id)
    )


def _sheet_page(request: Request, person: Person, patient_id: str) -> Response:
    service = person.patients()
    sheet = service.sheet(_checked_id(patient_id))
    patient, specimens, restricted = sheet.patient, sheet.specimens, sheet.restricted
    rights = sheet_rights(person.actor, patient.lab_id, patient.id, restricted=restricted)
    labs = {lab.id: lab for lab in person.state.door.labs()}
    just_added = request.query_params.get("prelevement", "")
    new_specimen = next((s for s in specimens if s.id == just_added), None)
    context: dict[str, Any] = {
        "patient": patient,
        "specimens": specimens,
        "lab": labs.get(patient.lab_id),
        "labs": labs,
        "clinical_open": rights.clinical_open,
        "can_edit": rights.can_edit,
        "can_edit_clinical": rights.can_edit_clinical,
        "can_add_specimen": rights.can_add_specimen,
        "can_label": rights.can_add_specimen,
        "break_glass": rights.break_glass,
        "new_specimen": new_specimen,
        "restricted": restricted,
        "identity_notice": notice_for(
            request.query_params.get("identite", ""), request.query_params.get("champ", "")
        ),
        **identity_context(person, patient),
    }
    if new_specimen is not None:
        context["flash"] = None  # the sheet says it with the accession number instead
    return render(request, person, "patient.html", context)


@router.get("/patients/{patient_id}/history")
def patient_history(
    request: Request, patient_id: str, person: Person = Depends(page_person)
) -> Response:
    """Earlier versions of the record: date, who, reason, request, fields (an audited read)."""
    service = person.patients()
    patient = service.get(_checked_id(patient_id))
    versions = list(reversed(service.history(patient.id)))
    authors = {
        name: f"{a.full_name} ({role_label(a.role, a.gender).lower()})"
        for name, a in service.authors(versions).items()
    }
    return render(
        request,
        person,
        "patient_history.html",
        {
            "patient": patient,
            "versions": versions,
            "field_names": FIELD_NAMES_FR,
            "authors": authors,
        },
    )


# -- specimens -------------------------------------------------------------------------
def _specimen_page(
    request: Request,
    person: Person,
    patient: Patient,
    raw: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        person,
        "specimen_form.html",
        {
            "patient": patient,
            "values": raw,
            "errors": errors,
            "lab_options": lab_options(person),
            "type_options": [(kind, kind) for kind in SPECIMEN_TYPES],
        },
        status_code=status_code,
    )


@router.get("/patients/{patient_id}/specimens/new")
def new_specimen_page(
    request: Request, patient_id: str, person: Person = Depends(page_person)
) -> Response:
    """The specimen form, with a suggested accession number and the current time."""
    patient = person.patients().get(_checked_id(patient_id))
    labs = [lab.id for lab in person_labs(person.state, person.actor)]
    lab = patient.lab_id if patient.lab_id in labs else (labs[0] if labs else "")
    now = now_paris()
    raw = {name: "" for name in SPECIMEN_FIELDS}
    raw.update(
        lab_id=lab,
        accession=f"{lab}{now:%y%m%d}{secrets.randbelow(10**5):05d}",
        collected_at=now.strftime("%Y-%m-%dT%H:%M"),
        specimen_type=SPECIMEN_TYPES[0],
    )
    if patient.physician is not None:  # the treating doctor usually prescribes
        raw.update(prescriber_name=patient.physician.name, prescriber_rpps=patient.physician.rpps)
    return _specimen_page(request, person, patient, raw, {})


@router.post("/patients/{patient_id}/specimens/new")
def create_specimen(
    request: Request,
    patient_id: str,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """Record a specimen (audited ``specimen.create``)."""
    pid = _checked_id(patient_id)
    raw = raw_values(form, SPECIMEN_FIELDS)
    allowed = {lab.id for lab in person_labs(person.state, person.actor)}
    checked = check_specimen(raw, allowed)
    if checked.ok:
        specimen = build_specimen(checked, new_record_id(), pid)
        if checked.ok:
            person.patients().add_specimen(specimen)
            # the specimen's record id (random, not a personal value) finds its accession
            return RedirectResponse(
                f"/patients/{pid}?prelevement={specimen.id}&ok=prelevement", status_code=303
            )
    patient = person.patients().get(pid)
    return _specimen_page(request, person, patient, raw, checked.errors, status_code=422)


@router.get("/patients/{patient_id}/specimens/{specimen_id}/etiquette.pdf")
def tube_label(
    request: Request, patient_id: str, specimen_id: str, person: Person = Depends(page_person)
) -> Response:
    """The tube label (PDF, Code 128 of the accession number): an audited print."""
    pdf = person.patients().specimen_label(_checked_id(patient_id), _checked_id(specimen_id))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": 'attachment; filename="etiquette-tube.pdf"',
            "Cache-Control": "no-store",
        },
    )
