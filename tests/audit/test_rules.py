"""Alert rules: sound packaged defaults, site files laid over them, errors that name the spot."""

from __future__ import annotations

import tomllib
from datetime import time, timedelta
from pathlib import Path

import pytest

from etanche.audit._rules import (
    RULE_NAMES,
    Severity,
    format_duration,
    load_rules,
    parse_duration,
    read_config,
)
from etanche.errors import ConfigError, UsageError, exit_code_for

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_packaged_defaults_follow_the_issue() -> None:
    rules = load_rules()
    assert [r.name for r in rules] == list(RULE_NAMES)
    assert all(r.enabled for r in rules)
    bulk = rules.bulk_reads
    assert bulk.severity is Severity.HIGH
    assert bulk.parameters.threshold == 50 and bulk.parameters.window == timedelta(hours=1)
    assert bulk.parameters.actions == {"patient.read", "patient.search"}
    assert rules.export.severity is Severity.MEDIUM
    assert rules.export.parameters.actions == {"export.create", "migration.run", "incident.notify"}
    assert rules.break_glass.severity is Severity.HIGH
    assert rules.break_glass.parameters.detail == "break_glass"
    off = rules.off_hours
    assert off.severity is Severity.LOW and off.parameters.timezone == "Europe/Paris"
    assert off.parameters.days == frozenset(range(6))  # Monday..Saturday
    assert (off.parameters.start, off.parameters.end) == (time(7), time(20))
    logins = rules.failed_logins
    assert logins.severity is Severity.HIGH and logins.parameters.threshold == 5
    assert logins.parameters.window == timedelta(minutes=10)
    assert logins.parameters.per == {"account", "client"}
    assert rules.decoy_touch.severity is Severity.CRITICAL
    assert rules.audit_verification_failed.severity is Severity.CRITICAL
    assert read_config().sinks == ()


def test_default_rules_ship_as_package_data() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    data = project["tool"]["setuptools"]["package-data"]["etanche"]
    assert "audit/default_rules.yaml" in data


def test_site_file_is_laid_over_the_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
rules:
  bulk_reads:
    parameters: {threshold: 100}
  off_hours:
    enabled: false
  failed_logins:
    severity: CRITICAL
    parameters: {per: [client], window: 15m}
""",
    )
    rules = load_rules(path)
    assert rules.source == str(path)
    assert rules.bulk_reads.parameters.threshold == 100
    assert rules.bulk_reads.parameters.window == timedelta(hours=1)  # kept from the defaults
    assert rules.bulk_reads.severity is Severity.HIGH
    assert not rules.off_hours.enabled and rules.off_hours.parameters.start == time(7)
    assert rules.failed_logins.severity is Severity.CRITICAL
    assert rules.failed_logins.parameters.per == {"client"}
    assert rules.failed_logins.parameters.window == timedelta(minutes=15)
    assert rules.export.enabled  # untouched rules keep watching


def test_an_empty_site_file_means_the_defaults(tmp_path: Path) -> None:
    assert list(load_rules(write(tmp_path, "# nothing\n"))) == list(load_rules())


@pytest.mark.parametrize(
    ("text", "entry", "field", "reason"),
    [
        ("rules: {bulk_reads: {parameters: {threshold: abc}}}", "rule bulk_reads",
         "parameters.threshold", "integer >= 1"),
        ("rules: {bulk_reads: {parameters: {threshold: 0}}}", "rule bulk_reads",
         "parameters.threshold", "integer >= 1"),
        ("rules: {bulk_reads: {parameters: {window: 1 hour}}}", "rule bulk_reads",
         "parameters.window", "duration"),
        ("rules: {failed_logins: {parameters: {window: 0s}}}", "rule failed_logins",
         "parameters.window", "positive"),
        ("rules: {export: {severity: urgent}}", "rule export", "severity", "expected one of"),
        ("rules: {export: {enabled: maybe}}", "rule export", "enabled", "true or false"),
        ("rules: {bulk_read: {enabled: false}}", "rule bulk_read", None, "unknown rule"),
        ("rules: {bulk_reads: {parameters: {thresold: 10}}}", "rule bulk_reads",
         "parameters.thresold", "unknown parameter"),
        ("rules: {bulk_reads: {level: high}}", "rule bulk_reads", "level", "unknown field"),
        ("rules: {export: {parameters: {actions: [patient.view]}}}", "rule export",
         "parameters.actions", "unknown action"),
        ("rules: {export: {parameters: {actions: []}}}", "rule export",
         "parameters.actions", "at least one"),
        ("rules: {off_hours: {parameters: {end: 20:00}}}", "rule off_hours",
         "parameters.end", "quoted"),
        ("rules: {off_hours: {parameters: {end: '25:00'}}}", "rule off_hours",
         "parameters.end", "time like"),
        ("rules: {off_hours: {parameters: {start: '21:00'}}}", "rule off_hours",
         "parameters.end", "later than start"),
        ("rules: {off_hours: {parameters: {timezone: Europe/Pariss}}}", "rule off_hours",
         "parameters.timezone", "unknown time zone"),
        ("rules: {off_hours: {parameters: {days: [mon, funday]}}}", "rule off_hours",
         "parameters.days", "unknown day"),
        ("rules: {off_hours: {parameters: {exempt_actors: ['a b']}}}", "rule off_hours",
         "parameters.exempt_actors", "not a user name"),
        ("rules: {failed_logins: {parameters: {per: [ip]}}}", "rule failed_logins",
         "parameters.per", "account and/or client"),
        ("rules: {bulk_reads: {parameters: {outcomes: [great]}}}", "rule bulk_reads",
         "parameters.outcomes", "unknown outcome"),
        ("rules: {break_glass: {parameters: {detail: 'a-b'}}}", "rule break_glass",
         "parameters.detail", "details key"),
        ("rules: {audit_verification_failed: {parameters: {x: 1}}}",
         "rule audit_verification_failed", "parameters.x", "unknown parameter"),
        ("rules: {export: [1, 2]}", "rule export", None, "expected a mapping"),
        ("rules: [bulk_reads]", None, "rules", "expected a mapping"),
        ("alerts: {}", None, "alerts", "unknown section"),
        ("version: 2", None, "version", "unsupported version"),
        ("sinks: {type: logfile}", None, "sinks", "list of mappings"),
    ],
)  # fmt: skip
def test_errors_name_the_rule_and_the_field(
    tmp_path: Path, text: str, entry: str | None, field: str | None, reason: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    error = caught.value
    assert (error.source, error.entry, error.field) == (str(path), entry, field)
    assert reason in error.reason
    message = str(error)
    assert message.startswith(str(path))
    for part in (entry, field):
        if part:
            assert part in message
    assert isinstance(error, UsageError) and exit_code_for(error) == 2


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "rules:\n  bulk_reads:\n    enabled: [true\n")
    with pytest.raises(ConfigError, match=r"line \d+: invalid YAML"):
        load_rules(path)


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="rules file not found") as caught:
        load_rules(tmp_path / "nope.yaml")
    assert exit_code_for(caught.value) == 2


def test_durations_read_and_print_alike() -> None:
    for text, seconds in (("30s", 30), ("10m", 600), ("1h", 3600), ("1h30m", 5400), ("1d", 86400)):
        span = parse_duration(text)
        assert span == timedelta(seconds=seconds)
        assert format_duration(span) == text
    assert parse_duration(90) == timedelta(seconds=90)


def test_describe_is_plain_json() -> None:
    described = {r.name: r.describe() for r in load_rules()}
    off = described["off_hours"]["parameters"]
    assert off["start"] == "07:00" and off["days"][0] == "mon" and off["days"][-1] == "sat"
    assert described["bulk_reads"]["parameters"]["window"] == "1h"
