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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from etanche._files import private_dir, write_private
from etanche.domain import Lab, Patient, Sex
from etanche.errors import UsageError
from etanche.leak.incident._model import Incident
from etanche.leak.incident._notification import PARIS
from etanche.leak.incident._pdf import LineWriter, new_pdf
from etanche.leak.incident._severity import CATEGORY_LABELS, found_categories

__all__ = ["INDEX", "LetterRun", "LetterText", "letter_text", "write_letters"]

INDEX = "index.json"
BATCH = 500
_FILE = "lettres-{:04d}.pdf"

_YOUR_CONSEQUENCES: tuple[tuple[frozenset[str], str], ...] = (
    (
        frozenset({"nir", "ins_traits", "birth_date"}),
        "quelqu'un pourrait tenter d'usurper votre identité",
    ),
    (
        frozenset({"phone", "email", "address"}),
        "vous pourriez recevoir des courriels, SMS ou appels frauduleux qui citent vos données "
        "pour paraître crédibles",
    ),
    (
        frozenset({"health", "blood_group", "drug"}),
        "des informations sur votre santé pourraient être connues de personnes qui n'ont pas à "
        "les connaître",
    ),
    (
        frozenset({"credential"}),
        "quelqu'un pourrait se connecter à votre espace de résultats d'analyses",
    ),
    (frozenset({"iban"}), "des prélèvements frauduleux pourraient être tentés sur votre compte"),
)


@dataclass(frozen=True, slots=True)
class LetterText:
    """The paragraphs every letter of one incident shares: (heading, text) pairs."""

    reference: str
    dpo_name: str
    sections: tuple[tuple[str, str], ...]


def letter_text(incident: Incident, *, dpo_name: str, dpo_contact: str) -> LetterText:
    """Plain French, from the incident's categories and circumstances only."""
    report = incident.report or {}
    categories = set(found_categories(report))
    if report.get("special_category"):
        categories.add("health")
    when = incident.discovered_at.astimezone(PARIS).strftime("%d/%m/%Y")
    spread = {
        "published": ", et qu'il a été diffusé sur Internet",
        "copied": ", copié par des personnes qui n'avaient pas à le détenir",
    }.get(incident.circumstances.confidentiality or "", "")
    happened = (
        f"Le {when}, nous avons découvert qu'un fichier contenant des données de patients de "
        f"notre réseau de laboratoires se trouvait hors de nos systèmes{spread}. Vos données "
        "figurent dans ce fichier. Nous vous prions de nous en excuser."
    )
    labels = [CATEGORY_LABELS[c] for c in CATEGORY_LABELS if c in categories]
    data = (
        "Le fichier contient, pour tout ou partie des personnes, les informations suivantes : "
        + (", ".join(labels) if labels else "des informations d'identité")
        + "."
    )
    risks = [text for names, text in _YOUR_CONSEQUENCES if names & categories]
    consequences = (
        ("Concrètement, " + " ; ".join(risks) + ".")
        if risks
        else "Nous n'avons pas identifié de conséquence particulière pour vous à ce stade."
    )
    taken = [e.text.rstrip(".") for e in incident.timeline if e.kind == "measure"]
    measures = (
        "Nous avons signalé cette violation à la Commission nationale de l'informatique et des "
        "libertés (CNIL)"
        + ("".join(f" ; {m[:1].lower()}{m[1:]}" for m in taken[:3]))
        + ". Nous recherchons l'origine de la copie et demandons le retrait du fichier partout "
        "où il est trouvé."
    )
    advice = [
        "Méfiez-vous des messages et appels qui citent vos données : ni le laboratoire ni "
        "l'Assurance maladie ne vous demanderont jamais un mot de passe ou vos coordonnées "
        "bancaires."
    ]
    if "credential" in categories:
        advice.append(
            "Changez le mot de passe de votre espace de résultats, et celui de tout service où "
            "vous utilisiez le même."
        )
    if "iban" in categories or "nir" in categories:
        advice.append("Surveillez vos relevés bancaires et vos remboursements de santé.")
    advice.append(
        "Vous pouvez signaler une tentative d'escroquerie sur cybermalveillance.gouv.fr, porter "
        "plainte, et adresser une réclamation à la CNIL (www.cnil.fr)."
    )
    contact = (
        f"Pour toute question, ou pour exercer vos droits sur vos données, écrivez à notre "
        f"délégué à la protection des données, {dpo_name} ({dpo_contact}), en rappelant la "
        "référence de ce courrier."
    )
    return LetterText(
        reference=incident.id,
        dpo_name=dpo_name,
        sections=(
            ("Ce qui s'est passé", happened),
            ("Les données concernées", data),
            ("Les conséquences possibles", consequences),
            ("Ce que nous avons fait", measures),
            ("Ce que vous pouvez faire", " ".join(advice)),
            ("Pour nous contacter", contact),
        ),
    )


@dataclass
class LetterRun:
    """What was written: counts and file names (the index holds the ids)."""

    out: Path
    letters: int = 0
    without_address: int = 0
    files: list[str] = field(default_factory=list)


def _civility(patient: Patient) -> tuple[str, str]:
    if patient.sex is Sex.FEMALE:
        return "Madame", "Madame,"
    if patient.sex is Sex.MALE:
        return "Monsieur", "Monsieur,"
    return "", "Madame, Monsieur,"


def _recipient(patient: Patient) -> list[str]:
    """The postal block: civility, first name, NAME; address lines (AFNOR style)."""
    civility, _ = _civility(patient)
    surname = (patient.used_name or patient.birth_name).upper()
    name = " ".join(x for x in (civility, patient.first_first_name, surname) if x)
    lines = [name]
    if patient.addresses:
        address = patient.addresses[0]
        lines += [address.line, f"{address.postcode} {address.city.upper()}"]
        if address.country not in ("", "FR"):
            lines.append(address.country)
    return lines


def _prepare(out: Path) -> None:
    """The DPO's folder: created 0700, and never mixed with an earlier run."""
    private_dir(out)
    if (out / INDEX).exists() or any(out.glob("lettres-*.pdf")):
        raise UsageError(f"{out}: already holds letters; choose an empty folder")


def write_letters(
    patients: Iterable[Patient],
    out: Path,
    text: LetterText,
    *,
    labs: Mapping[str, Lab],
    batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> LetterRun:
    """One page per patient, ``batch`` pages per PDF, and ``index.json`` (ids only)."""
    if batch < 1:
        raise UsageError("batch: must be at least 1")
    _prepare(out)
    today = (now or datetime.now(UTC)).astimezone(PARIS).strftime("%d/%m/%Y")
    run = LetterRun(out)
    index: list[dict[str, Any]] = []
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
        if not size:
            size = _fitting_size(patient, labs.get(patient.lab_id), text, today)
        if pdf is None:
            pdf = new_pdf(f"Information sur une violation de données — {text.reference}")
            pdf.set_auto_page_break(False)
            writer = LineWriter(pdf)
        assert writer is not None
        pdf.add_page()
        lab = labs.get(patient.lab_id)
        run.letters += 1
        postal = bool(patient.addresses)
        run.without_address += 0 if postal else 1
        _draw(writer, patient, lab, text, shared, today, run.letters, size)
        pages.append(
            {"page": len(pages) + 1, "patient": patient.id, "lab": patient.lab_id, "postal": postal}
        )
        if progress is not None:
            progress(1)
        if len(pages) >= batch:
            flush()
    flush()
    doc = {
        "incident": text.reference,
        "letters": run.letters,
        "without_address": run.without_address,
        "files": index,
    }
    write_private(out / INDEX, json.dumps(doc, indent=1))
    return run


_SIZES = (9.5, 9.0, 8.5, 8.0, 7.5)


def _fitting_size(patient: Patient, lab: Lab | None, text: LetterText, today: str) -> float:
    """The largest body font that keeps the letter on one page (long measure notes).

    Only the common text varies in length, so one trial page tells for every letter.
    """
    for size in _SIZES:
        pdf = new_pdf("trial")
        pdf.set_auto_page_break(False)
        pdf.add_page()
        _draw(LineWriter(pdf), patient, lab, text, {}, today, 1, size)
        if pdf.page == 1:
            return size
    raise UsageError("letters: the text does not fit on one page; shorten the measure notes")


def _draw(
    out: LineWriter,
    patient: Patient,
    lab: Lab | None,
    text: LetterText,
    shared: dict[str, list[str]],
    today: str,
    number: int,
    size: float,
) -> None:
    """One page. ``shared`` caches the wrapped common paragraphs across pages and files."""
    out.y = 22
    out.leading = 4.6
    out.font(11, bold=True)
    out.lines([lab.name if lab else "Laboratoire de biologie médicale"])
    out.font(9)
    out.lines(
        [
            f"Laboratoire de biologie médicale — {lab.city}" if lab else "Réseau Étanche",
            f"Délégué à la protection des données : {text.dpo_name}",
        ]
    )
    out.font(10.5)
    out.y = 52
    out.lines(_recipient(patient), x=115)
    out.y = 82
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
    out.lines([_civility(patient)[1]])
    out.gap(1)
    for heading, body in text.sections:
        out.font(size, bold=True)
        out.lines([heading])
        out.font(size)
        if heading not in shared:
            shared[heading] = out.wrap(body)
        out.lines(shared[heading])
        out.gap(1.6)
    out.gap(2)
    out.lines(
        [
            "Veuillez agréer nos salutations distinguées.",
            "",
            text.dpo_name,
            "Délégué à la protection des données",
        ]
    )
