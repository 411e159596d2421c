"""The audit log, its alerts and the roles as a French reader reads them.

Events and alert summaries are written in English by the rooms below (logs,
CLI, sinks stay English). What a French reader sees, the DPO's pages and the
documents the service builds (the access report a patient receives), takes its
words from here, one table for both: each action as a noun phrase, each detail
with a French label, each role worded for anyone, and each alert summary rebuilt
from its fixed English sentence (the summaries quote only ids, counts, actions
and account names, never a personal value). An unknown detail or sentence is
shown as a technical code, marked as such, rather than as English prose.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from etanche.names import Action, Role

__all__ = [
    "ACTIONS",
    "ACTION_NOUNS",
    "ALERT_RULES",
    "OUTCOMES",
    "ROLES",
    "ROLE_FORMS",
    "SEVERITIES",
    "Detail",
    "action_fr",
    "actor_fr",
    "alert_fr",
    "details_fr",
    "duration_fr",
    "role_fr",
    "rule_fr",
    "summary_fr",
]

# Each role as a woman, a man, or anyone holds it (an account without a gender).
ROLE_FORMS: dict[Role, tuple[str, str, str]] = {
    Role.RECEPTION: ("Secrétaire", "Secrétaire", "Secrétaire"),
    Role.BIOLOGIST: ("Biologiste", "Biologiste", "Biologiste"),
    Role.LAB_ADMIN: (
        "Administratrice de laboratoire",
        "Administrateur de laboratoire",
        "Administrateur ou administratrice de laboratoire",
    ),
    Role.DPO: (
        "Déléguée à la protection des données",
        "Délégué à la protection des données",
        "Délégué(e) à la protection des données",
    ),
    Role.MIGRATION_OPERATOR: (
        "Opératrice de migration",
        "Opérateur de migration",
        "Opérateur ou opératrice de migration",
    ),
    Role.AUDITOR: ("Auditrice", "Auditeur", "Auditeur ou auditrice"),
    Role.IDENTITY_OFFICER: (
        "Référente en identitovigilance",
        "Référent en identitovigilance",
        "Référent(e) en identitovigilance",
    ),
}
ROLES: dict[Role, str] = {role: forms[2] for role, forms in ROLE_FORMS.items()}
"""Each role worded for anyone (audit rows, role choices)."""

OUTCOMES = {"ok": "réussi", "denied": "refusé", "failed": "échoué", "error": "erreur"}

SEVERITIES = {"low": "Faible", "medium": "Moyenne", "high": "Élevée", "critical": "Critique"}

# Each alert rule by what it watches (pages, the register of processing).
ALERT_RULES = {
    "bulk_reads": "Lectures en masse",
    "export": "Export ou migration",
    "break_glass": "Accès d'urgence (bris de glace)",
    "off_hours": "Accès hors des heures ouvrées",
    "failed_logins": "Échecs de connexion répétés",
    "decoy_touch": "Dossier leurre consulté",
    "account_locked": "Compte verrouillé après des échecs de connexion",
    "account_change": "Modification d'un compte",
    "refused": "Acte sensible refusé",
    "account_burst": "Nombreux comptes privilégiés demandés par une personne",
    "audit_verification_failed": "Échec de vérification du journal",
    "rollback_detected": "Donnée chiffrée remplacée par une version antérieure",
    "rights_overdue": "Demande d'exercice des droits hors délai",
}


def rule_fr(name: str) -> str:
    """An alert rule's French name; an unknown (site) rule keeps its code."""
    return ALERT_RULES.get(name, name)


def alert_fr(rule: str, severity: str, summary: str, seq: int | None) -> str:
    """An alert as a document quotes it: rule and severity in French, the summary rebuilt
    in French, or, when its sentence is not known, a pointer to the alert (not English)."""
    said = summary_fr(summary) or (
        "résumé technique non traduit, voir l'alerte"
        + (f" (événement n° {seq} du journal)" if seq is not None else "")
        + "."
    )
    level = SEVERITIES.get(severity, severity).lower()
    return f"Alerte « {rule_fr(rule)} » (gravité {level}) : {said}"


# Every action as a noun phrase: « approbation d'une migration ».
ACTION_NOUNS: dict[str, str] = {
    Action.PATIENT_SEARCH: "recherche de patient",
    Action.PATIENT_READ: "lecture de dossier",
    Action.PATIENT_CREATE: "création de dossier",
    Action.PATIENT_UPDATE: "modification de dossier",
    Action.PATIENT_ERASE: "effacement de dossier",
    Action.PATIENT_LINK: "rattachement à l'identité réseau",
    Action.SPECIMEN_CREATE: "saisie d'un prélèvement",
    Action.SPECIMEN_LIST: "liste des prélèvements",
    Action.SPECIMEN_LABEL: "impression d'une étiquette de tube",
    Action.EXPORT_CREATE: "export de données",
    Action.MIGRATION_PLAN: "enregistrement d'un plan de migration",
    Action.MIGRATION_RUN: "exécution d'une migration",
    Action.MIGRATION_APPROVE: "approbation d'une migration",
    Action.MIGRATION_IMPORT: "import d'un paquet de migration",
    Action.MIGRATION_CLOSE: "clôture d'une migration",
    Action.USER_MANAGE: "gestion d'un compte",
    Action.USER_APPROVE: "approbation d'une demande de compte",
    Action.TOKEN_MANAGE: "gestion des jetons d'API",
    Action.KEYS_ROTATE: "rotation de clés",
    Action.LAB_MANAGE: "gestion d'un laboratoire",
    Action.AUDIT_READ: "lecture du journal d'audit",
    Action.AUDIT_VERIFY: "vérification du journal d'audit",
    Action.ALERT_READ: "lecture des alertes",
    Action.ALERT_ACK: "acquittement d'une alerte",
    Action.DECOY_MANAGE: "gestion des dossiers leurres",
    Action.INCIDENT_MANAGE: "gestion d'un incident",
    Action.INCIDENT_NOTIFY: "courriers aux personnes concernées",
    Action.LEAK_SCAN: "analyse d'un fichier trouvé",
    Action.LEAK_TRACE: "traçage d'une fuite",
    Action.VAULT_VERIFY: "vérification des révisions du coffre",
    Action.VAULT_REINDEX: "recalcul des index de recherche de l'accueil",
    Action.REGISTER_READ: "lecture du registre des traitements",
    Action.LOGIN: "connexion",
    Action.LOGOUT: "déconnexion",
    Action.BREAK_GLASS: "bris de glace",
    Action.KEY_OPERATION: "opération sur les clés",
    Action.CUSTODY_UNSEAL: "descellement du service",
    Action.VAULT_WRITE: "écriture chiffrée",
    Action.CUSTODY_APPROVE: "approbation par les dépositaires des clés",
    Action.CLINICAL_UPDATE: "modification des données cliniques",
    Action.BACKUP_CREATE: "sauvegarde chiffrée du coffre",
    Action.BACKUP_DRILL: "exercice de restauration d'une sauvegarde",
    Action.BACKUP_RESTORE: "restauration d'une sauvegarde par les dépositaires des clés",
    Action.IDENTITY_VALIDATE: "validation de l'identité (pièce d'identité)",
    Action.IDENTITY_RETRIEVE: "récupération de l'INS (INSi)",
    Action.IDENTITY_QUALIFY: "qualification de l'identité",
    Action.IDENTITY_DOWNGRADE: "rétrogradation du statut d'identité",
    Action.IDENTITY_RESTORE: "rétablissement du statut d'identité",
    Action.IDENTITY_REVIEW: "examen d'un doublon potentiel",
    Action.IDENTITY_MERGE: "fusion de dossiers",
    Action.IDENTITY_UNMERGE: "annulation d'une fusion",
    Action.IDENTITY_LINK: "recherche de doublons",
    Action.IDENTITY_PAIRS: "lecture des doublons potentiels",
    Action.RIGHTS_READ: "consultation des demandes de droits",
    Action.RIGHTS_ADD: "enregistrement d'une demande de droits",
    Action.RIGHTS_LOOKUP: "recherche des dossiers d'un demandeur",
    Action.RIGHTS_VERIFY: "vérification de l'identité d'un demandeur",
    Action.RIGHTS_LINK: "rattachement d'un dossier à une demande",
    Action.RIGHTS_EXTEND: "prolongation d'une demande",
    Action.RIGHTS_CLOSE: "clôture d'une demande",
    Action.RIGHTS_ERASE: "effacement au titre de l'article 17",
    Action.RIGHTS_LIFT: "levée d'une limitation",
    Action.RIGHTS_CHECK: "contrôle des délais des demandes",
    Action.RIGHTS_OVERDUE: "demande hors délai",
    Action.RIGHTS_ACCESS_REPORT: "copie du dossier au titre du droit d'accès",
    Action.RETENTION_PURGE: "purge des durées de conservation",
    Action.RETENTION_HOLD: "gel d'un dossier (conservation)",
}


def action_fr(action: str) -> str:
    """« Approbation d'une migration » for ``migration.approve``; unknown: the code."""
    noun = ACTION_NOUNS.get(action)
    return noun[0].upper() + noun[1:] if noun else action


ACTIONS: dict[str, str] = {action.value: action_fr(action) for action in Action}
"""Every action's French label (filters, tables)."""


_ROLE_LABELS = {role.value: label for role, label in ROLES.items()}
_SYSTEM = {"system": "système", "anonymous": "anonyme"}


def actor_fr(name: str | None) -> str:
    """A user name as shown; the service's own events read « système »."""
    if not name:
        return "—"
    return _SYSTEM.get(name, name)


def role_fr(code: str | None) -> str:
    """A role code's French label (« système » for the service itself)."""
    if not code:
        return ""
    return _ROLE_LABELS.get(code) or _SYSTEM.get(code, code)


_COMPARTMENTS = {"admin": "administratif", "clinical": "clinique"}
_INDEXES = {
    "nir": "NIR",
    "name_dob": "nom, prénom et date de naissance",
    "phone": "téléphone",
    "email": "adresse électronique",
}
_LABELS: dict[str, str] = {
    "lab": "laboratoire",
    "patient_lab": "laboratoire du dossier",
    "compartments": "compartiments",
    "count": "nombre",
    "results": "résultats",
    "hidden": "masqués",
    "index": "index",
    "via": "trouvé par",
    "specimens": "prélèvements",
    "error": "erreur",
    "reason": "motif du refus",
    "operation": "opération",
    "account": "compte",
    "role": "rôle",
    "pending": "en attente d'approbation",
    "privileged": "compte privilégié",
    "break_glass": "bris de glace",
    "last_visit_moved": "dernière visite mise à jour",
    "plan": "plan",
    "rows": "lignes",
    "patients": "patients",
    "package": "paquet",
    "scope": "portée",
    "token": "jeton",
    "letters": "lettres",
    "skipped": "écartées",
    "without_address": "sans adresse",
    "erased": "effacés",
    "events": "événements",
    "heads": "têtes signées",
    "problems": "problèmes",
    "records": "dossiers",
    "canaries": "leurres",
    "known": "dossiers de la même identité",
    "duplicate_confirmed": "doublon confirmé",
    "missing": "dossiers sans index",
    "indexed": "dossiers indexés",
    "batches": "lots",
    "unreadable": "illisibles",
    "alert": "alerte",
    "length": "longueur du texte",
}
_ERRORS = {
    "RecordNotFound": "dossier introuvable",
    "ValidationError": "donnée invalide",
    "PermissionDenied": "refusé par la politique",
    "AuthenticationFailed": "identifiants incorrects",
    "AccountLocked": "compte verrouillé",
    "SessionExpired": "session expirée",
    "KeyNotFound": "clé introuvable",
    "IntegrityError": "intégrité rompue",
    "VaultError": "erreur du coffre",
    "DuplicateUnconfirmed": "identité déjà connue, doublon non confirmé",
}


class Detail:
    """One detail of an event: its French label, its value, and whether it is a code."""

    __slots__ = ("code", "label", "typed", "value")

    def __init__(self, label: str, value: str, *, code: bool = False, typed: bool = False) -> None:
        self.label = label
        self.value = value
        self.code = code
        self.typed = typed  # free text a person typed (a purpose, a reason): shown as is


def _value_fr(key: str, value: object) -> tuple[str, bool]:
    """The French rendering of a value, and whether it stays a technical code."""
    if isinstance(value, bool):
        return ("oui" if value else "non"), False
    if value is None:
        return "—", False
    text = str(value)
    if key == "compartments":
        return ", ".join(_COMPARTMENTS.get(c, c) for c in text.split(",") if c), False
    if key in ("index", "via"):
        return _INDEXES.get(text, text), text not in _INDEXES
    if key == "error":
        return _ERRORS.get(text, text), text not in _ERRORS
    if key == "role":
        return _ROLE_LABELS.get(text, text), text not in _ROLE_LABELS
    if key == "operation":
        known = {a.value for a in Action}
        return (action_fr(text).lower(), False) if text in known else (text, True)
    if isinstance(value, int | float):
        return str(value).replace(".", ","), False
    return text, key not in ("lab", "patient_lab")  # ids (accounts, plans) stay codes


def details_fr(details: Mapping[str, object], purpose: str | None = None) -> list[Detail]:
    """An event's details with French labels (``compartments=admin`` → compartiments)."""
    shown: list[Detail] = []
    for key, value in details.items():
        label = _LABELS.get(key)
        rendered, code = _value_fr(key, value)
        if label is None:
            shown.append(Detail("détail", f"{key}={rendered}", code=True))
        else:
            shown.append(Detail(label, rendered, code=code))
    if purpose:
        if purpose.startswith("break-glass: "):
            reason = purpose.removeprefix("break-glass: ")
            shown.append(Detail("motif (bris de glace)", reason, typed=True))
        else:
            shown.append(Detail("finalité", purpose, typed=True))
    return shown


def duration_fr(text: str) -> str:
    """``1h30m`` → « 1 h 30 min »: a rule's window as French readers write it."""
    units = {"d": " j", "h": " h", "m": " min", "s": " s"}
    parts = re.findall(r"(\d+)([dhms])", text)
    return " ".join(f"{n}{units[u]}" for n, u in parts) if parts else text


_REF = r"(event seq (?P<seq>\d+)|event not yet logged)"
_DAYS = {"Mon": "lundi", "Tue": "mardi", "Wed": "mercredi", "Thu": "jeudi", "Fri": "vendredi",
         "Sat": "samedi", "Sun": "dimanche"}  # fmt: skip
_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre")  # fmt: skip
_ACCOUNT_VERBS = {
    "created": "a créé le compte",
    "asked for a new role for": "a demandé un nouveau rôle pour le compte",
    "approved the request for": "a approuvé la demande du compte",
    "refused the request for": "a refusé la demande du compte",
    "disabled": "a désactivé le compte",
    "reset the password of": "a réinitialisé le mot de passe du compte",
    "reset the TOTP of": "a réinitialisé le code TOTP du compte",
}


def _ref(match: re.Match[str]) -> str:
    seq = match.group("seq")
    return f"événement n° {seq}" if seq else "événement pas encore journalisé"


def _outcome(word: str) -> str:
    return OUTCOMES.get(word, word)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n <= 1 else many}"


def _counts_fr(text: str) -> str:
    """``, 3 objects, rows=12`` → « , 3 dossiers, lignes : 12 »."""
    parts = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        objects = re.fullmatch(r"(\d+) objects?", part)
        if objects:
            parts.append(_plural(int(objects.group(1)), "objet", "objets"))
            continue
        key, _, value = part.partition("=")
        parts.append(f"{_LABELS.get(key, key)} : {value}")
    return "".join(f", {p}" for p in parts)


def _off_hours_when(text: str) -> str:
    """``Mon 2026-03-02 at 18:12`` → « lundi 2 mars 2026 à 18:12 » (already Paris time)."""
    found = re.fullmatch(r"(\w{3}) (\d{4})-(\d{2})-(\d{2}) at (\d{2}:\d{2})", text)
    if not found:
        return text
    day, year, month, date, clock = found.groups()
    return f"{_DAYS.get(day, day)} {int(date)} {_MONTHS[int(month) - 1]} {year} à {clock}"


_Rewrite = Callable[[re.Match[str]], str]
_SUMMARIES: list[tuple[re.Pattern[str], _Rewrite]] = [
    (
        re.compile(rf"(?P<who>\S+) touched a decoy patient record \((?P<a>[\w.]+), "
                   rf"(?P<o>\w+), {_REF}\)\..*"),
        lambda m: f"{m['who']} a touché un dossier leurre ({action_fr(m['a']).lower()}, "
        f"{_outcome(m['o'])}, {_ref(m)}). Personne n'a de raison d'en ouvrir un : traitez-le "
        "comme une lecture en masse ou une copie fuitée en usage.",
    ),
    (
        re.compile(rf"(?P<who>\S+) read or searched (?P<n>\d+) distinct patients within "
                   rf"(?P<d>\w+) \(threshold (?P<t>\d+); last {_REF}\)\."),
        lambda m: f"{m['who']} a lu ou recherché {m['n']} patients distincts en "
        f"{duration_fr(m['d'])} (seuil : {m['t']} ; dernier : {_ref(m)}).",
    ),
    (
        re.compile(r"(?P<n>\d+) failed logins for account (?P<who>\S+) within (?P<d>\w+) "
                   r"\(threshold (?P<t>\d+)\)\."),
        lambda m: f"{m['n']} échecs de connexion pour le compte {m['who']} en "
        f"{duration_fr(m['d'])} (seuil : {m['t']}).",
    ),
    (
        re.compile(r"(?P<n>\d+) failed logins from client address (?P<ip>\S+) within "
                   r"(?P<d>\w+) \(threshold (?P<t>\d+)\)\."),
        lambda m: f"{m['n']} échecs de connexion depuis le poste {m['ip']} en "
        f"{duration_fr(m['d'])} (seuil : {m['t']}).",
    ),
    (
        re.compile(rf"(?P<who>\S+) ran (?P<a>[\w.]+) \((?P<o>\w+)(?P<c>(, [^,()]+)*), {_REF}\)\."),
        lambda m: f"{m['who']} : {action_fr(m['a']).lower()} ({_outcome(m['o'])}"
        f"{_counts_fr(m['c'])}, {_ref(m)}).",
    ),
    (
        re.compile(rf"(?P<who>\S+) declared break-glass access \((?P<o>\w+), {_REF}\)\."),
        lambda m: f"{m['who']} a déclaré un accès par bris de glace ({_outcome(m['o'])}, "
        f"{_ref(m)}).",
    ),
    (
        re.compile(rf"(?P<who>\S+) accessed data under break-glass access \((?P<a>[\w.]+), "
                   rf"{_REF}\)\."),
        lambda m: f"{m['who']} a accédé à des données par bris de glace "
        f"({action_fr(m['a']).lower()}, {_ref(m)}).",
    ),
    (
        re.compile(rf"Account (?P<who>\S+) is locked after repeated failed logins \({_REF}\);.*"),
        lambda m: f"Le compte {m['who']} est verrouillé après des échecs de connexion répétés "
        f"({_ref(m)}) ; la personne ne peut pas se connecter jusqu'à la fin du verrouillage.",
    ),
    (
        re.compile(rf"(?P<who>\S+) was refused (?P<a>[\w.]+) \({_REF}\)\."),
        lambda m: f"{m['who']} s'est vu refuser : {action_fr(m['a']).lower()} ({_ref(m)}).",
    ),
    (
        re.compile(rf"(?P<who>\S+) (?P<v>{'|'.join(map(re.escape, _ACCOUNT_VERBS))}) account "
                   rf"(?P<t>\S+)( \((?P<r>\w+)\))? \({_REF}\)\.(?P<w> It waits.*)?"),
        lambda m: f"{m['who']} {_ACCOUNT_VERBS[m['v']]} {m['t']}"
        + (f" ({_role(m['r'])})" if m["r"] else "")
        + f" ({_ref(m)})."
        + (" La demande attend l'approbation d'une seconde personne." if m["w"] else ""),
    ),
    (
        re.compile(rf"(?P<who>\S+) asked for (?P<n>\d+) privileged accounts or roles within "
                   rf"(?P<d>\w+) \(threshold (?P<t>\d+); last {_REF}\)\..*"),
        lambda m: f"{m['who']} a demandé {m['n']} comptes ou rôles privilégiés en "
        f"{duration_fr(m['d'])} (seuil : {m['t']} ; dernier : {_ref(m)}). Vérifiez que chaque "
        "personne existe avant d'approuver.",
    ),
    (
        re.compile(rf"(?P<who>\S+) used patient data outside working hours: (?P<a>[\w.]+) on "
                   rf"(?P<when>.+?) \S+ \({_REF}\)\."),
        lambda m: f"{m['who']} a utilisé des données de patients hors des heures ouvrées : "
        f"{action_fr(m['a']).lower()} le {_off_hours_when(m['when'])} ({_ref(m)}).",
    ),
    (
        re.compile(r"(?P<check>Audit log|Vault revision) verification failed with "
                   r"(?P<n>\d+) problems?: .*"),
        lambda m: (
            "La vérification du journal d'audit"
            if m["check"] == "Audit log"
            else "La vérification des révisions du coffre"
        )
        + f" a échoué : {_plural(int(m['n']), 'problème', 'problèmes')} (détail technique "
        "ci-dessous et dans « etanche audit verify »).",
    ),
]  # fmt: skip


def _role(code: str) -> str:
    return _ROLE_LABELS.get(code, code).lower()


def summary_fr(summary: str) -> str | None:
    """The French sentence of an alert's English summary, or None if it is not known."""
    for pattern, rewrite in _SUMMARIES:
        found = pattern.fullmatch(summary)
        if found:
            return rewrite(found)
    return None
