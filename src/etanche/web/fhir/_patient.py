"""Patient: INS identity (NIR/NIA, traits, identity status), contacts, treating doctor.

Read, search and create, all through the person's ``PatientService``: the
policy decides, the service audits, and search results outside the person's
labs never reach this module. Reads never unwrap the clinical compartment:
a Patient carries no clinical data (the blood group is an Observation).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fhir.resources.R4B.patient import Patient as FhirPatient

from etanche.domain import (
    Address,
    IdentityDocument,
    IdentityStatus,
    Patient,
    Physician,
    Sex,
    normalize_email,
    normalize_name,
    normalize_nir,
    normalize_phone,
    normalize_phone_for_index,
    supported_status,
    validate_email,
    validate_patient,
)
from etanche.errors import RecordNotFound, ValidationError, ValidationErrors
from etanche.service import Actor, new_record_id
from etanche.web._auth import api_person
from etanche.web._state import Person
from etanche.web.fhir._common import (
    BIRTH_PLACE_URL,
    DUPLICATE_CONFIRMATION_URL,
    IDENTIFIER_TYPE_SYSTEM,
    IDENTITY_RELIABILITY_URL,
    IDENTITY_STATUS_SYSTEM,
    INS_NIA_SYSTEM,
    INS_NIR_SYSTEM,
    INSEE_CODE_URL,
    INSEE_COMMUNE_SYSTEM,
    base_url,
    checked,
    checked_params,
    fhir_date,
    lab_for,
    only_params,
    organization_lab,
    parse_resource,
    raise_problems,
    searchset,
    token,
    translate,
    valid_id,
)
from etanche.web.fhir._outcome import FhirResponse, FhirRoute, SearchError
from etanche.web.fhir._practitioner import physician_from, practitioner
from etanche.web.fhir._request import ERRORS, body_of, fhir_body, form_of, search_form

router = APIRouter(route_class=FhirRoute)

SEARCH_PARAMS = ("identifier", "family", "given", "birthdate", "phone", "email", "telecom")

_GENDER = {Sex.MALE: "male", Sex.FEMALE: "female", Sex.UNKNOWN: "unknown"}
_SEX = {"male": Sex.MALE, "female": Sex.FEMALE, "other": Sex.UNKNOWN, "unknown": Sex.UNKNOWN}
_STATUS_DISPLAY = {
    IdentityStatus.PROVISIONAL: "Identité provisoire",
    IdentityStatus.RECOVERED: "Identité récupérée",
    IdentityStatus.VALIDATED: "Identité validée",
    IdentityStatus.QUALIFIED: "Identité qualifiée",
}
VALIDATION_MODE_SYSTEM = (
    "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-mode-validation-identity"
)
_VALIDATION_MODE = {
    IdentityDocument.ID_CARD: ("CN", "Carte nationale d'identité"),
    IdentityDocument.PASSPORT: ("PA", "Passeport"),
    IdentityDocument.RESIDENCE_PERMIT: ("CS", "Carte de séjour"),
    IdentityDocument.FAMILY_BOOK: ("LE", "Livret de famille"),
    IdentityDocument.BIRTH_CERTIFICATE: ("AN", "Extrait d'acte de naissance"),
}
# Elements a Patient may carry into the vault; anything else is refused, not dropped.
_ACCEPTED = frozenset(
    {
        "resourceType",
        "id",
        "meta",
        "text",
        "language",
        "active",
        "extension",
        "identifier",
        "name",
        "telecom",
        "gender",
        "birthDate",
        "address",
        "managingOrganization",
        "generalPractitioner",
        "contained",
    }
)
_EXTENSIONS = frozenset({IDENTITY_RELIABILITY_URL, BIRTH_PLACE_URL})


def nir_system(nir: str) -> str:
    """INS-NIA for temporary numbers (first digit 7 or 8), INS-NIR otherwise."""
    return INS_NIA_SYSTEM if nir[:1] in ("7", "8") else INS_NIR_SYSTEM


# -- domain → FHIR ----------------------------------------------------------------
def patient_resource(patient: Patient) -> dict[str, Any]:
    """The FHIR Patient of a domain patient, validated by fhir.resources."""
    doc: dict[str, Any] = {"resourceType": "Patient", "id": patient.id, "active": True}
    contained: list[dict[str, Any]] = []
    extensions: list[dict[str, Any]] = [
        {"url": IDENTITY_RELIABILITY_URL, "extension": _reliability(patient)}
    ]
    if patient.birthplace_insee:
        extensions.append(
            {
                "url": BIRTH_PLACE_URL,
                "valueAddress": {
                    "extension": [
                        {
                            "url": INSEE_CODE_URL,
                            "valueCoding": {
                                "system": INSEE_COMMUNE_SYSTEM,
                                "code": patient.birthplace_insee,
                            },
                        }
                    ],
                    "district": patient.birthplace_insee,
                },
            }
        )
    doc["extension"] = extensions
    identifiers = [_ins_identifier(patient.nir, nir_system(patient.nir))] if patient.nir else []
    if patient.ins is not None and patient.ins.matricule != patient.nir:
        # the INS the INSi returned, when it is not the NIR already carried
        identifiers.append(_ins_identifier(patient.ins.matricule, f"urn:oid:{patient.ins.oid}"))
    if identifiers:
        doc["identifier"] = identifiers
    names: list[dict[str, Any]] = [
        {"use": "official", "family": patient.birth_name, "given": list(patient.first_names)}
    ]
    if patient.used_name:
        names.append({"use": "usual", "family": patient.used_name})
    doc["name"] = names
    telecom = [
        {"system": "phone", "value": phone, "rank": i + 1} for i, phone in enumerate(patient.phones)
    ]
    telecom += [{"system": "email", "value": email} for email in patient.emails]
    if telecom:
        doc["telecom"] = telecom
    doc["gender"] = _GENDER[patient.sex]
    doc["birthDate"] = patient.birth_date.isoformat()
    if patient.addresses:
        doc["address"] = [
            {
                "use": "home",
                "line": [a.line],
                "postalCode": a.postcode,
                "city": a.city,
                "country": a.country,
            }
            for a in patient.addresses
        ]
    doc["managingOrganization"] = {"reference": f"Organization/{patient.lab_id}"}
    if patient.physician is not None:
        contained.append(practitioner(patient.physician, "gp"))
        doc["generalPractitioner"] = [{"reference": "#gp"}]
    if contained:
        doc["contained"] = contained
    return checked(FhirPatient, doc)


def _ins_identifier(value: str, system: str) -> dict[str, Any]:
    nia = system == INS_NIA_SYSTEM
    return {
        "use": "official",
        "type": {
            "coding": [
                {
                    "system": IDENTIFIER_TYPE_SYSTEM,
                    "code": "INS-NIA" if nia else "INS-NIR",
                    "display": "NIR temporaire" if nia else "NIR définitif",
                }
            ]
        },
        "system": system,
        "value": value,
    }


def _reliability(patient: Patient) -> list[dict[str, Any]]:
    """FR Core identity reliability: the status, and how and when it was validated."""
    parts: list[dict[str, Any]] = [
        {
            "url": "identityStatus",
            "valueCoding": {
                "system": IDENTITY_STATUS_SYSTEM,
                "code": patient.identity_status.value,
                "display": _STATUS_DISPLAY[patient.identity_status],
            },
        }
    ]
    check = patient.identity_document
    if check is not None:
        code, display = _VALIDATION_MODE[check.kind]
        parts.append({"url": "validationDate", "valueDate": check.checked_at.date().isoformat()})
        parts.append(
            {
                "url": "validationMode",
                "valueCoding": {"system": VALIDATION_MODE_SYSTEM, "code": code, "display": display},
            }
        )
    return parts


# -- FHIR → domain ----------------------------------------------------------------
def patient_from(doc: dict[str, Any], actor: Actor) -> tuple[Patient, dict[str, str]]:
    """A new domain patient from a parsed FHIR Patient, and where each field came from.

    Every problem is collected, so the client fixes them all at once; the map
    (domain field → FHIRPath) turns the domain validator's fields into FHIR ones.
    """
    problems: list[ValidationError] = []
    paths: dict[str, str] = {}
    for element in doc:
        if element not in _ACCEPTED:
            problems.append(ValidationError(f"Patient.{element}", "element not supported here"))
    status = IdentityStatus.PROVISIONAL
    birthplace: str | None = None
    for i, ext in enumerate(doc.get("extension", [])):
        url = ext.get("url")
        where = f"Patient.extension[{i}]"
        if url == IDENTITY_RELIABILITY_URL:
            status = _identity_status(ext, where, problems)
        elif url == BIRTH_PLACE_URL:
            birthplace = _birthplace(ext, where, problems)
            paths["birthplace_insee"] = where
        else:
            problems.append(ValidationError(f"{where}.url", "extension not supported"))

    birth_name, first_names, used_name = _names(doc.get("name", []), problems, paths)
    sex = _SEX.get(str(doc.get("gender", "")))
    if "gender" not in doc:
        problems.append(
            ValidationError("Patient.gender", "required (male, female, other, unknown)")
        )
    elif sex is None:
        problems.append(
            ValidationError("Patient.gender", "expected male, female, other or unknown")
        )
    birth_date: date | None = None
    if "birthDate" in doc:
        birth_date = fhir_date(str(doc["birthDate"]), "Patient.birthDate", problems)
    else:
        problems.append(ValidationError("Patient.birthDate", "required"))
    paths["birth_date"] = "Patient.birthDate"

    nir = _nir(doc.get("identifier", []), problems, paths)
    phones, emails = _telecom(doc.get("telecom", []), problems, paths)
    addresses = _addresses(doc.get("address", []), problems, paths)
    physician = _physician(doc, problems, paths)
    named = organization_lab(
        doc.get("managingOrganization"), "Patient.managingOrganization", problems
    )
    lab = lab_for(actor, named, "Patient.managingOrganization", problems)
    paths["lab_id"] = "Patient.managingOrganization"
    raise_problems(problems)
    assert sex is not None and birth_date is not None  # problems were raised otherwise
    patient = Patient(
        id=new_record_id(),
        lab_id=lab,
        birth_name=birth_name,
        first_names=first_names,
        sex=sex,
        birth_date=birth_date,
        birthplace_insee=birthplace,
        used_name=used_name,
        nir=nir,
        identity_status=status,
        addresses=addresses,
        phones=phones,
        emails=emails,
        physician=physician,
    )
    return patient, paths


def _identity_status(
    ext: dict[str, Any], where: str, problems: list[ValidationError]
) -> IdentityStatus:
    for j, sub in enumerate(ext.get("extension", [])):
        if sub.get("url") != "identityStatus":
            continue
        code = str(sub.get("valueCoding", {}).get("code", ""))
        try:
            return IdentityStatus(code)
        except ValueError:
            problems.append(
                ValidationError(
                    f"{where}.extension[{j}].valueCoding.code", "expected PROV, RECUP, VALI or QUAL"
                )
            )
    return IdentityStatus.PROVISIONAL


def _birthplace(ext: dict[str, Any], where: str, problems: list[ValidationError]) -> str | None:
    address = ext.get("valueAddress")
    if not isinstance(address, dict):
        problems.append(ValidationError(f"{where}.valueAddress", "required (an Address)"))
        return None
    for sub in address.get("extension", []):
        if sub.get("url") == INSEE_CODE_URL:
            code = sub.get("valueCoding", {}).get("code")
            if code:
                return str(code).strip().upper()
    district = address.get("district")
    if district:
        return str(district).strip().upper()
    problems.append(
        ValidationError(f"{where}.valueAddress", "the INSEE code of the birthplace is required")
    )
    return None


def _names(
    names: list[dict[str, Any]], problems: list[ValidationError], paths: dict[str, str]
) -> tuple[str, tuple[str, ...], str | None]:
    official: int | None = None
    usual: int | None = None
    for i, name in enumerate(names):
        use = name.get("use", "official")
        if use == "official" and official is None:
            official = i
        elif use == "usual" and usual is None:
            usual = i
        else:
            problems.append(
                ValidationError(
                    f"Patient.name[{i}].use", "one official (birth) and one usual name at most"
                )
            )
    if official is None:
        problems.append(
            ValidationError("Patient.name", "an official name (birth name) is required")
        )
        return "", (), None
    birth = names[official]
    paths["birth_name"] = f"Patient.name[{official}].family"
    paths["first_names"] = f"Patient.name[{official}].given"
    for k in range(len(birth.get("given", []))):
        paths[f"first_names[{k}]"] = f"Patient.name[{official}].given[{k}]"
    if not birth.get("family"):
        problems.append(ValidationError(f"Patient.name[{official}].family", "birth name required"))
    if not birth.get("given"):
        problems.append(
            ValidationError(f"Patient.name[{official}].given", "birth first names required")
        )
    used_name: str | None = None
    if usual is not None:
        used_name = names[usual].get("family") or None
        paths["used_name"] = f"Patient.name[{usual}].family"
        if used_name is None:
            problems.append(ValidationError(f"Patient.name[{usual}].family", "used name required"))
    return str(birth.get("family", "")), tuple(str(g) for g in birth.get("given", [])), used_name


def _nir(
    identifiers: list[dict[str, Any]], problems: list[ValidationError], paths: dict[str, str]
) -> str | None:
    nir: str | None = None
    for i, identifier in enumerate(identifiers):
        where = f"Patient.identifier[{i}]"
        system = identifier.get("system")
        value = identifier.get("value")
        if system not in (INS_NIR_SYSTEM, INS_NIA_SYSTEM):
            problems.append(
                ValidationError(
                    f"{where}.system",
                    f"identifier system not supported (expected {INS_NIR_SYSTEM} or "
                    f"{INS_NIA_SYSTEM})",
                )
            )
            continue
        if not value:
            problems.append(ValidationError(f"{where}.value", "required"))
            continue
        if nir is not None:
            problems.append(ValidationError(where, "one INS (NIR or NIA) per patient"))
            continue
        nir = normalize_nir(str(value))
        paths["nir"] = f"{where}.value"
        if nir_system(nir) != system:
            expected = "7 or 8" if system == INS_NIA_SYSTEM else "1 or 2"
            problems.append(
                ValidationError(f"{where}.value", f"a number of this system starts with {expected}")
            )
    return nir


def _telecom(
    telecom: list[dict[str, Any]], problems: list[ValidationError], paths: dict[str, str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    phones: list[str] = []
    emails: list[str] = []
    for i, point in enumerate(telecom):
        where = f"Patient.telecom[{i}]"
        system = point.get("system")
        value = str(point.get("value", ""))
        try:
            if system == "phone":
                paths[f"phones[{len(phones)}]"] = f"{where}.value"
                phones.append(normalize_phone(value, field=f"{where}.value"))
            elif system == "email":
                paths[f"emails[{len(emails)}]"] = f"{where}.value"
                emails.append(validate_email(value, field=f"{where}.value"))
            else:
                problems.append(
                    ValidationError(f"{where}.system", "only phone and email are supported")
                )
        except ValidationError as exc:
            problems.append(exc)
    return tuple(phones), tuple(emails)


def _addresses(
    addresses: list[dict[str, Any]], problems: list[ValidationError], paths: dict[str, str]
) -> tuple[Address, ...]:
    found: list[Address] = []
    for i, address in enumerate(addresses):
        where = f"Patient.address[{i}]"
        lines = [str(line) for line in address.get("line", []) if str(line).strip()]
        missing = [
            element
            for element, present in (
                ("line", lines),
                ("postalCode", address.get("postalCode")),
                ("city", address.get("city")),
            )
            if not present
        ]
        for element in missing:
            problems.append(ValidationError(f"{where}.{element}", "required"))
        if missing:
            continue
        paths[f"addresses[{len(found)}].postcode"] = f"{where}.postalCode"
        found.append(
            Address(
                line=", ".join(lines),
                postcode=str(address["postalCode"]).strip(),
                city=str(address["city"]).strip(),
                country=str(address.get("country") or "FR").strip().upper(),
            )
        )
    return tuple(found)


def _physician(
    doc: dict[str, Any], problems: list[ValidationError], paths: dict[str, str]
) -> Physician | None:
    contained: dict[str, dict[str, Any]] = {}
    for i, resource in enumerate(doc.get("contained", [])):
        local = resource.get("id")
        if resource.get("resourceType") != "Practitioner" or not local:
            problems.append(
                ValidationError(f"Patient.contained[{i}]", "only Practitioners with an id")
            )
            continue
        contained[str(local)] = resource
    references = doc.get("generalPractitioner", [])
    used: set[str] = set()
    physician: Physician | None = None
    if len(references) > 1:
        problems.append(
            ValidationError("Patient.generalPractitioner", "one treating doctor at most")
        )
    elif references:
        physician, rpps_path = physician_from(
            references[0], contained, "Patient.generalPractitioner[0]", problems, used
        )
        paths["physician.rpps"] = rpps_path
        paths["physician"] = "Patient.generalPractitioner[0]"
    for local in sorted(set(contained) - used):
        problems.append(ValidationError("Patient.contained", f"#{local} is not referenced"))
    return physician


# -- search -----------------------------------------------------------------------
def _matches(
    patient: Patient,
    nir: tuple[str | None, str] | None,
    family: str | None,
    given: str | None,
    birthdate: date | None,
    phone: str | None,
    email: str | None,
) -> bool:
    """AND of every criterion given, compared as the blind indexes compare them."""
    if nir is not None:
        system, value = nir
        if patient.nir is None or normalize_nir(patient.nir) != normalize_nir(value):
            return False
        if system is not None and nir_system(patient.nir) != system:
            return False
    if family is not None:
        wanted = normalize_name(family)
        if wanted not in {normalize_name(n) for n in (patient.birth_name, patient.used_name) if n}:
            return False
    if given is not None and normalize_name(given) not in {
        normalize_name(g) for g in patient.first_names
    }:
        return False
    if birthdate is not None and patient.birth_date != birthdate:
        return False
    if phone is not None and normalize_phone_for_index(phone) not in {
        normalize_phone_for_index(p) for p in patient.phones
    }:
        return False
    return email is None or normalize_email(email) in {normalize_email(e) for e in patient.emails}


def _birthdate(value: str) -> date:
    text = value[2:] if value.startswith("eq") else value
    if text[:2].isalpha():
        raise SearchError("birthdate", "only equality is supported (no ge, le… prefix)")
    problems: list[ValidationError] = []
    found = fhir_date(text, "birthdate", problems)
    if found is None:
        raise SearchError("birthdate", "expected a full date YYYY-MM-DD")
    return found


_USE_POST = (
    "personal values are not accepted in a URL (proxies and access logs keep URLs); "
    "POST the search parameters as a form (application/x-www-form-urlencoded) to "
    "/fhir/Patient/_search"
)


@router.get(
    "/Patient",
    response_class=FhirResponse,
    summary="Refused: search patients with POST /fhir/Patient/_search",
    responses=ERRORS,
)
def search_patients_in_url(request: Request, person: Person = Depends(api_person)) -> Response:
    """An identifier, name, birth date, phone or e-mail in a URL would be logged everywhere."""
    named = [n for n in request.query_params if n not in ("_format", "_pretty")]
    raise SearchError(named[0] if named else "identifier", _USE_POST, code="not-supported")


@router.post(
    "/Patient/_search",
    response_class=FhirResponse,
    summary="Search patients (searchset Bundle); parameters in a form body",
    responses=ERRORS,
    openapi_extra=search_form(SEARCH_PARAMS),
)
def search_patients(
    request: Request,
    person: Person = Depends(api_person),  # first: an anonymous caller learns nothing
    form: list[tuple[str, object]] = Depends(form_of),
) -> Response:
    """Only indexed lookups: there is no way to list patients (no bulk read by API).

    Every patient returned is also a read (``patient.read``, audited per patient).
    """
    only_params(request, ())  # nothing personal in this URL either
    params = checked_params(form, SEARCH_PARAMS)
    identifier = params.get("identifier")
    family, given = params.get("family"), params.get("given")
    phone, email = params.get("phone"), params.get("email")
    nir: tuple[str | None, str] | None = None
    if identifier is not None:
        nir = token(identifier)
        if not nir[1].strip():
            raise SearchError("identifier", "a value is required")
    birthdate = params.get("birthdate")
    born = _birthdate(birthdate) if birthdate is not None else None
    telecom = params.get("telecom")
    if telecom is not None:
        system, value = token(telecom)
        if system not in (None, "phone", "email") or not value.strip():
            raise SearchError("telecom", "expected phone|<number> or email|<address>")
        kind = system or ("email" if "@" in value else "phone")
        if kind == "phone":
            phone = phone if phone is not None else value
        else:
            email = email if email is not None else value
    service = person.patients()
    service.without_clinical()
    found: list[Patient]
    if nir is not None:
        if nir[0] not in (None, INS_NIR_SYSTEM, INS_NIA_SYSTEM):
            found = []  # an identifier system we do not hold matches nothing
        else:
            found = service.find_by_nir(nir[1])
    elif family is not None and given is not None and born is not None:
        found = service.find_by_name(family, given, born)
    elif phone is not None:
        found = service.find_by_phone(phone)
    elif email is not None:
        found = service.find_by_email(email)
    elif family is not None or given is not None or born is not None:
        raise SearchError(
            "family",
            "a name search needs family, given and birthdate together (the INS traits "
            "indexed: birth name, first birth first name, birth date)",
            code="required",
        )
    else:
        raise SearchError(
            "identifier",
            "a search needs identifier, family+given+birthdate, phone, email or telecom; "
            "listing patients is not offered",
            code="required",
        )
    kept = [p for p in found if _matches(p, nir, family, given, born, phone, email)]
    bundle = searchset(request, [patient_resource(p) for p in kept])
    return FhirResponse(bundle)


@router.get(
    "/Patient/{patient_id}",
    response_class=FhirResponse,
    summary="Read a patient",
    responses=ERRORS,
)
def read_patient(patient_id: str, person: Person = Depends(api_person)) -> Response:
    if not valid_id(patient_id):
        raise RecordNotFound("Patient: no resource with this id")
    service = person.patients()
    service.without_clinical()
    return FhirResponse(patient_resource(service.get(patient_id)))


def _duplicate_confirmation(doc: dict[str, Any]) -> str | None:
    """The reason a client gives for a second record of a known identity (taken out of
    the resource: it is a request's confirmation, not a fact about the patient)."""
    kept, reasons = [], []
    for i, ext in enumerate(doc.get("extension", [])):
        if ext.get("url") != DUPLICATE_CONFIRMATION_URL:
            kept.append(ext)
            continue
        value = ext.get("valueString")
        if not isinstance(value, str) or not value.strip():
            where = f"Patient.extension[{i}].valueString"
            raise ValidationError(where, "required: why a second record of this identity")
        reasons.append(value)
    if kept:
        doc["extension"] = kept
    else:
        doc.pop("extension", None)
    return reasons[-1] if reasons else None


@router.post(
    "/Patient",
    response_class=FhirResponse,
    status_code=201,
    summary="Create a patient (201 with Location)",
    responses={
        **ERRORS,
        409: {
            "description": "Identity already known: confirm with a reason (OperationOutcome)",
            **ERRORS[422],
        },
    },
    openapi_extra=fhir_body("Patient"),
)
def create_patient(
    request: Request, body: bytes = Depends(body_of), person: Person = Depends(api_person)
) -> Response:
    """The server assigns the id (a random vault id); a client id is ignored, as FHIR says."""
    doc = parse_resource(body, FhirPatient, "Patient")
    reason = _duplicate_confirmation(doc)
    patient, paths = patient_from(doc, person.actor)
    try:
        validate_patient(patient)
    except ValidationErrors as exc:
        raise translate(exc, paths, "Patient") from None
    # an identity already known in the network: 409 unless confirmed with a reason
    person.patients().add(patient, duplicate_reason=reason, refuse_duplicates=True)
    # the service keeps only the status the record's evidence supports (RNIV)
    patient = replace(patient, identity_status=supported_status(patient))
    location = f"{base_url(request)}/Patient/{patient.id}"
    return FhirResponse(patient_resource(patient), status_code=201, headers={"Location": location})
