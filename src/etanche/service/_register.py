"""The register of processing (GDPR art. 30) of the network, in French.

Built from what is in force, not from a form someone fills once and forgets:
the labs and their legal entities (the controllers), the retention rules with
their sources, the policy's roles, the alert rules that run, and the recipients
of the migration plans. The security measures listed are the ones the code
does; a measure it does not do is not listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from etanche.audit import RuleSet
from etanche.domain import Lab, RetentionRules
from etanche.leak.incident import Section, fr_datetime, sections_markdown, sections_pdf
from etanche.migrate import PlanRecord
from etanche.names import Role
from etanche.service._audit_fr import rule_fr

__all__ = ["TITLE", "ProcessingRegister", "build_register"]

TITLE = "Registre des activités de traitement (article 30 du RGPD)"
UNKNOWN = "non renseigné"

_ROLES_FR: dict[Role, str] = {
    Role.RECEPTION: "Accueil et secrétariat : données administratives des patients "
    "de ses laboratoires, jamais les données cliniques",
    Role.BIOLOGIST: "Biologistes et techniciens : données administratives et cliniques des "
    "patients de ses laboratoires",
    Role.LAB_ADMIN: "Administrateurs de laboratoire : comptes des personnels et clés, sans "
    "accès aux données des patients",
    Role.DPO: "Délégué à la protection des données : journal d'audit, alertes, violations, "
    "registre ; identité des patients pour les lettres de l'article 34 et pour la "
    "recherche de doublons (déchiffrée en mémoire dans le service, jamais affichée), dossier "
    "complet pour les copies demandées au titre du droit d'accès (article 15)",
    Role.MIGRATION_OPERATOR: "Opérateurs de migration : exports selon un plan signé et approuvé "
    "par deux personnes, sans consultation des dossiers",
    Role.AUDITOR: "Auditeurs : vérification du journal d'audit et du coffre, sans accès aux "
    "données des patients",
    Role.IDENTITY_OFFICER: "Référents en identitovigilance : statut des identités, examen et "
    "fusion des doublons de leurs laboratoires, jamais les données cliniques",
}

_PURPOSES = (
    "Enregistrement et identification des patients des laboratoires de biologie médicale "
    "(dossier administratif, couverture sociale, médecin traitant).",
    "Réalisation des examens de biologie médicale : prélèvements, comptes rendus, données "
    "cliniques utiles à l'interprétation.",
    "Migration des données vers un autre système de laboratoire, uniquement selon un plan "
    "signé (champs, période, destinataire, durée de conservation) approuvé par deux personnes.",
    "Sécurité du traitement : journal d'audit de chaque accès, alertes, enregistrements leurres, "
    "traçage de l'origine d'une fuite.",
    "Gestion des violations de données (articles 33 et 34) et des demandes d'exercice des "
    "droits des personnes.",
)

_PERSONS = (
    "Patients des laboratoires du réseau (y compris mineurs et majeurs protégés).",
    "Médecins prescripteurs et médecins traitants (nom, RPPS).",
    "Personnels habilités des laboratoires (comptes nominatifs).",
    "Représentants des destinataires des migrations.",
)

_DATA = (
    "Identité : nom de naissance et d'usage, prénoms, sexe, date et lieu de naissance.",
    "Coordonnées : adresse postale, téléphone, courriel.",
    "NIR / INS (numéro d'inscription au répertoire) et couverture : régime obligatoire, mutuelle.",
    "Données de santé (article 9) : groupe sanguin, grossesse, traitements, pathologies, "
    "commentaires cliniques, prélèvements et comptes rendus.",
    "Données de journalisation : identifiant de la personne habilitée, action, identifiants "
    "pseudonymes des dossiers, date, adresse du poste.",
)

_MEASURES = (
    "Chiffrement de chaque donnée personnelle au repos (AES-256-GCM), en deux compartiments "
    "séparés (administratif et clinique) : une session d'accueil ne détient jamais la clé "
    "clinique.",
    "Hiérarchie de clés : clé maîtresse (KEK) → clés par laboratoire (versionnées) → clé par "
    "patient ; la suppression de la clé d'un patient efface ses données (effacement "
    "cryptographique).",
    "Garde des clés : la clé maîtresse n'est ouverte que par M dépositaires sur N (partage de "
    "secret) ou par un module matériel (HSM, PKCS#11) ; le service démarre scellé.",
    "Recherche par index aveugles (HMAC tronqué) : aucune donnée en clair n'est indexée.",
    "Comptes nominatifs, mot de passe et second facteur (TOTP) obligatoires, aucun compte "
    "générique ; jetons d'API limités à des actions nommées ; limitation des tentatives de "
    "connexion.",
    "Droits par rôle et par laboratoire, décidés à chaque action ; accès d'urgence (bris de "
    "glace) limité dans le temps et signalé.",
    "Règle des deux personnes : comptes et rôles privilégiés, plans de migration et partage des "
    "clés exigent l'approbation d'une seconde personne nommée.",
    "Journal d'audit infalsifiable (arbre de Merkle, têtes signées Ed25519) cosigné par des "
    "témoins externes, vérifiable par toute personne détenant la clé publique.",
    "Enregistrements leurres dont toute consultation déclenche une alerte critique.",
    "Exports et paquets de migration chiffrés pour leur destinataire, signés, marqués d'une "
    "empreinte propre au destinataire et de patients leurres, puis effacés à l'échéance du plan.",
    "Aucune donnée personnelle dans les journaux techniques, messages d'erreur ou fichiers "
    "temporaires ; fichiers produits lisibles par leur seul auteur.",
)


@dataclass(frozen=True, slots=True)
class ProcessingRegister:
    """The register: its sections in the order of art. 30(1), as Markdown or PDF."""

    title: str
    subtitle: str
    sections: tuple[Section, ...]

    def to_markdown(self) -> str:
        return sections_markdown(self.title, self.subtitle, self.sections)

    def to_pdf(self) -> bytes:
        return sections_pdf(self.title, self.subtitle, self.sections)


def build_register(
    *,
    labs: Sequence[Lab],
    retention: RetentionRules,
    alert_rules: RuleSet,
    plans: Iterable[PlanRecord],
    now: datetime,
) -> ProcessingRegister:
    """The register of the network as configured at ``now``."""
    subtitle = (
        f"Réseau de {len(labs)} laboratoire{'s' if len(labs) > 1 else ''} · établi le "
        f"{fr_datetime(now)} · règles de conservation : {retention.source}"
    )
    sections = (
        _controllers(labs),
        Section("Finalités du traitement", (), _PURPOSES),
        Section("Catégories de personnes concernées", (), _PERSONS),
        Section("Catégories de données à caractère personnel", (), _DATA),
        _recipients(plans),
        Section(
            "Transferts hors de l'Union européenne",
            ("Aucun transfert de données vers un pays tiers ou une organisation internationale.",),
        ),
        _retention(retention),
        _security(alert_rules),
    )
    return ProcessingRegister(TITLE, subtitle, sections)


def _controllers(labs: Sequence[Lab]) -> Section:
    items = tuple(
        f"{lab.legal_name or 'Entité juridique ' + UNKNOWN} (SIREN {lab.siren or UNKNOWN}), "
        f"siège : {lab.legal_address or UNKNOWN} ; site {lab.name} ({lab.id}), "
        f"FINESS {lab.finess}, {lab.city}"
        for lab in labs
    )
    return Section(
        "Responsables du traitement",
        (
            "Chaque entité juridique est responsable du traitement des données des patients de "
            "ses sites (article 4(7) du RGPD).",
        ),
        items or ("Aucun laboratoire enregistré.",),
    )


def _recipients(plans: Iterable[PlanRecord]) -> Section:
    roles = tuple(f"{text}." for text in _ROLES_FR.values())
    planned = tuple(
        f"{name} : migration {plan.id} ({plan.purpose}), état {plan.state}"
        for plan in plans
        for name in plan.recipients
    )
    return Section(
        "Destinataires",
        (
            "Les personnels habilités du réseau, chacun selon son rôle (ci-dessous) ; les "
            "destinataires des migrations ; la CNIL et les personnes concernées en cas de "
            "violation (articles 33 et 34).",
        ),
        roles + (planned or ("Aucun destinataire de migration enregistré.",)),
    )


def _retention(retention: RetentionRules) -> Section:
    items = tuple(
        f"{rule.label} : {rule.duration_fr} {rule.start_fr}. Source : {rule.source}. "
        + ("Vérifiée par le DPO." if rule.confirmed else "À confirmer par le DPO.")
        for rule in retention
    )
    return Section("Durées de conservation", (), items)


def _security(rules: RuleSet) -> Section:
    enabled = sorted(rule_fr(rule.name) for rule in rules if rule.enabled)
    alerts = (
        "Règles d'alerte actives : " + " ; ".join(enabled) + "."
        if enabled
        else "Aucune règle d'alerte active."
    )
    return Section("Mesures de sécurité techniques et organisationnelles", (), (*_MEASURES, alerts))
