"""The draft notification to the CNIL (GDPR art. 33), in Markdown and PDF.

Art. 33(3) lists what the notification must at least hold: (a) the nature of
the breach, with the categories and approximate numbers of persons and of
records concerned; (b) the name and contact details of the DPO; (c) the likely
consequences; (d) the measures taken or proposed. Art. 33(1) adds the reasons
for a delay past 72 hours, art. 33(4) allows supplementary notifications, and
art. 33(5) asks the controller to document the facts: the timeline goes in too.
The sections follow the order of the CNIL's online form (docs/breach-response.md
maps them field by field), so the DPO copies them in turn. Everything here is
counts and categories; no personal value of a patient ever enters the draft.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from etanche._files import write_private
from etanche.domain import Lab, Sex
from etanche.leak.incident._dpo import contact_without_name, dpo_role, parse_sex
from etanche.leak.incident._french import fr_datetime
from etanche.leak.incident._measures import measures_of
from etanche.leak.incident._model import CAUSES, FOUND_ON, Filing, Incident, countdown
from etanche.leak.incident._pdf import Section, sections_markdown, sections_pdf
from etanche.leak.incident._severity import (
    CATEGORY_LABELS,
    CIRCUMSTANCES,
    REGISTRATION,
    found_categories,
)
from etanche.leak.scan import CONCEPT_LABELS

__all__ = [
    "HEADINGS",
    "Notification",
    "Section",
    "build_notification",
    "fr_datetime",
    "likely_consequences",
]

TO_COMPLETE = "À COMPLÉTER"

H_CONTROLLER = "Déclarant : responsable de traitement et délégué à la protection des données"
H_KIND = "Type de notification (art. 33(4))"
H_NATURE = "Nature de la violation : dates, circonstances, origine et cause"
H_DATA = "Données concernées : catégories et nombre approximatif d'enregistrements"
H_PERSONS = "Personnes concernées : catégories et nombre approximatif"
H_CONSEQUENCES = "Conséquences probables pour les personnes"
H_SEVERITY = "Évaluation de la gravité (méthode ENISA)"
H_MEASURES_DONE = "Mesures prises"
H_MEASURES_PLANNED = "Mesures envisagées"
H_PERSONS_INFO = "Information des personnes concernées (art. 34)"
H_CROSS_BORDER = "Aspects transfrontaliers"
H_DELAY = "Délai de notification (art. 33(1))"
H_TIMELINE = "Chronologie (art. 33(5))"
HEADINGS = (
    H_CONTROLLER,
    H_KIND,
    H_NATURE,
    H_DATA,
    H_PERSONS,
    H_CONSEQUENCES,
    H_SEVERITY,
    H_MEASURES_DONE,
    H_MEASURES_PLANNED,
    H_PERSONS_INFO,
    H_CROSS_BORDER,
    H_DELAY,
    H_TIMELINE,
)

_CONSEQUENCES: tuple[tuple[frozenset[str], str], ...] = (
    (
        frozenset({"nir", "ins_traits", "birth_date"}),
        "Usurpation d'identité : démarches administratives, ouverture de comptes ou soins au "
        "nom de la personne.",
    ),
    (
        frozenset({"phone", "email", "address", "insurance"}),
        "Hameçonnage ciblé et escroqueries : courriels, SMS ou appels se faisant passer pour le "
        "laboratoire, l'Assurance maladie ou une mutuelle, rendus crédibles par les données "
        "exactes de la personne.",
    ),
    (
        frozenset({"health", "blood_group", "drug"}),
        "Atteinte au secret médical : révélation d'un état de santé (pathologies, grossesse, "
        "traitements) à l'entourage, à un employeur ou à un assureur ; discrimination, chantage, "
        "souffrance morale.",
    ),
    (
        frozenset(REGISTRATION),
        "Atteinte au secret médical : révélation qu'une personne est patiente d'un laboratoire "
        "de biologie médicale, de son médecin traitant et de la date de ses analyses.",
    ),
    (
        frozenset({"credential"}),
        "Accès frauduleux au portail de résultats d'analyses, et aux autres services où le même "
        "mot de passe serait utilisé.",
    ),
    (
        frozenset({"iban"}),
        "Prélèvements frauduleux et escroquerie au faux conseiller bancaire.",
    ),
)


def likely_consequences(categories: Mapping[str, int], special_category: bool) -> list[str]:
    """Plain-French consequences of the categories found (art. 33(3)(c), art. 34(2))."""
    found = set(categories)
    if special_category:
        found.add("health")
    out = [text for names, text in _CONSEQUENCES if names & found]
    if not out and "name" in found:
        out.append("Sollicitations non désirées ; gêne liée à la divulgation du nom.")
    return out or [
        "Aucune conséquence identifiée à ce stade : le fichier ne contient pas de "
        "donnée personnelle reconnue."
    ]


def _n(value: int) -> str:
    """12 345 with a (narrow) non-breaking space, as French writes numbers."""
    return f"{value:,}".replace(",", "\u202f")


@dataclass(frozen=True, slots=True)
class Notification:
    """The draft: title, sections in the order the CNIL form asks, and whether it is late."""

    title: str
    incident_id: str
    drafted_at: datetime
    late: bool
    sections: tuple[Section, ...]

    def to_markdown(self) -> str:
        return sections_markdown(self.title, self._subtitle, self.sections)

    def write_markdown(self, path: Path) -> None:
        write_private(path, self.to_markdown())

    def write_pdf(self, path: Path) -> None:
        write_private(path, self.to_pdf())

    def to_pdf(self) -> bytes:
        """The draft as a PDF document (A4, the same sections as the Markdown)."""
        return sections_pdf(self.title, self._subtitle, self.sections)

    @property
    def _subtitle(self) -> str:
        return f"Incident {self.incident_id} · projet établi le {fr_datetime(self.drafted_at)}"


def build_notification(
    incident: Incident,
    *,
    dpo_name: str,
    dpo_contact: str | None,
    labs: Mapping[str, Lab],
    now: datetime | None = None,
) -> Notification:
    """Every field of the CNIL form from the incident: counts and categories, never a value."""
    moment = now or datetime.now(UTC)
    report = incident.report or {}
    categories = found_categories(report)
    special = bool(report.get("special_category"))
    severity = incident.severity
    level = severity.level
    late = (incident.notified_at or moment) > incident.deadline
    matched_labs = sorted(incident.matched) or sorted(report.get("vault_matches") or {})
    concerned = [labs[lab] for lab in matched_labs if lab in labs] or list(labs.values())
    measures = measures_of(incident, categories, level.persons_to_be_told)
    sections = (
        _controller(concerned, dpo_name, dpo_contact, parse_sex(incident.dpo_sex)),
        _kind(incident),
        _nature(incident, report),
        _data(report, categories, special),
        _persons(incident, report, matched_labs, labs),
        Section(H_CONSEQUENCES, (), tuple(likely_consequences(categories, special))),
        Section(
            H_SEVERITY,
            (
                f"Gravité {level.french} (score {_fr(severity.score)} = DPC "
                f"{_fr(severity.dpc.score)} × EI {_fr(severity.ei.score)} + CB "
                f"{_fr(severity.cb.score)}) : {level.meaning}.",
            ),
            tuple(
                f"{factor.name} — {reason}"
                for factor in (severity.dpc, severity.ei, severity.cb)
                for reason in factor.reasons
            ),
        ),
        Section(
            H_MEASURES_DONE,
            () if measures.done else ("Aucune mesure enregistrée à ce stade.",),
            tuple(f"{fr_datetime(e.at)} : {e.text}" for e in measures.done),
        ),
        Section(
            H_MEASURES_PLANNED,
            (),
            tuple(
                f"{e.text.rstrip('.')} (prévu, noté le {fr_datetime(e.at)})."
                for e in measures.planned
            )
            + tuple(f"Proposée : {m}." for m in measures.proposed),
        ),
        _persons_info(incident, level.persons_to_be_told),
        Section(
            H_CROSS_BORDER,
            (
                "Responsable de traitement établi en France uniquement ; patients pris en "
                "charge en France. Pas de traitement transfrontalier (art. 4(23)) : la CNIL "
                "est seule autorité concernée. Autres autorités informées : aucune.",
            ),
        ),
        _delay(incident, moment, late),
        Section(
            H_TIMELINE,
            (),
            tuple(f"{fr_datetime(e.at)} ({e.actor}) : {e.text}" for e in incident.timeline),
        ),
    )
    supplementary = bool(incident.filings or incident.notified_at)
    return Notification(
        title="Notification "
        + ("complémentaire" if supplementary else "initiale")
        + " d'une violation de données personnelles à la CNIL — projet",
        incident_id=incident.id,
        drafted_at=moment,
        late=late,
        sections=sections,
    )


def _controller(
    labs: Sequence[Lab], dpo_name: str, dpo_contact: str | None, sex: Sex | None
) -> Section:
    """The legal entities (the controllers) and their sites; the DPO named once."""
    entities: dict[tuple[str, str, str], list[Lab]] = {}
    for lab in labs:
        entities.setdefault((lab.legal_name, lab.siren, lab.legal_address), []).append(lab)
    items = []
    for (name, siren, office), sites in entities.items():
        listed = "; ".join(f"{lab.name} (FINESS {lab.finess}, {lab.city})" for lab in sites)
        if name:
            items.append(
                f"{name}, SIREN {_siren(siren) or TO_COMPLETE}, siège : {office or TO_COMPLETE}."
                f" Sites concernés : {listed}."
            )
        else:
            items.append(f"{listed} : entité juridique (nom, SIREN, siège) {TO_COMPLETE}.")
    reach = contact_without_name(dpo_contact, dpo_name) if dpo_contact else TO_COMPLETE
    return Section(
        H_CONTROLLER,
        (
            f"{dpo_role(sex)} : {dpo_name} — {reach}.",
            "Responsables de traitement (entités juridiques exploitant les laboratoires) :"
            if items
            else f"Responsable de traitement : {TO_COMPLETE}.",
        ),
        tuple(items),
    )


def _siren(siren: str) -> str:
    return f"{siren[:3]} {siren[3:6]} {siren[6:]}" if len(siren) == 9 else siren


def _kind(incident: Incident) -> Section:
    filings = list(incident.filings)
    if not filings and incident.notified_at is not None:
        filings = [Filing(incident.notified_at)]
    if not filings:
        return Section(
            H_KIND,
            (
                "Notification initiale. Des informations pourront être fournies ensuite par une "
                "notification complémentaire (art. 33(4)).",
            ),
        )
    items = tuple(
        ("Notification initiale" if n == 0 else f"Notification complémentaire n° {n}")
        + f" déposée le {fr_datetime(f.at)}"
        + (f", référence {f.reference}" if f.reference else "")
        + "."
        for n, f in enumerate(filings)
    )
    return Section(
        H_KIND,
        (
            f"Notification complémentaire n° {len(filings)} : elle complète les notifications "
            "déjà déposées ci-dessous.",
        ),
        items,
    )


def _nature(incident: Incident, report: Mapping[str, Any]) -> Section:
    started = f"le {fr_datetime(incident.started_at)}" if incident.started_at else TO_COMPLETE
    paragraphs = [
        f"Intitulé : {incident.title}.",
        f"Début de la violation : {started}. Découverte : le "
        f"{fr_datetime(incident.discovered_at)} ; incident ouvert le "
        f"{fr_datetime(incident.opened_at)}.",
    ]
    where = FOUND_ON.get(incident.found_on or "")
    if report:
        paragraphs.append(
            "Violation de la confidentialité : un ou des fichiers contenant des données de "
            "patients ont été trouvés hors de nos systèmes"
            + (f", {where}" if where else "")
            + f" ({_n(len(report.get('files') or []))} fichier(s), "
            f"{_n(int(report.get('bytes') or 0))} octets analysés)."
        )
    elif where:
        paragraphs.append(f"Données trouvées {where}.")
    paragraphs.append(f"Cause : {CAUSES.get(incident.cause or '', TO_COMPLETE)}.")
    paragraphs.append(f"Voie de sortie des données : {incident.exit_path or TO_COMPLETE}.")
    circumstances = [CIRCUMSTANCES[t][2] for t in incident.circumstances.tokens()]
    return Section(
        H_NATURE, tuple(paragraphs), tuple(f"Circonstance : {c}." for c in circumstances)
    )


def _counts(finding: Mapping[str, Any]) -> str:
    """ "1 234 personnes, 1 240 enregistrements" (cells for a report without them)."""
    if "persons" in finding or "rows" in finding:
        persons, rows = int(finding.get("persons") or 0), int(finding.get("rows") or 0)
        who = f"{_n(persons)} personnes" if persons else "personnes non dénombrables"
        return f"{who}, {_n(rows)} enregistrements"
    return f"{_n(int(finding.get('count') or 0))} valeur(s) trouvée(s)"


def _data(report: Mapping[str, Any], categories: Mapping[str, int], special: bool) -> Section:
    found = report.get("categories") or {}
    items = [
        f"{CATEGORY_LABELS.get(name, name)} : {_counts(found.get(name) or {})}."
        for name in categories
    ]
    for concept, counts in (report.get("health_concepts") or {}).items():
        label = CONCEPT_LABELS.get(concept, concept)
        items.append(f"dont données de santé — {label} : {_counts(counts)}.")
    health = special or any(c in categories for c in ("health", "blood_group", "drug"))
    registration = [c for c in REGISTRATION if c in categories]
    paragraphs = [
        f"Environ {_n(int(report.get('rows') or 0))} enregistrements (lignes) dans le fichier ; "
        "pour chaque catégorie, le nombre de personnes distinctes et d'enregistrements qui la "
        "contiennent."
        if report
        else f"Nombre d'enregistrements : {TO_COMPLETE}.",
        "Données de santé (art. 9 RGPD) présentes."
        if health
        else "Données d'inscription auprès d'un service de santé (considérant 35 du RGPD) : "
        "données de santé au sens du RGPD."
        if registration
        else "Aucune donnée de santé reconnue.",
    ]
    return Section(H_DATA, tuple(paragraphs), tuple(items))


def _persons(
    incident: Incident,
    report: Mapping[str, Any],
    matched_labs: Sequence[str],
    labs: Mapping[str, Lab],
) -> Section:
    persons = int(report.get("persons") or 0)
    recognised = 0
    per_lab: list[str] = []
    for lab in matched_labs:
        count = len(incident.matched.get(lab, ())) or int(
            (report.get("vault_matches") or {}).get(lab, 0)
        )
        recognised += count
        name = labs[lab].name if lab in labs else lab
        per_lab.append(f"{_n(count)} patients reconnus : {name} ({lab}).")
    if not report:
        return Section(H_PERSONS, (f"Nombre de personnes : {TO_COMPLETE}.",))
    patients = max(persons, recognised)
    items = [
        f"Patients : environ {_n(patients)} personnes distinctes dans le fichier (estimation), "
        f"dont {_n(recognised)} reconnues parmi nos patients et {_n(patients - recognised)} "
        "non reconnues (patients d'autres laboratoires, dossiers supprimés ou identités "
        "écrites autrement).",
        *per_lab,
    ]
    physicians = report.get("physicians") or {}
    doctors = int(physicians.get("count") or 0)
    if doctors:
        items.append(
            f"Médecins traitants : {_n(doctors)} médecins distincts nommés dans le fichier"
            + (", avec leur numéro RPPS." if physicians.get("rpps") else ".")
        )
    categories = "patients des laboratoires" + (" et médecins traitants" if doctors else "")
    return Section(
        H_PERSONS,
        (
            f"Catégories de personnes : {categories}. Total : environ "
            f"{_n(patients + doctors)} personnes.",
        ),
        tuple(items),
    )


def _persons_info(incident: Incident, tell: bool) -> Section:
    if incident.letters:
        told = (
            f"{_n(incident.letters)} lettres d'information individuelles ont été préparées pour "
            "les patients reconnus (une par patient, adaptée aux données le concernant).",
        )
    elif tell:
        told = (
            "Risque élevé : les patients reconnus seront informés individuellement par courrier "
            "(lettres en préparation).",
        )
    else:
        told = ("Risque non élevé à ce stade : pas de communication individuelle requise.",)
    return Section(H_PERSONS_INFO, told)


def _delay(incident: Incident, moment: datetime, late: bool) -> Section:
    """From when the notification is filed, not when this draft is written."""
    deadline = f"Échéance des 72 heures après la découverte : {fr_datetime(incident.deadline)}."
    reasons = (
        "Notification après le délai de 72 heures. Motifs du retard : "
        f"{incident.delay_reason or TO_COMPLETE}."
    )
    if incident.notified_at is not None:
        filed = f"Notification initiale déposée le {fr_datetime(incident.notified_at)}"
        if late:
            return Section(H_DELAY, (deadline, f"{filed}, après l'échéance.", reasons))
        return Section(H_DELAY, (deadline, f"{filed} : dans le délai de 72 heures."))
    if late:
        return Section(
            H_DELAY, (deadline, "Échéance dépassée : notification non encore déposée.", reasons)
        )
    left = countdown(incident.deadline, moment).french()
    return Section(
        H_DELAY,
        (
            deadline,
            f"À déposer avant l'échéance ({left}) ; le délai s'apprécie à la date du dépôt, "
            "non à celle de ce projet.",
        ),
    )


def _fr(value: float) -> str:
    return f"{value:g}".replace(".", ",")
