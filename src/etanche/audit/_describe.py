"""Rules and sinks as a person reads them: the service's in force, or a file to check."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from etanche.audit._rules import RuleSet, read_config
from etanche.audit._sinks import Sink, build_sinks


def describe_supervision(source: str, rules: RuleSet, sinks: Sequence[Sink]) -> dict[str, Any]:
    """``{"source", "rules", "sinks"}``: names, severities and parameters; no secret."""
    return {
        "source": source,
        "rules": [rule.describe() for rule in rules],
        "sinks": [{"name": s.name, "type": type(s).__name__} for s in sinks],
    }


def check_rules_file(path: str | Path) -> dict[str, Any]:
    """Validate a rules file laid over the packaged defaults; ConfigError names the field."""
    config = read_config(path)
    return describe_supervision(config.source, config.rules, build_sinks(config))
