"""Shares of a sample's values passing each value test, per column, only where needed.

Classifying a table costs a fixed time before its first frame is checked. Most
columns of a headed export need only the tests that decide alone (NIR, e-mail,
phone, IBAN, tokens), the fallbacks for a hinted column that fails its hint
(street, blood group, words, length) and the one or two tests of their hint; only
columns without a hint, and their neighbours, need every test. A rate not
computed is absent, so reading it fails loudly instead of reading zero.

Each test runs once per distinct value of a column (sex, régime, city, dates
repeat a lot): the share is the sum of the passing values' counts over the
column's count, the same integers divided as a mean over every cell.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import polars as pl

from etanche.leak.scan import _values as v

__all__ = ["ALWAYS", "TESTS", "column_rates"]

ALWAYS = ("nir", "email", "phone", "iban", "token", "street", "blood", "words", "length")


def _tests(c: pl.Expr) -> dict[str, pl.Expr]:
    return {
        "nir": v.nir_valid(v.compact_nir(c)),
        "phone": v.phone(c),
        "email": v.email(c),
        "iban": v.iban_shape(c),
        "token": v.token(c),
        "date": v.birth_date(c).is_not_null(),
        "name": v.person_name(c),
        "sex": v.sex(c),
        "insee": v.insee_code(c),
        "street": v.street(c),
        "postcode": v.postcode(c),
        "blood": v.blood_group(c),
        "secret": v.secret_like(c),
        "yesno": c.str.strip_chars()
        .str.to_lowercase()
        .is_in(["oui", "non", "yes", "no", "true", "false", "0", "1", "o", "n", "y"]),
        "rpps": v.rpps(c),
        "regime": v.digits(c, 2),
        "caisse": v.digits(c, 3),
        "amc": v.amc_number(c),
        "insurer": v.insurer(c),
        "capital": v.capitalised(c),
        "password": v.password_shape(c),
        "postcode_city": v.postcode_city(c),
        "code": v.record_code(c),
        "letters": c.str.contains(r"\p{L}").fill_null(False),
        "words": c.str.count_matches(r"\S+"),
        "length": c.str.len_chars(),
    }


TESTS = tuple(_tests(pl.col("v")))


def _long(frame: pl.DataFrame) -> pl.LazyFrame:
    """Every distinct non-empty (column, value) and its count ``n``.

    One long frame: each pattern is compiled once, not per column.
    """
    return (
        frame.unpivot(variable_name="column", value_name="v")
        .filter(pl.col("v").is_not_null() & (pl.col("v").str.strip_chars() != ""))
        .group_by("column", "v")
        .agg(n=pl.len().cast(pl.Float64))
        .lazy()
    )


def _means(
    long: pl.LazyFrame, columns: Iterable[str], tests: Iterable[str], exprs: dict[str, pl.Expr]
) -> pl.LazyFrame:
    """Per column, each test's mean over its cells, weighted by the distinct values' counts.

    Like ``mean``, a null answer counts in neither the sum nor the count.
    """
    wanted = long.filter(pl.col("column").is_in(list(columns)))
    picked = [exprs[k].cast(pl.Float64).alias(k) for k in tests]
    n = pl.col("n")
    means = []
    for k in tests:
        total = n.filter(pl.col(k).is_not_null()).sum()
        means.append(pl.when(total > 0).then((pl.col(k) * n).sum() / total).alias(k))
    return wanted.select(pl.col("column"), n, *picked).group_by("column").agg(means)


def column_rates(
    frame: pl.DataFrame, needs: Mapping[str, Iterable[str]] | None = None
) -> dict[str, dict[str, float]]:
    """Per column with a non-empty value, the share of those values passing each test.

    ``needs`` names, per column, the tests wanted beyond ``ALWAYS`` (every test for
    a column it does not name); the groups of columns wanting the same tests are
    computed side by side in one collect.
    """
    long = _long(frame).collect().lazy()
    groups: dict[tuple[str, ...], list[str]] = {}
    for column in frame.columns:
        extra = needs.get(column, TESTS) if needs is not None else TESTS
        wanted = tuple(k for k in TESTS if k in ALWAYS or k in set(extra))
        groups.setdefault(wanted, []).append(column)
    exprs = _tests(pl.col("v"))  # built once: building them costs more than testing a sample
    queries = [(tests, _means(long, columns, tests, exprs)) for tests, columns in groups.items()]
    out: dict[str, dict[str, float]] = {}
    for (tests, _), means in zip(queries, pl.collect_all([q for _, q in queries]), strict=True):
        for row in means.iter_rows(named=True):
            out[row["column"]] = {k: float(row[k] or 0.0) for k in tests}
    return out
