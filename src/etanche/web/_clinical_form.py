"""Reading the clinical edit form: blood group, pregnancy, treatments, pathologies, comments.

One French message per field (the line is named for list fields); the checks
are the domain's validators, and the record-level rule (pregnancy only for a
woman) comes from ``validate_patient`` through the service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from starlette.datastructures import FormData

from etanche.domain import Clinical, Patient, Sex, Treatment, validate_atc, validate_blood_group
from etanche.errors import ValidationError
from etanche.service import CLINICAL_MIN_REASON as MIN_REASON

__all__ = [
    "BLOOD_GROUPS",
    "CLINICAL_FIELDS",
    "ClinicalForm",
    "clinical_raw",
    "read_clinical",
]

CLINICAL_FIELDS = ("blood_group", "pregnant", "treatments", "pathologies", "comments", "motif")
BLOOD_GROUPS = ("A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-")
MAX_LINES = 20
MAX_LINE = 200
MAX_REASON = 500
_TREATMENT = re.compile(r"^(?P<name>.+?)\s*\(\s*(?P<atc>[^()]+?)\s*\)$")

NO_REASON = "Indiquez le motif de la modification : il est conservé avec la version précédente."
SHORT_REASON = f"Le motif est trop court : {MIN_REASON} caractères au moins."
BAD_GROUP = "Choisissez le groupe sanguin dans la liste."
BAD_PREGNANT = "Choisissez oui, non ou non renseignée."
NOT_A_WOMAN = "Une grossesse ne peut être indiquée que pour une patiente de sexe féminin."
TOO_MANY = f"{MAX_LINES} lignes au plus."
TOO_LONG = f"{MAX_LINE} caractères au plus par ligne."


@dataclass
class ClinicalForm:
    """The form's raw values (to refill it), the clinical part it holds, French errors."""

    raw: dict[str, str]
    clinical: Clinical = field(default_factory=Clinical)
    reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def clinical_raw(patient: Patient) -> dict[str, str]:
    """The form, filled from a patient's clinical part."""
    c = patient.clinical
    pregnant = "" if c.pregnant is None else ("oui" if c.pregnant else "non")
    return {
        "blood_group": str(c.blood_group) if c.blood_group else "",
        "pregnant": pregnant,
        "treatments": "\n".join(f"{t.name} ({t.atc})" for t in c.treatments),
        "pathologies": "\n".join(c.pathologies),
        "comments": "\n".join(c.comments),
        "motif": "",
    }


def _lines(form: FormData, name: str, raw: dict[str, str], errors: dict[str, str]) -> list[str]:
    value = form.get(name)
    text = value if isinstance(value, str) else ""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    raw[name] = "\n".join(line[: MAX_LINE + 1] for line in lines[: MAX_LINES + 1])
    if len(lines) > MAX_LINES:
        errors[name] = TOO_MANY
    elif any(len(line) > MAX_LINE for line in lines):
        errors[name] = TOO_LONG
    return lines[:MAX_LINES]


def _treatments(lines: list[str], errors: dict[str, str]) -> tuple[Treatment, ...]:
    found = []
    for number, line in enumerate(lines, start=1):
        match = _TREATMENT.match(line)
        if match is None:
            errors.setdefault(
                "treatments",
                f"Ligne {number} : écrivez le médicament puis son code ATC entre parenthèses, "
                "par exemple Lévothyrox (H03AA01).",
            )
            continue
        try:
            atc = validate_atc(match["atc"], field="treatments")
        except ValidationError:
            errors.setdefault(
                "treatments",
                f"Ligne {number} : code ATC invalide (une lettre, deux chiffres, deux lettres, "
                "deux chiffres, par exemple H03AA01).",
            )
            continue
        found.append(Treatment(match["name"], atc))
    return tuple(found)


def read_clinical(form: FormData, patient: Patient) -> ClinicalForm:
    """Every field of the clinical form, checked; the reason is required."""
    raw: dict[str, str] = {}
    errors: dict[str, str] = {}
    group = form.get("blood_group")
    raw["blood_group"] = group.strip()[:4] if isinstance(group, str) else ""
    blood = None
    if raw["blood_group"]:
        try:
            blood = validate_blood_group(raw["blood_group"])
        except ValidationError:
            errors["blood_group"] = BAD_GROUP
    pregnant_raw = form.get("pregnant")
    raw["pregnant"] = pregnant_raw if isinstance(pregnant_raw, str) else ""
    pregnant = {"": None, "oui": True, "non": False}.get(raw["pregnant"])
    if raw["pregnant"] not in ("", "oui", "non"):
        errors["pregnant"] = BAD_PREGNANT
    elif pregnant and patient.sex is not Sex.FEMALE:
        errors["pregnant"] = NOT_A_WOMAN
    treatments = _treatments(_lines(form, "treatments", raw, errors), errors)
    pathologies = tuple(_lines(form, "pathologies", raw, errors))
    comments = tuple(_lines(form, "comments", raw, errors))
    motif = form.get("motif")
    reason = " ".join(motif.split())[:MAX_REASON] if isinstance(motif, str) else ""
    raw["motif"] = reason
    if not reason:
        errors["motif"] = NO_REASON
    elif len(reason) < MIN_REASON:
        errors["motif"] = SHORT_REASON
    clinical = Clinical(
        blood_group=blood,
        comments=comments,
        pregnant=pregnant,
        treatments=treatments,
        pathologies=pathologies,
    )
    return ClinicalForm(raw, clinical, reason, errors)
