"""A labelled synthetic leak in every format ``etanche scan`` reads (tests and bench).

Every cell carries the set of categories it truly holds, so precision and recall
can be measured per cell and category (see test_accuracy.py). Identities come
from etanche.synth; distractors are mixed in on purpose: NIRs with a wrong key,
negated health mentions, order numbers, amounts, order dates and columns whose
names mislead.
"""

from __future__ import annotations

import csv
import json
import random
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

from etanche.domain import Patient
from etanche.synth import SynthConfig, generate

PATIENTS = 240

# Comments: (text, categories) built from the patient's clinical facts or neutral.
NEGATED = (
    "Pas de grossesse en cours",
    "Absence de VIH",
    "Pas de diabète connu",
    "Patient sans antécédent de cancer",
    "Pas d'hépatite C",
)
NEUTRAL = (
    "Ne pas appeler avant 10h",
    "Vient avec sa fille",
    "Prévenir si résultat anormal",
    "Résultats par courrier",
    "Prélèvement difficile, veines fines",
)
PHONE_STYLES = (
    "{0} {1} {2} {3} {4}",
    "{0}{1}{2}{3}{4}",
    "{0}.{1}.{2}.{3}.{4}",
    "+33 {0b} {1} {2} {3} {4}",
)


@dataclass
class Labelled:
    """One table: header, rows of cells, and per cell the categories it truly holds."""

    header: list[str]
    rows: list[list[str]]
    truth: list[list[frozenset[str]]]


def _phone(rng: random.Random, e164: str) -> str:
    digits = "0" + e164[3:]
    pairs = [digits[i : i + 2] for i in range(0, 10, 2)]
    style = rng.choice(PHONE_STYLES)
    return style.format(*pairs, **{"0b": digits[1]})


def _not_a_nir(rng: random.Random) -> str:
    """A 15-digit order number that starts with 9: never NIR-shaped."""
    return "9" + "".join(rng.choice("0123456789") for _ in range(14))


def _wrong_key(nir: str) -> str:
    key = (int(nir[13:]) + 1 + 0) % 97 or 1
    return nir[:13] + f"{key:02d}"


def _comment(rng: random.Random, patient: Patient) -> tuple[str, frozenset[str]]:
    clinical = patient.clinical
    roll = rng.random()
    if clinical.pregnant:
        return f"Patiente enceinte de {rng.randrange(6, 38)} SA", frozenset({"health"})
    if clinical.pathologies and roll < 0.6:
        return f"Suivi pour {clinical.pathologies[0]}", frozenset({"health"})
    if clinical.treatments and roll < 0.9:
        return f"Traitement : {clinical.treatments[0].name}", frozenset({"drug"})
    if roll < 0.3:
        return rng.choice(NEGATED), frozenset()
    if roll < 0.4 and patient.phones:
        return f"Rappeler au {_phone(rng, patient.phones[0])}", frozenset({"phone"})
    if roll < 0.45 and patient.emails:
        return f"Copie des résultats à {patient.emails[0]}", frozenset({"email"})
    return rng.choice(NEUTRAL), frozenset()


def _fr(day: object) -> str:
    from datetime import date

    assert isinstance(day, date)
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


HEADER = [
    "nom",
    "prenom",
    "ddn",
    "n° sécu",
    "tel",
    "mail",
    "adresse",
    "cp",
    "ville",
    "groupe sanguin",
    "login",
    "mot de passe",
    "commentaire",
    "N° commande",
    "montant",
    "date commande",
    "telephone standard",
    "password policy",
]


def _adder(cells: list[tuple[str, frozenset[str]]]) -> Callable[..., None]:
    def add(value: str, *categories: str) -> None:
        cells.append((value, frozenset(categories) if value else frozenset()))

    return add


def labelled_table(seed: int = 11) -> Labelled:
    rng = random.Random(seed)
    network = generate(SynthConfig(patients=PATIENTS, labs=3, seed=seed))
    rows: list[list[str]] = []
    truth: list[list[frozenset[str]]] = []
    for patient in network.patients():
        cells: list[tuple[str, frozenset[str]]] = []
        add = _adder(cells)

        add(patient.birth_name, "name")
        add(" ".join(patient.first_names), "name")
        add(_fr(patient.birth_date), "birth_date")
        nir = patient.nir or ""
        if nir and rng.random() < 0.08:
            add(_wrong_key(nir))  # a typo in the key: not counted as a NIR
        else:
            add(nir, "nir")
        add(_phone(rng, patient.phones[0]) if patient.phones else "", "phone")
        add(patient.emails[0] if patient.emails else "", "email")
        address = patient.addresses[0] if patient.addresses else None
        add(address.line if address else "", "address")
        add(address.postcode if address else "", "address")
        add(address.city if address else "", "address")
        group = patient.clinical.blood_group
        add(str(group) if group else "", "blood_group")
        portal = rng.random() < 0.3
        add(
            f"{patient.first_first_name[:1].lower()}{rng.randrange(10**5):05d}" if portal else "",
            "credential",
        )
        add(
            "".join(rng.choice("abcdefXYZ0123456789") for _ in range(10)) if portal else "",
            "credential",
        )
        text, categories = _comment(rng, patient)
        cells.append((text, categories))
        add(_not_a_nir(rng))
        add(f"{rng.randrange(1, 999)},{rng.randrange(100):02d}")
        add(f"{rng.randrange(1, 28):02d}/{rng.randrange(1, 13):02d}/2021")
        add(f"CMD-{rng.randrange(10**6):06d}")
        add("8 caractères minimum, une majuscule")
        rows.append([c for c, _ in cells])
        truth.append([t for _, t in cells])
    return Labelled(HEADER, rows, truth)


def labelled_text(seed: int = 12) -> Labelled:
    """Plain text: one line per patient (or a distractor line), labelled per line."""
    rng = random.Random(seed)
    network = generate(SynthConfig(patients=120, labs=2, seed=seed))
    rows: list[list[str]] = []
    truth: list[list[frozenset[str]]] = []
    for patient in network.patients():
        title = "Mme" if patient.sex.value == "F" else "M."
        parts = [f"{title} {patient.birth_name.upper()} {patient.first_first_name}"]
        labels = {"name"}
        parts.append(f"née le {_fr(patient.birth_date)}")
        labels.add("birth_date")
        if patient.nir:
            spaced = " ".join(
                (
                    patient.nir[0],
                    patient.nir[1:3],
                    patient.nir[3:5],
                    patient.nir[5:7],
                    patient.nir[7:10],
                    patient.nir[10:13],
                    patient.nir[13:],
                )
            )
            if rng.random() < 0.1:
                parts.append(f"NIR {_wrong_key(patient.nir)} (clé à vérifier)")
            else:
                parts.append(f"NIR {spaced}")
                labels.add("nir")
        if patient.addresses:
            a = patient.addresses[0]
            parts.append(f"demeurant {a.line}, {a.postcode} {a.city}")
            labels.add("address")
        if patient.phones:
            parts.append(f"tél {_phone(rng, patient.phones[0])}")
            labels.add("phone")
        text, categories = _comment(rng, patient)
        labels |= categories
        rows.append([", ".join(parts) + ". " + text + "."])
        truth.append([frozenset(labels)])
        if rng.random() < 0.3:
            order = _not_a_nir(rng)
            rows.append(
                [f"Commande n° {order} du 12/03/2021, montant {rng.randrange(10, 500)},00 euros."]
            )
            truth.append([frozenset()])
    return Labelled(["text"], rows, truth)


def write_delimited(table: Labelled, path: Path, delimiter: str, encoding: str) -> None:
    with path.open("w", encoding=encoding, errors="replace", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(table.header)
        writer.writerows(table.rows)


def write_xlsx(table: Labelled, path: Path) -> None:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("export")
    for r, row in enumerate([table.header, *table.rows]):
        for c, cell in enumerate(row):
            sheet.write_string(r, c, cell)
    book.close()


def _objects(table: Labelled) -> Iterator[dict[str, str]]:
    for row in table.rows:
        yield dict(zip(table.header, row, strict=True))


def write_json(table: Labelled, path: Path) -> None:
    path.write_text(json.dumps(list(_objects(table)), ensure_ascii=False), encoding="utf-8")


def write_ndjson(table: Labelled, path: Path) -> None:
    lines = [json.dumps(o, ensure_ascii=False) for o in _objects(table)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_sql(table: Labelled, path: Path) -> None:
    def quote(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    columns = ", ".join(f"`{h}`" for h in table.header)
    lines = [
        "-- export",
        f"CREATE TABLE `patients` ({', '.join(f'`{h}` text' for h in table.header)});",
    ]
    for start in range(0, len(table.rows), 50):
        values = ",\n".join(
            "(" + ", ".join(quote(c) for c in row) + ")" for row in table.rows[start : start + 50]
        )
        lines.append(f"INSERT INTO `patients` ({columns}) VALUES\n{values};")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_text(table: Labelled, path: Path) -> None:
    path.write_text("\n".join(row[0] for row in table.rows) + "\n", encoding="utf-8")


@dataclass
class Corpus:
    """Files of the leak and, per file, the labelled table it holds."""

    files: dict[Path, Labelled]


def build_corpus(root: Path) -> Corpus:
    table = labelled_table()
    text = labelled_text()
    files: dict[Path, Labelled] = {}

    def part(rows: slice) -> Labelled:
        return Labelled(table.header, table.rows[rows], table.truth[rows])

    writers = [
        ("export_cp1252.csv", lambda t, p: write_delimited(t, p, ";", "cp1252")),
        ("export_utf8.csv", lambda t, p: write_delimited(t, p, ",", "utf-8")),
        ("export.tsv", lambda t, p: write_delimited(t, p, "\t", "utf-8")),
        ("export.xlsx", write_xlsx),
        ("export.json", write_json),
        ("export.ndjson", write_ndjson),
        ("dump.sql", write_sql),
    ]
    third = len(table.rows) // 3
    for index, (name, writer) in enumerate(writers):
        chunk = part(slice((index % 3) * third, (index % 3 + 1) * third))
        writer(chunk, root / name)
        files[root / name] = chunk
    write_text(text, root / "notes.txt")
    files[root / "notes.txt"] = text
    inner = root / "inner"
    inner.mkdir()
    zipped = part(slice(0, third))
    write_delimited(zipped, inner / "extract.csv", ";", "utf-8")
    write_ndjson(zipped, inner / "extract.ndjson")
    with zipfile.ZipFile(root / "leak.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(inner / "extract.csv", "extract.csv")
        archive.write(inner / "extract.ndjson", "nested/extract.ndjson")
    for member in ("extract.csv", "nested/extract.ndjson"):
        files[Path(f"{root / 'leak.zip'}/{member}")] = zipped
    (inner / "extract.csv").unlink()
    (inner / "extract.ndjson").unlink()
    inner.rmdir()
    return Corpus(files)
