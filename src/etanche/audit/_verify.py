"""Verify the whole audit log with the public key and the stored rows, nothing else.

Checks, each problem naming a seq or a head and never a value:

1. seq is contiguous from 0 (a gap is a deleted event);
2. every leaf hash is recomputed from ``body``; the filter columns (at, actor,
   role, action, outcome) and the ``audit_objects`` rows equal the body;
3. every stored head is signed by this key, and the root recomputed at its size
   matches; a head larger than the log means the log was truncated;
4. heads given ``against`` (saved by hand or by a witness) are checked the same
   way: a larger size than the log is truncation, an ERROR, never a warning
   (Acra's chain verifier needs the secret key and only warns on a missing end);
5. the unsigned tail (events after the latest valid head). The writer signs at
   every multiple of ``head_every`` and at the first append after
   ``head_interval_s``, so an honest tail has fewer than ``head_every`` events,
   all timed less than ``head_interval_s`` (plus ``clock_slack_s``) after the
   latest head. A tail breaking either rule means heads were removed or the
   writer stopped signing: an ERROR. A tail within the rules is reported in
   ``unsigned_tail`` but is not a problem: those events are not yet protected
   by any signature, which is why heads are frequent and witnessed.

6. with the pinned log key (a C2SP verifier key), each head's checkpoint
   signature; with pinned witnesses, each of their cosignatures on a head whose
   root matches the events. The witnessed size is the k-th largest size that a
   pinned witness validly cosigned: with ``quorum`` k > 0, a log with events and
   no such size is an ERROR (rewritten and re-signed, or never witnessed).
   Every head must be signed by the pinned key: heads a vault signed before
   its log key moved into custody (a data key then) are reported as signed by
   another key; no transition is accepted silently.

``verify_rows`` does all of this over rows given as data (a log downloaded from
the service and checked on the verifier's own machine, trusting nothing but the
pinned public key); ``verify_log`` is the thin wrapper that reads them from a
database, in one snapshot (SQLite ``BEGIN``, PostgreSQL ``REPEATABLE READ``), so a
log verified while it is being written does not report false problems.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import BrokenExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy import exc as sa_exc

from etanche.audit._heads import SignedTreeHead, parse_time
from etanche.audit._log import read_heads_with_cosignatures
from etanche.audit._note import COSIGNATURE_V1, ED25519, NoteKey, log_origin
from etanche.audit._rows import raw_rows
from etanche.audit._scan import Block, EventRow, range_queries, scan, stored_blocks
from etanche.audit._schema import SEQ_BLOCK_BITS
from etanche.audit._segments import Mismatch, plan_segments
from etanche.crypto import EMPTY_ROOT, Verifier
from etanche.errors import IntegrityError, SchemaError, UsageError

MAX_PROBLEMS = 1000
# What a pass over the events gives ``check``: count, roots at the asked sizes, latest times.
Streamed = tuple[int, Mapping[int, bytes], Iterable[tuple[int, str]]]
Stream = Callable[[set[int]], Streamed]


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """Outcome of ``verify_log``: ``ok`` is true only when ``problems`` is empty."""

    ok: bool
    events: int
    heads: int
    problems: list[str] = field(default_factory=list)
    unsigned_tail: int = 0
    latest_head: SignedTreeHead | None = None
    quorum: int = 0
    witnessed: int | None = None  # the k-th largest size cosigned by a pinned witness
    # witness name -> (largest size it validly cosigned, POSIX time of that cosignature)
    witnessed_by: dict[str, tuple[int, int]] = field(default_factory=dict)
    pinned_witnesses: tuple[str, ...] = ()

    @property
    def unwitnessed(self) -> int:
        return self.events - (self.witnessed or 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "heads": self.heads,
            "unsigned_tail": self.unsigned_tail,
            "latest_head": self.latest_head.to_dict() if self.latest_head else None,
            "quorum": self.quorum,
            "witnessed": self.witnessed,
            "unwitnessed": self.unwitnessed,
            "witnessed_by": {
                name: {"tree_size": size, "cosigned_at": at}
                for name, (size, at) in self.witnessed_by.items()
            },
            "problems": list(self.problems),
        }


class _Problems(list[str]):
    """Problems in order, at most MAX_PROBLEMS kept, the rest counted."""

    def __init__(self) -> None:
        super().__init__()
        self.dropped = 0

    def add(self, text: str) -> None:
        if len(self) < MAX_PROBLEMS:
            self.append(text)
        else:
            self.dropped += 1

    def final(self) -> list[str]:
        extra = [f"... and {self.dropped} more problems"] if self.dropped else []
        return [*self, *extra]


# (seq, object_id): one audit_objects row.
ObjectRow = tuple[int, str]


@dataclass(frozen=True, slots=True)
class Pins:
    """What the verifier pinned: the log's key, the witnesses' keys and how many must cosign."""

    log: NoteKey
    witnesses: tuple[NoteKey, ...] = ()
    quorum: int = 0
    # witness name -> the size it says it last cosigned (asked by the verifier itself)
    reported: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.log.kind != ED25519:
            raise UsageError("log key: expected a signed-note Ed25519 key (type 0x01)")
        if any(w.kind != COSIGNATURE_V1 for w in self.witnesses):
            raise UsageError("witness keys: expected cosignature/v1 keys (type 0x04)")
        if self.log.name != log_origin(self.log.verifier().key_id):
            raise UsageError("log key: its name is not the origin of this log's checkpoints")
        if not 0 <= self.quorum <= len(self.witnesses):
            raise UsageError(f"quorum: expected 0 to {len(self.witnesses)} (the pinned witnesses)")


def verify_rows(
    heads: Sequence[SignedTreeHead],
    events: Iterable[EventRow],
    objects: Iterable[ObjectRow],
    key: bytes | str | Pins,
    *,
    against: SignedTreeHead | Sequence[SignedTreeHead] = (),
    head_every: int = 1000,
    head_interval_s: float = 60.0,
    clock_slack_s: float = 5.0,
) -> VerificationReport:
    """Verify stored heads, events (by seq) and object rows (by seq) given as data.

    ``key`` is a PEM public key, or ``Pins`` (log verifier key, witnesses, quorum)
    to check checkpoint signatures and cosignatures too. ``events`` and
    ``objects`` are consumed once, in step, so a log of any size streams
    through in bounded memory.
    """
    run = _Run.for_key(key, against, head_every, head_interval_s + clock_slack_s)
    blocks = _blocks(objects, run.problems.add)
    return run.check(list(heads), run.one_pass(iter(events), blocks))


def verify_log(
    source: Engine | Connection,
    public_key_pem: bytes | str | Pins,
    *,
    against: SignedTreeHead | Sequence[SignedTreeHead] = (),
    head_every: int = 1000,
    head_interval_s: float = 60.0,
    clock_slack_s: float = 5.0,
    processes: int | None = None,
    segment: int | None = None,
) -> VerificationReport:
    """``verify_rows`` over a database's own tables (the service's live check).

    ``source`` may be a Connection already inside a transaction (the tamper tests
    mutate rows and verify before rolling back); an Engine gets its own snapshot,
    and a large log is checked in segments by ``processes`` workers (default: one
    per core; 1: in this process) of ``segment`` events (default: by log size).
    A log the workers find anything wrong with is checked again in one pass,
    whose report names the problems.
    """
    if not isinstance(public_key_pem, Pins):
        Verifier.from_pem(public_key_pem)  # a bad key fails before the database is read
    window = head_interval_s + clock_slack_s

    def run(conn: Connection, parallel: bool) -> VerificationReport:
        heads = read_heads_with_cosignatures(conn)
        plan = plan_segments(conn, processes, segment) if parallel else None
        if plan is not None:
            check = _Run.for_key(public_key_pem, against, head_every, window)
            try:
                report = check.check(heads, lambda sizes: plan.stream(sizes, head_every))
            except (Mismatch, sa_exc.SQLAlchemyError, OSError, BrokenExecutor):
                report = None
            if report is not None and report.ok:
                return report
        check = _Run.for_key(public_key_pem, against, head_every, window)
        events_sql, objects_sql, _ = range_queries(None, None)
        events = raw_rows(conn, events_sql)
        blocks = stored_blocks(conn, objects_sql, check.problems.add)
        return check.check(heads, check.one_pass(events, blocks))

    try:
        if isinstance(source, Connection):
            return run(source, parallel=False)  # its uncommitted changes are its own
        with source.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN")
            else:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            try:
                return run(conn, parallel=True)
            finally:
                conn.rollback()
    except (sa_exc.OperationalError, sa_exc.ProgrammingError):
        raise SchemaError("audit log: tables missing or unreadable (is this a vault?)") from None


class _Run:
    def __init__(
        self,
        verifier: Verifier,
        saved: list[SignedTreeHead],
        head_every: int,
        tail_window: timedelta,
        pins: Pins | None = None,
    ) -> None:
        self.pins = pins
        self.verifier = verifier
        self.saved = saved
        self.head_every = head_every
        self.tail_window = tail_window
        self.problems = _Problems()

    @classmethod
    def for_key(
        cls,
        key: bytes | str | Pins,
        against: SignedTreeHead | Sequence[SignedTreeHead],
        head_every: int,
        tail_window_s: float,
    ) -> _Run:
        pins = key if isinstance(key, Pins) else None
        verifier = pins.log.verifier() if pins is not None else Verifier.from_pem(key)  # type: ignore[arg-type]
        saved = [against] if isinstance(against, SignedTreeHead) else list(against)
        return cls(verifier, saved, head_every, timedelta(seconds=tail_window_s), pins)

    def one_pass(self, events: Iterator[EventRow], blocks: Iterator[Block]) -> Stream:
        """The events checked in this process, in one pass (the reference check)."""

        def stream(sizes: set[int]) -> Streamed:
            seen = scan(events, blocks, sizes, self.problems.add, keep=self.head_every)
            return seen.count, seen.marks, seen.tail

        return stream

    def check(self, stored: list[SignedTreeHead], stream: Stream) -> VerificationReport:
        problems = self.problems
        signed = [h for h in stored if self._signed(h, "head")]
        saved = [h for h in self.saved if self._signed(h, "saved head")]
        sizes = {h.tree_size for h in signed} | {h.tree_size for h in saved}
        count, marks, times = stream(sizes)
        roots: dict[int, bytes] = {0: EMPTY_ROOT, **marks}
        tail_times: deque[tuple[int, str]] = deque(times, maxlen=self.head_every)

        good: list[SignedTreeHead] = []
        for label, heads in (("head", signed), ("saved head", saved)):
            for head in heads:
                if head.tree_size > count:
                    problems.add(
                        f"{label} {head.tree_size}: the log holds only {count} events (truncated)"
                    )
                elif roots[head.tree_size] != head.root:
                    problems.add(f"{label} {head.tree_size}: root does not match the stored events")
                elif label == "head":
                    good.append(head)
        latest = max(good, key=lambda h: h.tree_size, default=None)
        tail = self._tail(count, latest, tail_times)
        witnessed, by = self._witnessed(good, count)
        final = problems.final()
        return VerificationReport(
            ok=not final,
            events=count,
            heads=len(stored),
            problems=final,
            unsigned_tail=tail,
            latest_head=latest,
            quorum=self.pins.quorum if self.pins else 0,
            witnessed=witnessed,
            witnessed_by=by,
            pinned_witnesses=tuple(w.name for w in self.pins.witnesses) if self.pins else (),
        )

    def _witnessed(
        self, good: list[SignedTreeHead], count: int
    ) -> tuple[int | None, dict[str, tuple[int, int]]]:
        """Checkpoint signatures and cosignatures of the heads whose roots match the events."""
        pins = self.pins
        if pins is None:
            return None, {}
        by: dict[str, tuple[int, int]] = {}
        for head in good:
            checkpoint = head.checkpoint()
            if head.checkpoint_sig is not None:
                try:
                    self.verifier.verify(checkpoint.body(), head.checkpoint_sig)
                except IntegrityError:
                    self.problems.add(
                        f"head {head.tree_size}: checkpoint signature does not verify"
                    )
                    continue
            elif head.cosignatures:
                self.problems.add(
                    f"head {head.tree_size}: cosigned but has no checkpoint signature"
                )
                continue
            for witness in pins.witnesses:
                for signature in head.cosignatures:
                    if not signature.matches(witness):
                        continue  # unknown keys are ignored (signed-note rule)
                    try:
                        at = checkpoint.cosigned_at(witness, signature)
                    except IntegrityError as exc:
                        self.problems.add(f"head {head.tree_size}: {exc}")
                        continue
                    if head.tree_size >= by.get(witness.name, (-1, 0))[0]:
                        by[witness.name] = (head.tree_size, at)
        for name, size in sorted(pins.reported.items()):
            shown = by.get(name, (0, 0))[0]
            if size > shown:
                self.problems.add(
                    f"witness {name} cosigned size {size} but the log shows its cosignature "
                    f"only up to {shown} (rewritten, truncated, or cosignatures deleted)"
                )
        sizes = sorted((size for size, _ in by.values()), reverse=True)
        witnessed = sizes[pins.quorum - 1] if pins.quorum and len(sizes) >= pins.quorum else None
        if pins.quorum and count and witnessed is None:
            self.problems.add(
                f"no head is cosigned by {pins.quorum} of the {len(pins.witnesses)} pinned "
                "witnesses (rewritten and re-signed, or never witnessed)"
            )
        return witnessed, by

    def _signed(self, head: SignedTreeHead, label: str) -> bool:
        try:
            head.verify(self.verifier)
        except IntegrityError as exc:
            self.problems.add(str(exc) if label == "head" else f"saved {exc}")
            return False
        return True

    def _tail(
        self, count: int, latest: SignedTreeHead | None, times: deque[tuple[int, str]]
    ) -> int:
        if count == 0:
            return 0
        if latest is None:
            self.problems.add(f"unsigned tail: {count} events (no valid signed head)")
            return count
        tail = count - latest.tree_size
        if tail >= self.head_every:
            self.problems.add(
                f"unsigned tail: {tail} events after head {latest.tree_size} "
                f"(the writer signs every {self.head_every}: heads are missing)"
            )
        elif tail:
            deadline = latest.signed_at + self.tail_window
            for seq, at in times:
                if seq >= latest.tree_size and _parse(at) > deadline:
                    self.problems.add(
                        f"unsigned tail: {tail} events after head {latest.tree_size}; "
                        f"seq {seq} is later than the head interval allows (heads are missing)"
                    )
                    break
        return tail


def _blocks(rows: Iterable[ObjectRow], add: Callable[[str], None]) -> Iterator[Block]:
    """(seq, object_id) rows in seq order, grouped as the index groups them."""
    block = -1
    group: dict[int, list[str]] = {}
    for seq, object_id in rows:
        if seq >> SEQ_BLOCK_BITS != block:
            if seq >> SEQ_BLOCK_BITS < block:
                add(f"seq {seq}: audit_objects row without an event")  # out of seq order
                continue
            if group:
                yield block, group
            block, group = seq >> SEQ_BLOCK_BITS, {}
        group.setdefault(seq, []).append(object_id)
    if group:
        yield block, group


def _parse(text: str) -> datetime:
    try:
        return parse_time(text)
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)
