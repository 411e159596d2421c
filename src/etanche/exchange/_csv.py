"""CSV sources: the legacy flat export (headers auto-mapped) and any CSV under a plan.

Hot path of a 491,840-row migration: the csv module does the splitting, each
row costs one pass over precomputed (index, field) pairs, and only dates get a
slice-based rewrite to ISO. Credential columns are never read into a record.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TextIO

from etanche._files import open_private
from etanche.errors import ConfigError, SourceError
from etanche.exchange._model import (
    FIELDS,
    SPECIMEN_FIELDS,
    SourceIssue,
    SourceRecord,
    fold_header,
    is_credential,
)
from etanche.exchange._text import BadLine, TextSource

__all__ = ["CANONICAL_COLUMNS", "LEGACY_ALIASES", "CsvReader", "write_canonical_csv"]

# Folded header -> canonical field: the legacy export's headers and usual variants.
LEGACY_ALIASES: Mapping[str, str] = {
    **{fold_header(name): name for name in FIELDS},
    "code labo": "lab",
    "labo": "lab",
    "laboratoire": "lab",
    "n dossier": "dossier",
    "no dossier": "dossier",
    "num dossier": "dossier",
    "numero dossier": "dossier",
    "numero de dossier": "dossier",
    "dossier": "dossier",
    "nom de naissance": "birth_name",
    "nom naissance": "birth_name",
    "nom": "birth_name",
    "nom d usage": "used_name",
    "nom usage": "used_name",
    "nom marital": "used_name",
    "prenoms": "first_names",
    "prenom": "first_names",
    "sexe": "sex",
    "date de naissance": "birth_date",
    "date naissance": "birth_date",
    "ddn": "birth_date",
    "lieu de naissance": "birthplace_insee",
    "code insee naissance": "birthplace_insee",
    "nir": "nir",
    "n securite sociale": "nir",
    "numero de securite sociale": "nir",
    "n secu": "nir",
    "matricule ins": "nir",
    "statut identite": "identity_status",
    "adresse": "address_line",
    "code postal": "postcode",
    "cp": "postcode",
    "ville": "city",
    "commune": "city",
    "pays": "country",
    "telephone": "phone",
    "tel": "phone",
    "portable": "phone",
    "email": "email",
    "e mail": "email",
    "mail": "email",
    "courriel": "email",
    "medecin traitant": "physician_name",
    "medecin": "physician_name",
    "rpps medecin": "physician_rpps",
    "rpps": "physician_rpps",
    "regime": "amo_regime",
    "caisse": "amo_caisse",
    "mutuelle": "amc_name",
    "n adherent": "amc_member_number",
    "numero adherent": "amc_member_number",
    "groupe sanguin": "blood_group",
    "groupe": "blood_group",
    "date derniere visite": "last_visit",
    "derniere visite": "last_visit",
    "commentaire": "comments",
    "commentaires": "comments",
    "commentaire 1": "comments",
    "commentaire 2": "comments",
    "grossesse": "pregnant",
    "enceinte": "pregnant",
    "traitements": "treatments",
    "pathologies": "pathologies",
}
CANONICAL_COLUMNS: tuple[str, ...] = tuple(FIELDS)
_BLANK = " \t"
_DATES = frozenset({"birth_date", "last_visit"})
_DELIMITERS = (";", ",", "\t", "|")
_FIELD_LIMIT = 1 << 20
csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))


def _iso(text: str) -> str:
    """French DD/MM/YYYY -> YYYY-MM-DD by slicing; anything else is left to build_patient."""
    if len(text) == 10 and text[2] == "/" and text[5] == "/":
        return f"{text[6:]}-{text[3:5]}-{text[:2]}"
    return text


class CsvReader:
    """A delimited text file read row by row into canonical records.

    ``mapping`` (source column -> canonical field) comes from a plan; without it
    the headers are matched case- and accent-insensitively against
    ``LEGACY_ALIASES``. Several columns mapped to one field are joined by "\\n"
    (the two legacy comment columns). Specimen columns may hold several
    specimens as parallel "\\n"-joined lists (as ``write_canonical_csv`` writes).
    """

    def __init__(
        self,
        path: Path,
        *,
        format: str = "csv",
        mapping: Mapping[str, str] | None = None,
        encoding: str | None = None,
        delimiter: str | None = None,
    ) -> None:
        self.format = format
        self.path = path
        if mapping is not None:
            for source, target in mapping.items():
                if target not in FIELDS:
                    raise ConfigError("plan", "mapping", source, "unknown canonical field")
        self._text = TextSource(path, encoding, csv_lines=True)
        self.encoding = self._text.encoding
        self._lines = iter(self._text)
        header_line = self._first_line()
        self.delimiter = delimiter or max(_DELIMITERS, key=header_line.count)
        try:
            header = next(csv.reader([header_line], delimiter=self.delimiter))
        except (csv.Error, StopIteration):
            self._text.close()
            raise SourceError(f"{path.name}: line 1: unreadable header") from None
        self.columns: tuple[str, ...] = tuple(h.strip() for h in header)
        self._plan(mapping)

    def _first_line(self) -> str:
        for number, line in enumerate(self._lines, start=1):
            if isinstance(line, BadLine):
                self._text.close()
                raise SourceError(f"{self.path.name}: line {number} (header): {line.reason}")
            if line.strip():
                self._skipped = number
                return line
        self._text.close()
        raise SourceError(f"{self.path.name}: empty file (no header line)")

    def _plan(self, mapping: Mapping[str, str] | None) -> None:
        folded_mapping = (
            {fold_header(k): v for k, v in mapping.items()} if mapping is not None else None
        )
        refused: list[str] = []
        unmapped: list[str] = []
        targets: list[tuple[int, str]] = []
        seen_sources: set[str] = set()
        for index, column in enumerate(self.columns):
            folded = fold_header(column)
            if is_credential(column):
                refused.append(column)
                continue
            if mapping is not None and folded_mapping is not None:
                target = mapping.get(column) or folded_mapping.get(folded)
            else:
                target = LEGACY_ALIASES.get(folded)
            if target is None:
                unmapped.append(column)
                continue
            seen_sources.add(folded)
            targets.append((index, target))
        if not targets:
            self._text.close()
            raise SourceError(f"{self.path.name}: line 1: no column maps to a canonical field")
        self.refused: tuple[str, ...] = tuple(refused)
        self.unmapped: tuple[str, ...] = tuple(unmapped)
        self.missing: tuple[str, ...] = tuple(
            k for k in (mapping or {}) if fold_header(k) not in seen_sources
        )
        counts: dict[str, int] = {}
        for _, target in targets:
            counts[target] = counts.get(target, 0) + 1
        self._simple = [(i, t) for i, t in targets if counts[t] == 1 and t not in _DATES]
        self._dates = [(i, t) for i, t in targets if counts[t] == 1 and t in _DATES]
        self._joined: dict[str, list[int]] = {}
        for i, t in targets:
            if counts[t] > 1:
                self._joined.setdefault(t, []).append(i)
        self._has_specimens = any(t in SPECIMEN_FIELDS for _, t in targets)
        self._width = len(self.columns)

    def __iter__(self) -> Iterator[SourceRecord | SourceIssue]:
        bad: dict[int, str] = {}
        counter = [self._skipped]

        def lines() -> Iterator[str]:
            for line in self._lines:
                counter[0] += 1
                if isinstance(line, BadLine):
                    bad[counter[0]] = line.reason
                    yield "\n"
                else:
                    yield line

        reader = csv.reader(lines(), delimiter=self.delimiter)
        simple, dates, joined = self._simple, self._dates, self._joined
        width = self._width
        start = self._skipped + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error:
                yield SourceIssue(f"line {start}", None, "malformed CSV row")
                start = self._skipped + reader.line_num + 1
                continue
            location = f"line {start}"
            end = self._skipped + reader.line_num
            start = end + 1
            if bad:
                reasons = [bad.pop(n) for n in sorted(bad) if n <= end]
                if reasons:
                    yield SourceIssue(location, None, reasons[0])
                    continue
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != width:
                yield SourceIssue(location, None, f"{len(row)} fields instead of {width}")
                continue
            fields: dict[str, str] = {}
            for i, name in simple:
                value = row[i].strip(_BLANK)
                if value:
                    fields[name] = value
            for i, name in dates:
                value = row[i].strip(_BLANK)
                if value:
                    fields[name] = _iso(value)
            for name, indexes in joined.items():
                value = "\n".join(v for i in indexes if (v := row[i].strip(_BLANK)))
                if value:
                    fields[name] = value
            specimens: tuple[Mapping[str, str], ...] = ()
            if self._has_specimens:
                specimens = _split_specimens(fields)
            yield SourceRecord(location, fields, specimens)


def _split_specimens(fields: dict[str, str]) -> tuple[Mapping[str, str], ...]:
    """Pull the ``specimen.*`` columns out of ``fields`` into one mapping per specimen."""
    columns = {name: fields.pop(name).split("\n") for name in SPECIMEN_FIELDS if name in fields}
    count = max((len(v) for v in columns.values()), default=0)
    out = []
    for k in range(count):
        one = {name: values[k] for name, values in columns.items() if k < len(values) and values[k]}
        if one:
            out.append(one)
    return tuple(out)


def canonical_row(record: SourceRecord) -> list[str]:
    """The cells of a record in ``CANONICAL_COLUMNS`` order (specimens as parallel lists)."""
    cells = dict(record.fields)
    for name in SPECIMEN_FIELDS:
        values = [s.get(name, "") for s in record.specimens]
        if any(values):
            cells[name] = "\n".join(values)
    return [cells.get(name, "") for name in CANONICAL_COLUMNS]


def write_canonical_csv(records: Iterable[SourceRecord], path: Path) -> int:
    """Write records as UTF-8, comma-separated, canonical headers; return the row count."""
    with open_private(path, "w", newline="") as handle:
        return write_canonical_csv_to(records, handle)


def write_canonical_csv_to(records: Iterable[SourceRecord], handle: TextIO) -> int:
    """The same CSV into an open text stream (an export encrypts it before any disk)."""
    written = 0
    writer = csv.writer(handle, lineterminator="\r\n")
    writer.writerow(CANONICAL_COLUMNS)
    for record in records:
        writer.writerow(canonical_row(record))
        written += 1
    return written
