"""The append-only audit log: an RFC 6962 Merkle tree over events, with signed heads.

Each event's canonical JSON is stored as ``body`` and is leaf ``seq`` of the tree.
The log keeps the tree's frontier in memory (O(log n) hashes), so appending never
rehashes the past. Each signed head stores the frontier at its size, so a writer
that reopens the log starts from the latest head's frontier (once its root equals
the signed root and the signature verifies) and replays only the events after it;
without such a head it rebuilds the frontier from every stored body.

Heads are signed (Ed25519) in the same transaction as the events they cover:

- whenever the size reaches a multiple of ``head_every`` (also inside a batch), so
  at most ``head_every - 1`` events are ever unsigned;
- at the end of an append when ``head_interval_s`` has passed since the latest
  head, or when there is no head yet (the first append signs at once);
- on ``sign_head()`` and ``close()``.

The verifier relies on these rules to tell a legitimately unsigned tail from heads
that were deleted (see ``_verify``). Sequence numbers are allocated inside the
write transaction, under ``BEGIN IMMEDIATE`` (SQLite) or a transaction-scoped
advisory lock (PostgreSQL); a primary-key clash still rolls back and retries, so
concurrent writers in several processes never fork the tree. Within a process,
concurrent calls share commits (group commit), so per-request appends from many
threads do not each pay a transaction.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Engine, Table, and_, func, insert, select
from sqlalchemy import exc as sa_exc

from etanche.audit._cosigning import cosignatures_by_size
from etanche.audit._events import AuditEvent
from etanche.audit._heads import SignedTreeHead
from etanche.audit._note import ED25519, NoteKey, log_origin
from etanche.audit._object_index import object_rows, seqs_naming
from etanche.audit._proof import InclusionProof
from etanche.audit._schema import audit_events, audit_heads, audit_objects
from etanche.audit._witness import Witness
from etanche.crypto import (
    MerkleFrontier,
    Signer,
    consistency_path,
    inclusion_path,
    leaf_hash,
    verify_inclusion,
)
from etanche.errors import (
    IntegrityError,
    RecordNotFound,
    SchemaError,
    UsageError,
    ValidationError,
    VaultError,
)

if TYPE_CHECKING:
    from etanche.vault import Vault

logger = logging.getLogger("etanche.audit")
_T = TypeVar("_T")

_PG_LOCK_KEY = 0x6574_6175_6469_74  # "etaudit": one advisory lock for all audit writers
_RETRIES = 6
_SQLITE_CHECKPOINT_PAGES = 10_000  # ~40 MiB of WAL between checkpoints of audit writes
_STREAM_ROWS = 20_000
# Column widths of audit_events / audit_objects: checked before SQL so PostgreSQL
# and SQLite behave alike and the error names the field, not the value.
# An object id filter ending with it matches ids by prefix; starting with it, by suffix
# (the 8 characters pages show: the random end of an id, as a UUIDv7 begins with its clock).
PREFIX_MARK = "*"
_WIDTHS = {"actor": 64, "role": 32, "action": 48, "object_ids": 64}
# The log's state in one round trip: last seq, latest head's size and time.
_STATE_SQL = (
    "SELECT (SELECT max(seq) FROM audit_events), (SELECT max(tree_size) FROM audit_heads), "
    "(SELECT signed_at FROM audit_heads ORDER BY tree_size DESC LIMIT 1)"
)
_Mark = tuple[int, datetime]  # a head's (tree_size, signed_at)
_EVENT_COLUMNS = ("seq", "at", "actor", "role", "action", "outcome", "body")
_OBJECT_COLUMNS = ("seq_block", "object_id", "seq")
_HEAD_COLUMNS = (
    "tree_size",
    "root",
    "signed_at",
    "key_id",
    "signature",
    "frontier",
    "checkpoint_sig",
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class WitnessFailure:
    """A witness that did not take a head: which one, which head, what kind of error."""

    witness: str
    tree_size: int
    error: str  # the exception class: messages may quote a URL with a token


class _Ticket:
    """One append_many call waiting for a (possibly shared) commit."""

    __slots__ = ("bodies", "digests", "done", "error", "events", "seqs")

    def __init__(self, events: list[AuditEvent], bodies: list[bytes], digests: list[bytes]) -> None:
        self.events = events
        self.bodies = bodies
        self.digests = digests
        self.seqs: list[int] = []
        self.done = False
        self.error: BaseException | None = None


class _Insert:
    """A Core insert compiled once for the dialect, fed with plain tuples."""

    def __init__(self, engine: Engine, table: Table, columns: Sequence[str]) -> None:
        compiled = insert(table).compile(dialect=engine.dialect, column_keys=list(columns))
        self.sql = str(compiled)
        self.positional = bool(compiled.positional)
        order = tuple(compiled.positiontup or ()) if self.positional else tuple(columns)
        self._index = [list(columns).index(name) for name in order]
        self._names = order
        self._identity = self._index == list(range(len(columns)))

    def run(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        params: list[Any]
        if self.positional:
            params = rows if self._identity else [tuple(r[i] for i in self._index) for r in rows]
        else:
            params = [
                dict(zip(self._names, (r[i] for i in self._index), strict=True)) for r in rows
            ]
        conn.exec_driver_sql(self.sql, params)


class AuditLog:
    """Append events, sign heads, prove inclusion; thread- and process-safe writers."""

    def __init__(
        self,
        engine: Engine,
        signer: Signer,
        *,
        head_every: int = 1000,
        head_interval_s: float = 60.0,
        witnesses: Sequence[Witness] = (),
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if head_every < 1:
            raise UsageError("head_every: must be at least 1")
        if head_interval_s < 0:
            raise UsageError("head_interval_s: must not be negative")
        self._engine = engine
        self._signer = signer
        self.head_every = head_every
        self.head_interval_s = head_interval_s
        self.witnesses: tuple[Witness, ...] = tuple(witnesses)
        self._clock = clock
        self._lock = threading.RLock()  # one committer at a time in this process
        self._queue_lock = threading.Lock()
        self._queue: list[_Ticket] = []
        self._checkpoint_pages: int | None = None
        self._frontier: MerkleFrontier | None = None
        self._sqlite = engine.dialect.name == "sqlite"
        self._events_insert = _Insert(engine, audit_events, _EVENT_COLUMNS)
        self._objects_insert = _Insert(engine, audit_objects, _OBJECT_COLUMNS)
        self._heads_insert = _Insert(engine, audit_heads, _HEAD_COLUMNS)
        self.witness_failures: list[WitnessFailure] = []
        # Stored events hashed when the frontier was loaded: the tail after the
        # resumed head, or the whole log (diagnostics and tests).
        self.replayed_on_load: int | None = None

    @classmethod
    def for_vault(cls, vault: Vault, **kw: Any) -> AuditLog:
        """The network's log, signed with the key custody holds (never a vault data key)."""
        return cls(vault.engine, vault.audit_log_signer(), **kw)

    @property
    def key_id(self) -> str:
        return self._signer.key_id

    @property
    def origin(self) -> str:
        return log_origin(self._signer.key_id)

    def note_key(self) -> NoteKey:
        """The log's signed-note verifier key (vkey): what auditors and witnesses pin."""
        return NoteKey.for_signer(self.origin, ED25519, self._signer)

    def public_key_bytes(self) -> bytes:
        return self._signer.public_bytes()

    def public_key_pem(self) -> bytes:
        """What a verifier needs, and all it needs."""
        return self._signer.public_key_pem()

    def close(self) -> None:
        """Sign the unsigned tail, if any, so an idle log is fully covered by a head."""
        latest = self.latest_head()
        with self._engine.connect() as conn:
            size = _stored_size(conn)
        if size and (latest is None or latest.tree_size < size):
            self.sign_head()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------
    def check(self, event: AuditEvent) -> None:
        """Raise ValidationError (naming the field) unless ``event`` fits the log.

        For callers that queue events: a bad one fails where it was made instead
        of failing a whole batch later.
        """
        _check_widths(event)

    def append(self, event: AuditEvent) -> int:
        """Append one event (one committed transaction); returns its seq."""
        return self.append_many((event,))[0]

    def append_many(self, events: Iterable[AuditEvent]) -> list[int]:
        """Append events in ONE transaction, all or none; returns their seqs.

        Group commit: while one thread commits, calls from other threads queue up;
        the next one to take the lock commits every queued call in one transaction.
        Each call still returns only once its own events are committed.
        """
        batch = list(events)
        if not batch:
            return []
        for event in batch:
            _check_widths(event)
        bodies = [event.canonical() for event in batch]
        ticket = _Ticket(batch, bodies, [leaf_hash(body) for body in bodies])
        with self._queue_lock:
            self._queue.append(ticket)
        heads: list[SignedTreeHead] = []
        with self._lock:
            if not ticket.done:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                tried: list[int] = []  # first seq of an attempt that reached its commit
                try:
                    heads = self._retrying(lambda conn: self._append_locked(conn, group, tried))
                except BaseException as exc:
                    for queued in group:
                        queued.error, queued.done = exc, True
                    raise
                self._offer(group)  # under the lock: runs are offered in seq order
        if ticket.error is not None:
            raise ticket.error
        self._publish(heads)
        return ticket.seqs

    def sign_head(self) -> SignedTreeHead:
        """Sign the current size now (or return the latest head if nothing is new)."""
        with self._lock:
            head, fresh = self._retrying(self._sign_locked)
        if fresh:
            self._publish([head])
        return head

    def _retrying(self, work: Callable[[Connection], _T]) -> _T:
        self._ensure_loaded()
        for attempt in range(_RETRIES):
            try:
                with self._engine.connect() as conn:
                    restore = self._begin_write(conn)
                    try:
                        return work(conn)
                    finally:
                        if restore is not None:
                            conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={restore}")
            except (sa_exc.IntegrityError, sa_exc.OperationalError) as exc:
                # A seq or head taken by another writer, a busy database, or a lost
                # connection (a failover: the next connection waits for the new primary).
                # The frontier only moves after a commit, so it is still a true prefix:
                # the next attempt catches up from the stored rows (an append first
                # checks whether its own cut commit landed) and allocates again.
                if attempt == _RETRIES - 1:
                    raise VaultError(
                        f"audit log: write failed {_RETRIES} times ({type(exc).__name__})"
                    ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _begin_write(self, conn: Connection) -> int | None:
        """Take the log's write lock for this transaction, before reading its size.

        On SQLite, also let this transaction's commit skip the WAL checkpoint until
        ~40 MiB of WAL accumulate (instead of ~4 MiB): the random-key index of
        audit_objects dirties ~2,400 pages per 1,000 events, and checkpointing
        several commits at once writes each hot page once. Returns the connection's
        previous setting, restored after the transaction (the pool stays as it was).
        """
        if not self._sqlite:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
            return None
        if self._checkpoint_pages is None:  # the engine's setting, read once
            self._checkpoint_pages = int(
                conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() or 0
            )
        conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={_SQLITE_CHECKPOINT_PAGES}")
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        return self._checkpoint_pages

    def _append_locked(
        self, conn: Connection, group: list[_Ticket], tried: list[int]
    ) -> list[SignedTreeHead]:
        now = self._clock()
        work, latest = self._synced(conn)
        if tried and self._landed(conn, group, tried[0], work):
            return []
        sqlite, every = self._sqlite, self.head_every
        rows: list[tuple[Any, ...]] = []
        objects: list[tuple[Any, ...]] = []
        heads: list[SignedTreeHead] = []
        frontiers: list[bytes] = []  # the frontier at each head's size, stored with it
        firsts: list[int] = []
        for ticket in group:
            firsts.append(work.size)
            for event, body, digest in zip(
                ticket.events, ticket.bodies, ticket.digests, strict=True
            ):
                seq = work.size
                work.append(digest)
                at = event.at.astimezone(UTC)
                stored_at: Any = (
                    at.replace(tzinfo=None).isoformat(" ", "microseconds") if sqlite else at
                )
                rows.append(
                    (
                        seq,
                        stored_at,
                        event.actor,
                        event.role,
                        event.action,
                        event.outcome.value,
                        body,
                    )
                )
                objects.extend(object_rows(seq, event.object_ids))
                if work.size % every == 0:
                    heads.append(SignedTreeHead.sign(self._signer, work.size, work.root(), now))
                    frontiers.append(work.to_bytes())
        last = (heads[-1].tree_size, heads[-1].signed_at) if heads else latest
        if last is None or (
            last[0] < work.size and (now - last[1]).total_seconds() >= self.head_interval_s
        ):
            heads.append(SignedTreeHead.sign(self._signer, work.size, work.root(), now))
            frontiers.append(work.to_bytes())
        self._events_insert.run(conn, rows)
        self._objects_insert.run(conn, objects)
        self._heads_insert.run(
            conn, [self._head_row(h, f) for h, f in zip(heads, frontiers, strict=True)]
        )
        tried[:] = firsts[:1]  # from here the outcome may be unknown to us
        conn.commit()
        self._frontier = work
        for ticket, first in zip(group, firsts, strict=True):
            ticket.seqs = list(range(first, first + len(ticket.events)))
            ticket.done = True
        return heads

    def _landed(
        self, conn: Connection, group: list[_Ticket], first: int, work: MerkleFrontier
    ) -> bool:
        """Whether a commit cut by a lost connection had landed: our bodies at our seqs.

        The events and heads of one append commit together, so finding the bodies
        means all of it landed; the group then takes those seqs instead of being
        appended a second time (the retry after a failover).
        """
        bodies = [body for ticket in group for body in ticket.bodies]
        stored = conn.execute(
            select(audit_events.c.body)
            .where(audit_events.c.seq >= first, audit_events.c.seq < first + len(bodies))
            .order_by(audit_events.c.seq)
        ).all()
        if [bytes(body) for (body,) in stored] != bodies:
            return False
        conn.rollback()
        self._frontier = work  # caught up over the landed events by _synced
        for ticket in group:
            ticket.seqs = list(range(first, first + len(ticket.events)))
            ticket.done = True
            first += len(ticket.events)
        return True

    def _sign_locked(self, conn: Connection) -> tuple[SignedTreeHead, bool]:
        work, latest = self._synced(conn)
        if latest is not None and latest[0] == work.size:
            head = _latest_head(conn)
            conn.rollback()
            assert head is not None
            return head, False
        head = SignedTreeHead.sign(self._signer, work.size, work.root(), self._clock())
        self._heads_insert.run(conn, [self._head_row(head, work.to_bytes())])
        conn.commit()
        self._frontier = work
        return head, True

    def _head_row(self, head: SignedTreeHead, frontier: bytes) -> tuple[Any, ...]:
        at: Any = head.signed_at
        if self._sqlite:
            at = at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        return (
            head.tree_size,
            head.root,
            at,
            head.key_id,
            head.signature,
            frontier,
            head.checkpoint_sig,
        )

    def _offer(self, group: list[_Ticket]) -> None:
        """Hand witnesses that take them the leaf hashes just committed (proofs without rereads)."""
        for witness in self.witnesses:
            offer = getattr(witness, "offer_leaves", None)
            if offer is None:
                continue
            for ticket in group:
                if ticket.seqs:
                    offer(ticket.seqs[0], ticket.digests)

    def _publish(self, heads: Sequence[SignedTreeHead]) -> None:
        """Give each head to every witness; a failure is recorded, the head is kept."""
        for head in heads:
            for witness in self.witnesses:
                try:
                    witness.publish(head)
                except Exception as exc:  # any witness failure: report, never lose the head
                    failure = WitnessFailure(witness.name, head.tree_size, type(exc).__name__)
                    self.witness_failures.append(failure)
                    logger.warning(
                        "audit witness %s did not take head %d (%s)",
                        failure.witness,
                        head.tree_size,
                        failure.error,
                    )

    # -- the in-memory frontier -----------------------------------------------------
    def _ensure_loaded(self) -> None:
        """Load the frontier, outside any write lock: resume from a head, else rebuild.

        Resuming trusts only what is signed: the stored frontier must hash to the
        root that this log's key signed, so the writer's tree is the signed tree
        and new heads can never cover events altered before that head (``verify``
        still checks every event). The events after the head are replayed with
        the same fail-closed checks as a full rebuild. A frontier that does not
        match its head (altered, or signed by another key) is refused with a
        warning and the frontier is rebuilt from every stored body, which fails
        closed when the events no longer match the latest head.
        """
        if self._frontier is not None:
            return
        try:
            with self._engine.connect() as conn:
                latest = _latest_head(conn)
                frontier = self._resume_point(conn)
                if frontier is None:
                    frontier = MerkleFrontier()
                elif _stored_size(conn) < frontier.size:
                    raise IntegrityError(
                        f"audit log: head {frontier.size} covers more events than stored; "
                        "run `etanche audit verify`"
                    )
                start = frontier.size
                check = latest if latest is not None and latest.tree_size >= start else None
                self._catch_up(conn, frontier, check)
        except (sa_exc.OperationalError, sa_exc.ProgrammingError):
            raise SchemaError(
                "audit log: tables missing or unreadable (is this a vault?)"
            ) from None
        if latest is not None and latest.tree_size > frontier.size:
            raise IntegrityError(
                f"audit log: head {latest.tree_size} covers more events than stored "
                f"({frontier.size}); run `etanche audit verify`"
            )
        self.replayed_on_load = frontier.size - start
        self._frontier = frontier

    def _resume_point(self, conn: Connection) -> MerkleFrontier | None:
        """The frontier of the latest head that stores one, if it matches the signed head."""
        row = conn.execute(
            select(audit_heads)
            .where(audit_heads.c.frontier.is_not(None))
            .order_by(audit_heads.c.tree_size.desc())
            .limit(1)
        ).first()
        if row is None:
            return None  # heads signed before revision 0004, or no head yet
        head = _head_from_row(row)
        try:
            frontier = MerkleFrontier.from_bytes(bytes(row.frontier))
            if frontier.size != head.tree_size or frontier.root() != head.root:
                raise ValueError("frontier does not match the head")
            head.verify(self._signer.verifier)
        except (ValueError, IntegrityError):
            logger.warning(
                "audit log: the frontier stored with head %d does not match that signed "
                "head; rebuilding from every stored event (run `etanche audit verify`)",
                head.tree_size,
            )
            return None
        return frontier

    def _synced(self, conn: Connection) -> tuple[MerkleFrontier, _Mark | None]:
        """A copy of the frontier brought up to the stored size, and the latest head's mark.

        One round trip: this runs in every write transaction, under the write lock.
        """
        assert self._frontier is not None
        work = self._frontier.copy()
        top, head_size, head_at = conn.exec_driver_sql(_STATE_SQL).one()
        stored = 0 if top is None else int(top) + 1
        if stored < work.size:
            raise IntegrityError(
                f"audit log: {stored} events stored but {work.size} were appended; "
                "events were deleted, run `etanche audit verify`"
            )
        if stored > work.size:  # another process appended
            self._catch_up(conn, work)
        mark = None if head_size is None else (int(head_size), _as_utc(head_at))
        return work, mark

    def _catch_up(
        self, conn: Connection, frontier: MerkleFrontier, check: SignedTreeHead | None = None
    ) -> None:
        """Append stored leaves from ``frontier.size`` on; compare ``check``'s root on the way."""
        if check is not None and check.tree_size == frontier.size:
            _compare(frontier, check)
        query = (
            select(audit_events.c.seq, audit_events.c.body)
            .where(audit_events.c.seq >= frontier.size)
            .order_by(audit_events.c.seq)
        )
        for seq, body in conn.execute(query.execution_options(yield_per=_STREAM_ROWS)):
            if seq != frontier.size:
                raise IntegrityError(
                    f"audit log: seq {frontier.size} is missing; run `etanche audit verify`"
                )
            frontier.append(leaf_hash(bytes(body)))
            if check is not None and check.tree_size == frontier.size:
                _compare(frontier, check)

    # -- reading --------------------------------------------------------------------
    def latest_head(self) -> SignedTreeHead | None:
        with self._engine.connect() as conn:
            return _latest_head(conn)

    def heads(self) -> list[SignedTreeHead]:
        """Every stored head, with the witnesses' cosignatures stored for it."""
        with self._engine.connect() as conn:
            return read_heads_with_cosignatures(conn)

    def prove(self, seq: int) -> InclusionProof:
        """Inclusion proof of event ``seq`` in the latest head (signing one if needed).

        Costs one pass over the stored bodies up to the head (O(n) hashes).
        """
        head = self.latest_head()
        if head is None or head.tree_size <= seq:
            head = self.sign_head()
        if not 0 <= seq < head.tree_size:
            raise RecordNotFound(f"audit event {seq}: not in the log")
        digests, body = self._digests(head.tree_size, seq)
        path = tuple(inclusion_path(seq, digests, head.tree_size))
        if not verify_inclusion(seq, head.tree_size, digests[seq], path, head.root):
            raise IntegrityError(
                f"audit log: event {seq} does not lead to head {head.tree_size}; "
                "run `etanche audit verify`"
            )
        return InclusionProof(seq, digests[seq], body, path, head)

    def prove_consistency(self, first: int, second: int) -> list[bytes]:
        """RFC 6962 consistency proof that the tree of size ``first`` prefixes ``second``."""
        if not 0 <= first <= second:
            raise UsageError("consistency: expected 0 <= first <= second")
        digests, _ = self._digests(second, None)
        if len(digests) < second:
            raise RecordNotFound(f"audit log: no tree of size {second} yet")
        return consistency_path(first, digests, second)

    def _digests(self, size: int, keep: int | None) -> tuple[list[bytes], bytes | None]:
        digests: list[bytes] = []
        kept: bytes | None = None
        query = (
            select(audit_events.c.seq, audit_events.c.body)
            .where(audit_events.c.seq < size)
            .order_by(audit_events.c.seq)
        )
        with self._engine.connect() as conn:
            for seq, body in conn.execute(query.execution_options(yield_per=_STREAM_ROWS)):
                data = bytes(body)
                if seq != len(digests):
                    raise IntegrityError(
                        f"audit log: seq {len(digests)} is missing; run `etanche audit verify`"
                    )
                if seq == keep:
                    kept = data
                digests.append(leaf_hash(data))
        return digests, kept

    def events(
        self,
        *,
        actor: str | None = None,
        object_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
        newest_first: bool = False,
    ) -> list[tuple[int, AuditEvent]]:
        """Events matching every given filter (object id via audit_objects), by seq."""
        query = select(audit_events.c.seq, audit_events.c.body)
        if actor is not None:
            query = query.where(audit_events.c.actor == actor)
        if action is not None:
            query = query.where(audit_events.c.action == str(action))
        if since is not None:
            query = query.where(audit_events.c.at >= self._bind_time(since))
        if until is not None:
            query = query.where(audit_events.c.at < self._bind_time(until))
        if object_id is not None:
            if object_id.endswith(PREFIX_MARK):  # "1a2b3c4d*": every id starting so
                start = object_id[: -len(PREFIX_MARK)]
                match = and_(
                    audit_objects.c.object_id >= start, audit_objects.c.object_id < start + "\x7f"
                )
            elif object_id.startswith(PREFIX_MARK):  # "*1a2b3c4d": every id ending so
                match = audit_objects.c.object_id.endswith(
                    object_id[len(PREFIX_MARK) :], autoescape=True
                )
            else:
                match = audit_objects.c.object_id == object_id
            query = query.where(audit_events.c.seq.in_(seqs_naming(match)))
        order = audit_events.c.seq.desc() if newest_first else audit_events.c.seq
        query = query.order_by(order).limit(limit)
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [(row.seq, AuditEvent.from_canonical(bytes(row.body))) for row in rows]

    def _bind_time(self, value: datetime) -> datetime:
        """UTC; naive for SQLite, which stores UTC wall time without a zone."""
        at = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return at.replace(tzinfo=None) if self._sqlite else at


def _check_widths(event: AuditEvent) -> None:
    actor, role, action = event.actor, event.role, event.action
    if (  # the common case in one test: every append pays this
        type(actor) is str
        and type(role) is str
        and type(action) is str
        and 0 < len(actor) <= _WIDTHS["actor"]
        and 0 < len(role) <= _WIDTHS["role"]
        and 0 < len(action) <= _WIDTHS["action"]
        and all(type(o) is str and 0 < len(o) <= _WIDTHS["object_ids"] for o in event.object_ids)
    ):
        return
    for name in ("actor", "role", "action"):
        value = getattr(event, name)
        if not isinstance(value, str) or not 0 < len(value) <= _WIDTHS[name]:
            raise ValidationError(name, f"expected 1 to {_WIDTHS[name]} characters", "audit event")
    for object_id in event.object_ids:
        if not isinstance(object_id, str) or not 0 < len(object_id) <= _WIDTHS["object_ids"]:
            raise ValidationError(
                "object_ids",
                f"each id must have 1 to {_WIDTHS['object_ids']} characters",
                "audit event",
            )


def _compare(frontier: MerkleFrontier, head: SignedTreeHead) -> None:
    if frontier.root() != head.root:
        raise IntegrityError(
            f"audit log: stored events do not match head {head.tree_size}; "
            "run `etanche audit verify`"
        )


def _stored_size(conn: Connection) -> int:
    top = conn.execute(select(func.max(audit_events.c.seq))).scalar()
    return 0 if top is None else int(top) + 1


def _latest_head(conn: Connection) -> SignedTreeHead | None:
    row = conn.execute(
        select(audit_heads).order_by(audit_heads.c.tree_size.desc()).limit(1)
    ).first()
    return _head_from_row(row) if row is not None else None


def _as_utc(value: Any) -> datetime:
    """A stored time as aware UTC: SQLite gives naive UTC text, PostgreSQL aware values."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise IntegrityError("audit log: a head's signed_at is not a time")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _head_from_row(row: Any) -> SignedTreeHead:
    signed_at = row.signed_at
    if signed_at.tzinfo is None:
        signed_at = signed_at.replace(tzinfo=UTC)
    checkpoint_sig = getattr(row, "checkpoint_sig", None)
    return SignedTreeHead(
        tree_size=int(row.tree_size),
        root=bytes(row.root),
        signed_at=signed_at.astimezone(UTC),
        key_id=row.key_id,
        signature=bytes(row.signature),
        checkpoint_sig=None if checkpoint_sig is None else bytes(checkpoint_sig),
    )


def read_heads_with_cosignatures(conn: Connection) -> list[SignedTreeHead]:
    """The stored heads in size order, each with its stored cosignatures."""
    rows = conn.execute(select(audit_heads).order_by(audit_heads.c.tree_size)).all()
    cosigned = cosignatures_by_size(conn)
    return [
        replace(head, cosignatures=tuple(cosigned.get(head.tree_size, ())))
        for head in (_head_from_row(row) for row in rows)
    ]
