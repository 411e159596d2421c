"""Verify on every core: the log cut into aligned segments, each checked in its own process.

A segment is ``size`` events (a power of two, a multiple of SEQ_BLOCK) starting
at a multiple of ``size``, so its events are one perfect subtree of the Merkle
tree and its object rows are whole blocks of the index. A worker opens its own
connection, reads only its range (one range scan of each primary key) and runs
the same per-row checks as the one-process pass (``_scan``). It returns its
event count, the frontier of its range at each head size that falls in it, its
subtree root and its latest times. The main process folds them in order: the
subtree roots make the frontier at each segment's start, and that frontier
followed by a worker's frontier is the frontier of the whole log at the head's
size, whose root the head signed.

Any problem a worker sees, or a segment that is not complete, makes this path
give up (``Mismatch``): the caller then runs the one-process check, whose report
names the first bad event exactly. So this path only ever says "all is well"
faster; it never words a problem.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from bisect import bisect_right
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import BrokenExecutor, ProcessPoolExecutor
from dataclasses import dataclass

from sqlalchemy import Connection, create_engine
from sqlalchemy.pool import NullPool

from etanche.audit._rows import raw_rows
from etanche.audit._scan import range_queries, scan, stored_blocks
from etanche.audit._schema import SEQ_BLOCK
from etanche.crypto import MerkleFrontier

__all__ = ["Mismatch", "Plan", "plan_segments"]

MIN_SEGMENT = 1 << 14
MAX_SEGMENT = 1 << 17
# event count, roots at the asked sizes, latest (seq, time) pairs: what ``_verify`` folds in
Folded = tuple[int, dict[int, bytes], list[tuple[int, str]]]
_PER_WORKER = 4  # segments per process: the last, shorter one does not leave a core idle long


class Mismatch(Exception):
    """A worker saw a problem or a segment is short: check again in one process."""


@dataclass(frozen=True, slots=True)
class Segment:
    """What one worker saw of ``[start, start + size)`` (the last segment: to the end)."""

    start: int
    count: int
    problems: int
    marks: dict[int, bytes]  # local size -> MerkleFrontier.to_bytes() of the range
    frontier: bytes
    tail: list[tuple[int, str]]


@dataclass(frozen=True, slots=True)
class Plan:
    """``segments`` ranges of ``size`` events, checked by ``processes`` workers."""

    url: str
    size: int
    segments: int
    processes: int

    def stream(self, sizes: set[int], keep: int) -> Folded:
        """Count, roots at ``sizes``, latest times: as the one-process pass gives them."""
        ordered = sorted(s for s in sizes if s > 0)
        jobs = [self._job(i, ordered, keep) for i in range(self.segments)]
        pool = _pool(self.processes)
        try:
            seen = list(pool.map(_check_range, *zip(*jobs, strict=True)))
        except BrokenExecutor:
            _drop(self.processes, pool)
            raise
        return fold(seen, self.size, keep)

    def _job(self, i: int, sizes: Sequence[int], keep: int) -> tuple[object, ...]:
        start = i * self.size
        last = i == self.segments - 1
        low = bisect_right(sizes, start)
        high = len(sizes) if last else bisect_right(sizes, start + self.size)
        local = [s - start for s in sizes[low:high]]
        bounds = (None if i == 0 else start, None if last else start + self.size)
        return (self.url, *bounds, start, local, keep)


def plan_segments(
    conn: Connection, processes: int | None = None, size: int | None = None
) -> Plan | None:
    """A plan for this log, or None when one process is as fast (small log, one core)."""
    if conn.dialect.name == "sqlite" and _in_memory(conn):
        return None
    cores = processes if processes is not None else _cores()
    top = conn.exec_driver_sql("SELECT max(seq) FROM audit_events").scalar()
    if cores < 2 or top is None:
        return None
    events = int(top) + 1
    if size is None:
        size = MIN_SEGMENT
        while size < MAX_SEGMENT and size * 2 * cores * _PER_WORKER <= events:
            size *= 2
    if size < SEQ_BLOCK or size & (size - 1):
        raise ValueError("segment size: expected a power of two of at least SEQ_BLOCK")
    segments = -(-events // size)
    if segments < 2:
        return None
    url = conn.engine.url.render_as_string(hide_password=False)
    return Plan(url, size, segments, min(cores, segments))


def fold(seen: Iterable[Segment], size: int, keep: int) -> Folded:
    """The workers' results in order, as one pass over the whole log would give them."""
    before = MerkleFrontier()  # over the subtree roots of the segments: the frontier at a start
    roots: dict[int, bytes] = {}
    tail: deque[tuple[int, str]] = deque(maxlen=keep)
    count = 0
    for segment in seen:
        if segment.problems or segment.start != count or segment.count > size:
            raise Mismatch  # a problem, a short segment before this one, or a grown log
        prefix = before.to_bytes()[8:]
        for local, mark in segment.marks.items():
            if local < size:  # the frontier at start + local: the one before, then the range's
                at = segment.start + local
                state = at.to_bytes(8, "big") + prefix + mark[8:]
                roots[at] = MerkleFrontier.from_bytes(state).root()
        count += segment.count
        tail.extend(segment.tail)
        if segment.count == size:
            before.append(MerkleFrontier.from_bytes(segment.frontier).root())
            if size in segment.marks:
                roots[count] = before.root()
    return count, roots, list(tail)


def _check_range(
    url: str, lo: int | None, hi: int | None, start: int, sizes: list[int], keep: int
) -> Segment:
    """The worker: one connection, one snapshot, the events of ``[lo, hi)``."""
    engine = create_engine(url, poolclass=NullPool)
    problems: list[str] = []
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN")
            events_sql, objects_sql, params = range_queries(lo, hi)
            seen = scan(
                raw_rows(conn, events_sql, params),
                stored_blocks(conn, objects_sql, problems.append, params),
                set(sizes),
                problems.append,
                first=start,
                keep=keep,
                mark=MerkleFrontier.to_bytes,
            )
            conn.rollback()
    except Exception:
        return Segment(start, 0, 1, {}, b"", [])
    finally:
        engine.dispose()
    marks, frontier, tail = seen.marks, seen.frontier.to_bytes(), list(seen.tail)
    return Segment(start, seen.count, len(problems), marks, frontier, tail)


_pools: dict[int, ProcessPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(processes: int) -> ProcessPoolExecutor:
    """This process's pool of ``processes`` workers, started at its first verification.

    Kept for the next one: a worker starts by importing this module and, as
    multiprocessing does, the main script (the CLI, a server), which costs more
    than checking a segment; kept workers pay it once.
    """
    with _pools_lock:
        pool = _pools.get(processes)
        if pool is None:
            context = multiprocessing.get_context(_start_method())
            if context.get_start_method() == "forkserver":  # it imports this module once
                context.set_forkserver_preload([__name__])
            pool = _pools[processes] = ProcessPoolExecutor(processes, mp_context=context)
        return pool


def _drop(processes: int, pool: ProcessPoolExecutor) -> None:
    """A broken pool (a worker died) is replaced at the next verification."""
    with _pools_lock:
        if _pools.get(processes) is pool:
            del _pools[processes]
    pool.shutdown(wait=False, cancel_futures=True)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover (not Linux)
        return os.cpu_count() or 1


def _start_method() -> str:
    """A fork server: workers start from a clean process (no inherited threads or locks)."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _in_memory(conn: Connection) -> bool:
    database = conn.engine.url.database or ""
    return database in ("", ":memory:") or "mode=memory" in str(conn.engine.url)
