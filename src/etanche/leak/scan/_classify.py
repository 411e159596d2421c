"""Decide what each column holds, on a sample: header hints and value tests together.

Value tests that cannot be fooled (NIR key, e-mail and phone shapes, IBAN,
tokens) decide alone; weaker roles (names, cities, passwords) need a hint and
values that agree. Columns with no hint are read from their values and their
neighbours (``_headerless``). A birth date that disagrees with the NIR's year and
month is kept and the disagreement noted: the NIR on a record is often the
insured person's (a parent's), not the patient's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from etanche.leak.scan import _values as v
from etanche.leak.scan._headerless import headerless_roles
from etanche.leak.scan._hints import hint_for
from etanche.leak.scan._rates import TESTS, column_rates

__all__ = ["ColumnRole", "TablePlan", "plan_table"]

STRONG = 0.3  # share of a column's values that makes a value-checked role certain
WEAK = 0.05  # enough when the header hints the same role
AGREE = 0.5  # NIR / birth-date agreement below which the disagreement is noted
NIR_NOTE = "birth dates disagree with the NIR"
DATED = ("birth_date", "last_visit")  # roles whose dates are parsed in the writings seen
REPEATING = 0.5  # at most this share of a sample's values distinct: test each value once


@dataclass(frozen=True, slots=True)
class ColumnRole:
    column: str
    role: str
    confidence: float
    formats: tuple[str, ...] = v.DATE_FORMATS  # date writings seen (dated roles)


@dataclass
class TablePlan:
    roles: list[ColumnRole] = field(default_factory=list)
    free_text: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # column names and shares only
    # columns whose values repeat (sex, régime, city, doctor...): tested once per distinct value
    repeating: frozenset[str] = frozenset()

    def columns(self, role: str) -> list[str]:
        return [r.column for r in self.roles if r.role == role]

    def first(self, role: str) -> str | None:
        found = self.columns(role)
        return found[0] if found else None

    def formats(self, column: str) -> tuple[str, ...]:
        for role in self.roles:
            if role.column == column and role.role == "birth_date":
                return role.formats
        return v.DATE_FORMATS


def _needs(columns: list[str]) -> dict[str, tuple[str, ...]]:
    """Tests each column needs beyond ``ALWAYS``: its hint's, or all of them.

    A column without a hint is read from its values and its neighbours' rates
    (``_headerless``): it and both neighbours get every test.
    """
    hints = [hint_for(c) for c in columns]
    needs: dict[str, tuple[str, ...]] = {}
    for i, (column, hint) in enumerate(zip(columns, hints, strict=True)):
        near = hints[max(i - 1, 0) : i + 2]
        if None in near:  # the column itself, or a neighbour, without a hint
            needs[column] = TESTS
        else:
            needs[column] = _HINTED[hint][0] if hint in _HINTED else ()
    return needs


def _value_roles(rates: dict[str, float], hint: str | None) -> list[ColumnRole]:
    out: list[ColumnRole] = []
    for role, key in (("nir", "nir"), ("email", "email"), ("phone", "phone"), ("iban", "iban")):
        rate = rates[key]
        if rate >= STRONG or (hint == role and rate >= WEAK):
            out.append(ColumnRole("", role, 0.99 if role in ("nir", "iban") else 0.97))
    if rates["token"] >= STRONG:
        out.append(ColumnRole("", "token", 0.95))
    return out


_Check = tuple[tuple[str, ...], Callable[[dict[str, float]], bool], float]
# hint -> the rates it reads, the test on them, the confidence of the role
_HINTED: dict[str, _Check] = {
    "birth_date": (("date",), lambda r: r["date"] >= 0.5, 0.9),
    "birth_name": (("name",), lambda r: r["name"] >= 0.7, 0.9),
    "used_name": (("name",), lambda r: r["name"] >= 0.7, 0.9),
    "first_names": (("name",), lambda r: r["name"] >= 0.7, 0.9),
    "other_name": (("name",), lambda r: r["name"] >= 0.7, 0.85),
    "physician": (("name",), lambda r: r["name"] >= 0.7, 0.85),
    "rpps": (("rpps",), lambda r: r["rpps"] >= 0.7, 0.9),
    "regime": (("regime", "insurer"), lambda r: r["regime"] + r["insurer"] >= 0.7, 0.85),
    "caisse": (("caisse", "insurer"), lambda r: r["caisse"] + r["insurer"] >= 0.7, 0.85),
    "amc_number": (("amc",), lambda r: r["amc"] >= 0.7, 0.85),
    "mutuelle": (("letters",), lambda r: r["letters"] >= 0.7, 0.8),
    "member_number": (("code",), lambda r: r["code"] >= 0.7, 0.8),
    "file_number": (("code",), lambda r: r["code"] >= 0.7, 0.8),
    "last_visit": (("date",), lambda r: r["date"] >= 0.5, 0.85),
    "sex": (("sex",), lambda r: r["sex"] >= 0.8, 0.9),
    "birthplace": (("insee", "name"), lambda r: r["insee"] >= 0.7 or r["name"] >= 0.7, 0.85),
    "street": (("street",), lambda r: r["street"] >= 0.2, 0.9),
    "postcode": (("postcode",), lambda r: r["postcode"] >= 0.7, 0.9),
    "city": (("name",), lambda r: r["name"] >= 0.7, 0.85),
    "blood_group": (("blood",), lambda r: r["blood"] >= 0.7, 0.95),
    "login": (("secret",), lambda r: r["secret"] >= 0.7, 0.9),
    "secret": (("secret",), lambda r: r["secret"] >= 0.7, 0.95),
    "health_flag": (("yesno",), lambda r: r["yesno"] >= 0.7, 0.8),
}


def _hinted_role(rates: dict[str, float], hint: str) -> ColumnRole | None:
    if hint == "free_text":
        return ColumnRole("", "free_text", 0.8)
    if hint not in _HINTED:
        return None
    _, passes, confidence = _HINTED[hint]
    return ColumnRole("", hint, confidence) if passes(rates) else None


def _unhinted_role(rates: dict[str, float]) -> ColumnRole | None:
    if rates["street"] >= 0.5:
        return ColumnRole("", "street", 0.8)
    if rates["blood"] >= 0.9:
        return ColumnRole("", "blood_group", 0.8)
    if rates["words"] >= 3 or (rates["length"] >= 25 and rates["words"] >= 2):
        return ColumnRole("", "free_text", 0.6)
    return None


def plan_table(sample: pl.DataFrame) -> TablePlan:
    """Roles of the columns of a table, decided on ``sample`` (a few thousand rows)."""
    plan = TablePlan()
    if sample.columns == ["text"]:
        plan.free_text.append("text")
        return plan
    all_rates = column_rates(sample, _needs(sample.columns))
    decided: dict[str, list[ColumnRole]] = {}
    unhinted: list[str] = []
    for column in sample.columns:
        rates = all_rates.get(column)
        if not rates:
            continue
        hint = hint_for(column)
        found = _value_roles(rates, hint)
        if not found and hint is None:
            unhinted.append(column)
            continue
        if not found:
            role = _hinted_role(rates, hint) if hint else None
            if role is None and hint != "birth_date":
                role = _unhinted_role(rates)
            found = [role] if role is not None else []
        decided[column] = found
    known = {c: roles[0].role for c, roles in decided.items() if roles}
    guessed = headerless_roles(sample, unhinted, all_rates, known)
    date_like: list[str] = []
    for column in unhinted:
        if all_rates[column]["date"] >= 0.8 and guessed.get(column, ("",))[0] != "birth_date":
            date_like.append(column)
        if column in guessed:
            name, confidence = guessed[column]
            decided[column] = [ColumnRole("", name, confidence)]
            continue
        unhinted_role = _unhinted_role(all_rates[column])
        decided[column] = [unhinted_role] if unhinted_role is not None else []
    for column in sample.columns:
        for role in decided.get(column, []):
            if role.role == "free_text":
                plan.free_text.append(column)
            else:
                dated = role.role in DATED
                formats = v.date_formats(sample[column]) if dated else ()
                plan.roles.append(ColumnRole(column, role.role, role.confidence, formats))
    _check_birth_dates(sample, plan, date_like)
    dates = frozenset(r.column for r in plan.roles if r.role in DATED)
    plan.repeating = dates | _repeating(sample, [r.column for r in plan.roles])
    return plan


def _repeating(sample: pl.DataFrame, columns: list[str]) -> frozenset[str]:
    """Columns of ``sample`` with at most ``REPEATING`` of their values distinct.

    Only a matter of speed: a column's cells get the same answers either way.
    Dates repeat too (a century holds 36,525 days) though a sample seldom shows it.
    """
    if not columns:
        return frozenset()
    picked = sample.select(list(dict.fromkeys(columns)))
    distinct = picked.select(pl.all().drop_nulls().n_unique()).row(0)
    counts = picked.select(pl.all().count()).row(0)
    return frozenset(
        c for c, d, n in zip(picked.columns, distinct, counts, strict=True) if d <= REPEATING * n
    )


def _agreement(sample: pl.DataFrame, nir: str, column: str) -> float:
    compact = v.compact_nir(pl.col(nir))
    born = v.birth_date(pl.col(column))
    both = (
        sample.lazy()  # lazy: the compact NIR and the parsed date are computed once
        .select(
            ok=v.nir_valid(compact) & born.is_not_null(),
            same=(compact.str.slice(1, 2) == born.dt.strftime("%y"))
            & (compact.str.slice(3, 2) == born.dt.strftime("%m")),
        )
        .filter(pl.col("ok"))
        .collect()
    )
    if not both.height:
        return -1.0
    return float(both["same"].cast(pl.Float64).mean() or 0.0)  # type: ignore[arg-type]


def _check_birth_dates(sample: pl.DataFrame, plan: TablePlan, date_like: list[str]) -> None:
    """Unnamed date columns that match the NIR are birth dates; disagreements are noted."""
    nir = plan.first("nir")
    if nir is None:
        return
    for role in [r for r in plan.roles if r.role == "birth_date"]:
        agreement = _agreement(sample, nir, role.column)
        if 0 <= agreement < AGREE:
            plan.notes.append(
                f'{NIR_NOTE}: column "{role.column}", {round(100 * (1 - agreement))} % of '
                "the rows with both; kept as birth dates (a NIR is often the insured "
                "person's, e.g. a parent's)"
            )
    for column in date_like:
        if _agreement(sample, nir, column) >= 0.8:
            plan.roles = [r for r in plan.roles if r.column != column]
            formats = v.date_formats(sample[column])
            plan.roles.append(ColumnRole(column, "birth_date", 0.9, formats))
