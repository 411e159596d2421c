"""The draft notification to the CNIL (GDPR art. 33), in Markdown and PDF.

Art. 33(3) lists what the notification must at least hold: (a) the nature of
the breach, with the categories and approximate numbers of persons and of
records concerned; (b) the name and contact details of the DPO; (c) the likely
consequences; (d) the measures taken or proposed. Art. 33(1) adds the reasons
for a delay past 72 hours, and art. 33(5) asks the controller to document the
facts: the timeline goes in too. Everything here is counts and categories;
no personal value of a patient ever enters the draft.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from etanche._files import write_private
from etanche.leak.incident._model import Incident
from etanche.leak.incident._pdf import LineWriter, new_pdf
from etanche.leak.incident._severity import CATEGORY_LABELS, CIRCUMSTANCES, found_categories

__all__ = [
    "HEADINGS",
    "Notification",
    "Section",
    "build_notification",
    "fr_datetime",
    "likely_consequences",
]

PARIS = ZoneInfo("Europe/Paris")
TO_COMPLETE = "À COMPLÉTER"

H_CONTROLLER = "Responsable de traitement et délégué à la protection des données"
H_NATURE = "Nature de la violation"
H_PERSONS = "Catégories et nombre approximatif de personnes concernées"
H_RECORDS = "Catégories et nombre approximatif d'enregistrements concernés"
H_CONSEQUENCES = "Conséquences probables"
H_SEVERITY = "Évaluation de la gravité (méthode ENISA)"
H_MEASURES = "Mesures prises ou envisagées"
H_PERSONS_INFO = "Communication aux personnes concernées (art. 34)"
H_TIMELINE = "Chronologie"
H_DELAY = "Délai de notification et motifs du retard (art. 33(1))"
HEADINGS = (
    H_CONTROLLER,
    H_NATURE,
    H_PERSONS,
    H_RECORDS,
    H_CONSEQUENCES,
    H_SEVERITY,
    H_MEASURES,
    H_PERSONS_INFO,
    H_TIMELINE,
    H_DELAY,
)

_CONSEQUENCES: tuple[tuple[frozenset[str], str], ...] = (
    (
        frozenset({"nir", "ins_traits", "birth_date"}),
        "Usurpation d'identité : démarches administratives, ouverture de comptes ou soins au "
        "nom de la personne.",
    ),
    (
        frozenset({"phone", "email", "address"}),
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


def fr_datetime(moment: datetime) -> str:
    """25/11/2025 à 14 h 05 (heure de Paris)."""
    local = moment.astimezone(PARIS)
    return f"{local:%d/%m/%Y} à {local:%H} h {local:%M}"


def _n(value: int) -> str:
    """12 345 with a (narrow) non-breaking space, as French writes numbers."""
    return f"{value:,}".replace(",", "\u202f")


@dataclass(frozen=True, slots=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...] = ()
    items: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Notification:
    """The draft: title, sections in the order the CNIL form asks, and whether it is late."""

    title: str
    incident_id: str
    drafted_at: datetime
    late: bool
    sections: tuple[Section, ...]

    def to_markdown(self) -> str:
        lines = [f"# {self.title}", ""]
        lines += [f"Incident {self.incident_id} · projet établi le {fr_datetime(self.drafted_at)}"]
        for section in self.sections:
            lines += ["", f"## {section.heading}", ""]
            for paragraph in section.paragraphs:
                lines += [paragraph, ""]
            lines += [f"- {item}" for item in section.items]
        return "\n".join(lines).rstrip() + "\n"

    def write_markdown(self, path: Path) -> None:
        write_private(path, self.to_markdown())

    def write_pdf(self, path: Path) -> None:
        write_private(path, self.to_pdf())

    def to_pdf(self) -> bytes:
        """The draft as a PDF document (A4, the same sections as the Markdown)."""
        pdf = new_pdf(self.title)
        pdf.set_auto_page_break(False)
        pdf.add_page()
        out = LineWriter(pdf)
        out.font(15, bold=True)
        out.leading = 7
        out.paragraph(self.title, after=1)
        out.font(9)
        out.leading = 4.5
        out.paragraph(
            f"Incident {self.incident_id} · projet établi le {fr_datetime(self.drafted_at)}",
            after=4,
        )
        for section in self.sections:
            out.font(12, bold=True)
            out.leading = 6
            out.gap(2)
            out.paragraph(section.heading, after=1)
            out.font(10)
            out.leading = 5
            for paragraph in section.paragraphs:
                out.paragraph(paragraph)
            for item in section.items:
                out.bullet(item)
            out.gap(1)
        return bytes(pdf.output())


def build_notification(
    incident: Incident,
    *,
    dpo_name: str,
    dpo_contact: str | None,
    labs: Mapping[str, str],
    now: datetime | None = None,
) -> Notification:
    """Every art. 33(3) field from the incident: counts and categories, never a value."""
    moment = now or datetime.now(UTC)
    report = incident.report or {}
    categories = found_categories(report)
    special = bool(report.get("special_category"))
    severity = incident.severity
    late = moment > incident.deadline
    matched_labs = sorted(incident.matched) or sorted(report.get("vault_matches") or {})
    lab_names = [f"{labs.get(lab, lab)} ({lab})" for lab in matched_labs]

    controller = Section(
        H_CONTROLLER,
        (
            "Responsable de traitement : "
            + (", ".join(lab_names) if lab_names else "laboratoires du réseau")
            + ", laboratoires de biologie médicale du réseau Étanche.",
            f"Délégué à la protection des données : {dpo_name}.",
            f"Coordonnées : {dpo_contact or TO_COMPLETE}.",
        ),
    )

    circumstances = [CIRCUMSTANCES[t][2] for t in incident.circumstances.tokens()]
    nature_paragraphs = [
        f"Intitulé : {incident.title}.",
        f"Découverte le {fr_datetime(incident.discovered_at)} ; incident ouvert le "
        f"{fr_datetime(incident.opened_at)}.",
    ]
    if report:
        nature_paragraphs.append(
            f"Violation de la confidentialité : un ou des fichiers contenant des données de "
            f"patients ont été trouvés hors de nos systèmes ({_n(len(report.get('files') or []))} "
            f"fichier(s), {_n(int(report.get('bytes') or 0))} octets analysés)."
        )
    nature = Section(
        H_NATURE,
        tuple(nature_paragraphs),
        tuple(f"Circonstance : {c}." for c in circumstances),
    )

    persons_items: list[str] = []
    if report:
        persons_items.append(
            f"Environ {_n(int(report.get('persons') or 0))} personnes distinctes dans le fichier "
            "(estimation)."
        )
    for lab in matched_labs:
        count = len(incident.matched.get(lab, ())) or int(
            (report.get("vault_matches") or {}).get(lab, 0)
        )
        persons_items.append(
            f"{_n(count)} patients reconnus du laboratoire {labs.get(lab, lab)} ({lab})."
        )
    persons = Section(
        H_PERSONS,
        ("Catégorie de personnes : patients des laboratoires de biologie médicale du réseau.",),
        tuple(persons_items) or (f"Nombre de personnes : {TO_COMPLETE}.",),
    )

    record_items = [
        f"{CATEGORY_LABELS.get(name, name)} : {_n(count)} valeur(s) trouvée(s)."
        for name, count in categories.items()
    ]
    records = Section(
        H_RECORDS,
        (
            f"Environ {_n(int(report.get('rows') or 0))} enregistrements (lignes) dans le fichier."
            if report
            else f"Nombre d'enregistrements : {TO_COMPLETE}.",
            "Données de santé (art. 9 RGPD) présentes."
            if special or any(c in categories for c in ("health", "blood_group", "drug"))
            else "Aucune donnée de santé reconnue.",
        ),
        tuple(record_items),
    )

    consequences = Section(H_CONSEQUENCES, (), tuple(likely_consequences(categories, special)))

    level = severity.level
    severity_section = Section(
        H_SEVERITY,
        (
            f"Gravité {level.french} (score {_fr(severity.score)} = DPC {_fr(severity.dpc.score)}"
            f" × EI {_fr(severity.ei.score)} + CB {_fr(severity.cb.score)}) : {level.meaning}.",
        ),
        tuple(
            f"{factor.name} — {reason}"
            for factor in (severity.dpc, severity.ei, severity.cb)
            for reason in factor.reasons
        ),
    )

    taken = [f"{fr_datetime(e.at)} : {e.text}" for e in incident.timeline if e.kind == "measure"]
    proposed = _proposed_measures(categories, level.persons_to_be_told)
    measures = Section(
        H_MEASURES,
        ("Mesures prises :" if taken else "Mesures prises : aucune enregistrée à ce stade.",),
        tuple(taken) + tuple(f"Envisagée : {m}" for m in proposed),
    )

    if incident.letters:
        told = (
            f"{_n(incident.letters)} lettres d'information individuelles ont été préparées pour "
            "les patients reconnus.",
        )
    elif level.persons_to_be_told:
        told = (
            "Risque élevé : les patients reconnus seront informés individuellement par courrier "
            "(lettres en préparation).",
        )
    else:
        told = ("Risque non élevé à ce stade : pas de communication individuelle requise.",)
    persons_info = Section(H_PERSONS_INFO, told)

    timeline = Section(
        H_TIMELINE,
        (),
        tuple(f"{fr_datetime(e.at)} ({e.actor}) : {e.text}" for e in incident.timeline),
    )

    deadline = f"Échéance des 72 heures : {fr_datetime(incident.deadline)}."
    if late:
        delay = Section(
            H_DELAY,
            (
                deadline,
                "Notification après le délai de 72 heures. Motifs du retard : "
                f"{incident.delay_reason or TO_COMPLETE}.",
            ),
        )
    else:
        delay = Section(H_DELAY, (deadline, "Notification dans le délai de 72 heures."))

    return Notification(
        title="Notification d'une violation de données personnelles à la CNIL — projet",
        incident_id=incident.id,
        drafted_at=moment,
        late=late,
        sections=(
            controller,
            nature,
            persons,
            records,
            consequences,
            severity_section,
            measures,
            persons_info,
            timeline,
            delay,
        ),
    )


def _proposed_measures(categories: Sequence[str] | Mapping[str, int], tell: bool) -> list[str]:
    found = set(categories)
    out = [
        "identifier et fermer la source de la copie ; conserver les preuves (fichier retrouvé, "
        "journaux d'audit) ;",
        "demander le retrait du fichier aux hébergeurs et plateformes où il circule ;",
        "rechercher l'origine de la copie par le marquage des exports (etanche trace) ;",
        "déposer plainte ;",
    ]
    if "credential" in found:
        out.append("réinitialiser les mots de passe du portail de résultats des patients ;")
    if tell:
        out.append(
            "informer individuellement chaque patient reconnu, avec des conseils de "
            "vigilance (art. 34) ;"
        )
    out.append(
        "signaler aux patients les tentatives d'hameçonnage et leur indiquer que le "
        "laboratoire ne demande jamais de mot de passe ni de coordonnées bancaires."
    )
    return out


def _fr(value: float) -> str:
    return f"{value:g}".replace(".", ",")
