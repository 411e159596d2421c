"""Identity status rules of the RNIV: which evidence backs which status, and the moves.

Pure functions over ``Patient``: the service decides who may call them and
records each move. Every refusal is a ``ValidationError`` naming the field and
the reason, never a trait's value.

    provisoire ──document checked──▶ validée ──INS retrieved, traits match──▶ qualifiée
        │                                                                      ▲
        └──INS retrieved, traits match──▶ récupérée ──document checked─────────┘

A change of a strict trait sends a validated, retrieved or qualified identity
back to provisoire; the identity vigilance officer may downgrade (with a reason)
and restore what the evidence still supports.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from etanche.domain._models import (
    DocumentCheck,
    Downgrade,
    DowngradeReason,
    IdentityDocument,
    IdentityStatus,
    InsRetrieval,
    InsTraits,
    Patient,
)
from etanche.domain._normalize import normalize_name
from etanche.errors import ValidationError

__all__ = [
    "INS_OIDS",
    "RANK",
    "STRICT_TRAITS",
    "apply_trait_change",
    "check_document",
    "downgrade",
    "ins_mismatches",
    "qualify",
    "record_ins",
    "restore",
    "strict_traits",
    "supported_status",
]

STRICT_TRAITS = ("birth_name", "first_names", "sex", "birth_date", "birthplace_insee")
"""The five strict INS traits (the first birth first name and the list count as one)."""

INS_OIDS = {
    "1.2.250.1.213.1.4.8": "INS-NIR",
    "1.2.250.1.213.1.4.9": "INS-NIA",
    "1.2.250.1.213.1.4.10": "INS-NIR de test",
    "1.2.250.1.213.1.4.11": "INS-NIR de démonstration",
}
"""Assigning authorities of the INS matricule returned by the INSi teleservice."""

RANK = {
    IdentityStatus.PROVISIONAL: 0,
    IdentityStatus.RECOVERED: 1,
    IdentityStatus.VALIDATED: 1,
    IdentityStatus.QUALIFIED: 2,
}

_MATRICULE = re.compile(r"[12378][0-9]{2}[0-9]{2}(?:[0-9]{2}|2A|2B)[0-9]{3}[0-9]{3}[0-9]{2}")
_LOW_TRUST = {
    "permis": "a driving licence is not a high-trust document under the RNIV",
    "carte_vitale": "the carte Vitale is not an identity document",
}


def strict_traits(patient: Patient) -> InsTraits:
    """The record's five strict traits, in the shape the INSi returns them."""
    return InsTraits(
        patient.birth_name,
        patient.first_names,
        patient.sex,
        patient.birth_date,
        patient.birthplace_insee,
    )


def _names(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(normalize_name(v) for v in values if v.strip())


def ins_mismatches(patient: Patient, traits: InsTraits) -> list[str]:
    """Names of the strict traits where the record differs from the INSi's (empty: match).

    Names compare after normalisation (case, accents, hyphens): the INSi returns
    upper-case letters without diacritics.
    """
    mine = strict_traits(patient)
    differ: list[str] = []
    if normalize_name(mine.birth_name) != normalize_name(traits.birth_name):
        differ.append("birth_name")
    if _names(mine.first_names) != _names(traits.first_names):
        differ.append("first_names")
    if mine.sex != traits.sex:
        differ.append("sex")
    if mine.birth_date != traits.birth_date:
        differ.append("birth_date")
    if (mine.birthplace_insee or "").upper() != (traits.birthplace_insee or "").upper():
        differ.append("birthplace_insee")
    return differ


def supported_status(patient: Patient) -> IdentityStatus:
    """The highest status the evidence on the record supports."""
    document = patient.identity_document is not None
    ins = patient.ins is not None and not ins_mismatches(patient, patient.ins.traits)
    if document and ins:
        return IdentityStatus.QUALIFIED
    if document:
        return IdentityStatus.VALIDATED
    if ins:
        return IdentityStatus.RECOVERED
    return IdentityStatus.PROVISIONAL


def check_document(patient: Patient, kind: str, checked_by: str, checked_at: datetime) -> Patient:
    """Validation at the desk: a high-trust document was checked against the traits.

    provisoire → validée; récupérée → qualifiée (the INS retrieved already matches).
    """
    if patient.identity_status in (IdentityStatus.VALIDATED, IdentityStatus.QUALIFIED):
        raise ValidationError("identity_status", "already validated", patient.id)
    try:
        document = IdentityDocument(kind)
    except ValueError:
        reason = _LOW_TRUST.get(kind, "not a high-trust identity document under the RNIV")
        raise ValidationError("document", reason, patient.id) from None
    checked = replace(
        patient,
        identity_document=DocumentCheck(document, checked_by, checked_at),
        identity_downgrade=None,
    )
    return replace(checked, identity_status=supported_status(checked))


def record_ins(patient: Patient, retrieval: InsRetrieval) -> Patient:
    """An INSi result entered: provisoire → récupérée when the traits match.

    A validated identity stays validated until ``qualify`` compares the traits; a
    result whose traits differ is kept (the officer sees it) but raises nothing.
    """
    if patient.identity_status is IdentityStatus.QUALIFIED:
        raise ValidationError(
            "identity_status", "already qualified: downgrade it before a new retrieval", patient.id
        )
    if retrieval.oid not in INS_OIDS:
        raise ValidationError("oid", "not the OID of an INS assigning authority", patient.id)
    if not _MATRICULE.fullmatch(retrieval.matricule.upper()):
        raise ValidationError("matricule", "not a 15-character INS matricule", patient.id)
    if not retrieval.traits.birth_name.strip() or not _names(retrieval.traits.first_names):
        raise ValidationError("traits", "the INSi result needs a birth name and first names")
    updated = replace(patient, ins=retrieval, identity_downgrade=None)
    if patient.identity_status is IdentityStatus.VALIDATED:
        return updated
    return replace(updated, identity_status=supported_status(updated))


def qualify(patient: Patient) -> Patient:
    """validée → qualifiée: needs a checked document and a retrieved INS whose five
    strict traits match the record's."""
    if patient.identity_status is IdentityStatus.QUALIFIED:
        raise ValidationError("identity_status", "already qualified", patient.id)
    if patient.identity_document is None:
        raise ValidationError(
            "identity_document", "no high-trust document was checked (validate first)", patient.id
        )
    if patient.ins is None:
        raise ValidationError("ins", "no INS was retrieved from the INSi teleservice", patient.id)
    differ = ins_mismatches(patient, patient.ins.traits)
    if differ:
        raise ValidationError(
            "ins", f"the INSi traits differ from the record's: {', '.join(differ)}", patient.id
        )
    return replace(patient, identity_status=IdentityStatus.QUALIFIED)


def downgrade(
    patient: Patient,
    target: IdentityStatus,
    reason: DowngradeReason,
    by: str,
    at: datetime,
) -> Patient:
    """Lower the status (never raise it). A doubt about the document or the INS drops
    that evidence; a doubt about the identity keeps it, so ``restore`` can lift it."""
    if RANK[target] >= RANK[patient.identity_status]:
        raise ValidationError("identity_status", "a downgrade must lower the status", patient.id)
    document = None if reason is DowngradeReason.DOCUMENT_DOUBT else patient.identity_document
    ins = None if reason is DowngradeReason.INS_DOUBT else patient.ins
    if target is IdentityStatus.VALIDATED and document is None:
        raise ValidationError("identity_status", "validée needs the document kept", patient.id)
    if target is IdentityStatus.RECOVERED and ins is None:
        raise ValidationError("identity_status", "récupérée needs the INS kept", patient.id)
    return replace(
        patient,
        identity_status=target,
        identity_document=document,
        ins=ins,
        identity_downgrade=Downgrade(patient.identity_status, reason, by, at),
    )


def restore(patient: Patient) -> Patient:
    """Undo the last downgrade, as far as the evidence still on the record supports it."""
    last = patient.identity_downgrade
    if last is None:
        raise ValidationError("identity_status", "no downgrade to restore", patient.id)
    supported = supported_status(patient)
    fits = last.from_status is supported or supported is IdentityStatus.QUALIFIED
    target = last.from_status if fits else supported
    if RANK[target] <= RANK[patient.identity_status]:
        raise ValidationError(
            "identity_status", "the evidence on the record no longer supports more", patient.id
        )
    return replace(patient, identity_status=target, identity_downgrade=None)


def apply_trait_change(
    before: Patient, after: Patient, by: str, at: datetime
) -> tuple[Patient, bool]:
    """An edit of the record: keep the stored status and evidence (a form cannot set
    them), and downgrade to provisoire when a strict trait of a non-provisional
    identity changed. Returns the record to store and whether it was downgraded."""
    kept = replace(
        after,
        identity_status=before.identity_status,
        identity_document=before.identity_document,
        ins=before.ins,
        identity_downgrade=before.identity_downgrade,
    )
    if before.identity_status is IdentityStatus.PROVISIONAL:
        return kept, False
    if strict_traits(before) == strict_traits(after):
        return kept, False
    lowered = replace(
        kept,
        identity_status=IdentityStatus.PROVISIONAL,
        identity_document=None,
        identity_downgrade=Downgrade(
            before.identity_status, DowngradeReason.STRICT_TRAIT_CHANGED, by, at
        ),
    )
    return lowered, True


# French labels of the RNIV documents and downgrade reasons (pages, access reports).
IDENTITY_DOCUMENTS_FR = {
    IdentityDocument.ID_CARD: "Carte nationale d'identité",
    IdentityDocument.PASSPORT: "Passeport",
    IdentityDocument.RESIDENCE_PERMIT: "Titre de séjour",
    IdentityDocument.FAMILY_BOOK: "Livret de famille (mineur, avec la pièce d'un parent)",
    IdentityDocument.BIRTH_CERTIFICATE: "Extrait d'acte de naissance (mineur, avec la pièce "
    "d'un parent)",
}
DOWNGRADE_REASONS_FR = {
    DowngradeReason.STRICT_TRAIT_CHANGED: "Trait strict modifié",
    DowngradeReason.DOCUMENT_DOUBT: "Doute sur la pièce d'identité",
    DowngradeReason.INS_DOUBT: "Doute sur l'INS retourné (collision, autre personne)",
    DowngradeReason.IDENTITY_DOUBT: "Doute sur l'identité (usurpation, collision)",
}
