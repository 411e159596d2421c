"""``scan_paths``: read every table of every found file and report what it exposes.

Columns are classified on a sample of the first rows, then every frame is tested
whole with polars (one pass, all cores); free text goes through span patterns,
a lexicon prefilter and edsnlp's negation on the distinct flagged texts only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from etanche.errors import SourceError
from etanche.exchange.found import FoundTable, found_files, read_tables
from etanche.leak.scan import _values as v
from etanche.leak.scan._classify import TablePlan, plan_table
from etanche.leak.scan._detect import (
    _EMAIL_SPAN,
    _NIR_SPAN,
    NLP_CAP,
    FrameFindings,
    HealthCache,
    detect_frame,
)
from etanche.leak.scan._hints import flag_concept
from etanche.leak.scan._mask import mask
from etanche.leak.scan._report import (
    CATEGORIES,
    MAX_SAMPLES,
    SPECIAL_CATEGORIES,
    CategoryFinding,
    FileFinding,
    ScanReport,
    concept_bucket,
)
from etanche.leak.scan._vault_match import IdentifierSet, VaultMatcher

if TYPE_CHECKING:
    from etanche.vault import Vault

__all__ = ["scan_paths", "scan_table"]

SAMPLE_ROWS = 5_000
FRAME_ROWS = 200_000
FREE_TEXT = "free text"
_CONFIDENCE = {
    "nir": 0.95,
    "phone": 0.9,
    "email": 0.95,
    "iban": 0.95,
    "name": 0.7,
    "birth_date": 0.85,
    "address": 0.8,
    "credential": 0.85,
    "blood_group": 0.85,
    "health": 0.85,
    "drug": 0.9,
    "insurance": 0.8,
    "file_number": 0.8,
    "last_visit": 0.85,
    "rpps": 0.9,
}


@dataclass
class _State:
    cache: HealthCache = field(default_factory=HealthCache)
    # per frame, each row's person key and whether the row holds each category and
    # each health concept ("concept:" + bucket): the distinct persons of every
    # category are counted in one group-by at the end
    person_rows: list[pl.DataFrame] = field(default_factory=list)
    concept_rows: dict[str, int] = field(default_factory=dict)
    physicians: list[pl.Series] = field(default_factory=list)
    physicians_rpps: bool = False
    matcher: VaultMatcher | None = None
    identifiers: IdentifierSet | None = None
    notes: list[str] = field(default_factory=list)


def scan_paths(
    paths: Sequence[Path],
    *,
    vault: Vault | None = None,
    identifiers: IdentifierSet | None = None,
    progress: Callable[[int], None] | None = None,
) -> ScanReport:
    """Scan files, directories and archives; ``progress`` gets the rows of each frame.

    With ``vault``, rows are matched to our patients by blind index only. With
    ``identifiers``, each row's normalised identifiers are collected there for the
    service to match (``match_identifiers``); nothing is matched here.
    """
    report = ScanReport()
    state = _State(
        matcher=VaultMatcher(vault) if vault is not None else None, identifiers=identifiers
    )
    for path in paths:
        for file in found_files(path):
            report.bytes_read += file.stat().st_size
            try:
                for table in read_tables(file):
                    report.files.append(scan_table(table, state, progress))
            except SourceError as exc:
                report.files.append(FileFinding(str(file), "unreadable", error=str(exc)))
    _finish(report, state)
    return report


def scan_table(
    table: FoundTable, state: _State, progress: Callable[[int], None] | None = None
) -> FileFinding:
    finding = FileFinding(table.name, table.format, bytes=table.size)
    plan: TablePlan | None = None
    for frame in table.frames(FRAME_ROWS):
        if plan is None:
            plan = plan_table(frame.head(SAMPLE_ROWS))
            state.notes.extend(f"{note} (in {table.name})" for note in plan.notes)
        parts = _key_parts(plan)
        found = detect_frame(frame, plan, state.cache)
        _count(finding, frame, found, state.cache, plan)
        keys = (
            _row_keys(frame, _first_key(frame, plan, found, parts[0]), parts[1:]) if parts else None
        )
        _count_rows(finding, frame, found, state, keys)
        _physicians(frame, plan, state)
        if state.matcher is not None:
            state.matcher.feed(frame, plan, found, state.cache)
        if state.identifiers is not None:
            state.identifiers.feed(frame, plan, found, state.cache)
        finding.rows += frame.height
        if progress is not None:
            progress(frame.height)
    return finding


def _count(
    finding: FileFinding,
    frame: pl.DataFrame,
    found: FrameFindings,
    cache: HealthCache,
    plan: TablePlan,
) -> None:
    confidences = {(r.role, r.column): r.confidence for r in plan.roles}
    for category, column, source, cells in found.masks:
        count = int(cells.sum()) if category != "ins_traits" or source == "ins_row" else 0
        if not count and category != "ins_traits":
            continue
        entry = finding.categories.setdefault(category, CategoryFinding(category))
        if source == "ins_row":  # one count per row holding every INS identity trait
            for part in column.split(" + "):
                entry.merge(0, part, 0.9, [])
            entry.count += count
            continue
        samples: list[str] = []
        if len(entry.samples) < MAX_SAMPLES:
            samples = _samples(category, source, frame[column].filter(cells), cache)
        if source == "free_text":
            confidence = _CONFIDENCE.get(category, 0.8)
        else:
            confidence = confidences.get((source, column), 0.9)
        label = FREE_TEXT if source == "free_text" else column
        entry.merge(count, label, confidence, samples)


def _samples(category: str, source: str, values: pl.Series, cache: HealthCache) -> list[str]:
    distinct = values.head(200).unique(maintain_order=True).head(MAX_SAMPLES).to_list()
    if source != "free_text":
        return [mask(source, x) for x in distinct if x]
    if category in ("health", "drug"):
        out: list[str] = []
        for text in distinct:
            found = cache.results.get(text)
            if found is None:
                continue
            if category == "health":
                out.extend(sorted(found.health))
            else:
                out.extend(f"{name} ({atc})" for name, atc in sorted(found.drugs))
        return list(dict.fromkeys(out))[:MAX_SAMPLES]
    spans = {"nir": _NIR_SPAN, "email": _EMAIL_SPAN}
    if category in spans:
        found_spans = pl.Series(distinct, dtype=pl.String).str.extract(f"({spans[category]})")
        return [mask(category, x) for x in found_spans.drop_nulls()]
    return [f"({category} in free text)"]


def _key_parts(plan: TablePlan) -> list[pl.Expr]:
    """One identity per row: valid NIR, else name + first name + birth date, else contact.

    The first part that is not null on a row is its key (a coalesce of the parts).
    """
    parts: list[pl.Expr] = []
    nir = plan.first("nir")
    if nir is not None:
        compact = v.compact_nir(pl.col(nir))
        parts.append(pl.when(v.nir_valid(compact)).then(compact))
    traits = [plan.first(r) for r in ("birth_name", "first_names", "birth_date")]
    if all(traits):  # as written: a person spelt two ways counts twice (an estimate)
        parts.append(pl.concat_str([pl.col(t) for t in traits if t is not None], separator="|"))
    for role in ("email", "phone"):
        column = plan.first(role)
        if column is not None:
            parts.append(pl.col(column).str.strip_chars())
    for column in plan.free_text if not parts else ():
        text = pl.col(column)
        compact = v.compact_nir(text.str.extract(f"({_NIR_SPAN})"))
        parts.append(pl.when(v.nir_valid(compact)).then(compact))
        parts.append(text.str.extract(f"({_EMAIL_SPAN})").str.to_lowercase())
    return parts


def _first_key(
    frame: pl.DataFrame, plan: TablePlan, found: FrameFindings, first: pl.Expr
) -> pl.Series:
    """The first identity part of every row; a valid NIR is read off the NIR test's mask."""
    nir = plan.first("nir")
    if nir is None:
        return frame.select(first.alias("person")).to_series()
    valid = next(m for c, column, s, m in found.masks if (c, column, s) == ("nir", nir, "nir"))
    compact = v.compact_nir(pl.col(nir))
    return frame.select(pl.when(pl.lit(valid)).then(compact).alias("person")).to_series()


def _row_keys(frame: pl.DataFrame, first: pl.Series, rest: list[pl.Expr]) -> pl.Series:
    """One identity hash per row (null where the row has none), aligned with the frame.

    The first part where set, the others only on the other rows: the fallbacks are
    computed on the few rows lacking the first (in a leak, mostly a valid NIR).
    """
    keys = first
    if rest and first.null_count():
        missing = first.is_null().arg_true()
        read = list(dict.fromkeys(c for e in rest for c in e.meta.root_names()))
        rows = frame.select(read)[missing]
        others = rows.select(pl.coalesce(rest).alias(first.name)).to_series()
        keys = keys.scatter(missing, others.cast(keys.dtype))
    return pl.select(pl.when(keys.is_not_null()).then(keys.hash())).to_series()


def _count_rows(
    finding: FileFinding,
    frame: pl.DataFrame,
    found: FrameFindings,
    state: _State,
    keys: pl.Series | None,
) -> None:
    """Rows per category and per health concept, and each row's person key with them."""
    rows: dict[str, pl.Series] = {}
    concepts: dict[str, pl.Series] = {}
    for category, column, source, cells in found.masks:
        if category == "ins_traits" and source != "ins_row":
            continue
        rows[category] = rows[category] | cells if category in rows else cells
        if category != "health":
            continue
        if source == "health_flag":
            _held(concepts, concept_bucket(flag_concept(column)), cells)
        elif source == "free_text":
            for concept, held in _text_concepts(frame[column], cells, state.cache).items():
                _held(concepts, concept, held)
    for category, held in rows.items():
        count = int(held.sum())
        if count:
            finding.categories.setdefault(category, CategoryFinding(category)).rows += count
    for concept, held in concepts.items():
        state.concept_rows[concept] = state.concept_rows.get(concept, 0) + int(held.sum())
    if keys is not None:
        flags = {**rows, **{f"concept:{c}": held for c, held in concepts.items()}}
        table = pl.DataFrame({"key": keys, **{k: m.alias(k) for k, m in flags.items()}})
        state.person_rows.append(table.filter(pl.col("key").is_not_null()))


def _held(masks: dict[str, pl.Series], key: str, cells: pl.Series) -> None:
    masks[key] = masks[key] | cells if key in masks else cells


def _text_concepts(texts: pl.Series, cells: pl.Series, cache: HealthCache) -> dict[str, pl.Series]:
    """Per health concept, the cells whose analysed text affirms it.

    Concepts are looked up once per distinct text, then mapped to the cells in one join.
    """
    by_text: dict[str, set[str]] = {}
    for text in texts.filter(cells).unique().to_list():
        result = cache.results.get(text)
        if result is not None and result.health:
            by_text[text] = {concept_bucket(c) for c in result.health}
    concepts = sorted(set().union(*by_text.values()))
    if not concepts:
        return {}
    answers = pl.DataFrame(
        {"t": list(by_text), **{c: [c in held for held in by_text.values()] for c in concepts}},
        schema_overrides={"t": pl.String},
    )
    joined = texts.to_frame("t").join(answers, on="t", how="left", maintain_order="left")
    return {c: cells & joined[c].fill_null(False) for c in concepts}


def _physicians(frame: pl.DataFrame, plan: TablePlan, state: _State) -> None:
    """Distinct treating physicians: by RPPS when the table gives it, else by name."""
    rpps, name = plan.first("rpps"), plan.first("physician")
    if rpps is not None:
        state.physicians_rpps = True
        column = pl.col(rpps).str.strip_chars()
        values = frame.select(pl.when(v.rpps(pl.col(rpps))).then(column)).to_series()
    elif name is not None:
        values = frame.select(pl.col(name).str.strip_chars().str.to_lowercase()).to_series()
    else:
        return
    state.physicians.append(values.drop_nulls().filter(values.drop_nulls() != "").hash())


def _distinct(parts: list[pl.Series]) -> int:
    return int(pl.concat(parts).n_unique()) if parts else 0


def _finish(report: ScanReport, state: _State) -> None:
    for file in report.files:
        report.rows += file.rows
        for category, entry in file.categories.items():
            total = report.categories.setdefault(category, CategoryFinding(category))
            for column in entry.columns:
                total.merge(0, column, entry.confidence, entry.samples)
            total.count += entry.count
            total.rows += entry.rows
    report.categories = {c: report.categories[c] for c in CATEGORIES if c in report.categories}
    persons: dict[str, int] = {}
    if state.person_rows:
        table = pl.concat(state.person_rows, how="diagonal")
        by_person = table.group_by("key").agg(pl.exclude("key").any())
        report.persons = by_person.height
        persons = by_person.select(pl.exclude("key").sum()).row(0, named=True)
    for category, entry in report.categories.items():
        entry.persons = int(persons.get(category) or 0)
    report.concepts = {
        concept: (rows, int(persons.get(f"concept:{concept}") or 0))
        for concept, rows in state.concept_rows.items()
    }
    report.physicians = _distinct(state.physicians)
    report.physicians_rpps = state.physicians_rpps
    report.special_category = any(
        report.categories.get(c, CategoryFinding(c)).count for c in SPECIAL_CATEGORIES
    )
    report.notes.extend(dict.fromkeys(state.notes))
    if state.cache.skipped_cells:
        report.notes.append(
            f"health terms: {state.cache.skipped_cells} flagged free-text cells beyond the "
            f"first {NLP_CAP} distinct texts were not analysed (counts are a lower bound)"
        )
    if state.matcher is not None:
        per_lab, exposed = state.matcher.match()
        report.matched_patients = per_lab
        report.matched_exposure = exposed
        report.vault_matches = {lab: len(ids) for lab, ids in sorted(per_lab.items())}
