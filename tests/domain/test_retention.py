"""Retention rules: packaged defaults, a site file over them, one clear error per bad line."""

from __future__ import annotations

from pathlib import Path

import pytest

from etanche.domain import CATEGORIES, load_retention
from etanche.errors import ConfigError


def _site(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "retention.yaml"
    path.write_text(text, "utf-8")
    return path


def test_defaults_cover_every_category_with_a_source() -> None:
    rules = load_retention()
    assert [r.category for r in rules] == list(CATEGORIES)
    for rule in rules:
        assert rule.source and rule.amount >= 1
    genetic = rules.get("genetic_results")
    assert genetic.duration == "30y" and genetic.duration_fr == "30 ans"
    assert "R.1131-20" in genetic.source


def test_site_file_is_laid_over_the_defaults(tmp_path: Path) -> None:
    path = _site(
        tmp_path,
        "categories:\n"
        "  specimens:\n"
        "    duration: 6mo\n"
        "    source: Procédure PR-12 du laboratoire\n"
        "  audit_log:\n"
        "    confirmed: true\n",
    )
    rules = load_retention(path)
    assert rules.source == str(path)
    specimens = rules.get("specimens")
    assert (specimens.duration_fr, specimens.source) == ("6 mois", "Procédure PR-12 du laboratoire")
    assert specimens.start == "collection_date"  # kept from the defaults
    assert rules.get("audit_log").confirmed
    assert rules.get("results") == load_retention().get("results")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "categories:\n  specimens:\n    duration: 6mo\n",
            "line 3: categories.specimens.source: missing legal source",
        ),
        (
            "version: 1\ncategories:\n  tissues:\n    duration: 1y\n",
            "line 3: categories.tissues: unknown category",
        ),
        (
            "categories:\n  results:\n    source: x\n    duration: ten years\n",
            "line 4: categories.results.duration: expected a duration like 90d, 6mo or 10y",
        ),
        (
            "categories:\n  results:\n    duration: 0y\n    source: x\n",
            "line 3: categories.results.duration: expected a duration",
        ),
        (
            "categories:\n  results:\n    source: '  '\n",
            "line 3: categories.results.source: missing legal source",
        ),
        (
            "categories:\n  results:\n    start: birth\n",
            "line 3: categories.results.start: unknown start 'birth'",
        ),
        (
            "categories:\n  results:\n    keep: forever\n",
            "line 3: categories.results.keep: unknown field",
        ),
        ("categories:\n  results: [1\n", "invalid YAML"),
        ("version: 2\n", "line 1: version: unsupported version"),
    ],
)
def test_a_bad_line_gives_one_clear_error(tmp_path: Path, text: str, expected: str) -> None:
    path = _site(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_retention(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="retention file not found"):
        load_retention(tmp_path / "absent.yaml")
