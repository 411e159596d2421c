"""Reading the patient and specimen forms: typed values and French field errors.

Every check is a domain validator (``etanche.domain``); this module only maps
form fields to them and their English reasons to French sentences, so that
the live validation (one field on blur) and the final submission (every
field) say exactly the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from starlette.datastructures import FormData

from etanche.domain import (
    Address,
    IdentityStatus,
    Patient,
    Physician,
    Sex,
    Specimen,
    normalize_phone,
    validate_birth_date,
    validate_email,
    validate_insee_commune,
    validate_nir,
    validate_patient,
    validate_postcode,
    validate_rpps,
    validate_specimen,
)
from etanche.errors import ValidationError, ValidationErrors
from etanche.web._pages_common import PARIS, now_paris
from etanche.web._pages_fr import invalid_fr
from etanche.web._pages_insurance import (
    INSURANCE_FIELDS,
    check_insurance,
    insurance_of,
    insurance_raw,
)

PATIENT_FIELDS = (
    "lab_id",
    "birth_name",
    "first_names",
    "used_name",
    "sex",
    "birth_date",
    "birthplace_insee",
    "nir",
    "identity_status",
    "address_line",
    "postcode",
    "city",
    "phone",
    "email",
    "physician_name",
    "physician_rpps",
    *INSURANCE_FIELDS,
)
SPECIMEN_FIELDS = (
    "lab_id",
    "accession",
    "collected_at",
    "specimen_type",
    "prescriber_name",
    "prescriber_rpps",
)
SPECIMEN_TYPES = (
    "sang veineux",
    "sang capillaire",
    "urine",
    "selles",
    "écouvillon nasopharyngé",
    "prélèvement vaginal",
    "LCR",
)
# Fields whose value decides whether the person already exists (NIR, INS traits).
IDENTITY_FIELDS = frozenset({"nir", "birth_name", "first_names", "birth_date"})
REQUIRED = "Ce champ est obligatoire."
_LIMITS = {"address_line": 200, "city": 100, "physician_name": 120, "accession": 40}
_LIMITS.update(amo_regime=4, amo_caisse=5, amc_member_number=40)
_DATE_FR = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")

# Where the domain's field names (validate_patient) appear on the form.
_DOMAIN_TO_FORM = {
    "lab_id": "lab_id",
    "birth_name": "birth_name",
    "used_name": "used_name",
    "first_names": "first_names",
    "birth_date": "birth_date",
    "nir": "nir",
    "birthplace_insee": "birthplace_insee",
    "phones[0]": "phone",
    "emails[0]": "email",
    "addresses[0].postcode": "postcode",
    "physician.name": "physician_name",
    "physician.rpps": "physician_rpps",
    "insurance.amo_regime": "amo_regime",
    "insurance.amo_caisse": "amo_caisse",
    "prescriber.name": "prescriber_name",
    "prescriber.rpps": "prescriber_rpps",
    "accession": "accession",
    "collected_at": "collected_at",
    "specimen_type": "specimen_type",
}


@dataclass
class Checked:
    """The form's raw values (to refill it), canonical values, and French errors."""

    raw: dict[str, str]
    clean: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def run(self, name: str, check: Callable[[str], object]) -> object | None:
        """Run a validator on a non-empty field; record its French error."""
        value = self.raw.get(name, "")
        if not value:
            return None
        try:
            result = check(value)
        except ValidationError as exc:
            self.errors[name] = invalid_fr(exc)
            return None
        if isinstance(result, str):
            self.clean[name] = result
        return result

    def require(self, *names: str) -> None:
        for name in names:
            if not self.raw.get(name):
                self.errors.setdefault(name, REQUIRED)

    @property
    def ok(self) -> bool:
        return not self.errors


def raw_values(form: FormData | Mapping[str, str], names: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in names:
        value = form.get(name)
        out[name] = value.strip()[: _LIMITS.get(name, 120)] if isinstance(value, str) else ""
    return out


def parse_date(value: str) -> date:
    """ISO (what a date input sends) or the French dd/mm/yyyy typed by hand."""
    match = _DATE_FR.match(value)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError("date", "not a date") from None


def check_patient(
    raw: dict[str, str], allowed_labs: set[str] | None = None, *, known_regime: str = ""
) -> Checked:
    """Every field of the patient form, with the same validators as the vault."""
    c = Checked(raw)
    c.require("birth_name", "first_names", "sex", "birth_date")
    if allowed_labs is not None:
        if not raw.get("lab_id"):
            c.errors["lab_id"] = "Choisissez le laboratoire du dossier."
        elif raw["lab_id"] not in allowed_labs:
            c.errors["lab_id"] = "Ce laboratoire n'est pas l'un des vôtres."
    sex: Sex | None = None
    if raw.get("sex"):
        try:
            sex = Sex(raw["sex"])
        except ValueError:
            c.errors["sex"] = "Choisissez le sexe : féminin, masculin ou indéterminé."
    birth: date | None = None
    if raw.get("birth_date"):
        try:
            birth = validate_birth_date(parse_date(raw["birth_date"]))
        except ValidationError as exc:
            reason = invalid_fr(exc) if exc.field == "birth_date" else None
            c.errors["birth_date"] = reason or "Date invalide : jour/mois/année attendu."
    if birth is not None:
        c.clean["birth_date"] = birth.isoformat()
    c.run("nir", lambda v: validate_nir(v, sex=sex, birth_date=birth))
    c.run("birthplace_insee", validate_insee_commune)
    if raw.get("identity_status"):
        try:
            IdentityStatus(raw["identity_status"])
        except ValueError:
            c.errors["identity_status"] = "Statut d'identité inconnu."
    address = ("address_line", "postcode", "city")
    if any(raw.get(name) for name in address):
        c.require(*address)
        c.run("postcode", validate_postcode)
    c.run("phone", normalize_phone)
    c.run("email", validate_email)
    if raw.get("physician_name") or raw.get("physician_rpps"):
        c.require("physician_name", "physician_rpps")
        c.run("physician_rpps", validate_rpps)
    check_insurance(c, known_regime)
    return c


def build_patient(c: Checked, patient_id: str, lab_id: str, base: Patient | None) -> Patient:
    """A patient from a checked form; on edit, what the form does not show is kept."""
    raw, clean = c.raw, c.clean
    first_names = tuple(raw["first_names"].split())
    nir = clean.get("nir") or None
    address = (
        (Address(raw["address_line"], clean.get("postcode", raw["postcode"]), raw["city"]),)
        if raw.get("address_line")
        else ()
    )
    phone = (clean["phone"],) if clean.get("phone") else ()
    email = (clean["email"],) if clean.get("email") else ()
    physician = (
        Physician(raw["physician_name"], clean.get("physician_rpps", raw["physician_rpps"]))
        if raw.get("physician_name")
        else None
    )
    status = IdentityStatus(raw["identity_status"]) if raw.get("identity_status") else None
    if base is None:
        base = Patient(
            id=patient_id,
            lab_id=lab_id,
            birth_name="",
            first_names=(),
            sex=Sex.UNKNOWN,
            birth_date=date.min,
        )
        kept_addresses: tuple[Address, ...] = ()
        kept_phones: tuple[str, ...] = ()
        kept_emails: tuple[str, ...] = ()
    else:
        # The form edits the first address, phone and email; further ones are kept.
        kept_addresses, kept_phones, kept_emails = (
            base.addresses[1:],
            base.phones[1:],
            base.emails[1:],
        )
    return replace(
        base,
        birth_name=raw["birth_name"],
        first_names=first_names,
        used_name=raw.get("used_name") or None,
        sex=Sex(raw["sex"]),
        birth_date=date.fromisoformat(clean["birth_date"]),
        birthplace_insee=clean.get("birthplace_insee") or None,
        nir=nir,
        identity_status=status or base.identity_status,
        addresses=address + kept_addresses,
        phones=phone + kept_phones,
        emails=email + kept_emails,
        physician=physician,
        insurance=insurance_of(c),
    )


def patient_raw(patient: Patient) -> dict[str, str]:
    """The edit form, filled from a patient."""
    address = patient.addresses[0] if patient.addresses else None
    return {
        "lab_id": patient.lab_id,
        "birth_name": patient.birth_name,
        "first_names": " ".join(patient.first_names),
        "used_name": patient.used_name or "",
        "sex": patient.sex.value,
        "birth_date": patient.birth_date.isoformat(),
        "birthplace_insee": patient.birthplace_insee or "",
        "nir": patient.nir or "",
        "identity_status": patient.identity_status.value,
        "address_line": address.line if address else "",
        "postcode": address.postcode if address else "",
        "city": address.city if address else "",
        "phone": patient.phones[0] if patient.phones else "",
        "email": patient.emails[0] if patient.emails else "",
        "physician_name": patient.physician.name if patient.physician else "",
        "physician_rpps": patient.physician.rpps if patient.physician else "",
        **insurance_raw(patient),
    }


def domain_errors(exc: ValidationError) -> dict[str, str]:
    """The vault's own validation, mapped back onto form fields (a safety net)."""
    items = exc.errors if isinstance(exc, ValidationErrors) else (exc,)
    out: dict[str, str] = {}
    for item in items:
        out.setdefault(_DOMAIN_TO_FORM.get(item.field, "_form"), invalid_fr(item))
    return out


def final_check(patient: Patient, c: Checked) -> None:
    """Run the record-level validator too (cross-field rules), onto the form's errors."""
    try:
        validate_patient(patient)
    except ValidationError as exc:
        for name, message in domain_errors(exc).items():
            c.errors.setdefault(name, message)


# -- specimens -------------------------------------------------------------------
def check_specimen(raw: dict[str, str], allowed_labs: set[str]) -> Checked:
    c = Checked(raw)
    c.require("lab_id", "accession", "collected_at", "specimen_type")
    if raw.get("lab_id") and raw["lab_id"] not in allowed_labs:
        c.errors["lab_id"] = "Ce laboratoire n'est pas l'un des vôtres."
    if raw.get("specimen_type") and raw["specimen_type"] not in SPECIMEN_TYPES:
        c.errors["specimen_type"] = "Choisissez un type de prélèvement de la liste."
    if raw.get("collected_at"):
        try:
            when = datetime.fromisoformat(raw["collected_at"]).replace(tzinfo=PARIS)
        except ValueError:
            c.errors["collected_at"] = "Date et heure invalides."
        else:
            if when > now_paris():
                c.errors["collected_at"] = "La date de prélèvement est dans le futur."
            else:
                c.clean["collected_at"] = when.isoformat()
    if raw.get("prescriber_name") or raw.get("prescriber_rpps"):
        c.require("prescriber_name", "prescriber_rpps")
        c.run("prescriber_rpps", validate_rpps)
    return c


def build_specimen(c: Checked, specimen_id: str, patient_id: str) -> Specimen:
    raw = c.raw
    prescriber = (
        Physician(raw["prescriber_name"], c.clean.get("prescriber_rpps", raw["prescriber_rpps"]))
        if raw.get("prescriber_name")
        else None
    )
    specimen = Specimen(
        id=specimen_id,
        patient_id=patient_id,
        lab_id=raw["lab_id"],
        accession=raw["accession"],
        collected_at=datetime.fromisoformat(c.clean["collected_at"]),
        specimen_type=raw["specimen_type"],
        prescriber=prescriber,
    )
    try:
        validate_specimen(specimen)
    except ValidationError as exc:
        for name, message in domain_errors(exc).items():
            c.errors.setdefault(name, message)
    return specimen


def validate_field(name: str, raw: dict[str, str]) -> str:
    """The French error of one field of the patient or specimen form ('' when fine)."""
    if name in PATIENT_FIELDS and name != "lab_id":
        return check_patient(raw).errors.get(name, "")
    if name in ("prescriber_rpps", "prescriber_name"):
        return check_specimen(raw, {raw.get("lab_id", "")}).errors.get(name, "")
    return ""
