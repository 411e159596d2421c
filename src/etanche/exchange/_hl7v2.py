"""HL7 v2.5: ADT^A04/A08 (identity, contacts, insurance) and ORU^R01 (specimens, results).

Parsing is python-hl7's (``hl7.parse``: delimiters from MSH-2); we only walk its
tree and unescape leaves. One patient = one ADT message and the ORU messages
that follow it with the same PID-3; an ORU alone also makes a patient. Files
may hold CR, LF or CRLF segment ends and MLLP framing characters.

Mapping (French INS profile): PID-3 identifiers (type PI: dossier, assigning
authority = lab; type INS with OID 1.2.250.1.213.1.4.8/.9/.10/.11: NIR or NIA), PID-5 names
(type L: birth name, D: used name; IHE PAM FR: XPN-2 the first birth first name,
XPN-3 the full list of birth first names; plain HL7: XPN-3 further given names),
PID-7 birth date, PID-8 sex, PID-11 addresses (type BDL: birthplace INSEE code in
XAD-9), PID-13 phones and e-mails (NET/Internet), PID-32 identity reliability (the
RNIV status among its repetitions),
PD1-4 treating physician (RPPS^name), PV1-44 last visit, IN1 AMO (IN1-3
regime^caisse) and AMC (IN1-4 name, IN1-36 member number), DG1-4 pathologies, OBX
882-1 blood group, 82810-3 pregnancy, 10160-0 treatments (ATC^name), 48767-8
comments; ORU: MSH-4 collecting lab, OBR-3 accession, OBR-7 collection time,
OBR-15 specimen type, OBR-16 prescriber (RPPS^name).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import hl7

from etanche._files import open_private
from etanche.errors import SourceError
from etanche.exchange._convert import parse_datetime
from etanche.exchange._escape import HL7_DEFAULT, Delimiters
from etanche.exchange._model import SourceIssue, SourceRecord, safe_label
from etanche.exchange._source import WriterInput, iter_records
from etanche.exchange._text import BadLine, TextSource

__all__ = ["INS_OIDS", "Hl7Reader", "birth_first_names", "identity_status", "write_hl7v2"]

# INS-NIR, INS-NIA, and the demonstration and test INS-NIR authorities.
INS_OIDS = frozenset(
    {"1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11"}
)
INS_NIR_AUTHORITY = "ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.8&ISO"
IDENTITY_STATUSES = frozenset({"PROV", "RECUP", "VALI", "QUAL"})
# Table 0445 codes of PAM FR that qualify an identity without being its status.
IDENTITY_ATTRIBUTES = frozenset(
    {"DOUB", "DESA", "DPOT", "DOUA", "COLP", "COLV", "FILI", "CACH", "ANOM", "IDVER"}
    | {"RECD", "IDRA", "USUR", "HOMD", "HOMA", "INVA", "FICT", "DOUT"}
)
MAX_SEGMENTS = 5_000
MAX_MESSAGE_CHARS = 1 << 22
MAX_DELIMITERS = 20_000
LOINC_BLOOD_GROUP = "882-1"
LOINC_PREGNANCY = "82810-3"
LOINC_MEDICATION = "10160-0"
LOINC_COMMENT = "48767-8"
_ADMIN_EVENTS = frozenset({"A01", "A04", "A05", "A08", "A28", "A31"})
_MAPPED = frozenset(
    {
        "MSH.4",
        "PID.3",
        "PID.5",
        "PID.7",
        "PID.8",
        "PID.11",
        "PID.13",
        "PID.32",
        "PD1.4",
        "PV1.44",
        "IN1.2",
        "IN1.3",
        "IN1.4",
        "IN1.36",
        "DG1.4",
        "OBX.3",
        "OBX.5",
        "OBR.3",
        "OBR.7",
        "OBR.15",
        "OBR.16",
    }
)
_IGNORED = frozenset({"MSH", "EVN", "PV1", "ORC", "SPM", "PV2", "FHS", "BHS", "BTS", "FTS"})
# Set ids, value types and status flags: structure, not data.
_STRUCTURAL = frozenset(
    {"PID.1", "OBR.1", "OBR.4", "OBX.1", "OBX.2", "OBX.11", "DG1.1", "IN1.1", "PD1.1"}
)

# A field as nested lists: repetitions -> components -> subcomponents (still escaped).
Field = list[list[list[str]]]


def _tree(node: Any, depth: int) -> Any:
    """python-hl7 nests containers only where separators occur: make the depth regular."""
    if isinstance(node, str):
        out: Any = node
        for _ in range(depth):
            out = [out]
        return out
    if depth == 0:
        return str(node)
    return [_tree(child, depth - 1) for child in node]


class _Msg:
    """Accessors over one parsed message; every missing part reads as ""."""

    def __init__(self, parsed: Any, d: Delimiters) -> None:
        self.d = d
        self._parsed = parsed
        self.names = [str(segment[0]).strip().upper() for segment in parsed]

    def all(self, name: str) -> list[list[Field]]:
        """Segments called ``name``, as regular trees (built only for segments we read)."""
        return [
            [_tree(f, 3) for f in segment]
            for seg, segment in zip(self.names, self._parsed, strict=True)
            if seg == name
        ]

    def first(self, name: str) -> list[Field] | None:
        found = self.all(name)
        return found[0] if found else None

    def reps(self, fields: list[Field] | None, index: int) -> list[list[str]]:
        """Repetitions of a field as component lists, unescaped (subcomponents joined)."""
        if fields is None or index >= len(fields):
            return []
        sub = self.d.subcomponent
        return [[self.d.unescape(sub.join(c)) for c in rep] for rep in fields[index] if rep]

    def comp(self, fields: list[Field] | None, index: int, comp: int = 0, rep: int = 0) -> str:
        reps = self.reps(fields, index)
        if rep < len(reps) and comp < len(reps[rep]):
            return reps[rep][comp]
        return ""

    def sub(self, fields: list[Field] | None, index: int, rep: int, comp: int, sub: int) -> str:
        if fields is None or index >= len(fields):
            return ""
        try:
            return self.d.unescape(fields[index][rep][comp][sub])
        except IndexError:
            return ""


def _date8(text: str) -> str:
    if len(text) >= 8 and text[:8].isascii() and text[:8].isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:8]}"
    return text


def _datetime(text: str) -> str:
    try:
        return parse_datetime(text).isoformat()
    except ValueError:
        return text


class _Patient:
    def __init__(self, location: str, key: str) -> None:
        self.location = location
        self.key = key
        self.fields: dict[str, str] = {}
        self.specimens: list[dict[str, str]] = []
        self.lists: dict[str, list[str]] = {}

    def add(self, name: str, value: str) -> None:
        if value:
            self.lists.setdefault(name, []).append(value)

    def record(self) -> SourceRecord:
        for name, values in self.lists.items():
            self.fields[name] = "\n".join(values)
        return SourceRecord(self.location, self.fields, tuple(self.specimens))


class Hl7Reader:
    """Stream the patients of a file of HL7 v2 messages."""

    format = "hl7v2"
    refused: tuple[str, ...] = ()

    def __init__(self, path: Path, *, encoding: str | None = None) -> None:
        self.path = path
        self._text = TextSource(path, encoding, csv_lines=False)
        self.encoding = self._text.encoding
        if self._text.empty:
            self._text.close()
            raise SourceError(f"{path.name}: empty file")
        self._seen: set[str] = set()
        self._unmapped: set[str] = set()

    @property
    def columns(self) -> tuple[str, ...]:
        """Segment fields seen so far (complete once iteration ended)."""
        return tuple(sorted(self._seen))

    @property
    def unmapped(self) -> tuple[str, ...]:
        return tuple(sorted(self._unmapped))

    def _messages(self) -> Iterator[tuple[int, list[str] | SourceIssue]]:
        """(message number, segments) or issues for lines outside any message."""
        number = 0
        segments: list[str] = []
        size = 0
        overflow = False
        any_message = False
        line_no = 0
        for item in self._text:
            line_no += 1
            if isinstance(item, BadLine):
                yield number, SourceIssue(f"line {line_no}", None, item.reason)
                continue
            line = item.strip("\x0b\x1c \t")
            if not line:
                continue
            if line.startswith("MSH"):
                if segments:
                    yield number, segments
                number += 1
                any_message = True
                segments, size, overflow = [line], len(line), False
                continue
            if line[:3] in ("FHS", "BHS", "BTS", "FTS"):
                continue
            if not segments:
                if not any_message and line_no > 20:
                    raise SourceError(f"{self.path.name}: no MSH segment in the first lines")
                if not overflow:
                    yield number, SourceIssue(f"line {line_no}", None, "segment outside a message")
                continue
            size += len(line)
            if len(segments) >= MAX_SEGMENTS or size > MAX_MESSAGE_CHARS:
                yield number, SourceIssue(f"message {number}", None, "message too large")
                segments, overflow = [], True
                continue
            segments.append(line)
        if segments:
            yield number, segments
        if not any_message:
            raise SourceError(f"{self.path.name}: no HL7 v2 message (MSH segment) found")

    def __iter__(self) -> Iterator[SourceRecord | SourceIssue]:
        current: _Patient | None = None
        for number, item in self._messages():
            if isinstance(item, SourceIssue):
                yield item
                continue
            where = f"message {number}"
            msg, issue = self._parse(item, where)
            if msg is None:
                yield issue or SourceIssue(where, None, "malformed message")
                continue
            kind = msg.comp(msg.first("MSH"), 9, 0).upper()
            event = msg.comp(msg.first("MSH"), 9, 1).upper()
            pid = msg.first("PID")
            if pid is None:
                yield SourceIssue(f"{where} (PID)", None, "no PID segment")
                continue
            key = "~".join("^".join(r) for r in msg.reps(pid, 3))
            if kind == "ADT" and event in _ADMIN_EVENTS:
                if current is not None:
                    yield current.record()
                current = _Patient(where, key)
                self._admin(msg, current)
            elif kind == "ORU":
                if current is None or current.key != key:
                    if current is not None:
                        yield current.record()
                    current = _Patient(where, key)
                    self._identity(msg, current, pid)
                self._results(msg, current)
            else:
                yield SourceIssue(f"{where} (MSH)", "MSH.9", "unsupported message type")
        if current is not None:
            yield current.record()

    def _parse(self, segments: list[str], where: str) -> tuple[_Msg | None, SourceIssue | None]:
        head = segments[0]
        if len(head) < 8:
            return None, SourceIssue(f"{where} (MSH)", "MSH.2", "truncated MSH segment")
        sep = head[3]
        try:
            d = Delimiters.parse(sep, head[4:].split(sep, 1)[0], HL7_DEFAULT)
        except ValueError:
            return None, SourceIssue(f"{where} (MSH)", "MSH.2", "unreadable delimiters")
        text = "\r".join(segments)
        if sum(text.count(c) for c in (sep, *d.encoding_chars)) > MAX_DELIMITERS:
            # python-hl7 builds one container per element: bound the work per message.
            return None, SourceIssue(where, None, "message too complex")
        try:
            parsed = hl7.parse(text)
            msg = _Msg(parsed, d)
        except Exception:  # python-hl7 raises many kinds on malformed input
            return None, SourceIssue(f"{where} (MSH)", None, "malformed message")
        for raw in segments:
            cells = raw.split(sep)
            name = safe_label(cells[0].strip().upper()[:3], "???")
            blank = set(d.encoding_chars) | {" "}
            for index in range(1, len(cells)):
                if cells[index] and not set(cells[index]) <= blank:
                    label = f"{name}.{index + 1 if name == 'MSH' else index}"
                    if label in self._seen:
                        continue
                    self._seen.add(label)
                    if label not in _MAPPED | _STRUCTURAL and name not in _IGNORED:
                        self._unmapped.add(label)
        return msg, None

    def _identity(self, m: _Msg, p: _Patient, pid: list[Field]) -> None:
        f = p.fields
        for rep_index, rep in enumerate(m.reps(pid, 3)):
            rep = rep + [""] * 5
            oid = m.sub(pid, 3, rep_index, 3, 1)
            if rep[4].upper() in ("INS", "NH") or oid in INS_OIDS:
                if rep[0] and "nir" not in f:
                    f["nir"] = rep[0].replace(" ", "")
            elif rep[0] and "dossier" not in f:
                f["dossier"] = rep[0]
                lab = m.sub(pid, 3, rep_index, 3, 0)
                if lab:
                    f["lab"] = lab
        birth = used = None
        for rep in m.reps(pid, 5):
            rep = rep + [""] * 7
            kind = rep[6].upper()
            if kind == "D" and used is None:
                used = rep
            elif birth is None and kind in ("L", ""):
                birth = rep
        if birth is None:
            birth, used = used, None
        if birth is not None:
            _put(f, "birth_name", birth[0])
            _put(f, "first_names", birth_first_names(birth[1], birth[2]))
        if used is not None:
            _put(f, "used_name", used[0])
        _put(f, "birth_date", _date8(m.comp(pid, 7)))
        sex = m.comp(pid, 8).upper()
        _put(f, "sex", "I" if sex in ("U", "O", "A", "N") else sex)

    def _admin(self, m: _Msg, p: _Patient) -> None:
        pid = m.first("PID")
        assert pid is not None
        self._identity(m, p, pid)
        f = p.fields
        if "lab" not in f:
            _put(f, "lab", m.comp(m.first("MSH"), 4))
        addresses = []
        for rep in m.reps(pid, 11):
            rep = rep + [""] * 9
            if rep[6].upper() == "BDL":
                _put(f, "birthplace_insee", rep[8])
            else:
                addresses.append(rep)
        for name, k in (("address_line", 0), ("city", 2), ("postcode", 4), ("country", 5)):
            if any(a[k] for a in addresses):
                f[name] = "\n".join(a[k] for a in addresses)
        for rep in m.reps(pid, 13):
            rep = rep + [""] * 12
            if rep[1].upper() == "NET" or rep[2].upper() == "INTERNET":
                p.add("email", rep[3])
            else:
                p.add("phone", rep[0] or rep[11])
        _put(f, "identity_status", identity_status(r[0] for r in m.reps(pid, 32) if r))
        pd1 = m.first("PD1")
        _put(f, "physician_rpps", m.comp(pd1, 4, 0))
        _put(f, "physician_name", m.comp(pd1, 4, 1))
        _put(f, "last_visit", _date8(m.comp(m.first("PV1"), 44)))
        for in1 in m.all("IN1"):
            plan = m.comp(in1, 2).upper()
            if plan == "AMO":
                _put(f, "amo_regime", m.comp(in1, 3, 0))
                _put(f, "amo_caisse", m.comp(in1, 3, 1))
            elif plan == "AMC":
                _put(f, "amc_name", m.comp(in1, 4))
                _put(f, "amc_member_number", m.comp(in1, 36))
        for dg1 in m.all("DG1"):
            p.add("pathologies", m.comp(dg1, 4))
        for obx in m.all("OBX"):
            self._observation(m, p, obx)

    def _observation(self, m: _Msg, p: _Patient, obx: list[Field]) -> None:
        code = m.comp(obx, 3).strip().upper()
        value = m.comp(obx, 5)
        if code == LOINC_BLOOD_GROUP:
            _put(p.fields, "blood_group", value.strip())
        elif code == LOINC_PREGNANCY:
            answer = value.strip().upper()
            _put(p.fields, "pregnant", {"Y": "yes", "N": "no"}.get(answer, value))
        elif code == LOINC_MEDICATION:
            atc, name = m.comp(obx, 5, 0), m.comp(obx, 5, 1)
            if atc or name:
                p.add("treatments", f"{name}|{atc}")
        elif code == LOINC_COMMENT:
            p.add("comments", value)
        elif code:
            self._unmapped.add(f"OBX {safe_label(code, '(other)')}")

    def _results(self, m: _Msg, p: _Patient) -> None:
        lab = m.comp(m.first("MSH"), 4)
        for obr in m.all("OBR"):
            spec: dict[str, str] = {}
            _put(spec, "specimen.accession", m.comp(obr, 3))
            _put(spec, "specimen.collected_at", _datetime(m.comp(obr, 7)))
            _put(spec, "specimen.type", m.comp(obr, 15))
            _put(spec, "specimen.prescriber_rpps", m.comp(obr, 16, 0))
            _put(spec, "specimen.prescriber_name", m.comp(obr, 16, 1))
            _put(spec, "specimen.lab", lab)
            p.specimens.append(spec)
        for obx in m.all("OBX"):
            self._observation(m, p, obx)


def _put(out: dict[str, str], name: str, value: str) -> None:
    if value:
        out[name] = value


def _fold(text: str) -> str:
    """Case- and accent-free, spaces collapsed: how two spellings of a name compare."""
    bare = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in bare if not unicodedata.combining(c)).casefold().split())


def birth_first_names(first: str, others: str) -> str:
    """The birth first names of an XPN of type L, under either convention.

    IHE PAM FR (the INS convention) puts the first birth first name in XPN-2 and
    the full list, that first one included, in XPN-3 ("Hélène^Hélène Marie"):
    when XPN-3 starts with XPN-2 it is the whole list. Otherwise XPN-3 holds the
    further given names of plain HL7 v2 and is appended ("Jean^Pierre").
    """
    first, others = " ".join(first.split()), " ".join(others.split())
    if not others:
        return first
    if not first:
        return others
    head, listed = _fold(first), _fold(others)
    if listed == head or listed.startswith(head + " "):
        return others
    return f"{first} {others}"


def identity_status(codes: Iterable[str]) -> str:
    """The RNIV status among PID-32's repetitions (PAM FR table 0445).

    PID-32 may repeat: a status (PROV, RECUP, VALI, QUAL; VIDE: none yet) beside
    identity attributes (DOUT doubtful, FICT fictitious, HOMD homonym...), which
    are not statuses. An unknown code is returned as it is, for the record's
    validation to name.
    """
    unknown = ""
    for raw in codes:
        code = raw.strip().upper()
        if code in IDENTITY_STATUSES:
            return code
        if code and code != "VIDE" and code not in IDENTITY_ATTRIBUTES and not unknown:
            unknown = code
    return unknown


# ------------------------------------------------------------------------ writer


def _lines(value: str | None) -> list[str]:
    return value.split("\n") if value else []


class _Writer:
    def __init__(self, d: Delimiters) -> None:
        self.d = d

    def e(self, value: str) -> str:
        return self.d.escape_text(value)

    def comps(self, *parts: str) -> str:
        return self.d.component.join(self.e(p) for p in parts).rstrip(self.d.component)

    def reps(self, values: Sequence[str]) -> str:
        return self.d.repetition.join(values)

    def segment(self, name: str, fields: dict[int, str]) -> str:
        top = max((i for i, v in fields.items() if v), default=0)
        return self.d.field.join([name] + [fields.get(i, "") for i in range(1, top + 1)])

    def msh(self, lab: str, kind: str, control: str, stamp: str) -> str:
        d = self.d
        fields = [
            "MSH",
            d.encoding_chars,
            "ETANCHE",
            self.e(lab),
            "",
            "",
            stamp,
            "",
            kind,
            control,
            "P",
            "2.5",
            "",
            "",
            "",
            "",
            "FRA",
            "UNICODE UTF-8",
        ]
        return d.field.join(fields)

    def identifiers(self, f: dict[str, str]) -> str:
        reps = []
        if dossier := f.get("dossier"):
            reps.append(self.comps(dossier, "", "", f.get("lab", ""), "PI"))
        if nir := f.get("nir"):
            c = self.d.component
            reps.append(
                f"{self.e(nir)}{c}{c}{c}{INS_NIR_AUTHORITY.replace('&', self.d.subcomponent)}{c}INS"
            )
        return self.reps(reps)

    def names(self, f: dict[str, str]) -> str:
        """IHE PAM FR: XPN-2 the first birth first name, XPN-3 the whole list."""
        listed = " ".join(f.get("first_names", "").split())
        first = listed.split(" ", 1)[0]
        reps = [self.comps(f.get("birth_name", ""), first, listed, "", "", "", "L")]
        if used := f.get("used_name"):
            reps.append(self.comps(used, first, "", "", "", "", "D"))
        return self.reps(reps)

    def pid(self, f: dict[str, str], full: bool) -> str:
        fields = {1: "1", 3: self.identifiers(f), 5: self.names(f)}
        fields[7] = f.get("birth_date", "").replace("-", "")
        sex = f.get("sex", "")
        fields[8] = "U" if sex == "I" else self.e(sex)
        if full:
            parts = [_lines(f.get(k)) for k in ("address_line", "postcode", "city", "country")]
            count = max(len(v) for v in parts[:3])
            addresses = []
            for i in range(count):
                a = [v[i] if i < len(v) else "" for v in parts]
                addresses.append(self.comps(a[0], "", a[2], "", a[1], a[3], "H"))
            if place := f.get("birthplace_insee"):
                addresses.append(self.comps("", "", "", "", "", "", "BDL", "", place))
            fields[11] = self.reps(addresses)
            phones = [self.comps(p, "PRN", "PH") for p in _lines(f.get("phone"))]
            phones += [self.comps("", "NET", "Internet", m) for m in _lines(f.get("email"))]
            fields[13] = self.reps(phones)
            fields[32] = self.e(f.get("identity_status", ""))
        return self.segment("PID", fields)


def _stamp(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return parse_datetime(iso).strftime("%Y%m%d%H%M%S")
    except ValueError:
        return ""


def _obx(w: _Writer, n: int, kind: str, code: tuple[str, str], value: str) -> str:
    return w.segment(
        "OBX", {1: str(n), 2: kind, 3: w.comps(code[0], code[1], "LN"), 5: value, 11: "F"}
    )


def _adt(w: _Writer, f: dict[str, str], control: str, stamp: str, blood: bool) -> list[str]:
    lab = f.get("lab", "")
    out = [w.msh(lab, w.comps("ADT", "A04", "ADT_A01"), control, stamp)]
    out.append(w.segment("EVN", {2: stamp}))
    out.append(w.pid(f, full=True))
    if f.get("physician_rpps") or f.get("physician_name"):
        doctor = w.comps(f.get("physician_rpps", ""), f.get("physician_name", ""))
        out.append(w.segment("PD1", {4: doctor}))
    out.append(w.segment("PV1", {1: "1", 2: "O", 44: _stamp(f.get("last_visit"))[:8]}))
    obx: list[tuple[str, tuple[str, str], str]] = []
    if blood and (group := f.get("blood_group")):
        obx.append(("ST", (LOINC_BLOOD_GROUP, "Groupe sanguin ABO RH"), w.e(group)))
    if pregnant := f.get("pregnant"):
        answer = {"yes": "Y", "no": "N"}.get(pregnant, pregnant)
        obx.append(("CWE", (LOINC_PREGNANCY, "Grossesse"), w.e(answer)))
    for line in _lines(f.get("treatments")):
        name, _, atc = line.rpartition("|")
        obx.append(("CWE", (LOINC_MEDICATION, "Traitement"), w.comps(atc, name, "WHOATC")))
    for comment in _lines(f.get("comments")):
        obx.append(("TX", (LOINC_COMMENT, "Commentaire"), w.e(comment)))
    out += [_obx(w, n, *item) for n, item in enumerate(obx, start=1)]
    for n, text in enumerate(_lines(f.get("pathologies")), start=1):
        out.append(w.segment("DG1", {1: str(n), 4: w.e(text)}))
    if f.get("amo_regime") or f.get("amo_caisse"):
        company = w.comps(f.get("amo_regime", ""), f.get("amo_caisse", ""))
        out.append(w.segment("IN1", {1: "1", 2: "AMO", 3: company}))
    if f.get("amc_name") or f.get("amc_member_number"):
        fields = {1: "2", 2: "AMC", 4: w.e(f.get("amc_name", ""))}
        fields[36] = w.e(f.get("amc_member_number", ""))
        out.append(w.segment("IN1", fields))
    return out


def _oru(
    w: _Writer, f: dict[str, str], s: dict[str, str], control: str, stamp: str, blood: bool
) -> list[str]:
    lab = s.get("specimen.lab") or f.get("lab", "")
    out = [w.msh(lab, w.comps("ORU", "R01", "ORU_R01"), control, stamp), w.pid(f, full=False)]
    doctor = w.comps(s.get("specimen.prescriber_rpps", ""), s.get("specimen.prescriber_name", ""))
    fields = {1: "1", 3: w.e(s.get("specimen.accession", ""))}
    fields[4] = w.comps("BIO", "Analyses de biologie")
    fields[7] = _stamp(s.get("specimen.collected_at"))
    fields[15] = w.e(s.get("specimen.type", ""))
    fields[16] = doctor
    out.append(w.segment("OBR", fields))
    if blood and (group := f.get("blood_group")):
        code = (LOINC_BLOOD_GROUP, "Groupe sanguin ABO RH")
        out.append(_obx(w, 1, "ST", code, w.e(group)))
    return out


def write_hl7v2(source: WriterInput, path: Path, *, delimiters: Delimiters = HL7_DEFAULT) -> int:
    """Write one ADT^A04 per patient then one ORU^R01 per specimen; return patients.

    UTF-8 (MSH-18 "UNICODE UTF-8"), segments ended by CR. The blood group travels
    in the first ORU's OBX (in the ADT when the patient has no specimen).
    """
    written = 0
    control = 0
    stamp = datetime.now().strftime("%Y%m%d%H%M%S")
    w = _Writer(delimiters)
    with open_private(path, "w", newline="") as handle:
        for _, record in iter_records(source):
            written += 1
            fields = dict(record.fields)
            control += 1
            segments = _adt(w, fields, f"E{control}", stamp, blood=not record.specimens)
            for k, spec in enumerate(record.specimens):
                control += 1
                segments += _oru(w, fields, dict(spec), f"E{control}", stamp, blood=k == 0)
            handle.write("\r".join(segments) + "\r")
    return written
