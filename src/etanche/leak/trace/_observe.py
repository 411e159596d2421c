"""What a found table says: identifying values and observed writings, row by row.

Columns are mapped to fields by header hints (any language our sources use, FHIR
paths flattened to "name.given") and, for phones, e-mails, NIRs and street
lines, values are found by pattern in any cell whatever its header: a leaker's
"contact" column holding both a phone and an e-mail still counts. Nothing here
needs a key: the output is plain observations for the scoring core.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from etanche.leak.trace._identity import row_identity
from etanche.leak.trace._renderings import (
    CASE,
    FAMILIES,
    NFD,
    NIR,
    PHONE,
    STREET,
    canonical_nir,
)

__all__ = ["FoundRow", "Observation", "map_columns", "observe_rows"]


@dataclass(frozen=True, slots=True)
class Observation:
    """One markable value as found: its family, canonical value, writing index, k."""

    family: str
    canonical: str
    choice: int
    k: int


@dataclass(frozen=True, slots=True)
class FoundRow:
    """A row of a found table: position, identifying values, observed writings."""

    position: int
    identity: tuple[tuple[str, str], ...]
    marks: tuple[Observation, ...]


# Folded header -> field; first match wins, so the more specific rules come first.
_HINTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("birthplace_insee", r"lieu de naissance|birth ?place|commune de naissance|insee nais"),
        ("birth_date", r"date.*naissance|birth ?date|date of birth|\bdob\b|\bddn\b|^nee? le"),
        ("used_name", r"nom d ?usage|used ?name|nom marital|usual"),
        ("first_names", r"prenom|first ?names?|given|forename"),
        ("birth_name", r"^nom\b|birth ?name|family|last ?name|surname|^name$|patronyme"),
        ("nir", r"\bnir\b|secu|securite sociale|\bnss\b|identifier|\bins\b|social security"),
        ("email", r"mail|courriel"),
        ("phone", r"\btel|phone|portable|mobile|telecom|\bgsm\b"),
        ("city", r"ville|city|commune|localite"),
        ("address_line", r"adresse|address|\brue\b|\bvoie\b|\bline\b"),
        ("blood_group", r"groupe sanguin|groupe rh|blood ?group|blood ?type|\babo\b"),
    )
)
_NAME_FIELDS = frozenset({"birth_name", "used_name", "first_names", "city"})

_NIR_CELL = re.compile(
    r"[12] ?[0-9]{2} ?(?:0[1-9]|1[0-2]|[2-9][0-9]) ?(?:[0-9]{2}|2[AaBb])"
    r" ?[0-9]{3} ?[0-9]{3} ?[0-9]{2}"
)
_PHONE_IN = re.compile(
    r"(?<![0-9+])(?:\+33 ?[1-9](?:[ .\-]?[0-9]{2}){4}|0[1-9](?:[ .\-]?[0-9]{2}){4})(?![0-9])"
)
_EMAIL_IN = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")


def _fold(header: str) -> str:
    text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def map_columns(columns: Sequence[str]) -> dict[int, str]:
    """Column index -> canonical field, from header hints (unmatched columns left out)."""
    out: dict[int, str] = {}
    for index, header in enumerate(columns):
        folded = _fold(_split_camel(header))
        for name, pattern in _HINTS:
            if pattern.search(folded):
                out[index] = name
                break
    return out


def _split_camel(header: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", header)


def _choice(family: str, found: str) -> Observation | None:
    seen = FAMILIES[family].choice_of(found)
    return None if seen is None else Observation(family, seen[0], seen[1], seen[2])


def _cell(text: str, field: str | None, fields: dict[str, str], marks: list[Observation]) -> None:
    """Observations and identifying values of one cell."""
    for line in text.split("\n"):
        value = line.strip()
        if not value:
            continue
        if _NIR_CELL.fullmatch(value):
            if obs := _choice(NIR, value):
                marks.append(obs)
            fields.setdefault("nir", canonical_nir(value))
            continue
        if "@" in value:
            for email in _EMAIL_IN.findall(value):
                if obs := _choice(CASE, email):
                    marks.append(obs)
                _add(fields, "email", email)
        if any(c.isdigit() for c in value):
            for phone in _PHONE_IN.findall(value):
                if obs := _choice(PHONE, phone):
                    marks.append(obs)
                _add(fields, "phone", phone)
            if obs := _choice(STREET, value):
                marks.append(obs)
        if field in _NAME_FIELDS and (obs := _choice(NFD, value)):
            marks.append(obs)


def _add(fields: dict[str, str], name: str, value: str) -> None:
    fields[name] = f"{fields[name]}\n{value}" if name in fields else value


def observe_rows(
    columns: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    mapping: Mapping[int, str] | None = None,
    start: int = 0,
) -> list[FoundRow]:
    """FoundRow for every row (positions counted from ``start``)."""
    fieldmap = dict(map_columns(columns) if mapping is None else mapping)
    out: list[FoundRow] = []
    for offset, row in enumerate(rows):
        fields: dict[str, str] = {}
        marks: list[Observation] = []
        for index, cell in enumerate(row):
            if not cell:
                continue
            field = fieldmap.get(index)
            if field in ("birth_name", "first_names", "birth_date"):
                fields.setdefault(field, cell.strip())
            _cell(cell, field, fields, marks)
        out.append(FoundRow(start + offset, tuple(row_identity(fields)), tuple(marks)))
    return out
