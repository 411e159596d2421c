"""Record selection on several processes, results in source order.

Validating a patient (NIR key, phone numbering plan, e-mail syntax) costs far
more than reading its line, so ``check`` and ``run`` hand chunks of records to
forked workers while the main process reads, encrypts and writes. A stage may
give a ``then`` step, run in the same worker right after a record's verdict
(``check``: its duplicate keys; ``run``: its package line, marks rendered), so
the main process only reads and writes. Order is kept, and at most two chunks
per worker are in flight, so memory stays bounded.
"""

from __future__ import annotations

import gc
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date
from itertools import islice
from typing import Any, Generic, TypeVar

from etanche.exchange import SourceIssue, SourceRecord
from etanche.migrate._plan import MigrationPlan
from etanche.migrate._select import Selected, select

__all__ = ["CHUNK", "Then", "Verdict", "selections"]

CHUNK = 2000
T = TypeVar("T")
Then = Callable[[int, SourceRecord, Selected], T]
"""(position of the item in the source, 1-based; record; verdict) -> the stage's result."""

_PLAN: MigrationPlan | None = None  # inherited by forked workers
_TODAY: date | None = None
_THEN: Callable[[int, SourceRecord, Selected], Any] | None = None


class Verdict(Generic[T]):
    """One source item, its verdict (None for an issue) and the ``then`` result."""

    __slots__ = ("item", "result", "selected")

    def __init__(
        self, item: SourceRecord | SourceIssue, selected: Selected | None, result: T | None
    ):
        self.item, self.selected, self.result = item, selected, result


def _judge(
    plan: MigrationPlan, position: int, record: SourceRecord, today: date | None, then: Any
) -> tuple[Selected, Any]:
    selected = select(plan, record, today=today)
    return selected, (None if then is None else then(position, record, selected))


def _select_chunk(records: list[tuple[int, SourceRecord]]) -> list[tuple[Selected, Any]]:
    assert _PLAN is not None
    return [_judge(_PLAN, position, record, _TODAY, _THEN) for position, record in records]


def selections(
    plan: MigrationPlan,
    items: Iterable[SourceRecord | SourceIssue],
    *,
    workers: int,
    today: date | None = None,
    then: Then[T] | None = None,
) -> Iterator[Verdict[T]]:
    """Every item in source order; issues pass through with no verdict."""
    numbered = enumerate(items, start=1)
    if workers <= 0:
        for position, item in numbered:
            if isinstance(item, SourceIssue):
                yield Verdict(item, None, None)
            else:
                yield Verdict(item, *_judge(plan, position, item, today, then))
        return
    global _PLAN, _TODAY, _THEN
    _PLAN, _TODAY, _THEN = plan, today, then
    try:
        gc.freeze()  # what the workers inherit: not scanned (so not copied) by their GC
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            pending: deque[tuple[list[SourceRecord | SourceIssue], Future[list[Any]]]]
            pending = deque()
            while chunk := list(islice(numbered, CHUNK)):
                records = [(n, x) for n, x in chunk if not isinstance(x, SourceIssue)]
                future = pool.submit(_select_chunk, records)
                pending.append(([x for _, x in chunk], future))
                if len(pending) > 2 * workers:
                    yield from _merge(*pending.popleft())
            while pending:
                yield from _merge(*pending.popleft())
    finally:
        gc.unfreeze()
        _PLAN = _TODAY = _THEN = None


def _merge(
    chunk: list[SourceRecord | SourceIssue], future: Future[list[tuple[Selected, Any]]]
) -> Iterator[Verdict[Any]]:
    verdicts = iter(future.result())
    for item in chunk:
        if isinstance(item, SourceIssue):
            yield Verdict(item, None, None)
        else:
            yield Verdict(item, *next(verdicts))
