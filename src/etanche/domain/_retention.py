"""Retention rules (GDPR art. 5(1)(e)): how long each category of data is kept.

The packaged ``default_retention.yaml`` holds every category with a cited
source; a site file (``ETANCHE_RETENTION``) is laid over it category by
category and field by field, like the alert rules. Every error names the file,
the line and the field: a typo must never silently keep data forever, and a
changed duration must cite its own source, because the register of processing
(art. 30) prints it.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from etanche.errors import ConfigError

__all__ = [
    "CATEGORIES",
    "DEFAULT_RETENTION_SOURCE",
    "STARTS",
    "Retention",
    "RetentionRules",
    "load_retention",
]

DEFAULT_RETENTION_NAME = "default_retention.yaml"
DEFAULT_RETENTION_SOURCE = f"{DEFAULT_RETENTION_NAME} (packaged)"

# category -> what it is, in French (the register prints it)
CATEGORIES: dict[str, str] = {
    "patient_admin": "Dossier administratif du patient (identité, coordonnées, NIR, couverture)",
    "results": "Comptes rendus d'examens de biologie médicale et données cliniques",
    "genetic_results": "Comptes rendus d'examens des caractéristiques génétiques",
    "specimens": "Échantillons biologiques et leurs données de prélèvement",
    "audit_log": "Journal d'audit (traces des accès et des opérations)",
    "migration_packages": "Paquets de migration chiffrés remis à un destinataire",
    "export_ledger": "Registre des exports (destinataire, empreintes, leurres)",
    "incident_files": "Dossiers de violation de données (art. 33 et 34)",
    "rights_requests": "Demandes d'exercice des droits des personnes",
    "staff_accounts": "Comptes des personnels habilités",
}

# when the clock starts -> its French wording
STARTS: dict[str, str] = {
    "last_visit": "à compter du dernier passage du patient",
    "report_date": "à compter de la date du compte rendu",
    "collection_date": "à compter de la date du prélèvement",
    "event_time": "à compter de la date de l'événement",
    "package_created": "à compter de la création du paquet",
    "export_time": "à compter de la date de l'export",
    "incident_closed": "à compter de la clôture de l'incident",
    "request_closed": "à compter de la clôture de la demande",
    "account_closed": "à compter de la clôture du compte",
}

_DURATION = re.compile(r"^(\d{1,4})\s*(d|mo|y)$")
_UNITS_FR = {"d": ("jour", "jours"), "mo": ("mois", "mois"), "y": ("an", "ans")}
_FIELDS = ("duration", "start", "source", "confirmed")
_TOP_KEYS = ("version", "categories")
_MAX_SOURCE = 400


@dataclass(frozen=True, slots=True)
class Retention:
    """One category: how long, from when, on what source, checked by the DPO or not."""

    category: str
    amount: int
    unit: str  # d, mo or y
    start: str
    source: str
    confirmed: bool

    @property
    def label(self) -> str:
        return CATEGORIES[self.category]

    @property
    def duration(self) -> str:
        """As written in the file: ``10y``, ``6mo``, ``90d``."""
        return f"{self.amount}{self.unit}"

    @property
    def duration_fr(self) -> str:
        """``10 ans``, ``6 mois``, ``1 an``: as the register prints it."""
        one, many = _UNITS_FR[self.unit]
        return f"{self.amount} {one if self.amount == 1 else many}"

    @property
    def start_fr(self) -> str:
        return STARTS[self.start]

    def expires(self, start: date) -> date:
        """The day a record whose clock started on ``start`` has been kept its duration."""
        return _shift(start, self.amount, self.unit)

    def cutoff(self, today: date) -> date:
        """Records whose clock started before this day have expired by ``today``."""
        return _shift(today, -self.amount, self.unit)

    @property
    def days(self) -> int:
        """Approximate length in days (a year as 365 days, a month as 30)."""
        return self.amount * {"d": 1, "mo": 30, "y": 365}[self.unit]


@dataclass(frozen=True, slots=True)
class RetentionRules:
    """Every category's rule, in the order of ``CATEGORIES``, and the file they came from."""

    rules: tuple[Retention, ...]
    source: str = DEFAULT_RETENTION_SOURCE

    def __iter__(self) -> Iterator[Retention]:
        return iter(self.rules)

    def get(self, category: str) -> Retention:
        for rule in self.rules:
            if rule.category == category:
                return rule
        raise KeyError(category)


def _shift(day: date, amount: int, unit: str) -> date:
    """``day`` moved by ``amount`` days, months or years; the 31st becomes the month's last day."""
    if unit == "d":
        return day + timedelta(days=amount)
    months = amount * (12 if unit == "y" else 1)
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


class _Bad(Exception):
    """Why a value is refused; the caller adds file, line and field."""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _duration(value: Any) -> tuple[int, str]:
    text = value.strip().lower() if isinstance(value, str) else None
    match = _DURATION.match(text) if text else None
    if match is None or int(match.group(1)) < 1:
        raise _Bad(f"expected a duration like 90d, 6mo or 10y, got {_shown(value)}")
    return int(match.group(1)), match.group(2)


def _start(value: Any) -> str:
    if not isinstance(value, str) or value not in STARTS:
        raise _Bad(f"unknown start {_shown(value)}; expected one of {list(STARTS)}")
    return value


def _source(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Bad("missing legal source: cite the text that sets this duration")
    if len(value) > _MAX_SOURCE:
        raise _Bad(f"source longer than {_MAX_SOURCE} characters")
    return " ".join(value.split())


def _confirmed(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Bad(f"expected true or false, got {_shown(value)}")
    return value


# -- reading one file, with the line of every entry -----------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    """One category as a file writes it: raw fields, and the line of each."""

    line: int
    fields: dict[str, Any]
    lines: dict[str, int]


def _read(text: str, source: str) -> dict[str, _Entry]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}" if mark is not None else None
        raise ConfigError(source, where, None, f"invalid YAML ({exc.problem})") from None
    except yaml.YAMLError:
        raise ConfigError(source, None, None, "invalid YAML") from None
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError(
            source, "line 1", None, "expected a mapping with version: and categories:"
        )
    out: dict[str, _Entry] = {}
    for key, value in root.value:
        where = f"line {key.start_mark.line + 1}"
        if key.value not in _TOP_KEYS:
            raise ConfigError(
                source,
                where,
                str(key.value),
                f"unknown section; expected some of {list(_TOP_KEYS)}",
            )
        if key.value == "version":
            if _scalar(value) != 1:
                raise ConfigError(source, where, "version", "unsupported version; expected 1")
            continue
        if isinstance(value, yaml.ScalarNode) and value.tag.endswith(":null"):
            continue
        if not isinstance(value, yaml.MappingNode):
            raise ConfigError(source, where, "categories", "expected a mapping of category names")
        for name_node, body in value.value:
            out.update(_category(name_node, body, source))
    return out


def _category(name_node: yaml.Node, body: yaml.Node, source: str) -> dict[str, _Entry]:
    name = str(name_node.value)
    line = name_node.start_mark.line + 1
    where = f"line {line}"
    if name not in CATEGORIES:
        raise ConfigError(
            source,
            where,
            f"categories.{name}",
            f"unknown category; expected one of {list(CATEGORIES)}",
        )
    if isinstance(body, yaml.ScalarNode) and body.tag.endswith(":null"):
        return {name: _Entry(line, {}, {})}
    if not isinstance(body, yaml.MappingNode):
        raise ConfigError(
            source, where, f"categories.{name}", "expected a mapping of duration/start/source"
        )
    fields: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key, value in body.value:
        field_line = key.start_mark.line + 1
        if key.value not in _FIELDS:
            raise ConfigError(
                source,
                f"line {field_line}",
                f"categories.{name}.{key.value}",
                f"unknown field; expected some of {list(_FIELDS)}",
            )
        fields[str(key.value)] = _scalar(value)
        lines[str(key.value)] = field_line
    return {name: _Entry(line, fields, lines)}


def _scalar(node: yaml.Node) -> Any:
    """The value of one node, built by the safe loader (no tags beyond plain YAML)."""
    return yaml.SafeLoader("").construct_object(node, deep=True)


# -- loading ------------------------------------------------------------------------


def load_retention(path: str | Path | None = None) -> RetentionRules:
    """The packaged defaults, with the file at ``path`` (if any) laid over them."""
    text = files("etanche.domain").joinpath(DEFAULT_RETENTION_NAME).read_text("utf-8")
    merged = _read(text, DEFAULT_RETENTION_SOURCE)
    origin = {name: DEFAULT_RETENTION_SOURCE for name in merged}
    source = DEFAULT_RETENTION_SOURCE
    if path is not None:
        source = str(path)
        try:
            site_text = Path(path).read_text("utf-8")
        except FileNotFoundError:
            raise ConfigError(source, None, None, "retention file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(source, None, None, f"cannot read ({type(exc).__name__})") from None
        for name, entry in _read(site_text, source).items():
            if "duration" in entry.fields and "source" not in entry.fields:
                raise ConfigError(
                    source,
                    f"line {entry.lines['duration']}",
                    f"categories.{name}.source",
                    "missing legal source: a changed duration must cite its own source",
                )
            base = merged.get(name, _Entry(entry.line, {}, {}))
            merged[name] = _Entry(
                entry.line, {**base.fields, **entry.fields}, {**base.lines, **entry.lines}
            )
            origin[name] = source
    rules = tuple(_build(name, merged.get(name), origin.get(name, source)) for name in CATEGORIES)
    return RetentionRules(rules=rules, source=source)


def _build(name: str, entry: _Entry | None, source: str) -> Retention:
    if entry is None:
        raise ConfigError(source, None, f"categories.{name}", "missing from the retention rules")
    values: dict[str, Any] = {}
    parsers: Mapping[str, Any] = {
        "duration": _duration,
        "start": _start,
        "source": _source,
        "confirmed": _confirmed,
    }
    for field, parse in parsers.items():
        line = entry.lines.get(field, entry.line)
        where = f"line {line}"
        if field not in entry.fields:
            if field == "confirmed":
                values[field] = False
                continue
            reason = "missing legal source" if field == "source" else "missing"
            raise ConfigError(source, where, f"categories.{name}.{field}", reason)
        try:
            values[field] = parse(entry.fields[field])
        except _Bad as exc:
            raise ConfigError(source, where, f"categories.{name}.{field}", str(exc)) from None
    amount, unit = values["duration"]
    return Retention(
        category=name,
        amount=amount,
        unit=unit,
        start=values["start"],
        source=values["source"],
        confirmed=values["confirmed"],
    )
