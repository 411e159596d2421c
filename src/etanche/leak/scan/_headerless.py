"""Roles of columns whose name says nothing ("column 3", "x"): from values and neighbours.

A headerless paste still has the shape of a patient file: a column of past dates
spread over decades is a birth date (visit and order dates crowd into recent
years: in a file without header, they are taken for the date of a visit), a
postcode sits between a street and a city, a login before its password, a member
number next to a mutuelle. Names are capitalised words with many
distinct values; a column of few values (a status, a sex) is not a name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import polars as pl

from etanche.leak.scan import _values as v

__all__ = ["born_like", "headerless_roles"]

SURE = 0.9  # share of values passing a value test for a column to take its role
MIN_DISTINCT = 20  # a names column has many values (fewer: half of the rows, small files)
_SPREAD_YEARS = 15  # birth years: the middle 80 % span at least this many years
_MIN_AGE = 10  # median age of a patient file's persons, at least
_RECENT_SHARE = 0.25  # at most this share of birth dates in the last two years
_UNNAMED = re.compile(r"column \d+")  # how the readers name the columns of a headerless file
_INSURANCE = frozenset({"mutuelle", "amc_number", "member_number"})


def born_like(values: pl.Series) -> bool:
    """Past dates with the age spread of patients: decades apart, few of them recent."""
    parsed = values.to_frame("d").select(v.birth_date(pl.col("d"))).to_series().drop_nulls()
    if parsed.len() < 3:
        return False
    years = parsed.dt.year()
    this_year = date.today().year
    low, mid, high = (float(years.quantile(q) or 0) for q in (0.1, 0.5, 0.9))
    recent = float((years >= this_year - 1).mean() or 0.0)  # type: ignore[arg-type]
    return high - low >= _SPREAD_YEARS and mid <= this_year - _MIN_AGE and recent <= _RECENT_SHARE


def _many(values: pl.Series) -> bool:
    kept = values.drop_nulls().str.strip_chars()
    kept = kept.filter(kept != "")
    return kept.n_unique() >= min(MIN_DISTINCT, max(2, kept.len() // 2))


def headerless_roles(
    sample: pl.DataFrame,
    columns: list[str],
    rates: dict[str, dict[str, float]],
    decided: dict[str, str],
) -> dict[str, tuple[str, float]]:
    """Role and confidence of each of ``columns`` (no hint, no value role) that shows one.

    ``decided`` maps the table's other columns to their roles (neighbours count).
    """
    order = sample.columns
    found: dict[str, tuple[str, float]] = {}

    def role(index: int) -> str | None:
        if not 0 <= index < len(order):
            return None
        name = order[index]
        return decided.get(name) or (found[name][0] if name in found else None)

    for column in columns:
        r = rates[column]
        if r["date"] >= 0.8 and born_like(sample[column]):
            found[column] = ("birth_date", 0.85)
        elif r["insurer"] >= 0.5:
            found[column] = ("mutuelle", 0.85)
        elif r["postcode_city"] >= 0.7:
            found[column] = ("postcode_city", 0.85)
        elif r["password"] >= 0.7 and _many(sample[column]):
            found[column] = ("secret", 0.85)
        elif r["sex"] >= SURE:
            found[column] = ("sex", 0.8)
    _neighbours(order, columns, rates, found, role, sample)
    return found


def _neighbours(
    order: list[str],
    columns: list[str],
    rates: dict[str, dict[str, float]],
    found: dict[str, tuple[str, float]],
    role: Callable[[int], str | None],
    sample: pl.DataFrame,
) -> None:
    """Postcodes and cities, logins, insurance codes, then names: each by its neighbours."""
    todo = [c for c in columns if c not in found]
    for column in todo:
        i, r = order.index(column), rates[column]
        nxt = rates.get(order[i + 1]) if i + 1 < len(order) else None
        if r["postcode"] >= SURE and (
            role(i - 1) == "street" or (nxt is not None and nxt["capital"] >= SURE)
        ):
            found[column] = ("postcode", 0.85)
        elif r["regime"] >= SURE and nxt is not None and nxt["caisse"] >= SURE:
            found[column] = ("regime", 0.8)
            found[order[i + 1]] = ("caisse", 0.8)
    for column in [c for c in todo if c not in found]:
        i, r = order.index(column), rates[column]
        near = {role(i - 1), role(i + 1)}
        if role(i - 1) == "postcode" and r["capital"] >= SURE:
            found[column] = ("city", 0.85)
        elif near & _INSURANCE and r["amc"] >= SURE:
            found[column] = ("amc_number", 0.85)
        elif near & _INSURANCE and r["code"] >= SURE:
            found[column] = ("member_number", 0.8)
        elif role(i + 1) == "secret" and r["secret"] >= SURE and r["words"] <= 1:
            found[column] = ("login", 0.85)  # a login stands before its password
        elif r["date"] >= 0.8 and _UNNAMED.fullmatch(column):
            found[column] = ("last_visit", 0.6)  # a file without header: a visit's date
        elif r["capital"] >= SURE and r["yesno"] < 0.5 and _many(sample[column]):
            found[column] = ("other_name", 0.8)
