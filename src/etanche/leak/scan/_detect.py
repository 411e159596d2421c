"""Cell-level findings of one frame, vectorised: which cells hold which category.

The unit is the cell: a structured cell counts once for the category of its
column's role when its value passes the role's test; a free-text cell counts
once per category it mentions (an identifier found in it, or an affirmed health
term or drug; negated mentions do not count).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import polars as pl

from etanche.leak.scan import _values as v
from etanche.leak.scan._classify import TablePlan
from etanche.leak.scan._hints import ROLES
from etanche.leak.scan._nlp import TextHealth, analyse_texts
from etanche.leak.scan._terms import mentions_any

__all__ = ["FrameFindings", "HealthCache", "detect_frame", "role_mask"]

NLP_CAP = 50_000  # distinct flagged texts analysed per scan; beyond, counts are extrapolated

_NIR_SPAN = (
    r"\b[12378]\s?\d{2}\s?(?:0[1-9]|1[0-2]|20|3\d|4[0-2]|[5-9]\d)\s?(?:\d{2}|2[AB])"
    r"\s?\d{3}\s?\d{3}\s?\d{2}\b"
)
_PHONE_SPAN = r"(?:(?:\+|\b00)33\s?(?:\(0\)\s?)?|\b0)[1-9](?:[\s.\-]?\d{2}){4}\b"
_EMAIL_SPAN = r"[A-Za-z0-9._%+'\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
_IBAN_SPAN = r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?\b"
_TITLE_NAME = (
    r"\b(?:M\.|Mme|Mlle|Madame|Monsieur|Mr|Dr|Docteur|Pr|Professeur)\.?\s+"
    r"\p{Lu}[\p{L}'\-]+"
)
_BIRTH_SPAN = (
    r"(?i)\b(?:n[ée]e?\s+le|n[ée]\(e\)\s+le|date\s+(?:de\s+)?naiss(?:ance|\.)?\s*:?|"
    r"ddn\s*:?|dob\s*:?|birth\s*date\s*:?|date\s+of\s+birth\s*:?|born\s+on)"
    r"\s*\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}"
)
_STREET_SPAN = rf"(?i)\b\d{{1,4}}\s?(?:bis|ter)?,?\s+(?:{v.STREET_WORDS})\.?\s+\p{{L}}"
_CREDENTIAL_SPAN = (
    r"(?i)\b(?:mot\s+de\s+passe|mdp|password|passwd|pwd|login|identifiant)\s*[:=]\s*\S+"
    r"|\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}|\b(?:sk|pk)_(?:live|test)_\w{10,}|\bAKIA[0-9A-Z]{16}"
)
_BLOOD_SPAN = r"(?i)\bgroupe(?:\s+sanguin)?\s*:?\s*(?:AB|A|B|O)\s?(?:\+|-|pos|n[eé]g)"
_INS_ROLES = ("birth_name", "first_names", "birth_date")
_YES = ["oui", "yes", "true", "1", "o", "y", "x", "positif", "enceinte"]


@dataclass
class HealthCache:
    """Results of the NLP pass per distinct text, kept for the whole scan."""

    results: dict[str, TextHealth] = field(default_factory=dict)
    skipped_cells: int = 0  # flagged cells past NLP_CAP (extrapolated)

    def analyse(self, texts: Iterable[str]) -> None:
        todo = [t for t in dict.fromkeys(texts) if t not in self.results]
        room = max(NLP_CAP - len(self.results), 0)
        todo = todo[:room]
        for text, found in zip(todo, analyse_texts(todo), strict=True):
            self.results[text] = found


@dataclass
class FrameFindings:
    """Boolean masks: (category, column, source) -> cells holding that category."""

    masks: list[tuple[str, str, str, pl.Series]] = field(default_factory=list)
    extra: dict[str, pl.Series] = field(default_factory=dict)

    def add(self, category: str, column: str, source: str, mask: pl.Series) -> None:
        self.masks.append((category, column, source, mask.fill_null(False)))


def role_mask(role: str, column: str, formats: tuple[str, ...] = v.DATE_FORMATS) -> pl.Expr:
    """The test a structured cell of ``role`` must pass to count.

    Kept once built (building every frame's expressions again cost about 25 ms a
    frame), for the day only: a birth date is plausible up to today.
    """
    return _role_mask(role, column, formats, date.today())


@lru_cache(maxsize=1024)
def _role_mask(role: str, column: str, formats: tuple[str, ...], today: date) -> pl.Expr:
    del today  # part of the cache key only
    c = pl.col(column)
    tests: dict[str, pl.Expr] = {
        "nir": v.nir_valid(v.compact_nir(c)),
        "phone": v.phone(c),
        "email": v.email(c),
        "iban": v.iban_shape(c),
        "token": v.token(c),
        "birth_date": v.birth_date(c, formats).is_not_null(),
        "birth_name": v.person_name(c),
        "used_name": v.person_name(c),
        "first_names": v.person_name(c),
        "other_name": v.person_name(c),
        "physician": v.person_name(c),
        "rpps": v.rpps(c),
        "regime": v.digits(c, 2) | v.insurer(c),
        "caisse": v.digits(c, 3) | v.insurer(c),
        "mutuelle": c.str.contains(r"\p{L}").fill_null(False),
        "amc_number": v.amc_number(c),
        "postcode_city": v.postcode_city(c),
        "member_number": v.record_code(c),
        "file_number": v.record_code(c),
        "last_visit": v.birth_date(c, formats).is_not_null(),
        "sex": v.sex(c),
        "birthplace": v.insee_code(c) | v.person_name(c),
        "street": c.str.contains(r"\p{L}").fill_null(False),
        "postcode": v.postcode(c),
        "city": v.person_name(c),
        "blood_group": v.blood_group(c),
        "login": v.secret_like(c),
        "secret": v.secret_like(c),
        "health_flag": c.str.strip_chars().str.to_lowercase().is_in(_YES).fill_null(False),
    }
    return tests[role]


def detect_frame(
    frame: pl.DataFrame,
    plan: TablePlan,
    cache: HealthCache,
    extra: dict[str, pl.Expr] | None = None,
) -> FrameFindings:
    """Masks for every role of ``plan`` and every category found in its free text.

    ``extra`` expressions are evaluated in the same pass (shared sub-expressions
    such as the compact NIR are computed once) and returned in ``found.extra``.
    """
    found = FrameFindings()
    exprs = _role_exprs(frame, plan)
    exprs += [e.alias(f"extra:{k}") for k, e in (extra or {}).items()]
    masks = frame.lazy().select(exprs).collect() if exprs else pl.DataFrame()
    by_column: dict[tuple[str, str], pl.Series] = {}
    for i, role in enumerate(plan.roles):
        mask = masks[str(i)].fill_null(False)
        if role.role == "iban" and mask.any():
            mask = _iban_checked(frame[role.column], mask)
        by_column[(role.role, role.column)] = mask
        found.add(ROLES[role.role], role.column, role.role, mask)
    for key in extra or {}:
        found.extra[key] = masks[f"extra:{key}"]
    traits = [(r, plan.first(r)) for r in _INS_ROLES]
    if all(column for _, column in traits):
        parts = [by_column[(r, c)] for r, c in traits if c is not None]
        complete = parts[0] & parts[1] & parts[2]
        found.add("ins_traits", " + ".join(c for _, c in traits if c), "ins_row", complete)
    if plan.free_text:
        _free_text(frame, plan.free_text, cache, found)
    return found


def _role_exprs(frame: pl.DataFrame, plan: TablePlan) -> list[pl.Expr]:
    """Each role's mask, aliased by its index in ``plan.roles``.

    A column whose values repeat is tested once per distinct value (side by side,
    one query per column), then its cells are looked up in the passing values: a
    test never passes on a missing cell, so both ways give every cell the same answer.
    """
    repeated = [(i, r) for i, r in enumerate(plan.roles) if r.column in plan.repeating]
    queries = [
        frame.lazy()
        .select(pl.col(r.column).unique())
        .filter(role_mask(r.role, r.column, r.formats))
        for _, r in repeated
    ]
    answers = pl.collect_all(queries) if queries else []
    passing = {i: p.to_series().implode() for (i, _), p in zip(repeated, answers, strict=True)}
    return [
        (
            pl.col(r.column).is_in(passing[i])
            if i in passing
            else role_mask(r.role, r.column, r.formats)
        ).alias(str(i))
        for i, r in enumerate(plan.roles)
    ]


def _iban_checked(values: pl.Series, mask: pl.Series) -> pl.Series:
    checked = [bool(m) and v.iban_valid(x) for x, m in zip(values, mask, strict=True)]
    return pl.Series(checked, dtype=pl.Boolean)


def _free_text(
    frame: pl.DataFrame, columns: list[str], cache: HealthCache, found: FrameFindings
) -> None:
    """Spans and health terms, computed once per distinct text then mapped to the cells.

    The distinct texts of every free-text column are tested together: one pass of
    each pattern per frame however many comment columns the table has.
    """
    every = pl.concat([frame[column].drop_nulls() for column in columns])
    distinct = pl.DataFrame({"t": every.unique()})
    c = pl.col("t")
    nir_ok = (
        c.str.extract_all(_NIR_SPAN)
        .list.eval(v.nir_valid(v.compact_nir(pl.element())))
        .list.any()
        .fill_null(False)
    )
    spans = (
        distinct.lazy()
        .select(
            c,
            nir=nir_ok,
            phone=c.str.contains(_PHONE_SPAN),
            email=c.str.contains(_EMAIL_SPAN),
            iban=c.str.contains(_IBAN_SPAN),
            name=c.str.contains(_TITLE_NAME),
            birth_date=c.str.contains(_BIRTH_SPAN),
            address=c.str.contains(_STREET_SPAN),
            credential=c.str.contains(_CREDENTIAL_SPAN),
            blood_group=c.str.contains(_BLOOD_SPAN),
            folded=v.unaccent_lower(c),
        )
        .collect()
    )
    spans = spans.with_columns(flagged=mentions_any(spans["folded"])).drop("folded")
    texts = spans["t"]
    table: dict[str, pl.Series] = {"t": texts}
    for category in spans.columns[1:-1]:
        hits = spans[category].fill_null(False)
        if category == "iban" and hits.any():
            hits = _iban_in_text(texts, hits)
        table[category] = hits
    is_flagged = spans["flagged"].fill_null(False)
    flagged = texts.filter(is_flagged)
    cache.analyse(flagged.to_list())
    unanalysed = flagged.filter(~flagged.is_in(list(cache.results)))
    if unanalysed.len():
        cache.skipped_cells += sum(int(frame[c].is_in(unanalysed).sum()) for c in columns)
    results = [cache.results.get(t) if f else None for t, f in zip(texts, is_flagged, strict=True)]
    table["health"] = pl.Series([bool(r and r.health) for r in results], dtype=pl.Boolean)
    table["drug"] = pl.Series([bool(r and r.drugs) for r in results], dtype=pl.Boolean)
    answers = pl.DataFrame(table)
    for column in columns:  # one join maps every per-text answer back to the cells
        cells = frame[column].to_frame("t").join(answers, on="t", how="left", maintain_order="left")
        for category in list(table)[1:]:
            found.add(category, column, "free_text", cells[category])


def _iban_in_text(values: pl.Series, mask: pl.Series) -> pl.Series:
    import re

    pattern = re.compile(_IBAN_SPAN)
    out = []
    for text, m in zip(values, mask, strict=True):
        out.append(bool(m) and any(v.iban_valid(x) for x in pattern.findall(text or "")))
    return pl.Series(out, dtype=pl.Boolean)
