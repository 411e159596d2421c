"""HPRIM Santé 2.x: the French lab-result flat file (H, P, OBR, OBX, C, A, L records).

Delimiters come from the H line (``H|~^\\&|``: component ``~``, repetition ``^``,
escape ``\\``, subcomponent ``&``). Lines are at most 220 characters; an ``A``
record continues the record before it. Field numbers below follow the standard
(``P.1`` is the record type).

P record: P.4 lab patient id (dossier), P.5 NIR, P.6 name~first name~other first
names, P.7 birth name (when a used name is in P.6), P.8 birth date, P.9 sex
(M/F/U), P.11 addresses (line~~city~~postcode~country, repeated), P.13 phones,
P.14 treating physician (RPPS~name), P.15 e-mails, P.16 birthplace INSEE~identity
status, P.19 pathologies, P.20 treatments (name~ATC), P.22 AMO regime~caisse, P.23
AMC name~member number, P.24 last visit, P.26 lab. C records right after P are the
patient's comments. OBR and OBX are numbered as in HL7 (``OBR.1`` is the set id):
OBR.3 accession, OBR.7 collection time, OBR.15 specimen type, OBR.16 prescriber
(RPPS~name), OBR.21 collecting lab; OBX.3 code, OBX.5 value: blood group (LOINC
882-1) and pregnancy (82810-3) are read, other results are counted as unmapped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path

from etanche._files import open_private
from etanche.errors import SourceError
from etanche.exchange._convert import parse_datetime
from etanche.exchange._escape import HPRIM_DEFAULT, Delimiters, split_field
from etanche.exchange._model import SourceIssue, SourceRecord, safe_label
from etanche.exchange._source import WriterInput, iter_records
from etanche.exchange._text import BadLine, TextSource

__all__ = ["HprimReader", "write_hprim"]

LINE_LIMIT = 220
MAX_RECORD = 1 << 22  # a record and its A continuations
BLOOD_GROUP_CODES = frozenset({"882-1", "GRP", "GRSANG", "GROUPE", "ABORH", "GSRH"})
PREGNANCY_CODES = frozenset({"82810-3", "GROSS"})
# Highest field number each record may carry (P.35 and so on in HPRIM Santé 2.2).
_MAX_FIELDS = {"H": 14, "P": 36, "OBR": 45, "OBX": 20, "C": 6, "L": 6, "A": 1000}
_P_MAPPED = {
    "P.4": "dossier",
    "P.5": "nir",
    "P.6": "name",
    "P.7": "birth_name",
    "P.8": "birth_date",
    "P.9": "sex",
    "P.11": "address",
    "P.13": "phone",
    "P.14": "physician",
    "P.15": "email",
    "P.16": "birthplace_insee/identity_status",
    "P.19": "pathologies",
    "P.20": "treatments",
    "P.22": "amo",
    "P.23": "amc",
    "P.24": "last_visit",
    "P.26": "lab",
}
_OBR_MAPPED = {"OBR.3", "OBR.7", "OBR.15", "OBR.16", "OBR.21"}
_IGNORED = {"P.2", "P.3", "OBR.1", "OBR.2", "OBR.4", "OBR.5", "OBX.1", "OBX.2", "OBX.3"}


def _date8(text: str) -> str:
    """YYYYMMDD -> YYYY-MM-DD when it has that shape (else kept for build_patient to judge)."""
    if len(text) >= 8 and text[:8].isascii() and text[:8].isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:8]}"
    return text


def _datetime(text: str) -> str:
    try:
        return parse_datetime(text).isoformat()
    except ValueError:
        return text


class _Patient:
    def __init__(self, location: str) -> None:
        self.location = location
        self.fields: dict[str, str] = {}
        self.specimens: list[dict[str, str]] = []
        self.comments: list[str] = []
        self.broken = False
        self.in_results = False

    def record(self) -> SourceRecord:
        if self.comments:
            self.fields["comments"] = "\n".join(self.comments)
        return SourceRecord(self.location, self.fields, tuple(self.specimens))


class HprimReader:
    """Stream the patients of an HPRIM Santé file, one record per P record."""

    format = "hprim"

    def __init__(self, path: Path, *, encoding: str | None = None) -> None:
        self.path = path
        self._text = TextSource(path, encoding, csv_lines=False)
        self.encoding = self._text.encoding
        self._seen: set[str] = set()
        self._unmapped: set[str] = set()
        if self._text.empty:
            self._text.close()
            raise SourceError(f"{path.name}: empty file")

    @property
    def columns(self) -> tuple[str, ...]:
        """Record fields seen so far (complete once iteration ended)."""
        return tuple(sorted(self._seen, key=_field_order))

    refused: tuple[str, ...] = ()

    @property
    def unmapped(self) -> tuple[str, ...]:
        return tuple(sorted(self._unmapped, key=_field_order))

    def __iter__(self) -> Iterator[SourceRecord | SourceIssue]:
        d: Delimiters | None = None
        current: _Patient | None = None
        pending: tuple[int, str] | None = None
        number = 0
        for item in self._text:
            number += 1
            if isinstance(item, BadLine):
                yield SourceIssue(f"line {number}", None, item.reason)
                continue
            line = item.lstrip("\x0b").rstrip("\x1c")
            if not line.strip():
                continue
            if d is None and not (line.startswith("H") and len(line) > 1 and _sep(line[1])):
                raise SourceError(
                    f"{self.path.name}: line {number}: not an HPRIM file (no H record)"
                )
            if d is not None and pending is not None and line.startswith("A" + d.field):
                if len(pending[1]) + len(line) > MAX_RECORD:
                    yield SourceIssue(f"line {pending[0]}", None, "record too long")
                    if pending[1].startswith("P" + d.field):
                        if current is not None and not current.broken:
                            yield current.record()
                        current = _Patient(f"line {pending[0]}")
                    if current is not None:
                        current.broken = True
                    pending = None
                else:
                    pending = (pending[0], pending[1] + line[2:])
                continue
            if pending is not None:
                assert d is not None
                d, current, out = self._handle(pending, d, current)
                yield from out
            if line.startswith("H") and len(line) > 1 and _sep(line[1]):
                try:
                    d = Delimiters.parse(line[1], line[2:].split(line[1], 1)[0], HPRIM_DEFAULT)
                except ValueError:
                    if number == 1 or d is None:
                        raise SourceError(
                            f"{self.path.name}: line {number}: unreadable delimiters in H record"
                        ) from None
                    yield SourceIssue(f"line {number}", "H.2", "unreadable delimiters")
                pending = None
                continue
            pending = (number, line)
        if pending is not None and d is not None:
            d, current, out = self._handle(pending, d, current)
            yield from out
        if current is not None and not current.broken:
            yield current.record()

    def _handle(
        self, pending: tuple[int, str], d: Delimiters, current: _Patient | None
    ) -> tuple[Delimiters, _Patient | None, list[SourceRecord | SourceIssue]]:
        number, line = pending
        out: list[SourceRecord | SourceIssue] = []
        fields = line.split(d.field)
        kind = fields[0].strip().upper()
        known = kind in _MAX_FIELDS
        where = f"line {number} ({kind})" if known else f"line {number}"
        limit = _MAX_FIELDS.get(kind)
        if limit is None:
            out.append(SourceIssue(where, None, "unknown record type"))
            return d, current, out
        if len(fields) > limit:
            out.append(SourceIssue(where, None, f"{len(fields)} fields, at most {limit} expected"))
            if kind == "P":
                if current is not None and not current.broken:
                    out.append(current.record())
                current = _Patient(f"line {number}")
                current.broken = True
            return d, current, out
        if kind == "L":
            if current is not None and not current.broken:
                out.append(current.record())
            return d, None, out
        if kind == "P":
            if current is not None and not current.broken:
                out.append(current.record())
            current = _Patient(f"line {number}")
            self._patient(current, fields, d)
            return d, current, out
        if current is None:
            if kind != "H":
                out.append(SourceIssue(where, None, f"{kind} record outside a patient"))
            return d, current, out
        if current.broken:
            return d, current, out
        if kind == "OBR":
            self._obr(current, fields, d)
        elif kind == "OBX":
            self._obx(current, fields, d)
        elif kind == "C":
            text = d.unescape(fields[3]) if len(fields) > 3 else ""
            if current.in_results:
                self._unmapped.add("C (result comment)")
            elif text:
                current.comments.append(text)
            self._seen.add("C.4")
        return d, current, out

    def _note(self, kind: str, fields: list[str], mapped: Mapping[str, object] | set[str]) -> None:
        first = 1 if kind in ("OBR", "OBX") else 2  # HL7 numbering vs ASTM numbering
        for index, value in enumerate(fields[1:], start=first):
            if value:
                name = f"{kind}.{index}"
                self._seen.add(name)
                if name not in mapped and name not in _IGNORED:
                    self._unmapped.add(name)

    def _patient(self, p: _Patient, fields: list[str], d: Delimiters) -> None:
        self._note("P", fields, _P_MAPPED)
        fields = fields + [""] * (27 - len(fields))
        out = p.fields

        def put(name: str, value: str) -> None:
            if value:
                out[name] = value

        def comps(index: int) -> list[list[str]]:
            return split_field(fields[index - 1], d) if fields[index - 1] else []

        put("dossier", d.unescape(fields[3]))
        put("nir", d.unescape(fields[4]).replace(" ", ""))
        name = (comps(6) or [[]])[0] + ["", "", ""]
        birth = d.unescape(fields[6])
        if birth:
            put("birth_name", birth)
            put("used_name", name[0])
        else:
            put("birth_name", name[0])
        put("first_names", " ".join(n for n in name[1:3] if n))
        put("birth_date", _date8(d.unescape(fields[7])))
        sex = d.unescape(fields[8]).upper()
        put("sex", "I" if sex == "U" else sex)
        addresses = [a + [""] * 6 for a in comps(11) if any(a)]
        if addresses:
            for key, k in (("address_line", 0), ("city", 2), ("postcode", 4), ("country", 5)):
                put(key, "\n".join(a[k] for a in addresses))
        put("phone", "\n".join(r[0] for r in comps(13) if r[0]))
        doctor = (comps(14) or [[]])[0] + ["", ""]
        put("physician_rpps", doctor[0])
        put("physician_name", doctor[1])
        put("email", "\n".join(r[0] for r in comps(15) if r[0]))
        place = (comps(16) or [[]])[0] + ["", ""]
        put("birthplace_insee", place[0])
        put("identity_status", place[1])
        put("pathologies", "\n".join(r[0] for r in comps(19) if r[0]))
        put("treatments", "\n".join(f"{r[0]}|{r[1]}" for r in comps(20) if len(r) > 1))
        amo = (comps(22) or [[]])[0] + ["", ""]
        put("amo_regime", amo[0])
        put("amo_caisse", amo[1])
        amc = (comps(23) or [[]])[0] + ["", ""]
        put("amc_name", amc[0])
        put("amc_member_number", amc[1])
        put("last_visit", _date8(d.unescape(fields[23])))
        put("lab", d.unescape(fields[25]))

    def _obr(self, p: _Patient, fields: list[str], d: Delimiters) -> None:
        self._note("OBR", fields, _OBR_MAPPED)
        p.in_results = True
        fields = fields + [""] * (23 - len(fields))
        spec: dict[str, str] = {}

        def put(name: str, value: str) -> None:
            if value:
                spec[name] = value

        accession = next((c for c in split_field(fields[3], d)[0] if c), "")
        put("specimen.accession", accession)
        put("specimen.collected_at", _datetime(d.unescape(fields[7])))
        put("specimen.type", d.unescape(fields[15]))
        doctor = split_field(fields[16], d)[0] + ["", ""]
        put("specimen.prescriber_rpps", doctor[0])
        put("specimen.prescriber_name", doctor[1])
        put("specimen.lab", d.unescape(fields[21]))
        p.specimens.append(spec)

    def _obx(self, p: _Patient, fields: list[str], d: Delimiters) -> None:
        p.in_results = True
        fields = fields + [""] * (6 - len(fields))
        code = split_field(fields[3], d)[0][0].strip().upper()
        value = d.unescape(fields[5]).strip()
        self._seen.add("OBX.5")
        if code in BLOOD_GROUP_CODES:
            if value:
                p.fields["blood_group"] = value
        elif code in PREGNANCY_CODES:
            if value:
                p.fields["pregnant"] = {"Y": "yes", "N": "no"}.get(value.upper(), value)
        else:
            self._unmapped.add(f"OBX {safe_label(code, '(other)')}")


def _sep(ch: str) -> bool:
    return not ch.isalnum() and not ch.isspace()


def _field_order(name: str) -> tuple[str, int]:
    kind, _, rest = name.partition(".")
    return (kind, int(rest) if rest.isdigit() else 0)


# ------------------------------------------------------------------------ writer


class _Line:
    """Builds one record with escaped values; empty trailing fields are dropped."""

    def __init__(self, d: Delimiters, charset: str) -> None:
        self.d = d
        self.charset = charset

    def esc(self, value: str) -> str:
        return self.d.escape_text(value, self.charset)

    def comp(self, *parts: str) -> str:
        text = self.d.component.join(self.esc(p) for p in parts)
        return "" if not text.strip(self.d.component) else text

    def reps(self, values: list[str]) -> str:
        return self.d.repetition.join(values)

    def record(self, kind: str, fields: dict[int, str]) -> str:
        """``fields`` keyed by field number: ASTM style (P.1 is the type), HL7 for OBR/OBX."""
        first = 1 if kind in ("OBR", "OBX") else 2
        top = max((i for i, v in fields.items() if v), default=first - 1)
        cells = [kind] + [fields.get(i, "") for i in range(first, top + 1)]
        return self.d.field.join(cells)


def _split_long(line: str, field: str) -> list[str]:
    """A record longer than 220 characters continues in A records."""
    if len(line) <= LINE_LIMIT:
        return [line]
    out = [line[:LINE_LIMIT]]
    rest = line[LINE_LIMIT:]
    step = LINE_LIMIT - 2
    out += ["A" + field + rest[i : i + step] for i in range(0, len(rest), step)]
    return out


def _hprim_date(iso: str | None) -> str:
    return iso.replace("-", "") if iso else ""


def _hprim_datetime(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return parse_datetime(iso).strftime("%Y%m%d%H%M%S")
    except ValueError:
        return iso


def _lines(value: str | None) -> list[str]:
    return value.split("\n") if value else []


def _patient_lines(w: _Line, rank: int, f: Mapping[str, str]) -> list[str]:
    birth, used = f.get("birth_name", ""), f.get("used_name", "")
    firsts = [*f.get("first_names", "").split(" ", 1), ""]
    lines_, posts, cities, countries = (
        _lines(f.get(k)) for k in ("address_line", "postcode", "city", "country")
    )
    count = max(len(lines_), len(posts), len(cities))
    addresses = []
    for i in range(count):
        a = [v[i] if i < len(v) else "" for v in (lines_, posts, cities, countries)]
        addresses.append(w.comp(a[0], "", a[2], "", a[1], a[3]))
    sex = f.get("sex", "")
    fields = {
        2: str(rank),
        4: w.esc(f.get("dossier", "")),
        5: w.esc(f.get("nir", "")),
        6: w.comp(used or birth, firsts[0], firsts[1]),
        7: w.esc(birth if used else ""),
        8: _hprim_date(f.get("birth_date")),
        9: "U" if sex == "I" else w.esc(sex),
        11: w.reps(addresses),
        13: w.reps([w.esc(p) for p in _lines(f.get("phone"))]),
        14: w.comp(f.get("physician_rpps", ""), f.get("physician_name", "")),
        15: w.reps([w.esc(e) for e in _lines(f.get("email"))]),
        16: w.comp(f.get("birthplace_insee", ""), f.get("identity_status", "")),
        19: w.reps([w.esc(x) for x in _lines(f.get("pathologies"))]),
        20: w.reps([w.comp(*t.rpartition("|")[::2]) for t in _lines(f.get("treatments"))]),
        22: w.comp(f.get("amo_regime", ""), f.get("amo_caisse", "")),
        23: w.comp(f.get("amc_name", ""), f.get("amc_member_number", "")),
        24: _hprim_date(f.get("last_visit")),
        26: w.esc(f.get("lab", "")),
    }
    out = [w.record("P", fields)]
    for k, comment in enumerate(_lines(f.get("comments")), start=1):
        out.append(w.record("C", {2: str(k), 3: "L", 4: w.esc(comment), 5: "G"}))
    return out


def _observations(w: _Line, f: Mapping[str, str]) -> list[str]:
    out = []
    if group := f.get("blood_group"):
        code = w.comp("882-1", "Groupe sanguin ABO RH", "LN")
        out.append(w.record("OBX", {1: "1", 2: "CE", 3: code, 5: w.esc(group), 11: "F"}))
    if pregnant := f.get("pregnant"):
        value = {"yes": "Y", "no": "N"}.get(pregnant, pregnant)
        code = w.comp("82810-3", "Grossesse", "LN")
        out.append(w.record("OBX", {1: "2", 2: "CE", 3: code, 5: w.esc(value), 11: "F"}))
    return out


def _obr(w: _Line, rank: int, s: Mapping[str, str]) -> str:
    fields = {
        1: str(rank),
        3: w.esc(s.get("specimen.accession", "")),
        7: _hprim_datetime(s.get("specimen.collected_at")),
        15: w.esc(s.get("specimen.type", "")),
        16: w.comp(s.get("specimen.prescriber_rpps", ""), s.get("specimen.prescriber_name", "")),
        21: w.esc(s.get("specimen.lab", "")),
    }
    return w.record("OBR", fields)


def write_hprim(
    source: WriterInput,
    path: Path,
    *,
    delimiters: Delimiters = HPRIM_DEFAULT,
    encoding: str = "iso-8859-1",
    sender: str = "ETANCHE",
) -> int:
    """Write an HPRIM Santé 2.2 result file; return the number of patients.

    ISO 8859-1 by default (HPRIM's usual charset); characters it cannot hold are
    written as ``\\X<UTF-8 hex>\\`` escapes, so nothing is lost.
    """
    w = _Line(delimiters, encoding)
    d = delimiters
    written = 0
    stamp = datetime.now().strftime("%Y%m%d%H%M%S")
    header = d.field.join(
        [
            "H",
            d.encoding_chars,
            w.esc(path.name),
            "",
            w.comp(sender),
            "",
            "ORU",
            "",
            "",
            "",
            "",
            "",
            "P",
            w.comp("H2.2", "C"),
            stamp,
        ]
    )
    with open_private(path, "w", encoding=encoding, newline="") as handle:
        handle.write(header + "\r\n")
        for _, record in iter_records(source):
            written += 1
            lines = _patient_lines(w, written, record.fields)
            observations = _observations(w, record.fields)
            if not record.specimens:
                lines += observations
            for k, spec in enumerate(record.specimens, start=1):
                lines.append(_obr(w, k, spec))
                if k == 1:
                    lines += observations
            for line in lines:
                for part in _split_long(line, d.field):
                    handle.write(part + "\r\n")
        handle.write(f"L{d.field}1\r\n")
    return written
