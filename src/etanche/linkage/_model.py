"""The Fellegi–Sunter model: comparisons on identity traits, blocking, training rules.

Each comparison level carries a short English code as its label; the queue
stores those codes (never a value) and the web page translates them. Levels run
from the most to the least specific; Splink gives the null level -1 and the
others n-1 .. 0 in order, which ``LEVELS`` mirrors.
"""

from __future__ import annotations

from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on

PREFIX = "gamma_"


def _floor(level: Any, m: float) -> Any:
    """Fix a disagreement's m at a prior: clean training data would drive it to zero.

    EM on data where, say, sex never differs within a person underflows m to 0
    and makes one disagreement veto any match; real desks do mistype it.
    """
    return level.configure(m_probability=m, fix_m_probability=True)


def _name(column: str, *, other: str, swap_label: str, differ: float) -> list[Any]:
    return [
        cll.NullLevel(column),
        cll.ExactMatchLevel(column).configure(label_for_charts="exact"),
        cll.CustomLevel(
            f"({column}_l = {other}_r OR {other}_l = {column}_r)", label_for_charts=swap_label
        ),
        cll.DamerauLevenshteinLevel(column, 1).configure(label_for_charts="one_edit"),
        cll.JaroWinklerLevel(column, 0.92).configure(label_for_charts="close"),
        cll.ExactMatchLevel(f"{column}_sound").configure(label_for_charts="phonetic"),
        cll.JaroWinklerLevel(column, 0.8).configure(label_for_charts="similar"),
        _floor(cll.ElseLevel().configure(label_for_charts="different"), differ),
    ]


_SWAPPED_DAY_MONTH = (
    "substr(birth_date_l, 1, 4) = substr(birth_date_r, 1, 4)"
    " AND substr(birth_date_l, 6, 2) = substr(birth_date_r, 9, 2)"
    " AND substr(birth_date_l, 9, 2) = substr(birth_date_r, 6, 2)"
)


def _exact(
    column: str, *, differ: float, partial: str | None = None, rare: bool = False
) -> list[Any]:
    levels: list[Any] = [
        cll.NullLevel(column),
        cll.ExactMatchLevel(column).configure(label_for_charts="exact"),
    ]
    if partial is not None:
        level = _floor(cll.CustomLevel(partial, label_for_charts="partial"), differ / 2)
        if rare:  # two people sharing 13 digits: too rare for random sampling to meet
            level = level.configure(u_probability=1e-7)
        levels.append(level)
    levels.append(_floor(cll.ElseLevel().configure(label_for_charts="different"), differ))
    return levels


COMPARISONS: dict[str, list[Any]] = {
    "surname": _name("surname", other="used_name", swap_label="used_name", differ=0.02),
    "first_name": _name("first_name", other="second_first_name", swap_label="swapped", differ=0.01),
    "birth_date": [
        cll.NullLevel("birth_date"),
        cll.ExactMatchLevel("birth_date").configure(label_for_charts="exact"),
        cll.CustomLevel(_SWAPPED_DAY_MONTH, label_for_charts="day_month_swapped"),
        cll.DamerauLevenshteinLevel("birth_date", 1).configure(label_for_charts="one_edit"),
        _floor(cll.CustomLevel("birth_year_l = birth_year_r", label_for_charts="same_year"), 0.005),
        _floor(cll.ElseLevel().configure(label_for_charts="different"), 0.005),
    ],
    "sex": _exact("sex", differ=0.005),
    "birthplace": _exact(
        "birthplace",
        differ=0.02,
        partial="substr(birthplace_l, 1, 2) = substr(birthplace_r, 1, 2)",
    ),
    "nir": _exact(
        "nir", differ=0.01, partial="substr(nir_l, 1, 13) = substr(nir_r, 1, 13)", rare=True
    ),
    "postcode": _exact(
        "postcode", differ=0.2, partial="substr(postcode_l, 1, 2) = substr(postcode_r, 1, 2)"
    ),
    "phone": _exact("phone", differ=0.3),
    "email": _exact("email", differ=0.3),
}


def _labels(levels: list[Any]) -> dict[int, str]:
    """gamma value -> level code, as Splink numbers them (null -1, then n-1 .. 0)."""
    rest = [lvl for lvl in levels if not isinstance(lvl, cll.NullLevel)]
    out = {-1: "null"}
    for rank, level in enumerate(rest):
        out[len(rest) - 1 - rank] = level.label_for_charts
    return out


LEVELS: dict[str, dict[int, str]] = {name: _labels(lv) for name, lv in COMPARISONS.items()}

# Candidate pairs: the vault's blind indexes first (no value needed), then rules
# on decrypted traits for what the indexes miss (typos, swaps, a missing NIR).
BLOCKING = (
    block_on("nir_index"),
    block_on("name_dob_index"),
    block_on("first_name", "birth_date"),
    block_on("surname", "birth_date"),
    block_on("surname_sound", "first_name_sound", "birth_year"),
    block_on("surname_sound", "birth_date"),
    block_on("birth_date", "postcode"),
    block_on("birth_date", "birthplace", "sex"),
    block_on("phone"),
    block_on("email"),
)

# Expectation–maximisation sessions: each fixes what it blocks on, learns the rest.
TRAINING = (
    block_on("birth_date"),
    block_on("surname", "first_name"),
)


def settings(prior: float) -> SettingsCreator:
    """The model's settings; ``prior`` is the chance two random records are one person."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        probability_two_random_records_match=prior,
        comparisons=[
            cl.CustomComparison(levels, output_column_name=name)
            for name, levels in COMPARISONS.items()
        ],
        blocking_rules_to_generate_predictions=list(BLOCKING),
        retain_intermediate_calculation_columns=False,
        # Splink keeps the level (gamma) columns only beside the values; both stay in
        # the engine's memory and only ids, weights and gammas are selected out of it.
        retain_matching_columns=True,
        additional_columns_to_retain=[],
    )
