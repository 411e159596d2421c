"""Witness cosignatures of the log's heads: asked in the background, stored in the database.

Each new head is handed to a ``Cosigner`` (a ``Witness``: ``publish`` only
queues it), whose thread asks every configured witness to cosign the latest
head over the tlog-witness protocol: ``old <size>``, the RFC 6962 consistency
proof from the witness's size, a blank line, the signed checkpoint. Only the
latest head is asked for (a witness that cosigns size n has checked every
size before it), so a slow witness never stalls appends nor builds a queue.

The proof is built from the frontier stored with the witness's last head and
the leaves since, never from the whole log. The log hands the cosigner the leaf
hashes it computed for the events it just committed (``offer_leaves``), so the
proof for a head written by this process needs no reread of ~1,000 bodies while
the appending thread wants the GIL; leaves it was not handed (another process
wrote them, or the witness is far behind) are read and hashed from the table.
A witness that answers 409 with its size is asked again from there. Failures
are counted and logged (witness name and error class only) and retried with the
next head; a cosignature is stored only once it verifies under the witness's
pinned key.
"""

from __future__ import annotations

import http.client
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, func, insert, select

from etanche.audit._heads import SignedTreeHead
from etanche.audit._note import NoteKey, NoteSignature, parse_signatures
from etanche.audit._schema import audit_cosignatures, audit_events, audit_heads
from etanche.crypto import MerkleFrontier, consistency_from_frontier, leaf_hash
from etanche.errors import EtancheError, IntegrityError, SourceError, UsageError

logger = logging.getLogger("etanche.audit.witness")
_MAX_ANSWER = 64 * 1024
_KEPT = 1000  # failures and timings kept in memory
_LEAVES_KEPT = 1 << 16  # leaf hashes handed by the writer, kept for proofs (2 MiB)


@dataclass(frozen=True, slots=True)
class WitnessEndpoint:
    """A witness the service asks: its pinned verifier key and its submission URL prefix."""

    key: NoteKey
    url: str

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"witness {self.key.name}: expected an http:// or https:// URL")

    @property
    def name(self) -> str:
        return self.key.name


class WitnessRefused(EtancheError):
    """A witness answered something else than cosignatures (status and a short reason)."""


@dataclass(frozen=True, slots=True)
class CosignFailure:
    witness: str
    tree_size: int
    error: str  # class name or HTTP status: never a body


def add_checkpoint_body(old: int, proof: Sequence[bytes], note: str) -> bytes:
    """The tlog-witness request: old size line, proof lines, blank line, checkpoint note."""
    import base64

    lines = [f"old {old}\n"] + [base64.b64encode(h).decode("ascii") + "\n" for h in proof]
    return ("".join(lines) + "\n" + note).encode("utf-8")


def store_cosignatures(
    conn: Connection, tree_size: int, signatures: Sequence[tuple[NoteSignature, int]]
) -> None:
    rows = [
        {
            "tree_size": tree_size,
            "witness": sig.name,
            "key_hash": sig.key_hash,
            "cosigned_at": stamp,
            "signature": sig.signature,
        }
        for sig, stamp in signatures
    ]
    if rows:
        conn.execute(insert(audit_cosignatures), rows)


def cosignatures_by_size(conn: Connection) -> dict[int, list[NoteSignature]]:
    """Every stored cosignature, by head size."""
    found: dict[int, list[NoteSignature]] = {}
    query = select(audit_cosignatures).order_by(
        audit_cosignatures.c.tree_size, audit_cosignatures.c.witness
    )
    for row in conn.execute(query):
        sig = NoteSignature(row.witness, bytes(row.key_hash), bytes(row.signature))
        found.setdefault(int(row.tree_size), []).append(sig)
    return found


class Cosigner:
    """Background cosigning by the configured witnesses; ``publish`` never blocks."""

    def __init__(
        self,
        engine: Engine,
        log_public_key: bytes,
        witnesses: Sequence[WitnessEndpoint],
        *,
        timeout_s: float = 5.0,
    ) -> None:
        self._engine = engine
        self._public = log_public_key
        self.witnesses = tuple(witnesses)
        self._timeout_s = timeout_s
        self._cond = threading.Condition()
        self._target: SignedTreeHead | None = None
        self._sizes: dict[str, int | None] = {w.name: None for w in self.witnesses}
        self._tried: dict[str, int] = {}  # size last tried per witness (done or failed)
        self._connections: dict[str, http.client.HTTPConnection] = {}
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._closed = False
        self.failures: deque[CosignFailure] = deque(maxlen=_KEPT)
        # per cosignature: asked and checked (proof, HTTP, witness) / stored in the database
        self.timings_ms: deque[float] = deque(maxlen=_KEPT)
        self.store_ms: deque[float] = deque(maxlen=_KEPT)
        self._leaves_from = 0  # seq of self._leaves[0]
        self._leaves: list[bytes] = []
        self.leaves_read = 0  # leaf hashes read back from the table (not handed over)

    @property
    def name(self) -> str:
        return "cosigner"

    # -- the Witness protocol ----------------------------------------------------
    def publish(self, head: SignedTreeHead) -> None:
        if not self.witnesses:
            return
        with self._cond:
            if self._target is None or head.tree_size > self._target.tree_size:
                self._target = head
            self._start_locked()
            self._cond.notify_all()

    def offer_leaves(self, first: int, digests: Sequence[bytes]) -> None:
        """Leaf hashes of committed events ``first``, ``first + 1``, ...: kept for proofs.

        Only a run contiguous with the kept one extends it; anything else restarts it.
        """
        if not self.witnesses:
            return
        with self._cond:
            if first != self._leaves_from + len(self._leaves):
                self._leaves_from, self._leaves = first, []
            self._leaves.extend(digests)
            extra = len(self._leaves) - _LEAVES_KEPT
            if extra > 0:
                del self._leaves[:extra]
                self._leaves_from += extra

    def _kept_leaves(self, old: int, new: int) -> list[bytes] | None:
        with self._cond:
            start = self._leaves_from
            if start <= old and new <= start + len(self._leaves):
                return self._leaves[old - start : new - start]
        return None

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Wait until every witness was asked for the latest head; True if all cosigned it."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not self._settled_locked():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            target = self._target
            return target is None or all(
                (self._sizes[w.name] or 0) >= target.tree_size for w in self.witnesses
            )

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for connection in self._connections.values():
            connection.close()

    def _settled_locked(self) -> bool:
        target = self._target
        if target is None:
            return True
        return all(self._tried.get(w.name, -1) >= target.tree_size for w in self.witnesses)

    def _start_locked(self) -> None:
        """One thread per process (a forked worker starts its own)."""
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        self._pid = os.getpid()
        self._connections = {}
        self._thread = threading.Thread(target=self._run, name="etanche-cosigner", daemon=True)
        self._thread.start()

    # -- the thread --------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and self._settled_locked():
                    self._cond.wait()
                if self._closed:
                    return
                head = self._target
            assert head is not None
            for witness in self.witnesses:
                if self._tried.get(witness.name, -1) >= head.tree_size:
                    continue
                try:
                    self._cosign(witness, head)
                except Exception as exc:  # reported, retried with the next head
                    error = str(exc) if isinstance(exc, WitnessRefused) else type(exc).__name__
                    self.failures.append(CosignFailure(witness.name, head.tree_size, error))
                    logger.warning(
                        "audit witness %s did not cosign head %d (%s)",
                        witness.name,
                        head.tree_size,
                        error,
                    )
                with self._cond:
                    self._tried[witness.name] = head.tree_size
                    self._cond.notify_all()

    def _cosign(self, witness: WitnessEndpoint, head: SignedTreeHead) -> None:
        started = time.perf_counter()
        old = self._sizes[witness.name]
        if old is None:
            old = self._last_cosigned(witness.name)
        for _ in range(3):
            if old > head.tree_size:
                self._sizes[witness.name] = old  # the witness is past this head already
                return
            body = add_checkpoint_body(old, self._proof(old, head.tree_size), self._note(head))
            status, content_type, answer = self._post(witness, body)
            if status == 409 and content_type.startswith("text/x.tlog.size"):
                old = _size(answer)
                continue
            if status != 200:
                raise WitnessRefused(f"HTTP {status}")
            valid = self._valid(witness, head, answer)
            self.timings_ms.append((time.perf_counter() - started) * 1000)
            stored = time.perf_counter()
            with self._engine.begin() as conn:
                conn.execute(
                    audit_cosignatures.delete().where(
                        audit_cosignatures.c.tree_size == head.tree_size,
                        audit_cosignatures.c.witness == witness.name,
                    )
                )
                store_cosignatures(conn, head.tree_size, valid)
            self._sizes[witness.name] = head.tree_size
            self.store_ms.append((time.perf_counter() - stored) * 1000)
            return
        raise WitnessRefused("size conflicts repeated")

    def _valid(
        self, witness: WitnessEndpoint, head: SignedTreeHead, answer: bytes
    ) -> list[tuple[NoteSignature, int]]:
        try:
            signatures = parse_signatures(answer.decode("utf-8"))
        except (UnicodeDecodeError, SourceError):
            raise WitnessRefused("malformed cosignature lines") from None
        checkpoint = head.checkpoint()
        valid = []
        for signature in signatures:
            if signature.matches(witness.key):  # others are ignored (signed-note rule)
                try:
                    valid.append((signature, checkpoint.cosigned_at(witness.key, signature)))
                except IntegrityError:
                    raise WitnessRefused("cosignature does not verify") from None
        if not valid:
            raise WitnessRefused("no cosignature by its pinned key")
        return valid[:1]

    def _note(self, head: SignedTreeHead) -> str:
        if head.checkpoint_sig is None:
            raise WitnessRefused(f"head {head.tree_size} has no checkpoint signature")
        return head.note(self._public)

    def _last_cosigned(self, name: str) -> int:
        with self._engine.connect() as conn:
            top = conn.execute(
                select(func.max(audit_cosignatures.c.tree_size)).where(
                    audit_cosignatures.c.witness == name
                )
            ).scalar()
        return 0 if top is None else int(top)

    def _proof(self, old: int, new: int) -> list[bytes]:
        if old in (0, new):
            return []
        with self._engine.connect() as conn:
            stored = conn.execute(
                select(audit_heads.c.frontier).where(audit_heads.c.tree_size == old)
            ).scalar()
            if stored is None:
                raise WitnessRefused(f"no stored frontier at the witness's size {old}")
            frontier = MerkleFrontier.from_bytes(bytes(stored))
            leaves = self._kept_leaves(old, new)
            if leaves is None:
                rows = conn.execute(
                    select(audit_events.c.body)
                    .where(audit_events.c.seq >= old, audit_events.c.seq < new)
                    .order_by(audit_events.c.seq)
                )
                leaves = [leaf_hash(bytes(body)) for (body,) in rows]
                self.leaves_read += len(leaves)
        if len(leaves) != new - old:
            raise IntegrityError(f"audit log: events {old} to {new - 1} are not all stored")
        return consistency_from_frontier(frontier, leaves)

    def _post(self, witness: WitnessEndpoint, body: bytes) -> tuple[int, str, bytes]:
        parts = urlsplit(witness.url)
        path = parts.path.rstrip("/") + "/add-checkpoint"
        for attempt in range(2):  # a kept-alive connection the witness closed: once more
            connection = self._connection(witness)
            try:
                connection.request("POST", path, body, {"Content-Type": "text/plain"})
                response = connection.getresponse()
                answer = response.read(_MAX_ANSWER)
                return response.status, response.getheader("Content-Type", ""), answer
            except (OSError, http.client.HTTPException):
                connection.close()
                self._connections.pop(witness.name, None)
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _connection(self, witness: WitnessEndpoint) -> http.client.HTTPConnection:
        found = self._connections.get(witness.name)
        if found is None:
            parts = urlsplit(witness.url)
            kind: Any = (
                http.client.HTTPSConnection
                if parts.scheme == "https"
                else http.client.HTTPConnection
            )
            found = kind(parts.hostname, parts.port, timeout=self._timeout_s)
            self._connections[witness.name] = found
        return found


def ask_witness_size(endpoint: WitnessEndpoint, note: str, timeout_s: float = 10.0) -> int:
    """The size a witness last cosigned for this log, asked as tlog-witness allows.

    An ``old 0`` request with the log's checkpoint: a witness that cosigned
    anything answers 409 with its size; one that never did cosigns (size 0 before).
    A verifier compares it with the cosignatures the log shows: a witness that
    cosigned more than the log holds proves a rewrite or deleted cosignatures.
    """
    parts = urlsplit(endpoint.url)
    kind: Any = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = kind(parts.hostname, parts.port, timeout=timeout_s)
    try:
        connection.request(
            "POST",
            parts.path.rstrip("/") + "/add-checkpoint",
            add_checkpoint_body(0, [], note),
            {"Content-Type": "text/plain"},
        )
        response = connection.getresponse()
        answer = response.read(_MAX_ANSWER)
    except (OSError, http.client.HTTPException) as exc:
        raise WitnessRefused(f"unreachable ({type(exc).__name__})") from None
    finally:
        connection.close()
    if response.status == 409:
        return _size(answer)
    if response.status == 200:
        return 0
    raise WitnessRefused(f"HTTP {response.status}")


def _size(answer: bytes) -> int:
    text = answer.decode("ascii", "replace").strip()
    if not text.isdigit():
        raise WitnessRefused("409 without a size")
    return int(text)
