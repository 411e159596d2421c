"""The scan's categories and health concepts in French: the DPO's report, the CNIL draft.

Codes (``other_condition``, ``file_number``) stay in the CLI and the JSON; what a
French reader sees is these labels.
"""

from __future__ import annotations

__all__ = ["CATEGORY_LABELS", "CONCEPT_LABELS", "SAMPLE_LABELS"]

CATEGORY_LABELS: dict[str, str] = {
    "nir": "numéro de sécurité sociale (NIR)",
    "ins_traits": "traits d'identité (nom de naissance, prénoms, sexe, date et lieu de naissance)",
    "name": "nom et prénoms",
    "birth_date": "date de naissance",
    "address": "adresse postale",
    "phone": "numéro de téléphone",
    "email": "adresse électronique",
    "insurance": (
        "assurance maladie (régime et caisse, mutuelle ou organisme complémentaire et son "
        "numéro AMC, numéro d'adhérent)"
    ),
    "file_number": "numéro de dossier au laboratoire",
    "last_visit": "date de dernière visite au laboratoire",
    "rpps": "médecin traitant du patient (nom et numéro RPPS)",
    "iban": "coordonnées bancaires (IBAN)",
    "credential": "identifiants de connexion au portail de résultats",
    "blood_group": "groupe sanguin",
    "health": "données de santé (commentaires médicaux, pathologies, grossesse)",
    "drug": "traitements médicamenteux",
}
CONCEPT_LABELS: dict[str, str] = {
    "hiv": "infection par le VIH",
    "pregnancy": "grossesse",
    "hepatitis": "hépatites",
    "cancer": "cancers",
    "other": "autres pathologies (diabète, maladies génétiques ou rénales…)",
}
# The lexicon's concepts, as a masked sample names them in the French report.
SAMPLE_LABELS: dict[str, str] = {
    "pregnancy": "grossesse",
    "hiv": "VIH",
    "hepatitis": "hépatite",
    "cancer": "cancer",
    "diabetes": "diabète",
    "genetic": "maladie génétique",
    "renal": "maladie rénale",
    "other_condition": "autre pathologie",
}
