"""ENISA 2013 severity: each criterion, the levels, and worked examples of the method.

The examples follow the method's own reasoning (SE = DPC × EI + CB), the scores
computed by hand from its tables, written as the scan report (contract B) would
describe each case.
"""

from __future__ import annotations

from typing import Any

import pytest

from etanche.errors import UsageError
from etanche.leak.incident import (
    Circumstances,
    Level,
    assess,
    circumstances_of_breach,
    data_processing_context,
    ease_of_identification,
    found_categories,
    level_of,
    parse_circumstances,
)


def report(*categories: str, special: bool = False, zero: tuple[str, ...] = ()) -> dict[str, Any]:
    """A scan report dict (contract B to_dict) with these categories found."""
    found = {c: {"count": 10, "columns": [c], "confidence": 0.9, "samples": []} for c in categories}
    found.update({c: {"count": 0, "columns": [], "confidence": 0.0, "samples": []} for c in zero})
    return {
        "files": ["found.csv"],
        "bytes": 1000,
        "rows": 10,
        "persons": 10,
        "special_category": special,
        "categories": found,
        "vault_matches": None,
    }


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (0.25, Level.LOW),
        (1.99, Level.LOW),
        (2.0, Level.MEDIUM),
        (2.99, Level.MEDIUM),
        (3.0, Level.HIGH),
        (3.99, Level.HIGH),
        (4.0, Level.VERY_HIGH),
        (5.0, Level.VERY_HIGH),
    ],
)
def test_levels_follow_the_method_thresholds(score: float, level: Level) -> None:
    assert level_of(score) is level


def test_only_categories_actually_found_count() -> None:
    assert found_categories(report("name", zero=("nir", "health"))) == {"name": 10}
    assert found_categories(None) == {}


@pytest.mark.parametrize(
    ("categories", "special", "expected"),
    [
        ({"email": 1}, False, 1.0),  # simple data
        ({"name": 1, "address": 1, "phone": 1}, False, 1.0),  # simple, no profiling
        ({"name": 1, "birth_date": 1, "address": 1, "phone": 1}, False, 2.0),  # volume +1
        ({"nir": 1, "address": 1}, False, 2.0),  # NIR with contact: identity theft +1
        ({"iban": 1, "name": 1}, False, 2.0),  # financial 3, account number only -1
        ({"blood_group": 1}, False, 4.0),  # sensitive (a test result)
        ({"health": 1, "name": 1}, False, 4.0),  # the highest type wins
        ({"credential": 1}, False, 4.0),  # credentials are worth what they open
        ({"name": 1}, True, 4.0),  # the scan saw art. 9 data without naming a category
        ({}, False, 1.0),
    ],
)
def test_data_processing_context(
    categories: dict[str, int], special: bool, expected: float
) -> None:
    assert data_processing_context(categories, special_category=special).score == expected


def test_context_adjustments_stay_within_one_to_four() -> None:
    assert data_processing_context({"email": 1}, vulnerable=True).score == 2.0
    assert data_processing_context({"health": 1}, vulnerable=True).score == 4.0
    assert data_processing_context({"health": 1}, public=True).score == 3.0
    assert data_processing_context({"email": 1}, public=True).score == 1.0
    bounded = data_processing_context({"health": 1}, vulnerable=True)
    assert any("borné" in reason for reason in bounded.reasons)


@pytest.mark.parametrize(
    ("categories", "expected"),
    [
        ({"nir": 1}, 1.0),
        ({"ins_traits": 1}, 1.0),
        ({"name": 1, "birth_date": 1}, 1.0),
        ({"name": 1, "address": 1}, 1.0),
        ({"name": 1, "phone": 1}, 0.75),
        ({"email": 1}, 0.75),
        ({"name": 1}, 0.5),
        ({"birth_date": 1}, 0.5),
        ({"health": 1, "blood_group": 1}, 0.25),
    ],
)
def test_ease_of_identification(categories: dict[str, int], expected: float) -> None:
    assert ease_of_identification(categories).score == expected


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        ((), 0.0),
        (("exposed",), 0.0),
        (("copied",), 0.25),
        (("published",), 0.5),
        (("published", "malicious"), 1.0),
        (("copied,altered,unavailable",), 0.75),
        (("published", "altered-lost", "lost", "malicious"), 2.0),
    ],
)
def test_circumstances_of_breach_add_up(tokens: tuple[str, ...], expected: float) -> None:
    assert circumstances_of_breach(parse_circumstances(tokens)).score == expected


def test_circumstances_are_checked() -> None:
    with pytest.raises(UsageError, match="unknown 'leaked'"):
        parse_circumstances(["leaked"])
    with pytest.raises(UsageError, match="one value for confidentiality"):
        parse_circumstances(["copied", "published"])
    parsed = parse_circumstances(["Published, malicious", "vulnerable"])
    assert parsed == Circumstances(confidentiality="published", malicious=True, vulnerable=True)
    assert parse_circumstances(parsed.tokens()) == parsed


# -- worked examples -------------------------------------------------------------------
def test_the_2021_lab_leak_is_very_high() -> None:
    """Identity, NIR, contacts, blood group, health comments, portal passwords, sold online:
    DPC 4 (sensitive) × EI 1 (NIR) + CB 0.5 (published) + 0.5 (malicious) = 5."""
    found = report(
        "nir", "name", "birth_date", "address", "phone", "email", "blood_group", "health",
        "drug", "credential", special=True,
    )  # fmt: skip
    severity = assess(found, parse_circumstances(["published", "malicious"]))
    assert (severity.dpc.score, severity.ei.score, severity.cb.score) == (4.0, 1.0, 1.0)
    assert severity.score == 5.0 and severity.level is Level.VERY_HIGH
    assert severity.level.persons_to_be_told


def test_a_lost_customer_list_is_low() -> None:
    """Names, addresses and phones copied to an unknown place: 1 × 1 + 0.25 = 1.25."""
    severity = assess(report("name", "address", "phone"), parse_circumstances(["copied"]))
    assert severity.score == 1.25 and severity.level is Level.LOW
    assert not severity.level.persons_to_be_told


def test_published_email_addresses_are_low() -> None:
    """1 × 0.75 + 0.5 = 1.25."""
    severity = assess(report("email"), parse_circumstances(["published"]))
    assert severity.score == 1.25 and severity.level is Level.LOW


def test_bank_details_with_identity_are_medium() -> None:
    """max(simple 1, financial 3 - 1) = 2; × 1 (name + address) + 0.25 = 2.25."""
    severity = assess(report("iban", "name", "address"), parse_circumstances(["copied"]))
    assert severity.score == 2.25 and severity.level is Level.MEDIUM


def test_health_data_without_identifiers_stays_low() -> None:
    """Pseudonymous results published: 4 × 0.25 + 0.5 = 1.5."""
    severity = assess(report("health", "blood_group"), parse_circumstances(["published"]))
    assert severity.score == 1.5 and severity.level is Level.LOW


def test_ease_of_identification_moves_health_data_from_medium_to_high() -> None:
    """Stolen on purpose: 4 × 0.5 + 0.75 = 2.75 with a name; 4 × 0.75 + 0.75 = 3.75 with a phone."""
    circumstances = parse_circumstances(["copied", "malicious"])
    assert assess(report("health", "name"), circumstances).score == 2.75
    with_phone = assess(report("health", "name", "phone"), circumstances)
    assert with_phone.score == 3.75 and with_phone.level is Level.HIGH


def test_every_factor_is_explained_in_plain_french_without_values() -> None:
    found = report("nir", "name", "address", "health", special=True)
    found["vault_matches"] = {"L01": 7, "L02": 3}
    severity = assess(found, parse_circumstances(["published"]))
    text = " ".join(r for f in (severity.dpc, severity.ei, severity.cb) for r in f.reasons)
    for words in ("numéro de sécurité sociale", "Données sensibles", "NIR", "publiées", "10 "):
        assert words in text
    assert severity.to_dict()["formula"] == "4 × 1 + 0.5"
    assert "confidentiality" not in text  # French throughout


@pytest.mark.parametrize("circumstances", [["exposed"], ["copied"], ["published", "malicious"]])
def test_an_identity_only_patient_list_is_at_least_high(circumstances: list[str]) -> None:
    """Recital 35: a lab's registration data (identity, NIR, physician, insurance, no
    medical comment) are health data: DPC 3 (4 - 1), × EI 1 (NIR) + CB >= 3."""
    found = report("nir", "name", "birth_date", "address", "phone", "insurance", "rpps")
    severity = assess(found, parse_circumstances(circumstances))
    assert severity.dpc.score == 3.0 and severity.level in (Level.HIGH, Level.VERY_HIGH)
    assert severity.level.persons_to_be_told
    assert any("considérant 35" in reason for reason in severity.dpc.reasons)


def test_a_bare_identity_list_of_our_patients_is_registration_data_too() -> None:
    found = report("nir", "name", "birth_date")
    assert assess(found, parse_circumstances(["copied"])).level is Level.LOW  # 1 × 1 + 0.25
    ours = assess(found, parse_circumstances(["copied"]), patients=12)
    assert ours.score == 3.25 and ours.level is Level.HIGH
