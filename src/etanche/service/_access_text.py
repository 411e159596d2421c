"""The access report's French text: every stored field, the accesses, how to verify.

One place turns the record and the log's entries into sections, so the PDF and
its Markdown twin (what the tests read) say exactly the same thing. Each field
of ``Patient`` and ``Specimen`` is written out here; tests walk the dataclasses
so a new field that is not written fails them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from etanche.domain import (
    DOWNGRADE_REASONS_FR,
    IDENTITY_DOCUMENTS_FR,
    IdentityStatus,
    Lab,
    Patient,
    Retention,
    Sex,
    Specimen,
    regime_name,
)
from etanche.leak.incident import Section, fr_datetime
from etanche.names import Role
from etanche.service._access_model import AccessEntry, AccessReport, ExportCarried
from etanche.service._audit_fr import OUTCOMES, action_fr
from etanche.service._register import _PURPOSES, _ROLES_FR

__all__ = [
    "ACTIONS_FR",
    "OUTCOMES_FR",
    "ROLES_SHORT_FR",
    "access_action_fr",
    "entry_line",
    "purpose_fr",
    "report_sections",
    "short_datetime",
]

PARIS = ZoneInfo("Europe/Paris")
TITLE = "Copie de vos données et liste des accès à votre dossier"
NONE = "non renseigné"

ACTIONS_FR = {
    "patient.search": "Recherche ayant trouvé le dossier",
    "patient.read": "Consultation du dossier",
    "patient.create": "Création du dossier",
    "patient.update": "Modification du dossier",
    "patient.erase": "Effacement du dossier",
    "specimen.create": "Enregistrement d'un prélèvement",
    "specimen.list": "Consultation des prélèvements",
    "export.create": "Export de données",
    "migration.run": "Migration vers un autre logiciel",
    "incident.notify": "Lettre d'information après une violation de données",
    "vault.write": "Écriture chiffrée du dossier (trace technique)",
    "rights.access_report": "Copie du dossier au titre du droit d'accès",
}

ROLES_SHORT_FR = {
    Role.RECEPTION.value: "Accueil et secrétariat",
    Role.BIOLOGIST.value: "Biologiste",
    Role.LAB_ADMIN.value: "Administration du laboratoire",
    Role.DPO.value: "Délégué(e) à la protection des données",
    Role.MIGRATION_OPERATOR.value: "Opérateur de migration",
    Role.AUDITOR.value: "Audit",
    "system": "Système (traitement automatique)",
}

OUTCOMES_FR = OUTCOMES  # the one table of the audit's French words


def access_action_fr(code: str) -> str:
    """An action as the patient reads it: the report's own wording where it has one,
    else the audit's French noun (never the English code of the log)."""
    return ACTIONS_FR.get(code) or action_fr(code)


_SEX = {Sex.MALE: "masculin", Sex.FEMALE: "féminin", Sex.UNKNOWN: "indéterminé"}
_STATUS = {
    IdentityStatus.PROVISIONAL: "identité provisoire",
    IdentityStatus.RECOVERED: "identité récupérée",
    IdentityStatus.VALIDATED: "identité validée",
    IdentityStatus.QUALIFIED: "identité qualifiée",
}
_RETAINED = ("patient_admin", "results", "specimens", "audit_log", "export_ledger")


def fr_day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def short_datetime(moment: datetime) -> str:
    """« 03/12/2026 à 14 h 05 », Paris time."""
    local = moment.astimezone(PARIS)
    return f"{local:%d/%m/%Y} à {local:%H} h {local:%M}"


def _lab(labs: dict[str, Lab], lab_id: str | None) -> str:
    if not lab_id:
        return "réseau"
    lab = labs.get(lab_id)
    return f"{lab.name} ({lab_id})" if lab is not None else lab_id


def _identity(p: Patient) -> Section:
    return Section(
        "Identité",
        items=(
            f"Nom de naissance : {p.birth_name}",
            f"Nom d'usage : {p.used_name or NONE}",
            f"Prénoms de naissance : {' '.join(p.first_names) or NONE}",
            f"Sexe : {_SEX.get(p.sex, str(p.sex))}",
            f"Date de naissance : {fr_day(p.birth_date)}",
            f"Lieu de naissance (code INSEE) : {p.birthplace_insee or NONE}",
            f"NIR (numéro de sécurité sociale) : {p.nir or NONE}",
            f"Statut de l'identité : {_STATUS.get(p.identity_status, str(p.identity_status))}",
            *_identity_evidence(p),
            f"Numéro de dossier (pseudonyme interne) : {p.id}",
        ),
    )


def _identity_evidence(p: Patient) -> list[str]:
    """What backs the identity status (RNIV): the document kind, the INSi result, the last
    downgrade. Who checked or entered it is staff, left out as the access list's staff are."""
    lines: list[str] = []
    if p.identity_document is not None:
        check = p.identity_document
        lines.append(
            f"Pièce d'identité vérifiée : {IDENTITY_DOCUMENTS_FR[check.kind]}, "
            f"le {short_datetime(check.checked_at)}"
        )
    if p.ins is not None:
        ins, traits = p.ins, p.ins.traits
        lines.append(
            f"INS : {ins.matricule} (OID {ins.oid}), obtenu du téléservice INSi "
            f"le {short_datetime(ins.retrieved_at)}"
        )
        lines.append(
            f"Traits renvoyés par l'INSi : {traits.birth_name}, {' '.join(traits.first_names)}, "
            f"{_SEX.get(traits.sex, str(traits.sex))}, né(e) le {fr_day(traits.birth_date)}, "
            f"lieu de naissance {traits.birthplace_insee or NONE}"
        )
    if p.identity_downgrade is not None:
        down = p.identity_downgrade
        lines.append(
            f"Dernière rétrogradation de l'identité : depuis le statut "
            f"{_STATUS.get(down.from_status, str(down.from_status))}, motif : "
            f"{DOWNGRADE_REASONS_FR[down.reason]}, le {short_datetime(down.at)}"
        )
    return lines


def _contacts(p: Patient) -> Section:
    items = [f"Adresse : {a.line}, {a.postcode} {a.city} ({a.country})" for a in p.addresses] or [
        f"Adresse : {NONE}"
    ]
    items += [f"Téléphone : {phone}" for phone in p.phones] or [f"Téléphone : {NONE}"]
    items += [f"Courriel : {email}" for email in p.emails] or [f"Courriel : {NONE}"]
    return Section("Coordonnées", items=tuple(items))


def _care(p: Patient, labs: dict[str, Lab]) -> Section:
    doctor = p.physician
    insurance = p.insurance
    items = [
        f"Laboratoire d'enregistrement : {_lab(labs, p.lab_id)}",
        "Médecin traitant : "
        + (f"{doctor.name} (RPPS {doctor.rpps})" if doctor is not None else NONE),
    ]
    if insurance is None:
        items.append(f"Assurance maladie : {NONE}")
    else:
        items.append(
            f"Régime obligatoire : {regime_name(insurance.amo_regime)} "
            f"({insurance.amo_regime}), caisse {insurance.amo_caisse}"
        )
        items.append(f"Complémentaire santé : {insurance.amc_name or NONE}")
        items.append(f"Numéro d'adhérent : {insurance.amc_member_number or NONE}")
    return Section("Laboratoire, médecin traitant et couverture", items=tuple(items))


def _clinical(p: Patient) -> Section:
    c = p.clinical
    pregnant = {True: "oui", False: "non", None: NONE}[c.pregnant]
    items = [
        f"Groupe sanguin : {c.blood_group if c.blood_group is not None else NONE}",
        f"Grossesse : {pregnant}",
        f"Dernière visite : {fr_day(p.last_visit) if p.last_visit else NONE}",
    ]
    items += [f"Traitement : {t.name} (code ATC {t.atc})" for t in c.treatments]
    items += [f"Pathologie : {text}" for text in c.pathologies]
    items += [f"Commentaire : {text}" for text in c.comments]
    return Section("Données de santé", items=tuple(items))


def _specimens(specimens: Sequence[Specimen], labs: dict[str, Lab]) -> Section:
    items = []
    for s in specimens:
        doctor = s.prescriber
        prescriber = f"{doctor.name} (RPPS {doctor.rpps})" if doctor is not None else NONE
        items.append(
            f"N° {s.accession} : {s.specimen_type}, prélevé le {short_datetime(s.collected_at)} ; "
            f"laboratoire : {_lab(labs, s.lab_id)} ; prescripteur : {prescriber} "
            f"(référence interne {s.id})"
        )
    if not items:
        return Section("Prélèvements", ("Aucun prélèvement enregistré.",))
    return Section("Prélèvements", items=tuple(items))


def _recipients(carried: Sequence[ExportCarried]) -> Section:
    items = [f"{text}." for text in _ROLES_FR.values()]
    items += [
        f"Le {short_datetime(e.at)} : {e.kind} vers {e.recipient} ({e.purpose}, format {e.fmt})"
        for e in carried
    ]
    lead = (
        "Les personnels habilités, selon leur rôle, et les destinataires des exports et "
        "migrations qui ont contenu votre dossier :"
        if carried
        else "Les personnels habilités, selon leur rôle. Aucun export ni aucune migration n'a "
        "contenu votre dossier."
    )
    return Section("Destinataires", (lead,), tuple(items))


def _retention(rules: Sequence[Retention]) -> Section:
    items = [
        f"{r.label} : {r.duration_fr} {r.start_fr}. Source : {r.source}"
        for r in rules
        if r.category in _RETAINED
    ]
    return Section("Durée de conservation", items=tuple(items))


def entry_line(entry: AccessEntry, labs: dict[str, Lab]) -> str:
    """One access as the patient reads it."""
    action = access_action_fr(entry.action)
    role = ROLES_SHORT_FR.get(entry.role, entry.role)
    outcome = "" if entry.outcome == "ok" else f" ({OUTCOMES_FR.get(entry.outcome, '')})"
    return (
        f"{short_datetime(entry.at)} — {action}{outcome} — {entry.staff}, {role}, "
        f"{_lab(labs, entry.lab)} — finalité : {purpose_fr(entry.purpose)} "
        f"— entrée n° {entry.seq} du journal"
    )


def purpose_fr(purpose: str | None) -> str:
    if not purpose:
        return "prise en charge au laboratoire"
    if purpose.startswith("break-glass: "):
        return f"accès d'urgence (bris de glace), motif : {purpose.removeprefix('break-glass: ')}"
    return purpose


def _accesses(report: AccessReport) -> Section:
    named = report.staff_named
    who = (
        "Les personnels sont désignés par leur identifiant de compte."
        if named
        else "Les personnels sont désignés par un pseudonyme propre à ce document "
        "(« Personne 1 », « Personne 2 »…), avec leur rôle et leur laboratoire : la même "
        "personne porte le même pseudonyme dans toute la liste."
    )
    lead = (
        f"Chaque action enregistrée au journal d'audit qui concerne votre dossier, soit "
        f"{len(report.entries)} entrée(s), heure de Paris. {who}"
    )
    lines = tuple(entry_line(e, report.labs) for e in report.entries)
    return Section("Qui a consulté votre dossier", (lead,), lines or ("Aucun accès.",))


def _how_to_verify(report: AccessReport) -> Section:
    head = report.head
    return Section(
        "Comment vérifier cette liste",
        (
            "Le journal d'audit est un arbre de Merkle dont l'état est signé par le service et "
            "contresigné par des témoins indépendants. La copie informatique (FHIR, fichier "
            "JSON) contient, pour chaque entrée, une preuve d'inclusion dans l'état signé "
            f"ci-dessous ({head.tree_size} entrées, signé le {fr_datetime(head.signed_at)}). "
            "Toute personne qui détient la clé publique du journal la vérifie sans accès à nos "
            "serveurs : etanche access-report verify FICHIER --log-key CLE.",
            "Clé du journal :\n" + _chunked(report.log_key),
            f"Cosignatures de témoins : {len(head.cosignatures)}. État signé du journal "
            "(checkpoint), tel que la copie informatique le contient :",
            _chunked(report.checkpoint),
        ),
    )


def _chunked(text: str, width: int = 64) -> str:
    """Long keys and signatures cut into lines a page can hold (they have no spaces)."""
    return "\n".join(
        line[i : i + width]
        for line in text.splitlines()
        if line
        for i in range(0, len(line), width)
    )


def report_sections(report: AccessReport) -> tuple[str, str, tuple[Section, ...]]:
    """Title, subtitle and sections of the report."""
    subtitle = (
        f"Article 15 du RGPD. Document établi le {fr_datetime(report.produced_at)} (heure de "
        "Paris) par le délégué à la protection des données du réseau, à partir des données "
        "chiffrées du dossier et du journal d'audit."
    )
    sections = (
        _identity(report.patient),
        _contacts(report.patient),
        _care(report.patient, report.labs),
        _clinical(report.patient),
        _specimens(report.specimens, report.labs),
        Section("Finalités du traitement", items=_PURPOSES),
        _recipients(report.carried),
        _retention(report.retention),
        _accesses(report),
        _how_to_verify(report),
    )
    return TITLE, subtitle, sections
