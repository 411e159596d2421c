"""FHIR R4 as a source: a Bundle (JSON, parsed whole) or NDJSON of resources (streamed).

Plain msgspec decoding: fhir.resources validation costs too much per record
(tests use it on our writer's output instead). A patient's resources follow its
Patient in our files; resources that arrive before their Patient wait (bounded),
resources for a patient already handed out are reported, never merged silently.

Mapping: Patient (identifier INS-NIR/NIA by OID 1.2.250.1.213.1.4.8/.10/.11,
dossier by type PI; names official/usual, FR Core's list of birth first names on the
official name before its given names; gender; birthDate; address; telecom;
birthPlace and identity-reliability extensions; managingOrganization identifier =
lab; generalPractitioner), Practitioner (RPPS identifier), Coverage (AMO: class
group/subgroup = regime/caisse; AMC: payor display, subscriberId), Observation
882-1 blood group, 82810-3 pregnancy, 48767-8 comments, MedicationStatement
(ATC), Condition (pathologies), Encounter (last visit), Specimen (accession,
assigner = lab, type, collection time, request -> ServiceRequest.requester).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

import msgspec

from etanche._files import open_private
from etanche.errors import SourceError
from etanche.exchange._convert import parse_datetime
from etanche.exchange._hl7v2 import INS_OIDS, identity_status
from etanche.exchange._model import SourceIssue, SourceRecord, safe_label
from etanche.exchange._source import WriterInput, iter_records
from etanche.exchange._text import BadLine, TextSource

__all__ = ["FhirReader", "write_fhir", "write_fhir_ndjson", "write_fhir_records"]

PARIS = ZoneInfo("Europe/Paris")
RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
NIR_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
LAB_SYSTEM = "urn:etanche:lab"
LOINC = "http://loinc.org"
ATC_SYSTEM = "http://www.whocc.no/atc"
BIRTH_PLACE_URL = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
INSEE_URL = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code"
BIRTH_LIST_URL = (
    "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-birth-list-given-name"
)
RELIABILITY_URL = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
MAX_WAITING = 10_000
_ID_RE = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_GENDER_IN = {"male": "M", "female": "F", "unknown": "I", "other": "I"}
_GENDER_OUT = {"M": "male", "F": "female", "I": "unknown"}
_DEPENDENT = frozenset(
    {
        "Observation",
        "Coverage",
        "Specimen",
        "ServiceRequest",
        "MedicationStatement",
        "Condition",
        "Encounter",
    }
)


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _kind(resource: dict[str, Any]) -> str:
    return _s(resource.get("resourceType"))


def _ref_id(ref: Any) -> str:
    """ "Patient/abc" -> "abc" (any reference string: the part after the last slash)."""
    return _s(_d(ref).get("reference")).rsplit("/", 1)[-1]


def _codes(concept: Any) -> list[str]:
    return [_s(_d(c).get("code")) for c in _l(_d(concept).get("coding"))]


def _local(text: str) -> str:
    """FHIR dateTime -> naive ISO local time in France (how the domain stores times)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(PARIS).replace(tzinfo=None)
    return moment.isoformat()


class _Group:
    """A Patient and the resources that point to it."""

    def __init__(self, location: str, patient: dict[str, Any]) -> None:
        self.location = location
        self.patient = patient
        self.resources: list[dict[str, Any]] = []


class FhirReader:
    """Stream the patients of a FHIR Bundle or NDJSON file."""

    format = "fhir"
    refused: tuple[str, ...] = ()

    def __init__(self, path: Path, *, encoding: str | None = None) -> None:
        self.path = path
        self._text = TextSource(path, encoding or "utf-8", csv_lines=True)
        self.encoding = self._text.encoding
        if self._text.empty:
            self._text.close()
            raise SourceError(f"{path.name}: empty file")
        self._seen: set[str] = set()
        self._unmapped: set[str] = set()
        self._practitioners: dict[str, tuple[str, str]] = {}
        self._requests: dict[str, str] = {}
        self.ndjson = True

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(sorted(self._seen))

    @property
    def unmapped(self) -> tuple[str, ...]:
        return tuple(sorted(self._unmapped))

    # -- reading resources -------------------------------------------------------

    def _resources(self) -> Iterator[tuple[str, dict[str, Any]] | SourceIssue]:
        lines = iter(self._text)
        number = 0
        for item in lines:
            number += 1
            if isinstance(item, BadLine):
                yield SourceIssue(f"line {number}", None, item.reason)
                continue
            if not item.strip():
                continue
            try:
                first = msgspec.json.decode(item)
            except (msgspec.DecodeError, RecursionError):
                self.ndjson = False
                yield from self._whole_file()
                return
            yield from self._expand(f"line {number}", first)
            break
        for item in lines:
            number += 1
            if isinstance(item, BadLine):
                yield SourceIssue(f"line {number}", None, item.reason)
                continue
            if not item.strip():
                continue
            try:
                value = msgspec.json.decode(item)
            except (msgspec.DecodeError, RecursionError):
                yield SourceIssue(f"line {number}", None, "not a JSON object")
                continue
            yield from self._expand(f"line {number}", value)

    def _whole_file(self) -> Iterator[tuple[str, dict[str, Any]] | SourceIssue]:
        self._text.close()
        try:
            data = msgspec.json.decode(self.path.read_bytes())
        except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
            raise SourceError(f"{self.path.name}: not JSON nor NDJSON") from None
        except OSError as exc:
            raise SourceError(f"{self.path.name}: cannot be read ({exc.strerror})") from None
        items: list[tuple[str, dict[str, Any]] | SourceIssue] = []
        if isinstance(data, list):
            for k, value in enumerate(data, start=1):
                items += self._expand(f"item {k}", value)
        else:
            items += self._expand("bundle", data)
        # A whole Bundle is in memory anyway: index practitioners and requests first.
        first = ("Practitioner", "ServiceRequest")
        yield from (i for i in items if not isinstance(i, SourceIssue) and _kind(i[1]) in first)
        yield from (i for i in items if isinstance(i, SourceIssue) or _kind(i[1]) not in first)

    def _expand(self, where: str, value: Any) -> Iterator[tuple[str, dict[str, Any]] | SourceIssue]:
        if not isinstance(value, dict):
            yield SourceIssue(where, None, "not a FHIR resource (JSON object expected)")
            return
        kind = _s(value.get("resourceType"))
        if kind != "Bundle":
            yield where, value
            return
        entries = _l(value.get("entry"))
        if "entry" in value and not isinstance(value.get("entry"), list):
            yield SourceIssue(where, "Bundle.entry", "not a list")
        prefix = "" if where == "bundle" else f"{where} "
        for k, entry in enumerate(entries, start=1):
            resource = _d(entry).get("resource")
            if isinstance(resource, dict) and _s(resource.get("resourceType")) != "Bundle":
                yield f"{prefix}entry {k}", resource
            else:
                yield SourceIssue(f"{prefix}entry {k}", None, "entry without a resource")

    # -- grouping ------------------------------------------------------------------

    def __iter__(self) -> Iterator[SourceRecord | SourceIssue]:
        current: _Group | None = None
        done: set[str] = set()
        waiting: dict[str, list[dict[str, Any]]] = {}
        waiting_count = 0
        for item in self._resources():
            if isinstance(item, SourceIssue):
                yield item
                continue
            where, resource = item
            kind = _s(resource.get("resourceType"))
            label = safe_label(kind, "(unknown resource)")
            self._seen.update(
                f"{label}.{safe_label(k, '(other)')}" for k in resource if k != "resourceType"
            )
            if kind == "Patient":
                if current is not None:
                    yield self._record(current)
                    done.add(_s(current.patient.get("id")))
                current = _Group(f"{where} (Patient)", resource)
                current.resources = waiting.pop(_s(resource.get("id")), [])
                waiting_count -= len(current.resources)
            elif kind == "Practitioner":
                self._practitioner(resource)
            elif kind == "ServiceRequest":
                requester = _ref_id(resource.get("requester"))
                if requester:
                    self._requests[_s(resource.get("id"))] = requester
            elif kind in _DEPENDENT:
                owner = _ref_id(resource.get("subject") or resource.get("beneficiary"))
                if current is not None and owner == _s(current.patient.get("id")):
                    current.resources.append(resource)
                elif owner in done:
                    yield SourceIssue(f"{where} ({kind})", None, "resource after its patient")
                elif waiting_count >= MAX_WAITING or not owner:
                    yield SourceIssue(f"{where} ({kind})", None, "resource without its patient")
                else:
                    waiting.setdefault(owner, []).append(resource)
                    waiting_count += 1
            else:
                self._unmapped.add(safe_label(kind, "(unknown resource)"))
        if current is not None:
            yield self._record(current)
        if waiting:
            count = sum(len(v) for v in waiting.values())
            yield SourceIssue("end of file", None, f"{count} resources whose patient is absent")

    def _practitioner(self, resource: dict[str, Any]) -> None:
        rpps = ""
        for ident in _l(resource.get("identifier")):
            if _s(_d(ident).get("system")) == RPPS_SYSTEM:
                rpps = _s(_d(ident).get("value"))
        name = _d((_l(resource.get("name")) or [{}])[0])
        text = (
            _s(name.get("text"))
            or " ".join([*(_s(g) for g in _l(name.get("given"))), _s(name.get("family"))]).strip()
        )
        self._practitioners[_s(resource.get("id"))] = (rpps, text)

    # -- one patient -----------------------------------------------------------------

    def _record(self, group: _Group) -> SourceRecord:
        f: dict[str, str] = {}
        lists: dict[str, list[str]] = {}
        self._patient(group.patient, f, lists)
        specimens: list[dict[str, str]] = []
        for resource in group.resources:
            self._dependent(resource, f, lists, specimens)
        for name, values in lists.items():
            if any(values):
                f[name] = "\n".join(values)
        return SourceRecord(group.location, f, tuple(specimens))

    def _patient(self, p: dict[str, Any], f: dict[str, str], lists: dict[str, list[str]]) -> None:
        for ident in _l(p.get("identifier")):
            ident = _d(ident)
            system = _s(ident.get("system")).removeprefix("urn:oid:")
            types = _codes(ident.get("type"))
            value = _s(ident.get("value"))
            if system in INS_OIDS or "INS-NIR" in types or "INS-NIA" in types:
                _put(f, "nir", value.replace(" ", ""))
            elif "PI" in types or system.endswith(":dossier"):
                _put(f, "dossier", value)
        _put(f, "lab", _s(_d(_d(p.get("managingOrganization")).get("identifier")).get("value")))
        names = [_d(n) for n in _l(p.get("name"))]
        official = next((n for n in names if n.get("use") == "official"), None)
        usual = next((n for n in names if n.get("use") == "usual"), None)
        if official is None and names:
            official = names[0] if names[0] is not usual else None
        if official is not None:
            _put(f, "birth_name", _s(official.get("family")))
            given = " ".join(_s(g) for g in _l(official.get("given")) if _s(g))
            _put(f, "first_names", _birth_list(official) or given)
        if usual is not None:
            _put(f, "used_name", _s(usual.get("family")))
        _put(f, "sex", _GENDER_IN.get(_s(p.get("gender")), ""))
        _put(f, "birth_date", _s(p.get("birthDate")))
        addresses = [_d(a) for a in _l(p.get("address"))]
        for address in addresses:
            lists.setdefault("address_line", []).append(
                ", ".join(_s(x) for x in _l(address.get("line")) if _s(x))
            )
            lists.setdefault("postcode", []).append(_s(address.get("postalCode")))
            lists.setdefault("city", []).append(_s(address.get("city")))
            lists.setdefault("country", []).append(_s(address.get("country")))
        for telecom in _l(p.get("telecom")):
            telecom = _d(telecom)
            system = _s(telecom.get("system"))
            if system in ("phone", "sms"):
                lists.setdefault("phone", []).append(_s(telecom.get("value")))
            elif system == "email":
                lists.setdefault("email", []).append(_s(telecom.get("value")))
        for ext in _l(p.get("extension")):
            ext = _d(ext)
            url = _s(ext.get("url"))
            if url == BIRTH_PLACE_URL:
                for inner in _l(_d(ext.get("valueAddress")).get("extension")):
                    if _s(_d(inner).get("url")) == INSEE_URL:
                        _put(
                            f, "birthplace_insee", _s(_d(_d(inner).get("valueCoding")).get("code"))
                        )
            elif url == RELIABILITY_URL:
                for inner in _l(ext.get("extension")):
                    if _s(_d(inner).get("url")) == "identityStatus":
                        code = _s(_d(_d(inner).get("valueCoding")).get("code"))
                        _put(f, "identity_status", identity_status([code]))
        doctor = _ref_id((_l(p.get("generalPractitioner")) or [{}])[0])
        if doctor in self._practitioners:
            rpps, name = self._practitioners[doctor]
            _put(f, "physician_rpps", rpps)
            _put(f, "physician_name", name)

    def _dependent(
        self,
        r: dict[str, Any],
        f: dict[str, str],
        lists: dict[str, list[str]],
        specimens: list[dict[str, str]],
    ) -> None:
        kind = _s(r.get("resourceType"))
        if kind == "Observation":
            codes = _codes(r.get("code"))
            if "882-1" in codes:
                concept = _d(r.get("valueCodeableConcept"))
                coding = _d((_l(concept.get("coding")) or [{}])[0])
                value = (
                    _s(concept.get("text")) or _s(coding.get("display")) or _s(r.get("valueString"))
                )
                _put(f, "blood_group", value)
            elif "82810-3" in codes:
                answer = r.get("valueBoolean")
                if isinstance(answer, bool):
                    f["pregnant"] = "yes" if answer else "no"
            elif "48767-8" in codes:
                lists.setdefault("comments", []).append(_s(r.get("valueString")))
            else:
                self._unmapped.add("Observation (other code)")
        elif kind == "Coverage":
            types = _codes(r.get("type"))
            if "AMO" in types:
                for c in _l(r.get("class")):
                    c = _d(c)
                    which = _codes(c.get("type"))
                    if "group" in which:
                        _put(f, "amo_regime", _s(c.get("value")))
                    elif "subgroup" in which:
                        _put(f, "amo_caisse", _s(c.get("value")))
            elif "AMC" in types:
                payor = _d((_l(r.get("payor")) or [{}])[0])
                _put(f, "amc_name", _s(payor.get("display")))
                _put(f, "amc_member_number", _s(r.get("subscriberId")))
        elif kind == "MedicationStatement":
            concept = _d(r.get("medicationCodeableConcept"))
            coding = _d((_l(concept.get("coding")) or [{}])[0])
            name = _s(concept.get("text")) or _s(coding.get("display"))
            lists.setdefault("treatments", []).append(f"{name}|{_s(coding.get('code'))}")
        elif kind == "Condition":
            lists.setdefault("pathologies", []).append(_s(_d(r.get("code")).get("text")))
        elif kind == "Encounter":
            start = _s(_d(r.get("period")).get("start"))[:10]
            if start > f.get("last_visit", ""):
                f["last_visit"] = start
        elif kind == "Specimen":
            specimens.append(self._specimen(r))

    def _specimen(self, r: dict[str, Any]) -> dict[str, str]:
        s: dict[str, str] = {}
        accession = _d(r.get("accessionIdentifier"))
        _put(s, "specimen.accession", _s(accession.get("value")))
        collected = _s(_d(r.get("collection")).get("collectedDateTime"))
        _put(s, "specimen.collected_at", _local(collected) if collected else "")
        _put(s, "specimen.type", _s(_d(r.get("type")).get("text")))
        request = _ref_id((_l(r.get("request")) or [{}])[0])
        doctor = self._requests.get(request, "")
        if doctor in self._practitioners:
            rpps, name = self._practitioners[doctor]
            _put(s, "specimen.prescriber_rpps", rpps)
            _put(s, "specimen.prescriber_name", name)
        lab = _d(_d(accession.get("assigner")).get("identifier")).get("value")
        _put(s, "specimen.lab", _s(lab))
        return s


def _birth_list(name: dict[str, Any]) -> str:
    """FR Core's list of birth first names on an official name ("" when absent).

    FR Core puts the first birth first name in ``given`` and every birth first
    name, that one included, space-separated in this extension: the list wins.
    """
    for ext in _l(name.get("extension")):
        if _s(_d(ext).get("url")) == BIRTH_LIST_URL:
            return " ".join(_s(_d(ext).get("valueString")).split())
    return ""


def _put(out: dict[str, str], name: str, value: str) -> None:
    if value:
        out[name] = value


# ------------------------------------------------------------------------ writer


def _lines(value: str | None) -> list[str]:
    return value.split("\n") if value else []


def _fhir_datetime(iso: str) -> str:
    try:
        moment = parse_datetime(iso)
    except ValueError:
        return iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PARIS)
    return moment.isoformat()


class _Resources:
    """The resources of one record, practitioners first (each written once per file)."""

    def __init__(self) -> None:
        self.practitioners: dict[tuple[str, str], str] = {}

    def practitioner(self, rpps: str, name: str, out: list[dict[str, Any]]) -> str | None:
        if not rpps and not name:
            return None
        key = (rpps, name)
        if key in self.practitioners:
            return self.practitioners[key]
        pid = f"rpps-{rpps}" if rpps and _ID_RE.fullmatch(f"rpps-{rpps}") else None
        pid = pid if pid and pid not in self.practitioners.values() else None
        pid = pid or f"pract-{len(self.practitioners) + 1}"
        self.practitioners[key] = pid
        resource: dict[str, Any] = {"resourceType": "Practitioner", "id": pid}
        if rpps:
            resource["identifier"] = [{"system": RPPS_SYSTEM, "value": rpps}]
        if name:
            resource["name"] = [{"text": name}]
        out.append(resource)
        return pid

    def of(self, pid: str, record: SourceRecord) -> list[dict[str, Any]]:
        f = record.fields
        out: list[dict[str, Any]] = []
        ref = {"reference": f"Patient/{pid}"}
        patient: dict[str, Any] = {"resourceType": "Patient", "id": pid}
        identifiers = []
        if nir := f.get("nir"):
            identifiers.append(
                {
                    "use": "official",
                    "type": {"coding": [{"system": V2_0203, "code": "INS-NIR"}]},
                    "system": NIR_SYSTEM,
                    "value": nir,
                }
            )
        if dossier := f.get("dossier"):
            identifiers.append(
                {
                    "type": {"coding": [{"system": V2_0203, "code": "PI"}]},
                    "system": f"{LAB_SYSTEM}:{f.get('lab', '')}:dossier",
                    "value": dossier,
                }
            )
        if identifiers:
            patient["identifier"] = identifiers
        names: list[dict[str, Any]] = []
        if f.get("birth_name") or f.get("first_names"):
            official: dict[str, Any] = {"use": "official"}
            _put(official, "family", f.get("birth_name", ""))
            if firsts := f.get("first_names", "").split():
                official["given"] = firsts
            names.append(official)
        if used := f.get("used_name"):
            names.append({"use": "usual", "family": used})
        if names:
            patient["name"] = names
        telecom = [{"system": "phone", "value": v} for v in _lines(f.get("phone")) if v]
        telecom += [{"system": "email", "value": v} for v in _lines(f.get("email")) if v]
        if telecom:
            patient["telecom"] = telecom
        if gender := _GENDER_OUT.get(f.get("sex", "")):
            patient["gender"] = gender
        _put(patient, "birthDate", f.get("birth_date", ""))
        parts = [_lines(f.get(k)) for k in ("address_line", "postcode", "city", "country")]
        addresses = []
        for i in range(max(len(v) for v in parts[:3])):
            line, postcode, city, country = (v[i] if i < len(v) else "" for v in parts)
            address: dict[str, Any] = {}
            if line:
                address["line"] = [line]
            _put(address, "city", city)
            _put(address, "postalCode", postcode)
            _put(address, "country", country)
            addresses.append(address)
        if addresses:
            patient["address"] = addresses
        extensions: list[dict[str, Any]] = []
        if place := f.get("birthplace_insee"):
            coding = {"url": INSEE_URL, "valueCoding": {"code": place}}
            extensions.append({"url": BIRTH_PLACE_URL, "valueAddress": {"extension": [coding]}})
        if status := f.get("identity_status"):
            inner = {"url": "identityStatus", "valueCoding": {"code": status}}
            extensions.append({"url": RELIABILITY_URL, "extension": [inner]})
        if extensions:
            patient["extension"] = extensions
        if lab := f.get("lab"):
            patient["managingOrganization"] = {"identifier": {"system": LAB_SYSTEM, "value": lab}}
        doctor = self.practitioner(f.get("physician_rpps", ""), f.get("physician_name", ""), out)
        if doctor:
            patient["generalPractitioner"] = [{"reference": f"Practitioner/{doctor}"}]
        for spec in record.specimens:
            self.practitioner(
                spec.get("specimen.prescriber_rpps", ""),
                spec.get("specimen.prescriber_name", ""),
                out,
            )
        out.append(patient)
        out += self._clinical(pid, ref, f)
        out += self._specimens(pid, ref, record)
        return out

    def _clinical(self, pid: str, ref: dict[str, str], f: dict[str, str] | Any) -> list[Any]:
        out: list[dict[str, Any]] = []

        def observation(suffix: str, code: str, value: dict[str, Any]) -> None:
            out.append(
                {
                    "resourceType": "Observation",
                    "id": f"{pid}-{suffix}",
                    "status": "final",
                    "code": {"coding": [{"system": LOINC, "code": code}]},
                    "subject": ref,
                    **value,
                }
            )

        if group := f.get("blood_group"):
            observation("bg", "882-1", {"valueCodeableConcept": {"text": group}})
        if (pregnant := f.get("pregnant")) in ("yes", "no"):
            observation("preg", "82810-3", {"valueBoolean": pregnant == "yes"})
        for k, comment in enumerate(_lines(f.get("comments")), start=1):
            observation(f"com{k}", "48767-8", {"valueString": comment})
        if f.get("amo_regime") or f.get("amo_caisse"):
            classes = [
                {"type": {"coding": [{"code": code}]}, "value": value}
                for code, value in (
                    ("group", f.get("amo_regime")),
                    ("subgroup", f.get("amo_caisse")),
                )
                if value
            ]
            out.append(
                {
                    "resourceType": "Coverage",
                    "id": f"{pid}-amo",
                    "status": "active",
                    "type": {"coding": [{"code": "AMO"}]},
                    "beneficiary": ref,
                    "payor": [{"display": "AMO"}],
                    "class": classes,
                }
            )
        if f.get("amc_name") or f.get("amc_member_number"):
            amc: dict[str, Any] = {
                "resourceType": "Coverage",
                "id": f"{pid}-amc",
                "status": "active",
                "type": {"coding": [{"code": "AMC"}]},
                "beneficiary": ref,
                "payor": [{"display": f.get("amc_name") or "AMC"}],
            }
            _put(amc, "subscriberId", f.get("amc_member_number", ""))
            out.append(amc)
        for k, line in enumerate(_lines(f.get("treatments")), start=1):
            name, _, atc = line.rpartition("|")
            out.append(
                {
                    "resourceType": "MedicationStatement",
                    "id": f"{pid}-med{k}",
                    "status": "active",
                    "medicationCodeableConcept": {
                        "coding": [{"system": ATC_SYSTEM, "code": atc}],
                        "text": name,
                    },
                    "subject": ref,
                }
            )
        for k, text in enumerate(_lines(f.get("pathologies")), start=1):
            out.append(
                {"resourceType": "Condition", "id": f"{pid}-cond{k}", "code": {"text": text}}
                | {"subject": ref}
            )
        if visit := f.get("last_visit"):
            out.append(
                {
                    "resourceType": "Encounter",
                    "id": f"{pid}-visit",
                    "status": "finished",
                    "class": {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                        "code": "AMB",
                    },
                    "subject": ref,
                    "period": {"start": visit},
                }
            )
        return out

    def _specimens(self, pid: str, ref: dict[str, str], record: SourceRecord) -> list[Any]:
        out: list[dict[str, Any]] = []
        for k, s in enumerate(record.specimens, start=1):
            specimen: dict[str, Any] = {"resourceType": "Specimen", "id": f"{pid}-s{k}"}
            accession: dict[str, Any] = {"value": s.get("specimen.accession", "")}
            if lab := s.get("specimen.lab"):
                accession["assigner"] = {"identifier": {"system": LAB_SYSTEM, "value": lab}}
            specimen["accessionIdentifier"] = accession
            if kind := s.get("specimen.type"):
                specimen["type"] = {"text": kind}
            specimen["subject"] = ref
            if collected := s.get("specimen.collected_at"):
                specimen["collection"] = {"collectedDateTime": _fhir_datetime(collected)}
            doctor = self.practitioners.get(
                (s.get("specimen.prescriber_rpps", ""), s.get("specimen.prescriber_name", ""))
            )
            if doctor:
                request = {
                    "resourceType": "ServiceRequest",
                    "id": f"{pid}-r{k}",
                    "status": "completed",
                    "intent": "order",
                    "subject": ref,
                    "requester": {"reference": f"Practitioner/{doctor}"},
                }
                out.append(request)
                specimen["request"] = [{"reference": f"ServiceRequest/{pid}-r{k}"}]
            out.append(specimen)
        return out


def _patient_id(key: str, count: int) -> str:
    return key if _ID_RE.fullmatch(key) and len(key) <= 40 else f"p{count}"


def write_fhir_records(
    records: Iterable[tuple[str, SourceRecord]], path: Path, *, ndjson: bool
) -> int:
    """Write (key, record) pairs as a collection Bundle or NDJSON; return patients."""
    with open_private(path, "wb") as handle:
        return write_fhir_records_to(records, handle, ndjson=ndjson)


def write_fhir_records_to(
    records: Iterable[tuple[str, SourceRecord]], handle: BinaryIO, *, ndjson: bool
) -> int:
    """The same resources into an open binary stream (an export encrypts it before any disk)."""
    encoder = msgspec.json.Encoder()
    maker = _Resources()
    written = 0
    if not ndjson:
        handle.write(b'{"resourceType":"Bundle","type":"collection","entry":[')
    first = True
    for key, record in records:
        written += 1
        for resource in maker.of(_patient_id(key, written), record):
            if ndjson:
                handle.write(encoder.encode(resource) + b"\n")
            else:
                handle.write((b"" if first else b",\n") + encoder.encode({"resource": resource}))
                first = False
    if not ndjson:
        handle.write(b"]}\n")
    return written


def write_fhir(source: WriterInput, path: Path, *, ndjson: bool = False) -> int:
    """FHIR R4 resources of every patient: one Bundle (JSON) or NDJSON; return patients."""
    return write_fhir_records(iter_records(source), path, ndjson=ndjson)


def write_fhir_ndjson(records: Iterable[SourceRecord], path: Path) -> int:
    """Canonical records as NDJSON FHIR resources (``migrate verify --to fhir``)."""
    return write_fhir(records, path, ndjson=True)
