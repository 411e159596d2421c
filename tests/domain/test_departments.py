"""A commune code outside the synthetic list still names its département (101 of them)."""

from __future__ import annotations

import pytest

from etanche.domain import department_name
from etanche.domain._departments import _DEPARTMENTS


def test_the_table_holds_the_101_departements() -> None:
    assert len(_DEPARTMENTS) == 101
    assert {"2A", "2B", "971", "972", "973", "974", "976"} <= set(_DEPARTMENTS)
    assert "20" not in _DEPARTMENTS and "975" not in _DEPARTMENTS


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("29077", "Finistère"),
        ("01001", "Ain"),
        ("2A004", "Corse-du-Sud"),
        ("2B050", "Haute-Corse"),
        ("20004", "Corse"),  # born in Corsica before 1976
        ("97209", "Martinique"),
        ("97611", "Mayotte"),
        ("95018", "Val-d'Oise"),
    ],
)
def test_a_commune_code_names_its_departement(code: str, name: str) -> None:
    assert department_name(code) == name


@pytest.mark.parametrize("code", ["99134", "97501", "2C001", "290", "", None, "29A77"])
def test_a_country_or_an_unknown_code_names_none(code: str | None) -> None:
    assert department_name(code) is None
