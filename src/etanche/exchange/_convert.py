"""Canonical text <-> domain objects, both ways, cheaply.

``build_patient`` only parses formats (dates, sex, blood group...): checking
identifiers and contacts is ``validate_patient``'s job, run by the caller. Phones
get a fast national -> E.164 rewrite, never a phonenumbers parse (it would
dominate a 500,000-row import).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime

from etanche.domain import (
    Address,
    BloodGroup,
    Clinical,
    IdentityStatus,
    Insurance,
    Patient,
    Physician,
    Sex,
    Specimen,
    Treatment,
    validate_blood_group,
)
from etanche.errors import ValidationError, ValidationErrors
from etanche.exchange._model import SourceRecord

__all__ = ["build_patient", "parse_date", "parse_datetime", "patient_fields", "to_e164"]

_SPECIMEN_NS = uuid.UUID("5f0c7c1e-2b7a-4d5e-9a51-6e0d1c8e7a10")
_SEX = {
    "M": Sex.MALE,
    "H": Sex.MALE,
    "MALE": Sex.MALE,
    "MASCULIN": Sex.MALE,
    "HOMME": Sex.MALE,
    "1": Sex.MALE,
    "F": Sex.FEMALE,
    "FEMALE": Sex.FEMALE,
    "FEMININ": Sex.FEMALE,
    "FÉMININ": Sex.FEMALE,
    "FEMME": Sex.FEMALE,
    "2": Sex.FEMALE,
    "I": Sex.UNKNOWN,
    "U": Sex.UNKNOWN,
    "O": Sex.UNKNOWN,
    "UNKNOWN": Sex.UNKNOWN,
    "OTHER": Sex.UNKNOWN,
    "INDETERMINE": Sex.UNKNOWN,
    "INDÉTERMINÉ": Sex.UNKNOWN,
}
_STATUS = {s.value: s for s in IdentityStatus}
_GROUPS = {f"{abo}{rh}": BloodGroup(abo, rh) for abo in ("A", "B", "AB", "O") for rh in "+-"}
_YES = frozenset({"yes", "y", "oui", "o", "true", "1"})
_NO = frozenset({"no", "n", "non", "false", "0"})
_PHONE_JUNK = " .-()/\u00a0"


def parse_date(text: str) -> date:
    """YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY (the forms our sources write)."""
    t = text.strip()
    if len(t) == 10 and t[4] == "-" and t[7] == "-":
        return date(int(t[:4]), int(t[5:7]), int(t[8:]))
    if len(t) == 10 and t[2] == "/" and t[5] == "/":
        return date(int(t[6:]), int(t[3:5]), int(t[:2]))
    if len(t) == 8 and t.isascii() and t.isdigit():
        return date(int(t[:4]), int(t[4:6]), int(t[6:8]))
    raise ValueError("unrecognised date")


def parse_datetime(text: str) -> datetime:
    """ISO 8601, or the compact YYYYMMDD[HHMM[SS]] of HL7 and HPRIM."""
    t = text.strip()
    if len(t) in (8, 12, 14) and t.isascii() and t.isdigit():
        return datetime(
            int(t[:4]),
            int(t[4:6]),
            int(t[6:8]),
            int(t[8:10] or 0),
            int(t[10:12] or 0),
            int(t[12:14] or 0),
        )
    if len(t) == 10 and t[2] == "/" and t[5] == "/":
        return datetime(int(t[6:]), int(t[3:5]), int(t[:2]))
    return datetime.fromisoformat(t)


def to_e164(text: str) -> str:
    """Cheap rewrite of usual French writings to E.164; anything else is kept as is."""
    compact = text
    for junk in _PHONE_JUNK:  # a fifth of the cost of str.translate with a deletion table
        compact = compact.replace(junk, "")
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if len(compact) == 10 and compact[0] == "0" and compact.isdigit():
        return "+33" + compact[1:]
    if compact.startswith("+") and compact[1:].isdigit():
        return compact
    return text.strip()


def _lines(value: str | None) -> list[str]:
    return value.split("\n") if value else []


class _Builder:
    """Collects every format problem of one record before raising them together."""

    def __init__(self, record: SourceRecord) -> None:
        self.location = record.location
        self.errors: list[ValidationError] = []

    def fail(self, field: str, reason: str) -> None:
        self.errors.append(ValidationError(field, reason, record=self.location))

    def date(self, fields: Mapping[str, str], name: str, required: bool = False) -> date | None:
        text = fields.get(name)
        if not text:
            if required:
                self.fail(name, "missing")
            return None
        try:
            return parse_date(text)
        except ValueError:
            self.fail(name, "not a date (expected YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY)")
            return None


def _sex(b: _Builder, text: str | None) -> Sex:
    if not text:
        b.fail("sex", "missing")
        return Sex.UNKNOWN
    sex = _SEX.get(text.strip().upper())
    if sex is None:
        b.fail("sex", "unrecognised sex (expected M, F or I)")
        return Sex.UNKNOWN
    return sex


def _addresses(f: Mapping[str, str]) -> tuple[Address, ...]:
    line, postcode, city = f.get("address_line"), f.get("postcode"), f.get("city")
    if not (line or postcode or city):
        return ()
    country = f.get("country")
    if not any(v and "\n" in v for v in (line, postcode, city, country)):  # one address
        return (Address(line or "", postcode or "", city or "", country or "FR"),)
    parts = [_lines(f.get(n)) for n in ("address_line", "postcode", "city", "country")]
    count = max(len(p) for p in parts[:3])
    out = []
    for i in range(count):
        line, postcode, city, country = (p[i] if i < len(p) else "" for p in parts)
        out.append(Address(line=line, postcode=postcode, city=city, country=country or "FR"))
    return tuple(out)


def _clinical(b: _Builder, f: Mapping[str, str]) -> Clinical:
    group: BloodGroup | None = None
    if text := f.get("blood_group"):
        group = _GROUPS.get(text)
        if group is None:
            try:
                group = validate_blood_group(text)
            except ValidationError as exc:
                b.fail("blood_group", exc.reason)
    if not any(n in f for n in ("comments", "pregnant", "treatments", "pathologies")):
        return Clinical(blood_group=group)
    pregnant: bool | None = None
    if text := f.get("pregnant"):
        low = text.strip().lower()
        if low in _YES:
            pregnant = True
        elif low in _NO:
            pregnant = False
        else:
            b.fail("pregnant", "expected yes or no")
    treatments = []
    for i, line in enumerate(_lines(f.get("treatments"))):
        name, sep, atc = line.rpartition("|")
        if not sep:
            b.fail(f"treatments[{i}]", "expected NAME|ATC")
            continue
        treatments.append(Treatment(name=name, atc=atc))
    return Clinical(
        blood_group=group,
        comments=tuple(_lines(f.get("comments"))),
        pregnant=pregnant,
        treatments=tuple(treatments),
        pathologies=tuple(_lines(f.get("pathologies"))),
    )


def _specimen(
    b: _Builder, i: int, s: Mapping[str, str], patient_id: str, lab_id: str
) -> Specimen | None:
    accession = s.get("specimen.accession", "")
    if not accession:
        b.fail(f"specimens[{i}].accession", "missing")
        return None
    text = s.get("specimen.collected_at")
    if not text:
        b.fail(f"specimens[{i}].collected_at", "missing")
        return None
    try:
        collected = parse_datetime(text)
    except ValueError:
        b.fail(f"specimens[{i}].collected_at", "not a date-time (expected ISO 8601)")
        return None
    name, rpps = s.get("specimen.prescriber_name"), s.get("specimen.prescriber_rpps")
    lab = s.get("specimen.lab") or lab_id
    return Specimen(
        id=uuid.uuid5(_SPECIMEN_NS, f"{patient_id}/{lab}/{accession}").hex,
        patient_id=patient_id,
        lab_id=lab,
        accession=accession,
        collected_at=collected,
        specimen_type=s.get("specimen.type", ""),
        prescriber=Physician(name=name or "", rpps=rpps or "") if name or rpps else None,
    )


def build_patient(
    record: SourceRecord, *, patient_id: str, lab_id: str
) -> tuple[Patient, list[Specimen]]:
    """Domain objects of a record; ``ValidationErrors`` name the record and each field.

    ``lab_id`` is the caller's decision (the plan's lab or the record's ``lab``).
    Specimen ids are derived from patient id, lab and accession, so re-reading a
    source gives the same ids.
    """
    f = record.fields
    b = _Builder(record)
    birth_name = f.get("birth_name", "")
    if not birth_name:
        b.fail("birth_name", "missing")
    first_names = tuple(f.get("first_names", "").split())
    if not first_names:
        b.fail("first_names", "missing")
    sex = _sex(b, f.get("sex"))
    birth_date = b.date(f, "birth_date", required=True)
    last_visit = b.date(f, "last_visit")
    status = IdentityStatus.PROVISIONAL
    if text := f.get("identity_status"):
        found = _STATUS.get(text.strip().upper())
        if found is None:
            b.fail("identity_status", "unrecognised status (expected PROV, RECUP, VALI or QUAL)")
        else:
            status = found
    physician = None
    if f.get("physician_name") or f.get("physician_rpps"):
        physician = Physician(name=f.get("physician_name", ""), rpps=f.get("physician_rpps", ""))
    insurance = None
    if any(f.get(n) for n in ("amo_regime", "amo_caisse", "amc_name", "amc_member_number")):
        insurance = Insurance(
            amo_regime=f.get("amo_regime", ""),
            amo_caisse=f.get("amo_caisse", ""),
            amc_name=f.get("amc_name") or None,
            amc_member_number=f.get("amc_member_number") or None,
        )
    clinical = _clinical(b, f)
    nir = f.get("nir")
    specimens = [
        s
        for i, fields in enumerate(record.specimens)
        if (s := _specimen(b, i, fields, patient_id, lab_id)) is not None
    ]
    if b.errors:
        raise ValidationErrors(b.errors)
    assert birth_date is not None
    patient = Patient(
        id=patient_id,
        lab_id=lab_id,
        birth_name=birth_name,
        first_names=first_names,
        sex=sex,
        birth_date=birth_date,
        birthplace_insee=f.get("birthplace_insee") or None,
        used_name=f.get("used_name") or None,
        nir=nir.replace(" ", "").upper() if nir else None,
        identity_status=status,
        addresses=_addresses(f),
        phones=tuple(to_e164(p) for p in _lines(f.get("phone"))),
        emails=tuple(_lines(f.get("email"))),
        physician=physician,
        insurance=insurance,
        clinical=clinical,
        last_visit=last_visit,
    )
    return patient, specimens


def _put(out: dict[str, str], name: str, value: str | None) -> None:
    if value:
        out[name] = value


def specimen_fields(specimen: Specimen) -> dict[str, str]:
    """Canonical ``specimen.*`` text of one specimen."""
    out: dict[str, str] = {}
    _put(out, "specimen.accession", specimen.accession)
    _put(out, "specimen.collected_at", specimen.collected_at.isoformat())
    _put(out, "specimen.type", specimen.specimen_type)
    if specimen.prescriber is not None:
        _put(out, "specimen.prescriber_name", specimen.prescriber.name)
        _put(out, "specimen.prescriber_rpps", specimen.prescriber.rpps)
    _put(out, "specimen.lab", specimen.lab_id)
    return out


def patient_fields(patient: Patient, specimens: Sequence[Specimen] = ()) -> SourceRecord:
    """The canonical record of a patient (inverse of ``build_patient``)."""
    p = patient
    out: dict[str, str] = {}
    _put(out, "lab", p.lab_id)
    _put(out, "birth_name", p.birth_name)
    _put(out, "used_name", p.used_name)
    _put(out, "first_names", " ".join(p.first_names))
    _put(out, "sex", p.sex.value)
    _put(out, "birth_date", p.birth_date.isoformat())
    _put(out, "birthplace_insee", p.birthplace_insee)
    _put(out, "nir", p.nir)
    _put(out, "identity_status", p.identity_status.value)
    if p.addresses:
        _put(out, "address_line", "\n".join(a.line for a in p.addresses))
        _put(out, "postcode", "\n".join(a.postcode for a in p.addresses))
        _put(out, "city", "\n".join(a.city for a in p.addresses))
        _put(out, "country", "\n".join(a.country for a in p.addresses))
    _put(out, "phone", "\n".join(p.phones))
    _put(out, "email", "\n".join(p.emails))
    if p.physician is not None:
        _put(out, "physician_name", p.physician.name)
        _put(out, "physician_rpps", p.physician.rpps)
    if p.insurance is not None:
        _put(out, "amo_regime", p.insurance.amo_regime)
        _put(out, "amo_caisse", p.insurance.amo_caisse)
        _put(out, "amc_name", p.insurance.amc_name)
        _put(out, "amc_member_number", p.insurance.amc_member_number)
    _put(out, "last_visit", p.last_visit.isoformat() if p.last_visit else None)
    c = p.clinical
    _put(out, "blood_group", str(c.blood_group) if c.blood_group else None)
    _put(out, "comments", "\n".join(c.comments))
    if c.pregnant is not None:
        out["pregnant"] = "yes" if c.pregnant else "no"
    _put(out, "treatments", "\n".join(f"{t.name}|{t.atc}" for t in c.treatments))
    _put(out, "pathologies", "\n".join(c.pathologies))
    return SourceRecord(
        location=f"patient {p.id}",
        fields=out,
        specimens=tuple(specimen_fields(s) for s in specimens),
    )
