"""Birth dates as French people type them; the name keys of the front-desk indexes."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etanche.domain import (
    BirthQuery,
    name_prefix,
    parse_birth,
    parse_french_date,
    phonetic_key,
    search_prefix,
    starts_with,
)
from etanche.errors import ValidationError


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12/12/1959", BirthQuery(1959, 12, 12)),
        ("12-12-1959", BirthQuery(1959, 12, 12)),
        ("12.12.1959", BirthQuery(1959, 12, 12)),
        ("12121959", BirthQuery(1959, 12, 12)),
        ("1/2/1959", BirthQuery(1959, 2, 1)),
        ("1959-12-12", BirthQuery(1959, 12, 12)),
        (" 1959 ", BirthQuery(1959)),
        ("12/1959", BirthQuery(1959, 12)),
        ("12.1959", BirthQuery(1959, 12)),
    ],
)
def test_french_typings_are_read(typed: str, expected: BirthQuery) -> None:
    assert parse_birth(typed) == expected


@pytest.mark.parametrize("typed", ["31/02/1959", "13/1959", "12/12/59", "hier", "1200", ""])
def test_impossible_dates_name_the_field(typed: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_birth(typed, "born")
    assert caught.value.field == "born"


def test_a_full_date_is_needed_where_one_is_asked() -> None:
    assert parse_french_date("12121959") == date(1959, 12, 12)
    with pytest.raises(ValidationError, match="full date"):
        parse_french_date("1959")


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)))
def test_every_written_form_of_a_date_agrees(day: date) -> None:
    forms = [f"{day:%d/%m/%Y}", f"{day:%d-%m-%Y}", f"{day:%d.%m.%Y}", f"{day:%d%m%Y}", str(day)]
    assert {parse_french_date(f) for f in forms} == {day}
    assert parse_birth(f"{day:%m/%Y}").matches(day)
    assert parse_birth(str(day.year)).matches(day)


def test_name_keys() -> None:
    assert name_prefix("Le Gall") == "LEG"
    assert name_prefix("Lefèvre") == "LEF"
    assert starts_with("Lefèvre-Dupont", "lefev")
    assert not starts_with("Lefèvre", "lefb")
    assert phonetic_key("Dupont") == phonetic_key("DUPOND")
    assert phonetic_key("Le Gall") == phonetic_key("Legal")
    assert phonetic_key("Martin") != phonetic_key("Morin")
    assert search_prefix("mar") == "MAR"
    with pytest.raises(ValidationError):
        search_prefix("M-a")
