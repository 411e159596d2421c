"""Column names as hints, in French and English, as cloud DLP services read them.

A hint proposes a role; the values still have to agree (a column named "nir"
holding order numbers is not counted). Rules are tried in order: the first
whose pattern matches the normalised header wins ("adresse mail" is an e-mail,
"lieu de naissance" a birthplace, before "adresse" and "naissance").
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["ROLES", "flag_concept", "hint_for", "normalise_header"]

# role -> category of the report (None: a role that is not a category by itself)
ROLES: dict[str, str] = {
    "nir": "nir",
    "phone": "phone",
    "email": "email",
    "iban": "iban",
    "birth_date": "birth_date",
    "birth_name": "name",
    "used_name": "name",
    "first_names": "name",
    "other_name": "name",
    "physician": "name",
    "rpps": "rpps",
    "regime": "insurance",
    "caisse": "insurance",
    "mutuelle": "insurance",
    "member_number": "insurance",
    "amc_number": "insurance",
    "file_number": "file_number",
    "last_visit": "last_visit",
    "sex": "ins_traits",
    "birthplace": "ins_traits",
    "street": "address",
    "postcode": "address",
    "postcode_city": "address",
    "city": "address",
    "blood_group": "blood_group",
    "login": "credential",
    "secret": "credential",
    "token": "credential",
    "health_flag": "health",
    "free_text": "",
}

_RULES: tuple[tuple[str, str], ...] = (
    ("secret", r"mot de passe|mdp|password|passwd|pwd|passe|secret|token|jeton|api ?key|cle api|"
     r"code pin|pin|hash"),
    ("login", r"login|identifiant (?:portail|de connexion|web|internet)|username|user ?name|"
     r"user|utilisateur|pseudo"),
    ("email", r"e ?mail|mail|courriel|mel|adresse (?:mail|electronique)"),
    ("birthplace", r"(?:lieu|commune|ville|pays|dept?|departement) (?:de )?naiss\w*|"
     r"birth ?place|place of birth|code insee naissance|insee naissance|birth (?:city|town)"),
    ("birth_name", r"nom (?:de )?naiss\w*|nom de jeune fille|birth ?name|maiden name|"
     r"nom patronymique|nom de famille"),
    ("birth_date", r"(?:date|dte|dt|d) ?(?:de )?naiss\w*|naissance|naiss|ddn|dob|d o b|"
     r"birth ?date|birth ?day|date of birth|born(?: on)?|n(?:e|ee|e\(e\)|e e) le|"
     r"datenaiss\w*|dtnaiss\w*|date ?nais"),
    ("nir", r"nir|nss|n ?ss|n secu|no secu|num(?:ero)? (?:de )?secu(?:rite sociale)?|"
     r"securite sociale|secu|ssn|social security(?: number)?|matricule ins|ins nir|"
     r"n ?immatriculation|immatriculation"),
    ("iban", r"iban|rib|compte bancaire|bank account"),
    ("blood_group", r"groupe sanguin|groupe|blood ?group|blood ?type|abo|rhesus|gs"),
    ("used_name", r"nom d ?usage|nom marital|nom usuel|used name|married name"),
    ("first_names", r"prenoms?|prenom\(s\)|first ?names?|given(?: ?names?)?|forenames?|givenname"),
    ("physician", r"medecin(?: traitant)?|docteur|prescripteur|physician|doctor|practitioner"),
    ("other_name", r"full ?name|nom complet"),
    ("birth_name", r"last ?name|surname|family(?: name)?|lastname|nom|name"),
    ("sex", r"sexe|sex|genre|gender"),
    ("phone", r"tel|telephone|phone|portable|mobile|gsm|fixe|fax|telecom|contact tel"),
    ("postcode", r"cp|code postal|postcode|postal ?code|zip(?: ?code)?|code post"),
    ("city", r"ville|city|commune|localite|town|municipality"),
    ("street", r"adresse|address|rue|voie|street|adr|address line|line"),
    ("health_flag", r"enceinte|grossesse|pregnan\w*|vih|hiv|statut serologique"),
    ("free_text", r"commentaires?|comments?|notes?|observations?|remarques?|texte|text|message|"
     r"description|motif|infos?|informations?|memo|obs|pathologies?|diagnostics?|diagnosis|"
     r"antecedents?|maladies?|traitements?|treatments?|medicaments?|medications?|"
     r"conditions?"),
)  # fmt: skip
_COMPILED = tuple((role, re.compile(rf"(?:^|\s)(?:{p})(?:$|\s)")) for role, p in _RULES)
# Registration data of a health service (GDPR recital 35), tried before _NOT_PERSONAL:
# the physician's RPPS, the insurance, the lab's file number, the date of the last visit.
_REGISTRATION: tuple[tuple[str, str], ...] = (
    ("rpps", r"rpps(?: medecin)?|n rpps|rpps du medecin|numero rpps"),
    ("last_visit", r"(?:date )?(?:de )?derniere visite|date derniere venue|last visit|"
     r"date of last visit|derniere venue"),
    ("amc_number", r"(?:n|no|num|numero|code|id) ?(?:d )?amc|"
     r"amc ?(?:n|no|nr|num|number|numero|code|id)|"
     r"(?:n|no|num|numero|code) (?:d )?organisme(?: complementaire| amc)?|"
     r"(?:n|no|numero) (?:de )?teletransmission"),
    ("member_number", r"n adherent|numero adherent|adherent|member (?:number|id)|n mutuelle|"
     r"(?:n|no|numero) (?:de )?contrat|n assure complementaire"),
    ("mutuelle", r"mutuelle|nom mutuelle|complementaire(?: sante)?|amc|"
     r"(?:organisme|assurance|assureur) complementaire|complementary insurance|"
     r"supplementary insurance|insurer|health insurer"),
    ("caisse", r"caisse|cpam|caisse (?:primaire|d affiliation)|code caisse|organisme amo|"
     r"organisme (?:d )?(?:affiliation|rattachement)|centre (?:de )?(?:gestion|paiement)"),
    ("regime", r"regime(?: obligatoire)?|code regime|amo|grand regime"),
    ("file_number", r"n dossier|numero de dossier|num dossier|dossier|ipp|file number|"
     r"patient file|medical record number|mrn"),
)  # fmt: skip
_REGISTRATION_COMPILED = tuple(
    (role, re.compile(rf"(?:^|\s)(?:{p})(?:$|\s)")) for role, p in _REGISTRATION
)
_HIV_FLAG = re.compile(r"(?:^|\s)(?:vih|hiv|statut serologique)(?:$|\s)")

# Headers that name something else although a hint word appears in them.
_NOT_PERSONAL = re.compile(
    r"(?:^|\s)(?:rpps|adeli|finess|code labo|labo|dossier|commande|order|montant|amount|"
    r"date derniere|derniere visite|facture|invoice|reference|ref|statut|status|caisse|"
    r"regime|mutuelle|adherent|resource ?type|id)(?:$|\s)"
)


def normalise_header(header: str) -> str:
    """Lower case, no accents, "n°" kept as "n", other punctuation as spaces."""
    text = unicodedata.normalize("NFKD", header.lower().replace("°", " "))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^a-z0-9()]+", " ", text)
    return " ".join(text.split())


def hint_for(header: str) -> str | None:
    """The role a column name suggests, or None."""
    text = normalise_header(header)
    if not text:
        return None
    for role, pattern in _REGISTRATION_COMPILED:
        if pattern.search(text):
            return role
    if _NOT_PERSONAL.search(text):
        return None
    for role, pattern in _COMPILED:
        if pattern.search(text):
            return role
    return None


def flag_concept(header: str) -> str:
    """The health concept a yes/no flag column stands for: HIV status or pregnancy."""
    return "hiv" if _HIV_FLAG.search(normalise_header(header)) else "pregnancy"
