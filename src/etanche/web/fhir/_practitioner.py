"""Practitioner: a treating doctor or prescriber, identified by the RPPS number.

The vault has no directory of practitioners: a doctor exists only as the
``physician`` of a patient or the ``prescriber`` of a specimen. So a
Practitioner is served *contained* in the resource that names it (Patient,
Specimen), never on its own: a standalone Practitioner id would have to be
looked up across patients, i.e. a bulk read.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.practitioner import Practitioner

from etanche.domain import Physician
from etanche.errors import ValidationError
from etanche.web.fhir._common import IDENTIFIER_TYPE_SYSTEM, RPPS_SYSTEM, checked


def practitioner(physician: Physician, local_id: str) -> dict[str, Any]:
    """A contained Practitioner (``#local_id``) with its RPPS identifier."""
    return checked(
        Practitioner,
        {
            "resourceType": "Practitioner",
            "id": local_id,
            "identifier": [
                {
                    "use": "official",
                    "type": {
                        "coding": [
                            {
                                "system": IDENTIFIER_TYPE_SYSTEM,
                                "code": "RPPS",
                                "display": "N° RPPS",
                            }
                        ]
                    },
                    "system": RPPS_SYSTEM,
                    "value": physician.rpps,
                }
            ],
            "name": [{"text": physician.name}],
        },
    )


def physician_from(
    reference: dict[str, Any],
    contained: dict[str, dict[str, Any]],
    path: str,
    problems: list[ValidationError],
    used: set[str],
) -> tuple[Physician | None, str]:
    """The physician a reference names, and the FHIRPath its RPPS came from.

    Accepts a reference to a contained Practitioner (``#gp``) or a logical
    reference by identifier (``{"identifier": {system: RPPS, value}, "display": name}``).
    """
    ref = str(reference.get("reference", ""))
    if ref.startswith("#"):
        local = ref[1:]
        doc = contained.get(local)
        if doc is None or doc.get("resourceType") != "Practitioner":
            problems.append(ValidationError(path, "must reference a contained Practitioner"))
            return None, path
        used.add(local)
        return _from_practitioner(doc, f"{path}.resolve()", problems)
    identifier = reference.get("identifier")
    if ref or not isinstance(identifier, dict):
        problems.append(
            ValidationError(
                path,
                "expected a contained Practitioner (#id) or an RPPS identifier; "
                "other references are not supported",
            )
        )
        return None, path
    if identifier.get("system") != RPPS_SYSTEM or not identifier.get("value"):
        problems.append(ValidationError(f"{path}.identifier", f"expected system {RPPS_SYSTEM}"))
        return None, path
    name = str(reference.get("display", "")).strip()
    if not name:
        problems.append(ValidationError(f"{path}.display", "the practitioner's name is required"))
        return None, path
    return Physician(name=name, rpps=str(identifier["value"]).strip()), f"{path}.identifier.value"


def _from_practitioner(
    doc: dict[str, Any], path: str, problems: list[ValidationError]
) -> tuple[Physician | None, str]:
    rpps: str | None = None
    rpps_path = f"{path}.identifier"
    for i, identifier in enumerate(doc.get("identifier", [])):
        if identifier.get("system") == RPPS_SYSTEM and identifier.get("value"):
            rpps = str(identifier["value"]).strip()
            rpps_path = f"{path}.identifier[{i}].value"
            break
    if rpps is None:
        problems.append(
            ValidationError(rpps_path, f"an identifier of system {RPPS_SYSTEM} is required")
        )
    names = doc.get("name", [])
    name = ""
    if names:
        first = names[0]
        name = (
            str(first.get("text", "")).strip()
            or " ".join(
                [*first.get("prefix", []), *first.get("given", []), first.get("family", "")]
            ).strip()
        )
    if not name:
        problems.append(ValidationError(f"{path}.name", "the practitioner's name is required"))
    if rpps is None or not name:
        return None, rpps_path
    return Physician(name=name, rpps=rpps), rpps_path
