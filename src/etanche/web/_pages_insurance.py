"""The insurance part of the patient form: AMO régime and caisse, complémentaire santé.

Insurance is admin data (the front desk enters it from the carte Vitale or the
attestation de droits); it is sealed with the identity. One French message per
field; the régime is chosen from the named list, a caisse is three digits.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from etanche.domain import AMO_REGIMES, Insurance, Patient

if TYPE_CHECKING:
    from etanche.web._pages_forms import Checked

__all__ = [
    "INSURANCE_FIELDS",
    "check_insurance",
    "insurance_of",
    "insurance_raw",
    "regime_options",
]

INSURANCE_FIELDS = ("amo_regime", "amo_caisse", "amc_name", "amc_member_number")
_CAISSE = re.compile(r"^\d{3}$")
_MEMBER = re.compile(r"^[0-9A-Za-z][0-9A-Za-z ./-]{0,29}$")

BAD_REGIME = "Choisissez le régime obligatoire dans la liste."
BAD_CAISSE = "Code caisse invalide : 3 chiffres attendus (par exemple 441)."
NEED_REGIME = "Choisissez le régime obligatoire : la caisse en dépend."
NEED_CAISSE = "Indiquez le code de la caisse (3 chiffres, après le régime sur la carte Vitale)."
NEED_AMO = "Renseignez d'abord le régime obligatoire et la caisse."
NEED_AMC = "Indiquez le nom de la complémentaire santé de ce numéro d'adhérent."
BAD_MEMBER = "Numéro d'adhérent invalide : 30 lettres ou chiffres au plus."


def regime_options(current: str = "") -> list[tuple[str, str]]:
    """The select's options: « 01 — Régime général »…; a stored code off the list is kept."""
    options = [(code, f"{code} — {name}") for code, name in AMO_REGIMES.items()]
    if current and current not in AMO_REGIMES:
        options.append((current, f"{current} — code hors de la liste"))
    return options


def check_insurance(c: Checked, known: str = "") -> None:
    """Every insurance field of the form; ``known`` is the stored régime (kept if off-list)."""
    raw = c.raw
    regime, caisse = raw.get("amo_regime", ""), raw.get("amo_caisse", "").replace(" ", "")
    if regime and regime not in AMO_REGIMES and regime != known:
        c.errors["amo_regime"] = BAD_REGIME
    if caisse and not _CAISSE.match(caisse):
        c.errors["amo_caisse"] = BAD_CAISSE
    elif caisse:
        c.clean["amo_caisse"] = caisse
    if caisse and not regime:
        c.errors.setdefault("amo_regime", NEED_REGIME)
    if regime and not caisse:
        c.errors.setdefault("amo_caisse", NEED_CAISSE)
    member = raw.get("amc_member_number", "")
    if member and not _MEMBER.match(member):
        c.errors["amc_member_number"] = BAD_MEMBER
    if member and not raw.get("amc_name"):
        c.errors.setdefault("amc_name", NEED_AMC)
    if (raw.get("amc_name") or member) and not (regime or caisse):
        c.errors.setdefault("amo_regime", NEED_AMO)


def insurance_of(c: Checked) -> Insurance | None:
    """The insurance a checked form holds (None when every field is empty)."""
    raw = c.raw
    if not raw.get("amo_regime"):
        return None
    return Insurance(
        amo_regime=raw["amo_regime"],
        amo_caisse=c.clean.get("amo_caisse", raw.get("amo_caisse", "")),
        amc_name=raw.get("amc_name") or None,
        amc_member_number=raw.get("amc_member_number") or None,
    )


def insurance_raw(patient: Patient) -> dict[str, str]:
    """The form's insurance fields, filled from a patient."""
    cover = patient.insurance
    return {
        "amo_regime": cover.amo_regime if cover else "",
        "amo_caisse": cover.amo_caisse if cover else "",
        "amc_name": (cover.amc_name or "") if cover else "",
        "amc_member_number": (cover.amc_member_number or "") if cover else "",
    }
