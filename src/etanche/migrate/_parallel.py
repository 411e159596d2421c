"""Record selection on several processes, results in source order.

Validating a patient (NIR key, phone numbering plan, e-mail syntax) costs far
more than reading its line, so ``check`` and ``run`` hand chunks of records to
forked workers while the main process reads, encrypts and writes. Order is
kept, and at most two chunks per worker are in flight, so memory stays bounded.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date
from itertools import islice

from etanche.exchange import SourceIssue, SourceRecord
from etanche.migrate._plan import MigrationPlan
from etanche.migrate._select import Selected, select

__all__ = ["CHUNK", "selections"]

CHUNK = 2000
_PLAN: MigrationPlan | None = None  # inherited by forked workers
_TODAY: date | None = None


def _select_chunk(records: list[SourceRecord]) -> list[Selected]:
    assert _PLAN is not None
    return [select(_PLAN, record, today=_TODAY) for record in records]


def selections(
    plan: MigrationPlan,
    items: Iterable[SourceRecord | SourceIssue],
    *,
    workers: int,
    today: date | None = None,
) -> Iterator[tuple[SourceRecord | SourceIssue, Selected | None]]:
    """(item, verdict) in source order; issues pass through with no verdict."""
    if workers <= 0:
        for item in items:
            verdict = None if isinstance(item, SourceIssue) else select(plan, item, today=today)
            yield item, verdict
        return
    global _PLAN, _TODAY
    _PLAN, _TODAY = plan, today
    stream = iter(items)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            pending: deque[tuple[list[SourceRecord | SourceIssue], Future[list[Selected]]]]
            pending = deque()
            while chunk := list(islice(stream, CHUNK)):
                records = [x for x in chunk if not isinstance(x, SourceIssue)]
                pending.append((chunk, pool.submit(_select_chunk, records)))
                if len(pending) > 2 * workers:
                    yield from _merge(*pending.popleft())
            while pending:
                yield from _merge(*pending.popleft())
    finally:
        _PLAN = _TODAY = None


def _merge(
    chunk: list[SourceRecord | SourceIssue], future: Future[list[Selected]]
) -> Iterator[tuple[SourceRecord | SourceIssue, Selected | None]]:
    verdicts = iter(future.result())
    for item in chunk:
        yield item, (None if isinstance(item, SourceIssue) else next(verdicts))
