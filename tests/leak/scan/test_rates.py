"""Classification computes only the value tests a column's decision reads."""

from __future__ import annotations

import polars as pl
import pytest

from etanche.leak.scan import plan_table
from etanche.leak.scan._classify import _needs
from etanche.leak.scan._rates import ALWAYS, TESTS, column_rates

SAMPLE = pl.DataFrame(
    {
        "Nom de naissance": ["MARTIN", "DUPONT", "LE GOFF"] * 10,
        "Date de naissance": ["03/04/1975", "12/11/1950", "01/02/2001"] * 10,
        "Email": ["a.b@example.org", "c@example.fr", "d@example.com"] * 10,
        "column 4": ["35000", "29200", "56100"] * 10,
        "Ville": ["Rennes", "Brest", "Lorient"] * 10,
    }
)


def test_a_hinted_column_gets_the_deciding_tests_and_its_hints_only() -> None:
    rates = column_rates(SAMPLE, _needs(SAMPLE.columns))
    assert set(rates["Nom de naissance"]) == set(ALWAYS) | {"name"}
    assert set(rates["Date de naissance"]) == set(ALWAYS) | {"date"}
    with pytest.raises(KeyError):
        rates["Nom de naissance"]["password"]  # not computed: absent, never zero


def test_a_column_without_hint_and_its_neighbours_get_every_test() -> None:
    rates = column_rates(SAMPLE, _needs(SAMPLE.columns))
    for column in ("Email", "column 4", "Ville"):
        assert set(rates[column]) == set(TESTS)
    assert rates["column 4"]["postcode"] == 1.0 and rates["Ville"]["capital"] == 1.0


def test_the_partial_rates_equal_the_full_ones_and_decide_the_same_roles() -> None:
    partial = column_rates(SAMPLE, _needs(SAMPLE.columns))
    full = column_rates(SAMPLE)
    for column, rates in partial.items():
        assert rates == {k: full[column][k] for k in rates}
    roles = {r.column: r.role for r in plan_table(SAMPLE).roles}
    assert roles == {
        "Nom de naissance": "birth_name",
        "Date de naissance": "birth_date",
        "Email": "email",
        "column 4": "postcode",
        "Ville": "city",
    }
