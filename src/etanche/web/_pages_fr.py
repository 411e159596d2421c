"""French words of the pages: labels of roles and codes, and error reasons.

The rooms below speak English (logs, CLI); the staff read French. Reasons are
translated from the rooms' fixed English texts, which never quote a value, so
a French message never quotes one either. An unknown reason falls back to a
generic French sentence rather than leaking English (or worse) to the page.
"""

from __future__ import annotations

import re

from etanche.domain import IdentityStatus, Sex
from etanche.errors import (
    AccountLocked,
    AuthenticationFailed,
    EtancheError,
    PermissionDenied,
    RecordNotFound,
    SessionExpired,
    ValidationError,
)
from etanche.names import Role
from etanche.service import ROLE_FORMS

GENDERS = {"F": "Madame", "M": "Monsieur"}


def role_label(role: Role, gender: str | None) -> str:
    """« Déléguée à la protection des données » for a woman DPO; both forms if not given."""
    feminine, masculine, either = ROLE_FORMS[role]
    return {"F": feminine, "M": masculine}.get(gender or "", either)


SEXES: dict[Sex, str] = {Sex.FEMALE: "Féminin", Sex.MALE: "Masculin", Sex.UNKNOWN: "Indéterminé"}

IDENTITY_STATUSES: dict[IdentityStatus, str] = {
    IdentityStatus.PROVISIONAL: "Identité provisoire",
    IdentityStatus.RECOVERED: "Identité récupérée",
    IdentityStatus.VALIDATED: "Identité validée",
    IdentityStatus.QUALIFIED: "Identité qualifiée",
}


# English reasons of the validators (etanche.domain, etanche.access) -> French.
_REASONS: dict[str, str] = {
    "must not be empty": "Ce champ ne peut pas être vide.",
    "at least one first name is required": "Indiquez au moins un prénom de naissance.",
    "birth date is in the future": "La date de naissance est dans le futur.",
    "birth date is before 1900-01-01": "La date de naissance est antérieure au 01/01/1900.",
    "expected a date without time": "Indiquez une date sans heure.",
    "invalid NIR length (expected 15 characters)": (
        "Le NIR doit comporter 15 caractères (13 chiffres et une clé de 2 chiffres)."
    ),
    "invalid NIR check key (expected 97 - N mod 97)": (
        "La clé du NIR est incorrecte : vérifiez le numéro et ses deux derniers chiffres."
    ),
    "invalid NIR format (expected 13 digits, 2A or 2B allowed for Corsica, then a 2-digit key)": (
        "Format de NIR invalide : 13 chiffres (2A ou 2B pour la Corse) puis une clé de 2 chiffres."
    ),
    "invalid NIR": "NIR invalide.",
    "invalid NIR first digit (expected 1 or 2, or 7 or 8 for a temporary number)": (
        "Le NIR doit commencer par 1 ou 2 (7 ou 8 pour un numéro provisoire)."
    ),
    "invalid NIR month code (expected 01-12, 20, 30-42 or 50-99)": (
        "Le mois du NIR (4e et 5e chiffres) est invalide."
    ),
    "NIR does not match sex": "Le NIR ne correspond pas au sexe indiqué (1er chiffre).",
    "NIR does not match birth year": "Le NIR ne correspond pas à l'année de naissance.",
    "NIR does not match birth month": "Le NIR ne correspond pas au mois de naissance.",
    "NIR is not stored in compact form (15 characters, upper-case)": "NIR mal formé.",
    "not a parsable phone number": "Numéro de téléphone illisible.",
    "not a valid phone number for its country": (
        "Ce numéro de téléphone n'existe pas dans son pays."
    ),
    "phone number is not stored in E.164 form": "Numéro de téléphone mal formé.",
    "invalid email address (expected exactly one @ sign)": (
        "Adresse électronique invalide : un seul signe @ attendu."
    ),
    "invalid email address (bad part before the @ sign)": (
        "Adresse électronique invalide : la partie avant le @ est incorrecte."
    ),
    "invalid email address (bad domain after the @ sign)": (
        "Adresse électronique invalide : le domaine après le @ est incorrect."
    ),
    "invalid email address syntax": "Adresse électronique invalide.",
    "invalid RPPS number (expected exactly 11 digits)": "Le numéro RPPS comporte 11 chiffres.",
    "invalid RPPS check digit (Luhn)": "La clé du numéro RPPS est incorrecte.",
    "invalid INSEE commune code (expected 2 digits or 2A/2B, then 3 digits)": (
        "Code INSEE invalide : 2 chiffres (ou 2A/2B) puis 3 chiffres."
    ),
    "invalid INSEE commune code (no département 00)": "Code INSEE invalide (département 00).",
    "INSEE commune code is not stored in canonical form": "Code INSEE mal formé.",
    "invalid French postcode (expected 5 digits)": "Le code postal comporte 5 chiffres.",
    "invalid French postcode (no département 00)": "Code postal invalide (département 00).",
    "collection time is in the future": "La date de prélèvement est dans le futur.",
    "last visit is in the future": "La dernière visite est dans le futur.",
    "last visit is before the birth date": "La dernière visite précède la naissance.",
    # accounts
    "3 to 64 characters: lowercase letters, digits, '.', '-', '_', starting with a letter": (
        "De 3 à 64 caractères : minuscules, chiffres, « . », « - », « _ », "
        "en commençant par une lettre."
    ),
    "names a service, role or placeholder; use the person's own name": (
        "Ce nom désigne un service ou un rôle : utilisez le nom de la personne."
    ),
    "must hold at least 3 letters of the person's name": (
        "L'identifiant doit contenir au moins 3 lettres du nom de la personne."
    ),
    "first and last name of one person (two words at least)": (
        "Prénom et nom d'une personne (deux mots au moins)."
    ),
    "must have at most 200 characters": "200 caractères au plus.",
    "names a service or role, not a person": "Ce nom désigne un service, pas une personne.",
    "at least one lab (or '*' for a network-wide role)": "Choisissez au moins un laboratoire.",
    "'*' already covers every lab; give it alone": (
        "« Tout le réseau » couvre déjà chaque laboratoire : ne cochez que lui."
    ),
    "already taken (user names are never reused)": (
        "Identifiant déjà pris (un identifiant n'est jamais réutilisé)."
    ),
    "an active account already belongs to a person of that name; one account per person "
    "(tell homonyms apart with a middle name)": (
        "Un compte actif existe déjà pour une personne de ce nom : un seul compte par personne "
        "(distinguez les homonymes par un deuxième prénom)."
    ),
    "must not contain the user name": "Le mot de passe ne doit pas contenir l'identifiant.",
    "must not contain the person's name": "Le mot de passe ne doit pas contenir le nom.",
    "is too common or too easy to guess": "Mot de passe trop courant ou trop facile à deviner.",
    "already carried by another active account": (
        "Ce numéro RPPS est déjà celui d'un autre compte actif."
    ),
    "this account already has a request waiting for approval; decide it first": (
        "Une demande attend déjà l'approbation pour ce compte."
    ),
}

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"must have at least (\d+) characters"), "{0} caractères au moins."),
    (re.compile(r"must have at most (\d+) characters"), "{0} caractères au plus."),
    (
        re.compile(r"'\*' \(every lab\) is not allowed to the (\w+) role"),
        "« Tout le réseau » n'est pas permis à ce rôle.",
    ),
    (re.compile(r"not in the vault: "), "Laboratoire inconnu du coffre."),
    (
        re.compile(r"required for the (\w+) role \(the 11-digit RPPS number\)"),
        "Le numéro RPPS (11 chiffres) est obligatoire pour ce rôle.",
    ),
]

# Why an approval was refused (``access._approvals``), in French.
APPROVAL_REASONS: list[tuple[str, str]] = [
    ("nobody approves their own account", "Personne n'approuve son propre compte."),
    (
        "the requester cannot approve their own request",
        "L'auteur de la demande ne peut pas l'approuver lui-même.",
    ),
    (
        "a lab admin of the same lab cannot be the second approver",
        "Un administrateur du même laboratoire ne peut pas être le second approbateur : "
        "demandez au DPO ou à l'administrateur d'un autre laboratoire.",
    ),
    ("account is approved by a DPO", "Ce compte est approuvé par le DPO."),
    (
        "the first DPO",
        "Le premier DPO est approuvé par le quorum des dépositaires des clés "
        "(etanche unseal --for approve-dpo), puis par un administrateur.",
    ),
    ("custodians' approval", "Les dépositaires des clés n'ont pas encore approuvé."),
]


def approval_fr(reason: str) -> str:
    """The French sentence for a refused approval's English reason."""
    for needle, text in APPROVAL_REASONS:
        if needle in reason:
            return text
    return "Vous ne pouvez pas décider de cette demande."


GENERIC_INVALID = "Valeur invalide."


def reason_fr(reason: str) -> str:
    """The French sentence for a validator's English reason."""
    known = _REASONS.get(reason)
    if known is not None:
        return known
    for pattern, text in _PATTERNS:
        match = pattern.match(reason)
        if match:
            return text.format(*match.groups())
    return GENERIC_INVALID


def invalid_fr(exc: ValidationError) -> str:
    return reason_fr(exc.reason)


# One sentence per kind of failure, for pages and flash messages.
STATUS_MESSAGES: dict[int, str] = {
    400: "La demande est incomplète ou mal formée.",
    401: "Votre session a expiré : reconnectez-vous.",
    403: "Cette action n'est pas permise à votre compte. Le refus est enregistré au journal.",
    404: "Dossier introuvable : il n'existe pas ou a été effacé.",
    409: "Cette opération a déjà été faite.",
    422: "Les données saisies sont invalides.",
    429: "Trop de tentatives depuis ce poste : patientez une minute avant de réessayer.",
    500: "Erreur interne : l'opération n'a pas abouti. Réessayez ou prévenez le support.",
}


def error_fr(exc: EtancheError) -> str:
    """One clear French sentence for an error, never its (English) message."""
    if isinstance(exc, AccountLocked | AuthenticationFailed):  # a probe cannot tell them apart
        return "Identifiant, mot de passe ou code incorrect."
    if isinstance(exc, SessionExpired):
        return STATUS_MESSAGES[401]
    if isinstance(exc, PermissionDenied):
        return STATUS_MESSAGES[403]
    if isinstance(exc, RecordNotFound):
        return STATUS_MESSAGES[404]
    if isinstance(exc, ValidationError):
        return invalid_fr(exc)
    return STATUS_MESSAGES[500]


# Duplicate linkage: comparisons and their level codes (etanche.linkage) -> French.
LINKAGE_COMPARISONS = {
    "surname": "Nom de naissance",
    "first_name": "Prénom",
    "birth_date": "Date de naissance",
    "sex": "Sexe",
    "birthplace": "Lieu de naissance",
    "nir": "NIR",
    "postcode": "Code postal",
    "phone": "Téléphone",
    "email": "Courriel",
}
_LINKAGE_LEVELS = {
    "exact": "identique",
    "used_name": "nom d'usage saisi comme nom de naissance",
    "swapped": "prénoms inversés",
    "one_edit": "une faute de frappe",
    "close": "très proche",
    "phonetic": "même prononciation",
    "similar": "proche",
    "day_month_swapped": "jour et mois inversés",
    "same_year": "même année",
    "partial": "proche (même début)",
    "different": "différent",
    "null": "non renseigné",
}


def linkage_level(code: str) -> str:
    """A comparison level of the linkage in French (an unknown code is shown as is)."""
    return _LINKAGE_LEVELS.get(code, code)
