"""The reason of a record change (GDPR art. 16): read from the edit form, checked in French.

Any edit may give a reason; an edit that answers a rectification request gives
its reference and then must give the reason too. The service keeps both with the
earlier version (``PatientService.update``); the history page names the fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from starlette.datastructures import FormData

from etanche.domain import STRICT_TRAITS, Patient

__all__ = [
    "FIELD_NAMES_FR",
    "STRICT_TRAIT_REASON",
    "ChangeReason",
    "change_reason",
    "strict_traits_changed",
]

MAX_REASON = 500
STRICT_TRAIT_REASON = (
    "Indiquez le motif : un trait strict de l'identité (nom de naissance, prénoms, sexe, "
    "date ou lieu de naissance) change, et la version précédente est conservée avec lui."
)
_REQUEST_ID = re.compile(r"^DR-\d{8}-[0-9a-f]{6}$")

FIELD_NAMES_FR = {
    "birth_name": "nom de naissance",
    "first_names": "prénoms",
    "sex": "sexe",
    "birth_date": "date de naissance",
    "birthplace_insee": "lieu de naissance",
    "used_name": "nom d'usage",
    "nir": "NIR",
    "identity_status": "statut de l'identité",
    "addresses": "adresse",
    "phones": "téléphone",
    "emails": "adresse électronique",
    "physician": "médecin traitant",
    "insurance": "assurance maladie",
    "last_visit": "dernier passage",
    "clinical.blood_group": "groupe sanguin",
    "clinical.comments": "commentaires cliniques",
    "clinical.pregnant": "grossesse",
    "clinical.treatments": "traitements",
    "clinical.pathologies": "pathologies",
}


@dataclass(frozen=True)
class ChangeReason:
    reason: str | None
    request_id: str | None
    errors: dict[str, str] = field(default_factory=dict)


def change_reason(form: FormData) -> ChangeReason:
    raw_reason, raw_request = form.get("motif"), form.get("demande")
    reason = " ".join(raw_reason.split())[:MAX_REASON] if isinstance(raw_reason, str) else ""
    request = raw_request.strip()[:40] if isinstance(raw_request, str) else ""
    errors: dict[str, str] = {}
    if request and not _REQUEST_ID.match(request):
        errors["demande"] = "Référence de demande invalide (DR-AAAAMMJJ-xxxxxx)."
    if request and not reason:
        errors["motif"] = "Indiquez le motif de la rectification demandée."
    return ChangeReason(reason or None, request or None, errors)


def strict_traits_changed(before: Patient, after: Patient) -> bool:
    """Whether an edit changes an INS strict trait: such an edit must say why."""
    return any(getattr(before, t) != getattr(after, t) for t in STRICT_TRAITS)
