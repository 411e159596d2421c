"""Alert rules (F8): what supervision watches for, loaded from YAML over sound defaults.

The packaged ``default_rules.yaml`` holds every rule with safe values; a site
file is laid over it rule by rule and parameter by parameter, so a site writes
only what it changes and a rule it forgets keeps watching. Everything is
validated on load, and every error names the file, the rule and the field:
a typo in a rules file must never silently switch supervision off.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import time, timedelta
from enum import StrEnum
from importlib.resources import files
from pathlib import Path
from typing import Any, Generic, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from etanche.audit._events import Outcome
from etanche.errors import ConfigError
from etanche.names import Action

DEFAULT_RULES_NAME = "default_rules.yaml"
DEFAULT_SOURCE = f"{DEFAULT_RULES_NAME} (packaged)"

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = {
    **{d: i for i, d in enumerate(_DAYS)},
    **{
        n: i
        for i, n in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
}
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_ACTOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_RULE_KEYS = ("enabled", "severity", "parameters")
_TOP_KEYS = ("version", "rules", "sinks")


class Severity(StrEnum):
    """How urgent an alert is; sinks may ask for a minimum."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


# -- parameters of each rule ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class BulkReads:
    """More than ``threshold`` distinct patients within ``window`` for one person."""

    threshold: int
    window: timedelta
    actions: frozenset[str]
    outcomes: frozenset[str]
    exempt_actors: frozenset[str]


@dataclass(frozen=True, slots=True)
class ExportParams:
    """Every event whose action is a bulk output."""

    actions: frozenset[str]


@dataclass(frozen=True, slots=True)
class BreakGlass:
    """The declaration (``actions``) and every access flagged ``details[detail] is True``."""

    actions: frozenset[str]
    detail: str
    window: timedelta


@dataclass(frozen=True, slots=True)
class OffHours:
    """Working hours are ``[start, end)`` local time on ``days`` (0 = Monday)."""

    timezone: str
    days: frozenset[int]
    start: time
    end: time
    actions: frozenset[str]
    exempt_actors: frozenset[str]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class FailedLogins:
    """More than ``threshold`` failed logins within ``window``, per account and/or client."""

    threshold: int
    window: timedelta
    per: frozenset[str]


@dataclass(frozen=True, slots=True)
class Refused:
    """Refusals (``denied``) of ``actions``; one person's within ``window`` join one alert."""

    actions: frozenset[str]
    window: timedelta


@dataclass(frozen=True, slots=True)
class DecoyTouch:
    """Touches of decoys by the same person within ``window`` join one alert."""

    window: timedelta


@dataclass(frozen=True, slots=True)
class AccountLockedParams:
    """Further attempts on the same locked account within ``window`` join one alert."""

    window: timedelta


@dataclass(frozen=True, slots=True)
class AccountChange:
    """Every successful ``actions`` event whose ``operation`` detail is one of ``operations``."""

    actions: frozenset[str]
    operations: frozenset[str]


@dataclass(frozen=True, slots=True)
class AccountBurst:
    """More than ``threshold`` privileged account requests (``operations``) by one
    person within ``window``."""

    threshold: int
    window: timedelta
    operations: frozenset[str]


@dataclass(frozen=True, slots=True)
class NoParameters:
    """A rule driven by its caller only."""


P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class Rule(Generic[P]):
    """One alert rule: its name, whether it runs, how severe its alerts are, its knobs."""

    name: str
    enabled: bool
    severity: Severity
    parameters: P

    def describe(self) -> dict[str, Any]:
        """Plain JSON-able view (CLI ``alerts rules``)."""
        values = cast(Any, self.parameters)
        params = {f.name: _plain(getattr(values, f.name)) for f in fields(values)}
        return {
            "name": self.name,
            "enabled": self.enabled,
            "severity": self.severity.value,
            "parameters": params,
        }


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules, typed; iterate for all of them."""

    bulk_reads: Rule[BulkReads]
    export: Rule[ExportParams]
    break_glass: Rule[BreakGlass]
    off_hours: Rule[OffHours]
    failed_logins: Rule[FailedLogins]
    decoy_touch: Rule[DecoyTouch]
    audit_verification_failed: Rule[NoParameters]
    account_locked: Rule[AccountLockedParams]
    rollback_detected: Rule[NoParameters]
    account_change: Rule[AccountChange]
    account_burst: Rule[AccountBurst]
    refused: Rule[Refused]
    rights_overdue: Rule[NoParameters]
    source: str = DEFAULT_SOURCE

    def __iter__(self) -> Iterator[Rule[Any]]:
        for name in RULE_NAMES:
            yield getattr(self, name)

    def get(self, name: str) -> Rule[Any]:
        if name not in RULE_NAMES:
            raise KeyError(name)
        rule: Rule[Any] = getattr(self, name)
        return rule


@dataclass(frozen=True, slots=True)
class SupervisionConfig:
    """A loaded rules file: the rules, and the raw ``sinks:`` entries ``_sinks`` builds."""

    rules: RuleSet
    sinks: tuple[Mapping[str, Any], ...]
    source: str
    base_dir: Path | None  # relative sink paths are relative to the file


# -- field parsers: raise _Bad(reason), turned into a ConfigError naming the field ----


class _Bad(Exception):
    """Why a value is refused; the caller adds file, rule and field."""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Bad(f"expected an integer >= 1, got {_shown(value)}")
    return value


def parse_duration(value: Any) -> timedelta:
    """``30s``, ``10m``, ``1h30m``, ``1d`` or a number of seconds; must be positive."""
    if isinstance(value, bool):
        raise _Bad(f"expected a duration like 10m or 1h, got {_shown(value)}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value.strip().lower())) and value.strip():
        d, h, mi, s = (int(g) if g else 0 for g in m.groups())
        seconds = float(((d * 24 + h) * 60 + mi) * 60 + s)
    else:
        raise _Bad(f"expected a duration like 10m or 1h, got {_shown(value)}")
    if seconds <= 0:
        raise _Bad(f"expected a positive duration, got {_shown(value)}")
    return timedelta(seconds=seconds)


def format_duration(span: timedelta) -> str:
    """``1h``, ``10m``, ``1h30m``: how summaries and ``describe`` print a window."""
    total = int(span.total_seconds())
    out = ""
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        if total >= size:
            out += f"{total // size}{unit}"
            total %= size
    return out or "0s"


def _actions(value: Any) -> frozenset[str]:
    items = _string_list(value, allow_empty=False)
    known = {a.value for a in Action}
    for item in items:
        if item not in known:
            raise _Bad(f"unknown action {_shown(item)} (see etanche.access.Action)")
    return frozenset(items)


def _outcomes(value: Any) -> frozenset[str]:
    items = _string_list(value, allow_empty=False)
    known = {o.value for o in Outcome}
    for item in items:
        if item not in known:
            raise _Bad(f"unknown outcome {_shown(item)}; expected some of {sorted(known)}")
    return frozenset(items)


def _actors(value: Any) -> frozenset[str]:
    items = _string_list(value, allow_empty=True)
    for item in items:
        if not _ACTOR.match(item):
            raise _Bad(f"not a user name: {_shown(item)}")
    return frozenset(items)


def _string_list(value: Any, *, allow_empty: bool) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Bad(f"expected a list of strings, got {_shown(value)}")
    if not value and not allow_empty:
        raise _Bad("expected at least one entry")
    return list(value)


def _days(value: Any) -> frozenset[int]:
    items = _string_list(value, allow_empty=True)
    out: set[int] = set()
    for item in items:
        day = _DAY_NAMES.get(item.strip().lower())
        if day is None:
            raise _Bad(f"unknown day {_shown(item)}; expected some of {list(_DAYS)}")
        out.add(day)
    return frozenset(out)


def _time(value: Any) -> time:
    if isinstance(value, int) and not isinstance(value, bool):
        raise _Bad("expected a quoted time like '07:00' (unquoted, YAML reads 20:00 as a number)")
    if not isinstance(value, str) or not (m := _TIME.match(value.strip())):
        raise _Bad(f"expected a time like '07:00', got {_shown(value)}")
    return time(int(m.group(1)), int(m.group(2)))


def _timezone(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _Bad(f"expected an IANA time zone like Europe/Paris, got {_shown(value)}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise _Bad(f"unknown time zone {_shown(value)}") from None
    return value


def _word(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", value):
        raise _Bad(f"expected a details key like break_glass, got {_shown(value)}")
    return value


def _operations(value: Any) -> frozenset[str]:
    items = _string_list(value, allow_empty=False)
    for item in items:
        if not re.fullmatch(r"[a-z][a-z-]{0,31}", item):
            raise _Bad(f"expected operation names like add or reset-totp, got {_shown(item)}")
    return frozenset(items)


def _per(value: Any) -> frozenset[str]:
    items = _string_list(value, allow_empty=False)
    for item in items:
        if item not in ("account", "client"):
            raise _Bad(f"unknown grouping {_shown(item)}; expected account and/or client")
    return frozenset(items)


_Parser = Callable[[Any], Any]

_SPECS: dict[str, tuple[type[Any], dict[str, _Parser]]] = {
    "bulk_reads": (
        BulkReads,
        {
            "threshold": _count,
            "window": parse_duration,
            "actions": _actions,
            "outcomes": _outcomes,
            "exempt_actors": _actors,
        },
    ),
    "export": (ExportParams, {"actions": _actions}),
    "break_glass": (
        BreakGlass,
        {"actions": _actions, "detail": _word, "window": parse_duration},
    ),
    "off_hours": (
        OffHours,
        {
            "timezone": _timezone,
            "days": _days,
            "start": _time,
            "end": _time,
            "actions": _actions,
            "exempt_actors": _actors,
        },
    ),
    "failed_logins": (
        FailedLogins,
        {"threshold": _count, "window": parse_duration, "per": _per},
    ),
    "decoy_touch": (DecoyTouch, {"window": parse_duration}),
    "audit_verification_failed": (NoParameters, {}),
    "account_locked": (AccountLockedParams, {"window": parse_duration}),
    "rollback_detected": (NoParameters, {}),
    "account_change": (AccountChange, {"actions": _actions, "operations": _operations}),
    "account_burst": (
        AccountBurst,
        {"threshold": _count, "window": parse_duration, "operations": _operations},
    ),
    "refused": (Refused, {"actions": _actions, "window": parse_duration}),
    "rights_overdue": (NoParameters, {}),
}
RULE_NAMES: tuple[str, ...] = tuple(_SPECS)


# -- loading ----------------------------------------------------------------------


def load_rules(path: str | Path | None = None) -> RuleSet:
    """The packaged defaults, with the file at ``path`` (if any) laid over them."""
    return read_config(path).rules


def read_config(path: str | Path | None = None) -> SupervisionConfig:
    """Rules and raw sink entries of ``path`` over the packaged defaults."""
    default_doc = _parse_yaml(
        files("etanche.audit").joinpath(DEFAULT_RULES_NAME).read_text("utf-8"), DEFAULT_SOURCE
    )
    merged = _raw_rules(default_doc, DEFAULT_SOURCE)
    sinks: Any = default_doc.get("sinks") or []
    source, base_dir = DEFAULT_SOURCE, None
    if path is not None:
        file = Path(path)
        source = str(path)
        try:
            text = file.read_text("utf-8")
        except FileNotFoundError:
            raise ConfigError(source, None, None, "rules file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(source, None, None, f"cannot read ({type(exc).__name__})") from None
        doc = _parse_yaml(text, source)
        for name, raw in _raw_rules(doc, source).items():
            base = merged[name]
            params = {**base.get("parameters", {}), **raw.get("parameters", {})}
            merged[name] = {**base, **raw, "parameters": params}
        sinks = doc.get("sinks", [])
        base_dir = file.resolve().parent
    if sinks is None:
        sinks = []
    if not isinstance(sinks, list) or not all(isinstance(s, dict) for s in sinks):
        raise ConfigError(source, None, "sinks", "expected a list of mappings")
    rules = {name: _build_rule(name, merged.get(name), source) for name in RULE_NAMES}
    return SupervisionConfig(
        rules=RuleSet(**rules, source=source),
        sinks=tuple(sinks),
        source=source,
        base_dir=base_dir,
    )


def _parse_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}" if mark is not None else None
        raise ConfigError(source, where, None, f"invalid YAML ({exc.problem})") from None
    except yaml.YAMLError:
        raise ConfigError(source, None, None, "invalid YAML") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ConfigError(source, None, None, "expected a mapping with rules: and sinks:")
    for key in doc:
        if key not in _TOP_KEYS:
            raise ConfigError(
                source, None, str(key), f"unknown section; expected some of {list(_TOP_KEYS)}"
            )
    version = doc.get("version", 1)
    if version != 1:
        raise ConfigError(source, None, "version", f"unsupported version {_shown(version)}")
    return doc


def _raw_rules(doc: Mapping[str, Any], source: str) -> dict[str, dict[str, Any]]:
    rules = doc.get("rules") or {}
    if not isinstance(rules, dict):
        raise ConfigError(source, None, "rules", "expected a mapping of rule name to settings")
    out: dict[str, dict[str, Any]] = {}
    for name, raw in rules.items():
        entry = f"rule {name}"
        if name not in _SPECS:
            raise ConfigError(source, entry, None, f"unknown rule; known rules: {list(_SPECS)}")
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise ConfigError(source, entry, None, "expected a mapping of enabled/severity/...")
        for key in raw:
            if key not in _RULE_KEYS:
                raise ConfigError(
                    source, entry, str(key), f"unknown field; expected some of {list(_RULE_KEYS)}"
                )
        params = raw.get("parameters", {})
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise ConfigError(source, entry, "parameters", "expected a mapping")
        known = _SPECS[name][1]
        for key in params:
            if key not in known:
                expected = list(known) or "none"
                raise ConfigError(
                    source,
                    entry,
                    f"parameters.{key}",
                    f"unknown parameter; expected some of {expected}",
                )
        out[name] = {**raw, "parameters": dict(params)}
    return out


def _build_rule(name: str, raw: Mapping[str, Any] | None, source: str) -> Rule[Any]:
    entry = f"rule {name}"
    if raw is None:
        raise ConfigError(source, entry, None, "missing from the rules")
    enabled = raw.get("enabled")
    if not isinstance(enabled, bool):
        raise ConfigError(
            source, entry, "enabled", f"expected true or false, got {_shown(enabled)}"
        )
    severity = raw.get("severity")
    try:
        level = Severity(str(severity).strip().lower())
    except ValueError:
        raise ConfigError(
            source,
            entry,
            "severity",
            f"expected one of {[s.value for s in Severity]}, got {_shown(severity)}",
        ) from None
    cls, spec = _SPECS[name]
    params = raw.get("parameters", {})
    values: dict[str, Any] = {}
    for key, parse in spec.items():
        if key not in params:
            raise ConfigError(source, entry, f"parameters.{key}", "missing")
        try:
            values[key] = parse(params[key])
        except _Bad as exc:
            raise ConfigError(source, entry, f"parameters.{key}", str(exc)) from None
    parameters = cls(**values)
    if isinstance(parameters, OffHours) and parameters.start >= parameters.end:
        raise ConfigError(source, entry, "parameters.end", "must be later than start")
    return Rule(name=name, enabled=enabled, severity=level, parameters=parameters)


def _plain(value: Any) -> Any:
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, frozenset):
        items = list(value)
        if all(isinstance(i, int) for i in items):
            return [_DAYS[i] for i in sorted(items)]
        return sorted(items)
    return value
