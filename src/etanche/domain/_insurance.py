"""Compulsory health insurance (AMO) régimes by code, as French staff name them.

The two-digit code is the start of the *code organisme* printed on the carte
Vitale and the attestation de droits (régime, then the three-digit caisse, then
the centre). The names follow the Assurance Maladie's table of *grands régimes*
(SESAM-Vitale and NOEMIE norms, "code grand régime"), limited to the codes a
lab's front desk meets; any other two-digit code stays valid and is shown as a
code (docs/record-edits.md).
"""

from __future__ import annotations

__all__ = ["AMO_REGIMES", "regime_name"]

AMO_REGIMES: dict[str, str] = {
    "01": "Régime général",
    "02": "Régime agricole (MSA)",
    "03": "Régime social des indépendants",
    "04": "SNCF (Caisse de prévoyance et de retraite)",
    "05": "RATP",
    "06": "Marins (ENIM)",
    "07": "Mines (CANSSM)",
    "08": "Militaires (CNMSS)",
    "09": "Banque de France",
    "10": "Clercs et employés de notaires (CRPCEN)",
    "12": "Chambre de commerce et d'industrie de Paris",
    "14": "Assemblée nationale",
    "15": "Sénat",
    "17": "Caisse des Français de l'étranger",
    "90": "Cultes (CAVIMAC)",
    "91": "Mutuelle générale de l'Éducation nationale (MGEN)",
    "95": "Mutuelle nationale des hospitaliers (MNH)",
    "99": "Autres mutuelles (sections locales mutualistes)",
}
"""Code → French name of the régime."""


def regime_name(code: str) -> str:
    """« Régime agricole (MSA) » for ``02``; a code not in the table is named as a code."""
    return AMO_REGIMES.get(code, f"régime de code {code}")
