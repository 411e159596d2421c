"""The scan benchmark's labelled corpus: four shapes of a leaked patient file.

Its own seed, its own headers, phrasings and distractors: the tests never see it
(they build theirs in tests/leak/scan/_leak_corpus.py). Identities come from
etanche.synth, with a parent's NIR on half of the minors and a wrong NIR key on
3 % of the rows (not a NIR: the key does not check). Every cell carries the
categories it truly holds.

Shapes: a French-headed cp1252 CSV (abbreviated headers: "Date naiss.", "N° SS",
"N° AMC"), a headerless CSV, JSON lines with English keys, and a MySQL dump
(multi-row INSERTs, French snake-case columns) of at least 10 MB.
"""

from __future__ import annotations

import csv
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from etanche.domain import Patient
from etanche.synth import SynthConfig, generate

SEED = 20_261_203  # the tests use 7, 11 and 12
# canonical column -> category of its cells (None: per cell, the comment's own labels)
COLUMNS: tuple[tuple[str, str | None], ...] = (
    ("birth_name", "name"),
    ("first_names", "name"),
    ("birth_date", "birth_date"),
    ("nir", "nir"),
    ("phone", "phone"),
    ("email", "email"),
    ("street", "address"),
    ("postcode", "address"),
    ("city", "address"),
    ("physician", "name"),
    ("regime", "insurance"),
    ("caisse", "insurance"),
    ("mutuelle", "insurance"),
    ("amc_number", "insurance"),
    ("member_number", "insurance"),
    ("blood_group", "blood_group"),
    ("last_visit", "last_visit"),
    ("comment", None),
    ("login", "credential"),
    ("password", "credential"),
    ("order_number", ""),
    ("amount", ""),
)
HEADERS: dict[str, tuple[str, ...]] = {
    "fr_csv": (
        "Nom", "Prénom(s)", "Date naiss.", "N° SS", "Tél.", "Courriel", "Adresse", "CP",
        "Ville", "Médecin traitant", "Régime", "Caisse", "Mutuelle", "N° AMC", "N° adhérent",
        "Groupe sanguin", "Date dernière visite", "Commentaire", "Identifiant", "Mot de passe",
        "N° commande", "Montant",
    ),
    "jsonl": (
        "lastName", "firstName", "dob", "ssn", "phone", "email", "address", "zip", "city",
        "doctor", "amo", "caisse", "complementaire", "amc_number", "member_id", "blood_type",
        "last_visit", "notes", "username", "password_hash", "order_id", "amount",
    ),
    "sql": (
        "nom_naissance", "prenoms", "date_de_naissance", "num_secu", "telephone", "email",
        "adresse", "code_postal", "ville", "medecin", "code_regime", "code_caisse",
        "organisme_complementaire", "numero_amc", "num_adherent", "groupe_sanguin",
        "derniere_visite", "observations", "login", "mdp", "num_commande", "montant",
    ),
}  # fmt: skip
SHAPES = ("fr_csv", "headerless_csv", "jsonl", "sql")
# Real organisation numbers are 9 digits; these are drawn, one per insurer.
_NEUTRAL = (
    "RDV à jeun",
    "Patient anxieux, prévoir du temps",
    "Envoyer copie au cardiologue",
    "Tube hémolysé, à reprélever",
    "Préfère le matin",
)
_NEGATED = (
    "Pas d'antécédent de diabète",
    "Aucun traitement en cours",
    "Non enceinte",
    "Pas de cancer connu dans la famille",
)


@dataclass
class Labelled:
    """Rows of cells in COLUMNS order and, per cell, the categories it truly holds."""

    rows: list[list[str]]
    truth: list[list[frozenset[str]]]


def _nir_ok(nir: str) -> bool:
    body = nir[:13].replace("2A", "19").replace("2B", "18")
    return len(nir) == 15 and body.isdigit() and 97 - int(body) % 97 == int(nir[13:])


def _comment(rng: random.Random, p: Patient) -> tuple[str, frozenset[str]]:
    c, roll = p.clinical, rng.random()
    if c.pregnant and roll < 0.8:
        return f"Grossesse en cours ({rng.randrange(8, 36)} SA)", frozenset({"health"})
    if c.pathologies and roll < 0.5:
        return f"ATCD : {c.pathologies[0]}", frozenset({"health"})
    if c.treatments and roll < 0.8:
        return f"Sous {c.treatments[0].name.lower()}", frozenset({"drug"})
    if roll < 0.25:
        return rng.choice(_NEGATED), frozenset()
    if roll < 0.3 and p.phones:
        return f"Joindre au 0{p.phones[0][3:]}", frozenset({"phone"})
    return rng.choice(_NEUTRAL), frozenset()


def _phone(rng: random.Random, e164: str) -> str:
    digits = "0" + e164[3:]
    pairs = [digits[i : i + 2] for i in range(0, 10, 2)]
    return rng.choice((" ".join(pairs), ".".join(pairs), digits, "+33 " + " ".join(pairs)[1:]))


def _password(rng: random.Random) -> str:
    chars = [rng.choice(string.ascii_uppercase), rng.choice(string.ascii_lowercase)]
    chars += [rng.choice(string.digits)]
    chars += [rng.choice(string.ascii_letters + string.digits) for _ in range(rng.randrange(5, 11))]
    rng.shuffle(chars)
    return "".join(chars)


def _bcrypt(rng: random.Random) -> str:
    alphabet = "./" + string.ascii_letters + string.digits
    return "$2b$12$" + "".join(rng.choice(alphabet) for _ in range(53))


def labelled(patients: int, seed: int = SEED) -> Labelled:
    """One row per synthetic patient, every column of COLUMNS, with its truth."""
    rng = random.Random(seed)
    network = generate(
        SynthConfig(
            patients=patients, labs=6, seed=seed, child_on_parent_nir=0.5, invalid_nir_key=0.03
        )
    )
    amc = {}
    rows, truth = [], []
    for p in network.patients():
        a = p.addresses[0] if p.addresses else None
        ins = p.insurance
        if ins is not None and ins.amc_name and ins.amc_name not in amc:
            amc[ins.amc_name] = f"{rng.randrange(10**8, 10**9)}"
        portal = rng.random() < 0.25
        cells = {
            "birth_name": p.birth_name,
            "first_names": " ".join(p.first_names),
            "birth_date": p.birth_date.isoformat(),
            "nir": p.nir or "",
            "phone": _phone(rng, p.phones[0]) if p.phones else "",
            "email": p.emails[0] if p.emails else "",
            "street": a.line if a else "",
            "postcode": a.postcode if a else "",
            "city": a.city if a else "",
            "physician": f"Dr {p.physician.name}" if p.physician else "",
            "regime": ins.amo_regime if ins else "",
            "caisse": ins.amo_caisse if ins else "",
            "mutuelle": (ins.amc_name or "") if ins else "",
            "amc_number": amc.get(ins.amc_name or "", "") if ins else "",
            "member_number": (ins.amc_member_number or "") if ins else "",
            "blood_group": str(p.clinical.blood_group) if p.clinical.blood_group else "",
            "last_visit": (p.last_visit or date(2020, 6, 1)).isoformat(),
            "login": f"{p.first_first_name[:1].lower()}{rng.randrange(10**5):05d}"
            if portal
            else "",
            "password": _password(rng) if portal else "",
            "order_number": f"CMD{rng.randrange(10**7):07d}",
            "amount": f"{rng.randrange(5, 300)},{rng.randrange(100):02d}",
        }
        comment, labels = _comment(rng, p)
        cells["comment"] = comment
        row, want = [], []
        for column, category in COLUMNS:
            value = cells[column]
            row.append(value)
            if category is None:
                want.append(labels)
            elif not value or not category or (column == "nir" and not _nir_ok(value)):
                want.append(frozenset())
            else:
                want.append(frozenset({category}))
        rows.append(row)
        truth.append(want)
    return Labelled(rows, truth)


def _fr_date(iso: str) -> str:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}" if iso else ""


def _dated(rows: list[list[str]], style: Callable[[str], str]) -> list[list[str]]:
    at = [i for i, (c, _) in enumerate(COLUMNS) if c in ("birth_date", "last_visit")]
    return [[style(x) if i in at else x for i, x in enumerate(r)] for r in rows]


def write(shape: str, table: Labelled, path: Path, *, hashed: bool = False) -> None:
    """``table`` in ``shape`` at ``path``; ``hashed`` writes bcrypt hashes, not passwords."""
    rows = table.rows
    if hashed or shape == "jsonl":
        rng = random.Random(SEED + 1)
        at = [c for c, _ in COLUMNS].index("password")
        rows = [[*r[:at], _bcrypt(rng) if r[at] else "", *r[at + 1 :]] for r in rows]
    if shape in ("fr_csv", "headerless_csv"):
        encoding = "cp1252" if shape == "fr_csv" else "utf-8"
        with path.open("w", encoding=encoding, errors="replace", newline="") as handle:
            writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
            if shape == "fr_csv":
                writer.writerow(HEADERS["fr_csv"])
            writer.writerows(_dated(rows, _fr_date))
    elif shape == "jsonl":
        with path.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(dict(zip(HEADERS["jsonl"], row, strict=True))) + "\n")
    else:
        _write_sql(rows, path)


def _write_sql(rows: list[list[str]], path: Path) -> None:
    def quote(value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    names = ", ".join(f"`{h}`" for h in HEADERS["sql"])
    with path.open("w", encoding="utf-8") as handle:
        handle.write("-- MySQL dump 10.13\n/*!40101 SET NAMES utf8mb4 */;\n")
        handle.write("CREATE TABLE `patients` (")
        handle.write(", ".join(f"`{h}` varchar(255)" for h in HEADERS["sql"]) + ");\n")
        for start in range(0, len(rows), 200):
            values = ",".join(
                "(" + ",".join(quote(c) for c in row) + ")" for row in rows[start : start + 200]
            )
            handle.write(f"INSERT INTO `patients` ({names}) VALUES {values};\n")
