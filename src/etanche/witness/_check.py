"""``add-checkpoint`` as tlog-witness specifies it: check, persist, then cosign.

The witness cosigns a checkpoint only when its log's pinned key signed it and
an RFC 6962 consistency proof leads from the latest checkpoint it cosigned for
that origin. Everything else is refused with the spec's status and a reason,
appended to the refusals file: a fork (same size, other root, or a proof that
does not verify) or a rewrite (a size behind what was cosigned) is evidence.
Check-and-persist runs under one lock, so two requests never roll back a size.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from dataclasses import dataclass

from etanche.audit import Checkpoint, NoteSignature, split_note
from etanche.crypto import EMPTY_ROOT, verify_consistency
from etanche.errors import IntegrityError, SourceError
from etanche.witness._folder import Cosigned, WitnessFolder

MAX_PROOF = 63
MAX_BODY = 64 * 1024


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer: status, content type and body."""

    status: int
    content_type: str
    body: bytes

    @classmethod
    def text(cls, status: int, reason: str) -> Answer:
        return cls(status, "text/plain; charset=utf-8", (reason + "\n").encode())


class Refusal(Exception):
    def __init__(self, status: int, reason: str, *, logged: bool = True) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.logged = logged


class CheckpointWitness:
    """One witness process's decisions over its folder."""

    def __init__(self, folder: WitnessFolder) -> None:
        self.folder = folder
        self._lock = threading.Lock()

    def add_checkpoint(self, request: bytes) -> Answer:
        origin, old, size = "?", None, None
        try:
            old, proof, note = _parse_request(request)
            body, signatures = split_note(note)
            checkpoint = Checkpoint.parse_body(body)
            origin, size = checkpoint.origin, checkpoint.size
            with self._lock:
                line = self._check(old, proof, checkpoint, signatures)
        except Refusal as refusal:
            if refusal.logged:
                self.folder.refuse(origin, old, size, refusal.status, refusal.reason)
            if refusal.status == 409:
                return Answer(409, "text/x.tlog.size", refusal.reason.encode() + b"\n")
            return Answer.text(refusal.status, refusal.reason)
        except SourceError as exc:
            return Answer.text(400, f"malformed request: {exc}")
        return Answer(200, "text/plain; charset=utf-8", line.line().encode())

    def _check(
        self, old: int, proof: list[bytes], checkpoint: Checkpoint, sigs: list[NoteSignature]
    ) -> NoteSignature:
        key = self.folder.logs.get(checkpoint.origin)
        if key is None:
            raise Refusal(404, "unknown log origin", logged=False)
        try:
            checkpoint.verify_log_signature(key, sigs)
        except IntegrityError as exc:
            raise Refusal(403, str(exc)) from None
        if old > checkpoint.size:
            raise Refusal(400, f"old size {old} is larger than the checkpoint's {checkpoint.size}")
        known = self.folder.state.get(checkpoint.origin, Cosigned(0, EMPTY_ROOT))
        if old != known.size:
            if checkpoint.size < known.size:
                # behind what was cosigned: a rollback or a rewrite; logged as such
                self.folder.refuse(
                    checkpoint.origin, old, checkpoint.size, 409,
                    f"checkpoint {checkpoint.size} is behind the cosigned size {known.size}",
                )  # fmt: skip
            raise Refusal(409, str(known.size), logged=False)
        if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
            raise Refusal(422, "an empty tree with a root that is not the empty hash")
        if old == 0 and proof:
            raise Refusal(422, "a consistency proof from size 0 must be empty")
        if old == checkpoint.size and checkpoint.root != known.root:
            raise Refusal(422, f"fork: size {old} cosigned with another root")
        if 0 < old < checkpoint.size and not verify_consistency(
            old, checkpoint.size, known.root, checkpoint.root, proof
        ):
            raise Refusal(
                422, f"consistency proof from {old} to {checkpoint.size} does not verify (fork)"
            )
        self.folder.save(checkpoint.origin, Cosigned(checkpoint.size, checkpoint.root))
        return checkpoint.cosign(self.folder.signer, self.folder.name, int(time.time()))


def _parse_request(request: bytes) -> tuple[int, list[bytes], str]:
    if len(request) > MAX_BODY:
        raise SourceError("request too large")
    try:
        text = request.decode("utf-8")
    except UnicodeDecodeError:
        raise SourceError("not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise SourceError("no blank line before the checkpoint")
    lines = head.split("\n")
    first = lines[0]
    if not first.startswith("old ") or not first[4:].isdigit():
        raise SourceError("first line: expected 'old <size>'")
    digits = first[4:]
    if digits != "0" and digits.startswith("0"):
        raise SourceError("old size: leading zeroes")
    if len(lines) - 1 > MAX_PROOF:
        raise SourceError(f"more than {MAX_PROOF} proof lines")
    proof = []
    for line in lines[1:]:
        try:
            digest = base64.b64decode(line.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise SourceError("a proof line is not base64") from None
        if len(digest) != 32:
            raise SourceError("a proof line is not a SHA-256 hash")
        proof.append(digest)
    return int(digits), proof, note
