"""Scoring every export of the ledger against the rows of a found file (in memory).

For each export: canary hits, fingerprint agreement on the rows it contained
(binomial test), row-order agreement (Kendall / inversions) and scope overlap.
Each mark family gets its own binomial test (a leaker who re-normalises a whole
column wipes one family out without drowning the others); the families and the
order test are independent under innocence (separate PRF inputs) and combined by
Fisher's method; the canary lane stands on its own; the export's p-value is
twice the smaller of the two lanes (Bonferroni)
and the corrected p-value multiplies by the number of exports. A file made by
several exports is explained greedily: the top export's rows are set aside and
the rest is scored again.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from etanche.leak.trace._evidence import RowEvidence, row_chance, uniform_families
from etanche.leak.trace._identify import IdentifiedRow
from etanche.leak.trace._identity import EMAIL, NAME_DOB, NIR, PHONE
from etanche.leak.trace._mark import ExportMark
from etanche.leak.trace._renderings import ORDER
from etanche.leak.trace._stats import (
    fisher_log10p,
    inversions,
    order_log10p,
    set_agreement_log10p,
    weighted_hits_log10p,
)

__all__ = [
    "ACCUSATION_LOG10",
    "ExportModel",
    "ExportScore",
    "TraceResult",
    "attribute",
    "score_exports",
]

ACCUSATION_LOG10 = -9.0
"""Accuse an export when its corrected p-value is at most 1e-9."""
MIN_ROWS_TO_RESCORE = 5
_LANES = 3
_DIGEST_CHANCE = 2.0**-32  # a 32-bit blind-index digest
_CANARY_FLOOR = 2.0**-64
_CANARY_CHANCE = {
    # per found row and canary: the chance that an unrelated row carries the
    # canary's value, or a value whose 32-bit digest collides with it
    NIR: 2.0**-20,  # a serial among a month's births in one commune, month and year drawn
    PHONE: 2.0**-26,  # eight digits drawn at random
    EMAIL: _DIGEST_CHANCE,
    NAME_DOB: _DIGEST_CHANCE,
}


@dataclass
class ExportModel:
    """What scoring needs of one export (from a ledger entry, or built in memory)."""

    export_id: str
    recipient: str
    mark: ExportMark
    rows: frozenset[str]
    canaries: frozenset[str] = frozenset()
    created_at: datetime | None = None
    by_token: Mapping[str, str] | None = None  # identity token -> row key (packages)
    _cache: dict[tuple[str, str, str, int], int] = field(default_factory=dict, repr=False)
    _order: dict[str, int] = field(default_factory=dict, repr=False)

    def contains(self, patient_id: str) -> bool:
        return patient_id in self.rows or patient_id in self.canaries

    def key_of(self, row: IdentifiedRow) -> tuple[str, int] | None:
        """(row key, supporting indexes) of a found row in this export, if it held it."""
        pid = row.patient_id
        if pid is not None and self.contains(pid):
            return pid, row.support
        if self.by_token and row.tokens:
            votes = Counter(self.by_token[t] for t in row.tokens if t in self.by_token)
            if votes:
                return votes.most_common(1)[0]
        return None

    def expected(self, family: str, patient_id: str, canonical: str, k: int) -> int:
        key = (family, patient_id, canonical, k)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self.mark.choose(family, patient_id, canonical, k)
        return found

    def order_value(self, patient_id: str) -> int:
        found = self._order.get(patient_id)
        if found is None:
            found = self._order[patient_id] = self.mark.order_value(patient_id)
        return found


@dataclass(frozen=True)
class ExportScore:
    """The evidence against one export, and how likely an innocent one scores as high."""

    export_id: str
    recipient: str
    created_at: datetime | None
    found_rows: int  # identified rows scored in this round
    in_scope: int  # of them, rows the export contained
    canary_hits: int
    marks_seen: int
    agreements: int
    expected_agreements: float
    order_rows: int
    order_concordance: float  # Kendall's tau between file order and keyed order
    log10_p_fingerprint: float
    log10_p_order: float
    log10_p_canary: float
    log10_p: float
    log10_p_corrected: float
    agreeing_rows: int = 0  # patients with a row agreeing on every writing
    log10_p_rows: float = 0.0

    @property
    def scope_share(self) -> float:
        return self.in_scope / self.found_rows if self.found_rows else 0.0

    @property
    def accused(self) -> bool:
        return self.log10_p_corrected <= ACCUSATION_LOG10


@dataclass(frozen=True)
class TraceRound:
    """One round of the greedy attribution: the ranking over the rows still unexplained."""

    rows: int
    scores: tuple[ExportScore, ...]
    explained: int  # rows attributed to the top export when it is accused


@dataclass(frozen=True)
class TraceResult:
    """All rounds, and the exports named as sources."""

    found_rows: int  # rows read
    identified: int  # rows recognised as our patients
    exports: int  # ledger entries scored
    rounds: tuple[TraceRound, ...]

    @property
    def sources(self) -> list[ExportScore]:
        return [r.scores[0] for r in self.rounds if r.scores and r.scores[0].accused]


def _canary_chance(indexes: tuple[str, ...], support: int) -> float:
    """Chance that an unrelated found row matches one canary on these indexes."""
    if not indexes:
        return max(_CANARY_FLOOR, _DIGEST_CHANCE**support)  # package tokens: 32-bit digests
    chance = 1.0
    for name in indexes:
        chance *= _CANARY_CHANCE.get(name, 1.0)
    return max(_CANARY_FLOOR, chance)


def _canary_log10p(chances: Sequence[float], total_rows: int, canaries: int) -> float:
    """At least ``len(chances)`` coincidences among rows x canaries (union bound)."""
    if not chances:
        return 0.0
    per_hit = math.log10(max(1, total_rows) * max(1, canaries)) + math.log10(max(chances))
    return min(0.0, len(chances) * per_hit)


def _row_test(evidence: RowEvidence) -> tuple[int, float]:
    """Patients with a row agreeing on every writing, and the test's log10 p."""
    chances: list[float] = []
    hits: list[bool] = []
    for pid, variants in evidence.patient_rows.items():
        useful = [v for v in variants if v and row_chance(v) > 0]
        if not useful:
            continue
        chances.append(min(1.0, sum(row_chance(v) for v in useful)))
        hits.append(any(evidence.agrees(pid, v) for v in useful))
    return sum(hits), weighted_hits_log10p(chances, hits)


def _score_one(
    model: ExportModel,
    rows: Sequence[IdentifiedRow],
    total_rows: int,
    n_exports: int,
    uniform: frozenset[str],
) -> ExportScore:
    evidence = RowEvidence(model.mark.marks, uniform, model.expected)
    in_scope = 0
    canary_chances: dict[str, float] = {}
    for row in rows:
        resolved = model.key_of(row)
        if resolved is None:
            continue
        pid, support = resolved
        in_scope += 1
        if pid in model.canaries:
            chance = _canary_chance(row.indexes, support)
            canary_chances[pid] = min(chance, canary_chances.get(pid, 1.0))
        evidence.add(pid, row)
    groups: dict[str, dict[tuple[int, int], list[int]]] = {}  # family -> (m, k) -> [n, a]
    for (family, pid, canonical), (k, choices) in evidence.writings.items():
        tally = groups.setdefault(family, {}).setdefault((len(choices), k), [0, 0])
        tally[0] += 1
        tally[1] += model.expected(family, pid, canonical, k) in choices
    # one test per family (a leaker re-normalises whole columns: a family wiped
    # out must not drown the others), Fisher-combined with the order test
    per_family = [
        set_agreement_log10p({mk: (n, a) for mk, (n, a) in family.items()})
        for family in groups.values()
    ]
    log_fp = fisher_log10p(per_family)
    order_values = (
        [
            model.order_value(pid)
            for pid in sorted(evidence.first_seen, key=lambda p: evidence.first_seen[p])
        ]
        if ORDER in model.mark.marks
        else []
    )
    m = len(order_values)
    inv = inversions(order_values) if m > 1 else 0
    pairs = m * (m - 1) // 2
    log_order = order_log10p(m, inv)
    agreeing_rows, log_rows = _row_test(evidence)
    log_canary = _canary_log10p(list(canary_chances.values()), total_rows, len(model.canaries))
    combined = fisher_log10p(per_family + ([log_order] if m > 1 else []))
    # Bonferroni over the three lanes: values and order, whole rows, canaries
    log_p = min(0.0, math.log10(_LANES) + min(combined, log_rows, log_canary))
    tallies = [t for family in groups.values() for t in family.values()]
    return ExportScore(
        export_id=model.export_id,
        recipient=model.recipient,
        created_at=model.created_at,
        found_rows=len(rows),
        in_scope=in_scope,
        canary_hits=len(canary_chances),
        marks_seen=sum(n for n, _ in tallies),
        agreements=sum(a for _, a in tallies),
        expected_agreements=sum(
            n * min(1.0, mk[0] / mk[1])
            for family in groups.values()
            for mk, (n, _) in family.items()
        ),
        order_rows=m,
        order_concordance=(pairs - 2 * inv) / pairs if pairs else 0.0,
        log10_p_fingerprint=log_fp,
        log10_p_order=log_order,
        log10_p_canary=log_canary,
        log10_p=log_p,
        log10_p_corrected=min(0.0, log_p + math.log10(max(1, n_exports))),
        agreeing_rows=agreeing_rows,
        log10_p_rows=log_rows,
    )


def score_exports(
    rows: Sequence[IdentifiedRow], exports: Sequence[ExportModel], *, total_rows: int | None = None
) -> list[ExportScore]:
    """Every export scored on these rows, most incriminated first."""
    total = len(rows) if total_rows is None else total_rows
    uniform = uniform_families(rows)
    scores = [_score_one(model, rows, total, len(exports), uniform) for model in exports]
    return sorted(scores, key=lambda s: (s.log10_p, -s.in_scope, s.export_id))


def _explained(model: ExportModel, rows: Iterable[IdentifiedRow]) -> set[int]:
    """Positions of rows the export contained and whose every applicable mark agrees."""
    out: set[int] = set()
    for row in rows:
        resolved = model.key_of(row)
        if resolved is None:
            continue
        if all(
            model.expected(o.family, resolved[0], o.canonical, o.k) == o.choice
            for o in row.marks
            if o.family in model.mark.marks
        ):
            out.add(row.position)
    return out


def attribute(
    rows: Sequence[IdentifiedRow],
    exports: Sequence[ExportModel],
    *,
    found_rows: int | None = None,
) -> TraceResult:
    """Rank the exports; while the top one is accused, set its rows aside and rescore.

    No cap on the number of sources: it stops when the top export is not
    accused, explains nothing, or fewer than ``MIN_ROWS_TO_RESCORE`` rows remain.
    """
    remaining = [r for r in rows if r.patient_id or any(m.key_of(r) for m in exports)]
    candidates = list(exports)
    rounds: list[TraceRound] = []
    total = len(remaining)
    while remaining and candidates:
        scores = score_exports(remaining, candidates, total_rows=total)
        top_id = scores[0].export_id if scores and scores[0].accused else None
        explained: set[int] = set()
        if top_id is not None:
            model = next(m for m in candidates if m.export_id == top_id)
            explained = _explained(model, remaining)
        rounds.append(TraceRound(len(remaining), tuple(scores), len(explained)))
        if not explained:
            break
        candidates = [m for m in candidates if m.export_id != top_id]
        remaining = [r for r in remaining if r.position not in explained]
        if len(remaining) < MIN_ROWS_TO_RESCORE:
            break
    return TraceResult(
        found_rows=total if found_rows is None else found_rows,
        identified=total,
        exports=len(exports),
        rounds=tuple(rounds),
    )
