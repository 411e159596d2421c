"""Testing each distinct value once gives every cell the answer testing each cell gives.

The rates of classification and the masks of detection are compared, on generated
columns of repeated values (missing and blank cells among them), with the same
tests run on every cell.
"""

from __future__ import annotations

import dataclasses

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from etanche.leak.scan import HealthCache, TablePlan, detect_frame, plan_table
from etanche.leak.scan._classify import ColumnRole
from etanche.leak.scan._hints import ROLES
from etanche.leak.scan._rates import _tests, column_rates

# values of the kinds a leaked export repeats, and some that fool the tests
POOL = [
    "269044410903346", "2 69 04 44 109 033 46", "269042A10903346", "169044410903347",
    "07 78 31 12 74", "+33 6 12 34 56 78", "a.b@example.org", "pas un mail@", "01/04/1969",
    "1969-04-01", "31/02/2001", "01/01/2199", "M", "F", "femme", "Rennes", "Saint-Lô",
    "35000", "2A004", "A+", "O nég", "Dr Patrick Le Bras", "10370055393", "01", "501",
    "Mutuelle Générale", "MGEN", "123456789", "0000001", "x7Gh2kPq", "oui", "non", "",
    "   ", "Prélèvement difficile, veines fines", "82 rue Gilles Marchand", "Éloïse",
    "eyJabcdefghij.abcdefghij.abcdefghij", "d41d8cd98f00b204e9800998ecf8427e",
]  # fmt: skip
CELLS = st.one_of(st.none(), st.sampled_from(POOL), st.text(max_size=20))
TABLES = st.integers(min_value=1, max_value=40).flatmap(
    lambda rows: st.lists(
        st.lists(CELLS, min_size=rows, max_size=rows), min_size=1, max_size=3
    ).map(
        lambda cols: pl.DataFrame(
            {f"c{i}": c for i, c in enumerate(cols)},
            schema_overrides={f"c{i}": pl.String for i in range(len(cols))},
        )
    )
)


def _cell_rates(frame: pl.DataFrame) -> dict[str, dict[str, float]]:
    """The shares as a mean over every non-empty cell, column by column."""
    out: dict[str, dict[str, float]] = {}
    tests = _tests(pl.col("v"))
    for column in frame.columns:
        cells = frame.select(pl.col(column).alias("v")).filter(
            pl.col("v").is_not_null() & (pl.col("v").str.strip_chars() != "")
        )
        if cells.height:
            means = cells.select(e.cast(pl.Float64).mean().alias(k) for k, e in tests.items())
            out[column] = {k: float(x or 0.0) for k, x in means.row(0, named=True).items()}
    return out


@settings(max_examples=15, deadline=None)
@given(TABLES)
def test_the_rates_over_distinct_values_equal_the_rates_over_every_cell(
    frame: pl.DataFrame,
) -> None:
    assert column_rates(frame) == _cell_rates(frame)


@settings(max_examples=10, deadline=None)
@given(TABLES)
def test_the_masks_over_distinct_values_equal_the_masks_over_every_cell(
    frame: pl.DataFrame,
) -> None:
    # the IBAN key is checked cell by cell anyway; free text has no role test
    roles = [r for r in ROLES if r not in ("iban", "free_text")]
    plan = TablePlan(roles=[ColumnRole(c, role, 0.9) for c in frame.columns for role in roles])
    each = detect_frame(frame, plan, HealthCache())
    distinct = detect_frame(
        frame, dataclasses.replace(plan, repeating=frozenset(frame.columns)), HealthCache()
    )
    assert len(each.masks) == len(distinct.masks) > len(plan.roles)  # and the INS traits row
    for (cat, column, role, mask), (*same, other) in zip(each.masks, distinct.masks, strict=True):
        assert (cat, column, role) == tuple(same)
        assert mask.to_list() == other.to_list(), (column, role)


def test_a_column_of_few_values_is_tested_by_distinct_value() -> None:
    sample = pl.DataFrame(
        {
            "Sexe": ["F", "M"] * 50,
            "Email": [f"p{i}@example.org" for i in range(100)],
        }
    )
    plan = plan_table(sample)
    assert {r.column: r.role for r in plan.roles} == {"Sexe": "sex", "Email": "email"}
    assert plan.repeating == {"Sexe"}
