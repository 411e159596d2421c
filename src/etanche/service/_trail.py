"""The audit trail of a process: every operation becomes a logged, watched event.

One place joins the Merkle audit log and the alert engine, so no adapter can
log without supervision or supervise without logging.

Two modes. ``sync`` (the default, and the CLI's): ``record`` returns once the
event is committed and the alert rules have seen it. ``buffered`` (a server
under load): ``record`` builds the event, timed at the call, queues it and
returns; a background thread commits the queue in batches (one transaction per
``batch_size`` events, or whatever is queued ``flush_ms`` after the first one)
and then runs the alert rules on each event with its seq. A crash loses the
events still queued: normally one flush window, and never more than
``MAX_BATCHES_QUEUED`` batches, since ``record`` waits for the writer beyond
that. ``flush()``, ``close()`` and an ``atexit`` hook write everything queued.
A writer failure is kept, logged, and raised by the next ``record``, ``flush``
or ``close``: the trail fails closed, it never drops events silently.

``record`` returning is not an acknowledgement: the server answers a request
only after ``Core.settle()`` flushed the trail (web/_durable.py), so no
operation is confirmed whose event a crash or a failover could still lose.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from etanche.access import Action, Actor
from etanche.audit import (
    Alert,
    AlertEngine,
    AuditEvent,
    AuditLog,
    Cosigner,
    DetailValue,
    Outcome,
    Pins,
    WitnessEndpoint,
)
from etanche.errors import UsageError
from etanche.vault import Vault, retrying

SYSTEM = "system"
UNAUTHENTICATED = "unauthenticated"
MODES = ("sync", "buffered")
FLUSH_MS = 20.0
BATCH_SIZE = 1_000
MAX_BATCHES_QUEUED = 10  # record() waits beyond this many batches: bounds memory and loss

logger = logging.getLogger("etanche.audit.trail")


class Trail:
    """Append-then-observe: an event is in the log before any rule sees it."""

    def __init__(
        self,
        log: AuditLog,
        alerts: AlertEngine,
        *,
        mode: str = "sync",
        flush_ms: float = FLUSH_MS,
        batch_size: int = BATCH_SIZE,
        cosigner: Cosigner | None = None,
        quorum: int = 0,
    ) -> None:
        if mode not in MODES:
            raise UsageError(f"trail mode: expected one of {', '.join(MODES)}")
        self.log = log
        self.alerts = alerts
        self.cosigner = cosigner
        self.quorum = quorum
        self.mode = mode
        self.fired: list[Alert] = []
        self._writer: _BufferedWriter | None = None
        if mode == "buffered":
            self._writer = _BufferedWriter(log, alerts, self.fired, flush_ms, batch_size)
            # a trail dropped without close(): its writer drains the queue and stops
            weakref.finalize(self, self._writer.stop)

    @classmethod
    def for_vault(
        cls,
        vault: Vault,
        rules: str | Path | None = None,
        *,
        mode: str = "sync",
        flush_ms: float = FLUSH_MS,
        witnesses: Sequence[WitnessEndpoint] = (),
        quorum: int = 1,
    ) -> Trail:
        """The vault's log and alert rules; ``mode`` is "sync" (the CLI) or "buffered".

        With ``witnesses``, every new head is handed to them in the background
        (a ``Cosigner``); ``quorum`` is how many must cosign for the service's
        own verification to call the log witnessed.
        """
        log = AuditLog.for_vault(vault)
        cosigner = None
        if witnesses:
            cosigner = Cosigner(vault.engine, log.public_key_bytes(), witnesses)
            log = AuditLog.for_vault(vault, witnesses=[cosigner])
        return cls(
            log,
            AlertEngine.from_config(vault.engine, rules),
            mode=mode,
            flush_ms=flush_ms,
            cosigner=cosigner,
            quorum=min(quorum, len(witnesses)),
        )

    def pins(self) -> Pins:
        """What the service's own verification checks against: its key and its witnesses."""
        witnesses = self.cosigner.witnesses if self.cosigner is not None else ()
        return Pins(self.log.note_key(), tuple(w.key for w in witnesses), self.quorum)

    def record(
        self,
        actor: Actor | str | None,
        action: Action | str,
        outcome: Outcome,
        *,
        objects: Iterable[str] = (),
        purpose: str | None = None,
        client: str | None = None,
        details: Mapping[str, DetailValue] | None = None,
        decoy_hit: bool = False,
    ) -> int | None:
        """Log one event and run the alert rules on it.

        Returns the event's seq in ``sync`` mode; None in ``buffered`` mode, where
        the seq is only known once the batch is committed. ``actor`` is the
        person (an Actor), a claimed user name before authentication (a string),
        or None for the system itself.
        """
        if isinstance(actor, Actor):
            name, role = actor.username, actor.role.value
        elif actor:
            name, role = actor[:64], UNAUTHENTICATED
        else:
            name, role = SYSTEM, SYSTEM
        event = AuditEvent(
            actor=name,
            role=role,
            action=str(action),
            outcome=outcome,
            object_ids=tuple(objects),
            purpose=purpose,
            client=client,
            details=dict(details or {}),
        )
        if self._writer is not None:
            self.log.check(event)  # a bad event fails here, not a whole batch later
            self._writer.put(event, decoy_hit)
            return None
        seq = self.log.append(event)
        self.fired.extend(_observe(self.alerts, event, seq, decoy_hit))
        return seq

    def flush(self) -> None:
        """Wait until every event recorded so far is committed and seen by the rules."""
        if self._writer is not None:
            self._writer.flush()

    def when_flushed(self, wake: Callable[[], None]) -> bool:
        """``flush`` without blocking: False when nothing recorded so far is left to
        write; else True, and ``wake`` is called (from the writer thread, so it must
        be quick and must not raise) once it is written or the writer failed. Then
        ``raise_failure`` says which. A failure already known is raised here."""
        return self._writer is not None and self._writer.when_flushed(wake)

    def raise_failure(self) -> None:
        """Raise the writer's failure, if it failed (the trail fails closed)."""
        if self._writer is not None:
            self._writer.raise_failure()

    def close(self) -> None:
        """Write what is queued, stop the writer, then sign the unsigned tail.

        The log is covered by a head when we stop; a writer failure is raised
        after the tail is signed.
        """
        try:
            if self._writer is not None:
                self._writer.close()
        finally:
            self.log.close()
            if self.cosigner is not None:
                self.cosigner.flush(5.0)  # the last head, if the witnesses answer soon
                self.cosigner.close()


class _BufferedWriter:
    """The queue and background thread of a buffered trail."""

    def __init__(
        self,
        log: AuditLog,
        alerts: AlertEngine,
        fired: list[Alert],
        flush_ms: float,
        batch_size: int,
    ) -> None:
        if not 0 < flush_ms <= 60_000:
            raise UsageError("flush_ms: expected more than 0 and at most 60,000 ms")
        if batch_size < 1:
            raise UsageError("batch_size: must be at least 1")
        self._log = log
        self._alerts = alerts
        self._fired = fired
        self._flush_s = flush_ms / 1000
        self._batch = batch_size
        self._max_queued = batch_size * MAX_BATCHES_QUEUED
        self._cond = threading.Condition()
        self._queue: list[tuple[AuditEvent, bool]] = []
        self._queued = 0  # events ever queued
        self._taken = 0  # events taken off the queue by the writer
        self._done = 0  # events committed and observed (or given up after a failure)
        self._flush_until = 0  # a flush waits for the events queued before this count
        self._closed = False
        self._error: BaseException | None = None
        self._waiters: list[tuple[int, Callable[[], None]]] = []  # (events to write, wake)
        self._thread = threading.Thread(target=self._run, name="etanche-audit-writer", daemon=True)
        self._thread.start()
        _live.add(self)

    def put(self, event: AuditEvent, decoy_hit: bool) -> None:
        with self._cond:
            while True:
                if self._error is not None:
                    raise self._error
                if self._closed:
                    raise UsageError("audit trail: closed, no further event can be logged")
                if len(self._queue) < self._max_queued:
                    break
                self._cond.wait()  # the writer is behind: wait for room
            self._queue.append((event, decoy_hit))
            self._queued += 1
            if len(self._queue) == 1 or len(self._queue) >= self._batch:
                self._cond.notify_all()

    def flush(self) -> None:
        with self._cond:
            target = self._queued
            self._flush_until = max(self._flush_until, target)
            self._cond.notify_all()
            while self._done < target and self._error is None:
                self._cond.wait()
            if self._error is not None:
                raise self._error

    def when_flushed(self, wake: Callable[[], None]) -> bool:
        with self._cond:
            if self._error is not None:
                raise self._error
            target = self._queued
            if self._done >= target:
                return False
            self._flush_until = max(self._flush_until, target)
            self._waiters.append((target, wake))
            self._cond.notify_all()
            return True

    def raise_failure(self) -> None:
        with self._cond:
            if self._error is not None:
                raise self._error

    def _wake_waiters(self) -> None:
        """Call the wakes of the flushes now done (lock not held: they run outside it)."""
        with self._cond:
            ready = [wake for target, wake in self._waiters if target <= self._done]
            self._waiters = [(t, w) for t, w in self._waiters if t > self._done]
        for wake in ready:
            try:
                wake()
            except Exception as exc:  # a waiter gone (its loop closed): nothing to tell
                logger.warning("audit trail: a flush waiter failed (%s)", type(exc).__name__)

    def stop(self) -> None:
        """Refuse new events; the thread writes what is queued, then ends."""
        with self._cond:
            self._closed = True
            self._flush_until = self._queued
            self._cond.notify_all()

    def close(self) -> None:
        self.stop()
        self._thread.join()
        _live.discard(self)
        if self._error is not None:
            raise self._error

    # -- the writer thread -------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                batch = self._next_batch()
            if batch is None:
                return
            written = False
            try:
                seqs = self._log.append_many(event for event, _ in batch)
                written = True
                for (event, decoy_hit), seq in zip(batch, seqs, strict=True):
                    self._fired.extend(_observe(self._alerts, event, seq, decoy_hit))
            except BaseException as exc:  # kept and raised to the next caller: fail closed
                self._fail(exc, len(batch), written)
                return
            with self._cond:
                self._done += len(batch)
                self._cond.notify_all()
            self._wake_waiters()

    def _next_batch(self) -> list[tuple[AuditEvent, bool]] | None:
        """Wait for events, give the batch up to flush_ms to fill, take it (lock held)."""
        cond = self._cond
        while not self._queue:
            if self._closed:
                return None
            cond.wait()
        deadline = time.monotonic() + self._flush_s
        while (
            len(self._queue) < self._batch and not self._closed and self._flush_until <= self._taken
        ):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            cond.wait(left)
        batch = self._queue[: self._batch]
        del self._queue[: self._batch]
        self._taken += len(batch)
        cond.notify_all()  # room in the queue for callers waiting in put()
        return batch

    def _fail(self, exc: BaseException, batch: int, written: bool) -> None:
        """Keep the error for the next caller; warn (counts and class only) before waking it."""
        with self._cond:
            pending = len(self._queue)
            if written:
                logger.warning(
                    "audit trail: alert rules failed (%s) on a committed batch of %d events; "
                    "%d queued events were not logged; the next record or flush raises it",
                    type(exc).__name__,
                    batch,
                    pending,
                )
            else:
                logger.warning(
                    "audit trail: writing a batch failed (%s); %d events were not logged; "
                    "the next record or flush raises it",
                    type(exc).__name__,
                    batch + pending,
                )
            self._error = exc
            self._queue.clear()
            self._done = self._queued  # nothing more will be written: release flush()
            self._cond.notify_all()
        self._wake_waiters()


def _observe(alerts: AlertEngine, event: AuditEvent, seq: int, decoy_hit: bool) -> list[Alert]:
    """The alert rules on a logged event; a lost connection (a failover) is retried.

    Observing twice is harmless: windows are read back from the log by seq and
    an alert already stored under its dedup key is not written again.
    """
    return retrying(lambda: alerts.observe(event, seq=seq, decoy_hit=decoy_hit))


# Buffered writers still running: the interpreter flushes them on exit.
_live: weakref.WeakSet[_BufferedWriter] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    """Write what every live buffered trail still holds before the process ends."""
    for writer in list(_live):
        with contextlib.suppress(Exception):  # logged by the writer; nobody left to raise to
            writer.flush()
