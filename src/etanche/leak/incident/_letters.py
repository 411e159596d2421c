"""Letters to the patients of a breach (GDPR art. 34), as batched PDF files.

Art. 34(2): in clear and plain language, the nature of the breach, the DPO's
contact, the likely consequences and the measures taken or proposed; we add
what the person can do. One letter per page, one PDF per batch (500 letters
by default), and an index mapping each page to a pseudonymous patient id.

The letters hold names and addresses by nature: they are written only into
the folder the DPO chose (0700, files 0600), never logged or printed. The
text that is the same for everyone is broken into lines once per run; each
page then only draws its own lines, which is what makes 10,000 letters a
matter of seconds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from etanche._files import private_dir, write_private
from etanche.domain import Lab, Patient, Sex
from etanche.errors import UsageError
from etanche.leak.incident._dpo import contact_without_name, dpo_role
from etanche.leak.incident._french import fr_date
from etanche.leak.incident._measures import patient_measures
from etanche.leak.incident._model import Incident
from etanche.leak.incident._pdf import LineWriter, new_pdf
from etanche.leak.incident._severity import found_categories

__all__ = [
    "INDEX",
    "SERIOUS",
    "UNREACHABLE",
    "LetterRun",
    "LetterText",
    "dpo_role",
    "exposure_tokens",
    "fr_date",
    "letter_text",
    "write_letters",
]

INDEX = "index.json"
UNREACHABLE = "sans-adresse.json"
BATCH = 500
_FILE = "lettres-{:04d}.pdf"

# What a patient reads about a category: no label names a condition (an envelope can be
# opened by someone else), none mentions pregnancy.
_LETTER_LABELS: dict[str, str] = {
    "name": "vos nom et prénoms",
    "birth_date": "votre date de naissance",
    "ins_traits": "vos traits d'identité (nom de naissance, prénoms, sexe, date et lieu de "
    "naissance)",
    "nir": "votre numéro de sécurité sociale",
    "address": "votre adresse postale",
    "phone": "votre numéro de téléphone",
    "email": "votre adresse électronique",
    "insurance": "votre régime et votre caisse d'assurance maladie, votre mutuelle et votre "
    "numéro d'adhérent",
    "file_number": "votre numéro de dossier au laboratoire",
    "last_visit": "la date de votre dernière visite au laboratoire",
    "rpps": "le nom et le numéro RPPS de votre médecin traitant",
    "iban": "vos coordonnées bancaires (IBAN)",
    "credential": "vos identifiants de connexion au portail de résultats d'analyses",
    "blood_group": "votre groupe sanguin",
    "drug": "des traitements médicamenteux",
    "health": "des informations relatives à votre santé",
}
SERIOUS = frozenset({"hiv", "hepatitis", "cancer", "genetic", "renal"})
"""Health concepts of the scan's lexicon that letters call "une affection grave"."""

_SERIOUS_SENTENCE = (
    "Parmi ces informations figuraient des données de santé relatives à une affection grave "
    "vous concernant. Nous ne la nommons pas dans ce courrier, qui pourrait être ouvert par "
    "une autre personne que vous ; {dpo}, {role}, peut vous en préciser la nature si vous "
    "le souhaitez."
)
_HEALTH = frozenset({"health", "blood_group", "drug"})


_YOUR_CONSEQUENCES: tuple[tuple[frozenset[str], str], ...] = (
    (
        frozenset({"nir", "ins_traits", "birth_date"}),
        "quelqu'un pourrait tenter d'usurper votre identité",
    ),
    (
        frozenset({"phone", "email", "address", "insurance"}),
        "vous pourriez recevoir des courriels, SMS ou appels frauduleux qui citent vos données "
        "pour paraître crédibles",
    ),
    (
        frozenset({"file_number", "last_visit", "rpps"}),
        "des personnes qui n'ont pas à le savoir pourraient apprendre que vous avez fait des "
        "analyses dans notre laboratoire",
    ),
    (
        _HEALTH,
        "des informations sur votre santé pourraient être connues de personnes qui n'ont pas à "
        "les connaître",
    ),
    (
        frozenset({"credential"}),
        "quelqu'un pourrait se connecter à votre espace de résultats d'analyses",
    ),
    (frozenset({"iban"}), "des prélèvements frauduleux pourraient être tentés sur votre compte"),
)


def exposure_tokens(categories: Iterable[str], concepts: Iterable[str] = ()) -> frozenset[str]:
    """A row's exposure as kept for its patient: categories and ``health:<concept>``."""
    return frozenset(categories) | {f"health:{c}" for c in concepts}


@dataclass(frozen=True, slots=True)
class LetterText:
    """What every letter of one incident shares, and the categories to fall back on.

    ``categories`` is the whole file's: used only for a patient whose own rows
    were not recorded (an incident opened before per-patient exposures were kept).
    """

    reference: str
    dpo_name: str
    dpo_role: str
    happened: str
    measures: str
    contact: str
    categories: frozenset[str]

    def sections(self, exposure: frozenset[str] | None) -> tuple[tuple[str, str], ...]:
        """(heading, text) pairs for one patient, from that patient's own rows."""
        own = self.categories if exposure is None else exposure
        categories = {t for t in own if ":" not in t}
        concepts = {t.split(":", 1)[1] for t in own if t.startswith("health:")}
        if concepts:
            categories.add("health")
        labels = [_LETTER_LABELS[c] for c in _LETTER_LABELS if c in categories]
        data = (
            "Le fichier contenait, vous concernant : "
            + (", ".join(labels) if labels else "des informations d'identité")
            + "."
        )
        if concepts & SERIOUS:
            role = self.dpo_role[:1].lower() + self.dpo_role[1:]
            data += " " + _SERIOUS_SENTENCE.format(dpo=self.dpo_name, role=role)
        risks = [text for names, text in _YOUR_CONSEQUENCES if names & categories]
        consequences = (
            ("Concrètement, " + " ; ".join(risks) + ".")
            if risks
            else "Nous n'avons pas identifié de conséquence particulière pour vous à ce stade."
        )
        advice = [
            "Méfiez-vous des messages et appels qui citent vos données : ni le laboratoire ni "
            "l'Assurance maladie ne vous demanderont jamais un mot de passe ou vos coordonnées "
            "bancaires."
        ]
        if "credential" in categories:
            advice.append(
                "Changez le mot de passe de votre espace de résultats, et celui de tout service "
                "où vous utilisiez le même."
            )
        if "iban" in categories or "nir" in categories:
            advice.append("Surveillez vos relevés bancaires et vos remboursements de santé.")
        advice.append(
            "Vous pouvez signaler une tentative d'escroquerie sur cybermalveillance.gouv.fr, "
            "porter plainte, et adresser une réclamation à la CNIL (www.cnil.fr)."
        )
        return (
            ("Ce qui s'est passé", self.happened),
            ("Les données vous concernant", data),
            ("Les conséquences possibles", consequences),
            ("Ce que nous avons fait", self.measures),
            ("Ce que vous pouvez faire", " ".join(advice)),
            ("Pour nous contacter", self.contact),
        )


def letter_text(
    incident: Incident, *, dpo_name: str, dpo_contact: str, dpo_sex: Sex | None = None
) -> LetterText:
    """Plain French for patients; never the DPO's timeline notes, which are written for the CNIL.

    The CNIL is named only once the incident records the notification as filed; what
    was done is told in the catalogue's own sentences for patients (``_measures``).
    """
    report = incident.report or {}
    categories = set(found_categories(report))
    if report.get("special_category"):
        categories.add("health")
    when = fr_date(incident.discovered_at)
    spread = {
        "published": ", et qu'il a été diffusé sur Internet",
        "copied": ", copié par des personnes qui n'avaient pas à le détenir",
    }.get(incident.circumstances.confidentiality or "", "")
    happened = (
        f"Le {when}, nous avons découvert qu'un fichier contenant des données de patients de "
        f"notre réseau de laboratoires se trouvait hors de nos systèmes{spread}. Vos données "
        "figurent dans ce fichier. Nous vous prions de bien vouloir nous en excuser."
    )
    done = []
    if incident.notified_at is not None:
        done.append(
            "Nous avons signalé cette violation à la Commission nationale de l'informatique et "
            f"des libertés (CNIL) le {fr_date(incident.notified_at)}."
        )
    done.append(patient_measures(incident))
    role = dpo_role(dpo_sex)
    reach = contact_without_name(dpo_contact, dpo_name)
    contact = (
        f"Pour toute question, ou pour exercer vos droits sur vos données, vous pouvez écrire à "
        f"{dpo_name}, {role[:1].lower()}{role[1:]} : {reach}, "
        "en rappelant la référence de ce courrier."
    )
    return LetterText(
        reference=incident.id,
        dpo_name=dpo_name,
        dpo_role=role,
        happened=happened,
        measures=" ".join(done),
        contact=contact,
        categories=frozenset(categories),
    )


@dataclass
class LetterRun:
    """What was written: counts and file names (the index and the list hold the ids)."""

    out: Path
    letters: int = 0
    without_address: int = 0
    files: list[str] = field(default_factory=list)


def _civility(patient: Patient) -> tuple[str, str]:
    """(title in the postal block, salutation without comma)."""
    if patient.sex is Sex.FEMALE:
        return "Madame", "Madame"
    if patient.sex is Sex.MALE:
        return "Monsieur", "Monsieur"
    return "", "Madame, Monsieur"


def _recipient(patient: Patient) -> list[str]:
    """The postal block: civility, first name, NAME; address lines (AFNOR style)."""
    civility, _ = _civility(patient)
    surname = (patient.used_name or patient.birth_name).upper()
    name = " ".join(x for x in (civility, patient.first_first_name, surname) if x)
    address = patient.addresses[0]
    lines = [name, address.line, f"{address.postcode} {address.city.upper()}"]
    if address.country not in ("", "FR"):
        lines.append(address.country)
    return lines


def _sender(lab: Lab | None) -> list[str]:
    """The lab as sender: its name and postal address when the vault holds one."""
    if lab is None:
        return ["Réseau Étanche"]
    if lab.street and lab.postcode:
        return [lab.street, f"{lab.postcode} {lab.city.upper()}"]
    return [f"Laboratoire de biologie médicale — {lab.city}"]


def _prepare(out: Path) -> None:
    """The DPO's folder: created 0700, and never mixed with an earlier run."""
    private_dir(out)
    if (out / INDEX).exists() or (out / UNREACHABLE).exists() or any(out.glob("lettres-*.pdf")):
        raise UsageError(f"{out}: already holds letters; choose an empty folder")


def _channels(patient: Patient) -> list[str]:
    """Which other channel the vault holds for a patient (never the value)."""
    return [name for name, held in (("email", patient.emails), ("phone", patient.phones)) if held]


def write_letters(
    patients: Iterable[Patient],
    out: Path,
    text: LetterText,
    *,
    labs: Mapping[str, Lab],
    exposures: Mapping[str, frozenset[str]] | None = None,
    batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> LetterRun:
    """One page per patient with a postal address, ``batch`` pages per PDF, ``index.json``.

    Patients without a postal address get no page that could not be posted: they
    go to ``sans-adresse.json`` (pseudonymous ids, reason, other channels held) for
    another channel, and are counted.
    """
    if batch < 1:
        raise UsageError("batch: must be at least 1")
    _prepare(out)
    today = fr_date(now or datetime.now(UTC))
    run = LetterRun(out)
    index: list[dict[str, Any]] = []
    unreachable: list[dict[str, Any]] = []
    shared: dict[str, list[str]] = {}
    pdf = None
    writer: LineWriter | None = None
    pages: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal pdf, pages
        if pdf is None:
            return
        name = _FILE.format(len(run.files) + 1)
        write_private(out / name, bytes(pdf.output()))
        run.files.append(name)
        index.append({"file": name, "letters": pages})
        pdf, pages = None, []

    size = 0.0
    for patient in patients:
        if progress is not None:
            progress(1)
        if not patient.addresses:
            run.without_address += 1
            unreachable.append(
                {
                    "patient": patient.id,
                    "lab": patient.lab_id,
                    "reason": "aucune adresse postale enregistrée",
                    "channels": _channels(patient),
                }
            )
            continue
        lab = labs.get(patient.lab_id)
        sections = text.sections(None if exposures is None else exposures.get(patient.id))
        if not size:
            size = _fitting_size(patient, lab, text, today)
        if pdf is None:
            pdf = new_pdf(f"Information sur une violation de données — {text.reference}")
            pdf.set_auto_page_break(False)
            writer = LineWriter(pdf)
        assert writer is not None
        pdf.add_page()
        run.letters += 1
        _draw(writer, patient, lab, text, sections, shared, today, run.letters, size)
        pages.append({"page": len(pages) + 1, "patient": patient.id, "lab": patient.lab_id})
        if len(pages) >= batch:
            flush()
    flush()
    doc = {
        "incident": text.reference,
        "letters": run.letters,
        "without_address": run.without_address,
        "unreachable": UNREACHABLE,
        "files": index,
    }
    write_private(out / INDEX, json.dumps(doc, indent=1))
    write_private(
        out / UNREACHABLE,
        json.dumps(
            {"incident": text.reference, "count": len(unreachable), "patients": unreachable},
            indent=1,
        ),
    )
    return run


_SIZES = (9.5, 9.0, 8.5, 8.0, 7.5)


def _fitting_size(patient: Patient, lab: Lab | None, text: LetterText, today: str) -> float:
    """The largest body font that keeps the letter on one page.

    Tried on the longest letter this incident can produce (every category, a
    serious condition), so one trial tells for every letter.
    """
    longest = text.sections(frozenset(_LETTER_LABELS) | {"health:hiv"})
    for size in _SIZES:
        pdf = new_pdf("trial")
        pdf.set_auto_page_break(False)
        pdf.add_page()
        _draw(LineWriter(pdf), patient, lab, text, longest, {}, today, 1, size)
        if pdf.page == 1:
            return size
    raise UsageError("letters: the text does not fit on one page; shorten the DPO's contact")


def _draw(
    out: LineWriter,
    patient: Patient,
    lab: Lab | None,
    text: LetterText,
    sections: Sequence[tuple[str, str]],
    shared: dict[str, list[str]],
    today: str,
    number: int,
    size: float,
) -> None:
    """One page. ``shared`` caches wrapped paragraphs by their text across pages and files."""
    out.y = 18
    out.leading = 4.4
    out.font(11, bold=True)
    out.lines([lab.name if lab else "Laboratoire de biologie médicale"])
    out.font(9)
    out.lines(_sender(lab))
    out.font(10.5)
    out.y = 50
    out.lines(_recipient(patient), x=115)
    out.y = 80
    out.font(9)
    city = lab.city if lab else ""
    out.lines(
        [f"{city}, le {today}" if city else f"Le {today}", f"Référence : {text.reference}-{number}"]
    )
    out.gap(3)
    out.font(10.5, bold=True)
    out.lines(["Objet : violation de données personnelles vous concernant"])
    out.gap(2)
    out.font(size)
    out.leading = size * 0.485
    salutation = _civility(patient)[1]
    out.lines([f"{salutation},"])
    out.gap(1)
    for heading, body in sections:
        out.font(size, bold=True)
        out.lines([heading])
        out.font(size)
        if body not in shared:
            shared[body] = out.wrap(body)
        out.lines(shared[body])
        out.gap(1.6)
    out.gap(1)
    closing = (
        f"Nous vous prions d'agréer, {salutation}, l'expression de nos salutations distinguées."
    )
    if closing not in shared:
        shared[closing] = out.wrap(closing)
    out.lines(shared[closing])
    out.gap(3)
    out.lines([text.dpo_name, text.dpo_role])
