"""The migration plan: who moves what, for whom, until when, approved by whom.

A plan is a YAML file written by the controller lab and the vendor together. It
is validated on load (every error names the file, the entry and the field) and
identified by the SHA-256 of its exact bytes: an approval is a signature over
that hash, so a plan edited after approval is a different plan and nothing
runs on it. The allow-list of fields is the only way a field gets into a
package; credential columns are refused even if a plan lists them.

A plan is of one of two kinds: ``migration`` (the default: a legacy source
packaged for a new system) or ``export`` (one lab's patients read from the
vault and written for one recipient). Either way what leaves is marked and
carries canaries: a plan may narrow the mark families its recipient tolerates,
never to none, and its canary rate is never zero. Approvers are named by user
name and by a role of the policy, never a free-text capacity; whether those
accounts exist and may approve is the service's check (it knows the accounts).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import yaml

from etanche.crypto import age_recipient, content_hash
from etanche.errors import ConfigError, EtancheError
from etanche.exchange import FIELDS, SPECIMEN_FIELDS
from etanche.names import Role

__all__ = [
    "EXPORT",
    "KINDS",
    "MIGRATION",
    "SOURCE_FORMATS",
    "VAULT_SOURCE",
    "Approver",
    "MigrationPlan",
    "Recipient",
    "load_plan",
    "parse_plan",
]

SOURCE_FORMATS = ("legacy-csv", "csv", "hprim", "hl7v2", "fhir")
MIGRATION = "migration"
EXPORT = "export"
KINDS = (MIGRATION, EXPORT)
VAULT_SOURCE = "vault"  # the source format of an export plan: the vault itself
MIN_CANARY_RATE = 0.0001  # canaries are never off: at least one per 10,000 rows (and 2)
_TOP_KEYS = (
    "plan",
    "kind",
    "controller",
    "processor",
    "purpose",
    "source",
    "scope",
    "fields",
    "recipients",
    "retention",
    "approvers",
    "marks",
    "canary_rate",
    "ledger_retention_days",
)
_OPTIONAL = ("kind", "marks", "canary_rate", "ledger_retention_days")
_REQUIRED = tuple(k for k in _TOP_KEYS if k not in _OPTIONAL)
_EXPORT_REQUIRED = tuple(k for k in _REQUIRED if k != "source")
LEDGER_DAYS = 3650  # a copy found years later must still be traced
_PLAN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,47}$")
_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
_LAB = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
_COMPARTMENTS = ("admin", "clinical")


@dataclass(frozen=True, slots=True)
class Recipient:
    name: str
    age: str  # age1… X25519 public key


@dataclass(frozen=True, slots=True)
class Approver:
    username: str
    role: Role  # the policy role the account must hold when it approves


@dataclass(frozen=True, slots=True)
class MigrationPlan:
    """A validated plan; ``sha256`` identifies its exact text.

    An export plan has ``kind`` ``export`` and ``source_format`` ``vault``.
    """

    id: str
    kind: str
    sha256: str
    text: str
    controller: str
    controller_labs: tuple[str, ...]
    processor: str
    processor_contact: str
    purpose: str
    source_format: str
    source_path: Path
    source_encoding: str | None
    source_mapping: Mapping[str, str] | None
    labs: tuple[str, ...]
    specimens_from: date | None
    specimens_to: date | None
    fields: Mapping[str, tuple[str, ...]]  # compartment -> canonical field names
    recipients: tuple[Recipient, ...]
    expires_at: datetime
    approvers: tuple[Approver, ...]
    marks: tuple[str, ...] | None  # None: every mark; never empty
    canary_rate: float
    ledger_retention_days: int  # how long the export ledger keeps what tracing needs
    # One lab for every record of the source (None: each record's own ``lab``),
    # and the codes the file itself uses for that lab (records naming another are refused).
    source_lab: str | None = None
    lab_in_file: tuple[str, ...] = ()

    @property
    def allowed(self) -> frozenset[str]:
        """Every canonical field a package of this plan may carry."""
        return frozenset(f for names in self.fields.values() for f in names)

    def in_scope(self, lab: str | None) -> bool:
        return lab is not None and lab in self.labs

    def source_lab_agrees(self, own: str | None) -> bool:
        """Whether a record's own lab code agrees with ``source_lab`` (absent agrees)."""
        return not own or own == self.source_lab or own in self.lab_in_file

    def specimen_in_range(self, day: date) -> bool:
        if self.specimens_from is not None and day < self.specimens_from:
            return False
        return self.specimens_to is None or day <= self.specimens_to

    def expired(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(UTC)) >= self.expires_at


class _Reader:
    """Typed access to one mapping of the YAML, every error naming where it is."""

    def __init__(self, source: str, entry: str | None, data: Any) -> None:
        self.source, self.entry = source, entry
        if not isinstance(data, dict):
            raise self.error(None, "expected a mapping")
        self.data: dict[str, Any] = data

    def error(self, field: str | None, reason: str) -> ConfigError:
        return ConfigError(self.source, self.entry, field, reason)

    def only(self, allowed: tuple[str, ...]) -> None:
        for key in self.data:
            if key not in allowed:
                raise self.error(str(key), f"unknown key (expected one of {', '.join(allowed)})")

    def text(
        self, field: str, *, required: bool = True, pattern: re.Pattern[str] | None = None
    ) -> str:
        value = self.data.get(field)
        if value is None or value == "":
            if required:
                raise self.error(field, "required")
            return ""
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise self.error(field, "expected text")
        text = str(value).strip()
        if pattern is not None and not pattern.match(text):
            raise self.error(field, f"does not match {pattern.pattern}")
        return text

    def day(self, field: str, *, required: bool) -> date | None:
        value = self.data.get(field)
        if value is None:
            if required:
                raise self.error(field, "required (YYYY-MM-DD)")
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise self.error(field, "expected a date as YYYY-MM-DD") from None

    def items(self, field: str) -> list[Any]:
        value = self.data.get(field)
        if not isinstance(value, list) or not value:
            raise self.error(field, "expected a non-empty list")
        return value

    def child(self, field: str) -> _Reader:
        if field not in self.data:
            raise self.error(field, "required")
        entry = f"{self.entry}.{field}" if self.entry else field
        return _Reader(self.source, entry, self.data[field])


def load_plan(path: Path) -> MigrationPlan:
    """Read and validate a plan file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(str(path), None, None, f"cannot read ({exc.strerror})") from None
    return parse_plan(raw, source=str(path), base=path.parent)


def parse_plan(raw: bytes, *, source: str, base: Path) -> MigrationPlan:
    """Validate plan bytes; relative source paths are resolved against ``base``."""
    try:
        text = raw.decode("utf-8")
        data = yaml.safe_load(text)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        raise ConfigError(source, where, None, "not valid UTF-8 YAML") from None
    top = _Reader(source, None, data)
    top.only(_TOP_KEYS)
    kind = top.text("kind", required=False) or MIGRATION
    if kind not in KINDS:
        raise top.error("kind", f"expected one of {', '.join(KINDS)}")
    for key in _EXPORT_REQUIRED if kind == EXPORT else _REQUIRED:
        if key not in top.data:
            raise top.error(key, "required")
    plan_id = top.text("plan", pattern=_PLAN_ID)

    controller = top.child("controller")
    controller.only(("name", "labs"))
    controller_labs = tuple(_labs(controller, "labs"))

    processor = top.child("processor")
    processor.only(("name", "contact"))

    source_lab: str | None = None
    lab_in_file: tuple[str, ...] = ()
    if kind == EXPORT:
        if "source" in top.data:
            raise top.error("source", "an export plan reads the vault: remove its source")
        fmt, source_path, mapping, encoding = VAULT_SOURCE, base, None, None
    else:
        source_entry = top.child("source")
        source_entry.only(("format", "path", "encoding", "mapping", "lab", "lab_in_file"))
        fmt = source_entry.text("format")
        if fmt not in SOURCE_FORMATS:
            raise source_entry.error("format", f"expected one of {', '.join(SOURCE_FORMATS)}")
        source_path = Path(source_entry.text("path"))
        if not source_path.is_absolute():
            source_path = base / source_path
        mapping = _mapping(source_entry, fmt)
        encoding = source_entry.text("encoding", required=False) or None
        source_lab, lab_in_file = _source_lab(source_entry)

    scope = top.child("scope")
    scope.only(("labs", "specimens"))
    labs = tuple(_labs(scope, "labs"))
    outside = [lab for lab in labs if lab not in controller_labs]
    if outside:
        raise scope.error("labs", f"{', '.join(outside)} not among the controller's labs")
    specimens_from = specimens_to = None
    if "specimens" in scope.data:
        window = scope.child("specimens")
        window.only(("from", "to"))
        specimens_from = window.day("from", required=False)
        specimens_to = window.day("to", required=False)
        if specimens_from and specimens_to and specimens_to < specimens_from:
            raise window.error("to", "before 'from'")

    if source_lab is not None and source_lab not in labs:
        raise top.child("source").error("lab", f"{source_lab} not among scope.labs")
    fields = _fields(top.child("fields"))
    recipients = _recipients(top)
    if kind == EXPORT:
        _export_scope(top, scope, labs, fields, recipients)
    retention = top.child("retention")
    retention.only(("expires",))
    expires = retention.day("expires", required=True)
    assert expires is not None
    approvers = _approvers(top)
    marks: tuple[str, ...] | None = None
    if "marks" in top.data:
        raw_marks = top.data["marks"]
        if not isinstance(raw_marks, list) or not raw_marks:
            raise top.error(
                "marks",
                "expected a non-empty list of the mark families the recipient tolerates "
                "(leave it out for all); what leaves is never unmarked",
            )
        marks = tuple(str(m).strip().lower() for m in raw_marks)
    ledger_days = top.data.get("ledger_retention_days", LEDGER_DAYS)
    if not isinstance(ledger_days, int) or isinstance(ledger_days, bool) or ledger_days < 1:
        raise top.error("ledger_retention_days", "expected a positive number of days")
    canary_rate = top.data.get("canary_rate", 0.001)
    if (
        not isinstance(canary_rate, int | float)
        or isinstance(canary_rate, bool)
        or not MIN_CANARY_RATE <= canary_rate <= 0.05
    ):
        raise top.error(
            "canary_rate",
            f"expected a number between {MIN_CANARY_RATE} and 0.05 (canaries are never off)",
        )

    return MigrationPlan(
        id=plan_id,
        kind=kind,
        sha256=content_hash(raw).hexdigest(),
        text=text,
        controller=controller.text("name"),
        controller_labs=controller_labs,
        processor=processor.text("name"),
        processor_contact=processor.text("contact", required=False),
        purpose=top.text("purpose"),
        source_format=fmt,
        source_path=source_path,
        source_encoding=encoding,
        source_mapping=mapping,
        labs=labs,
        specimens_from=specimens_from,
        specimens_to=specimens_to,
        fields=fields,
        recipients=recipients,
        expires_at=datetime.combine(expires, time(23, 59, 59), tzinfo=UTC),
        approvers=approvers,
        marks=marks,
        canary_rate=float(canary_rate),
        ledger_retention_days=ledger_days,
        source_lab=source_lab,
        lab_in_file=lab_in_file,
    )


def _source_lab(entry: _Reader) -> tuple[str | None, tuple[str, ...]]:
    """``source.lab``: one lab for the whole file; ``lab_in_file``: the file's codes for it."""
    lab = entry.text("lab", required=False) or None
    if lab is not None and not _LAB.match(lab):
        raise entry.error("lab", "a lab code is 1-16 letters, digits, - or _")
    aliases: tuple[str, ...] = ()
    if "lab_in_file" in entry.data:
        if lab is None:
            raise entry.error("lab_in_file", "only with source.lab")
        aliases = tuple(str(x).strip() for x in entry.items("lab_in_file"))
        if not all(aliases):
            raise entry.error("lab_in_file", "an empty code")
    return lab, aliases


def _labs(entry: _Reader, field: str) -> list[str]:
    labs = [str(x) for x in entry.items(field)]
    for lab in labs:
        if not _LAB.match(lab):
            raise entry.error(field, "a lab code is 1-16 letters, digits, - or _")
    return labs


def _mapping(entry: _Reader, fmt: str) -> dict[str, str] | None:
    raw = entry.data.get("mapping")
    if raw is None:
        if fmt == "csv":
            raise entry.error("mapping", "required for format csv (source column: field)")
        return None
    if not isinstance(raw, dict) or not raw:
        raise entry.error("mapping", "expected a mapping of source column to field")
    for column, target in raw.items():
        if str(target) not in FIELDS:
            raise entry.error("mapping", f"column {column!s}: unknown field {target!s}")
    return {str(k): str(v) for k, v in raw.items()}


def _fields(entry: _Reader) -> dict[str, tuple[str, ...]]:
    entry.only(_COMPARTMENTS)
    chosen: dict[str, tuple[str, ...]] = {}
    for compartment in _COMPARTMENTS:
        if compartment not in entry.data:
            continue
        names = [str(x) for x in entry.items(compartment)]
        for name in names:
            spec = FIELDS.get(name)
            if spec is None:
                raise entry.error(compartment, f"unknown field {name}")
            if spec.compartment != compartment:
                raise entry.error(
                    compartment, f"field {name} belongs to the {spec.compartment} compartment"
                )
        chosen[compartment] = tuple(dict.fromkeys(names))
    if not chosen:
        raise entry.error(None, "list the allowed fields of at least one compartment")
    return chosen


def _recipients(top: _Reader) -> tuple[Recipient, ...]:
    found: list[Recipient] = []
    for index, item in enumerate(top.items("recipients"), start=1):
        entry = _Reader(top.source, f"recipients[{index}]", item)
        entry.only(("name", "age"))
        key = entry.text("age")
        try:
            age_recipient(key, field="age")
        except EtancheError:
            raise entry.error("age", "not an age X25519 public key (age1…)") from None
        found.append(Recipient(entry.text("name"), key))
    return tuple(found)


def _export_scope(
    top: _Reader,
    scope: _Reader,
    labs: tuple[str, ...],
    fields: dict[str, tuple[str, ...]],
    recipients: tuple[Recipient, ...],
) -> None:
    """An export writes one lab's patients (no specimens) for one recipient."""
    if len(labs) != 1:
        raise scope.error("labs", "an export plan names exactly one lab")
    if "specimens" in scope.data:
        raise scope.error("specimens", "an export writes patients: no specimen window")
    specimen = [f for names in fields.values() for f in names if f in SPECIMEN_FIELDS]
    if specimen:
        raise top.error("fields", f"{', '.join(specimen)}: specimen fields are not exported")
    if len(recipients) != 1:
        raise top.error("recipients", "an export plan names exactly one recipient")


def _role(entry: _Reader) -> Role:
    """A role of the policy: the capacity is checked against the account, never free text."""
    text = entry.text("role")
    try:
        return Role(text)
    except ValueError:
        raise entry.error(
            "role", f"expected a role of the policy ({', '.join(r.value for r in Role)})"
        ) from None


def _approvers(top: _Reader) -> tuple[Approver, ...]:
    found: list[Approver] = []
    for index, item in enumerate(top.items("approvers"), start=1):
        entry = _Reader(top.source, f"approvers[{index}]", item)
        entry.only(("username", "role"))
        found.append(Approver(entry.text("username", pattern=_USERNAME), _role(entry)))
    if len({a.username for a in found}) != 2 or len(found) != 2:
        raise top.error("approvers", "exactly two different named persons approve a plan")
    return tuple(found)
