"""Signed tree heads: the log's size and root at a time, signed with Ed25519.

The signed message starts with the domain-separation prefix ``etanche-sth/v1`` so a
head signature can never be replayed as another kind of signature made with the
same key, and spells out size, root and time in fixed text form so an independent
verifier can rebuild it byte for byte::

    etanche-sth/v1\\ntree_size 1000\\nroot <64 hex>\\nsigned_at 2026-01-02T03:04:05.123456Z\\n

Each head is also signed as a C2SP checkpoint (``checkpoint_sig``, see ``_note``)
under the origin ``log_origin(key_id)``: that is what witnesses check and cosign,
and their cosignatures travel with the head. Heads travel as one JSON object
(witness files hold one per line, ``--against`` reads either form).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from etanche.audit._note import ED25519, Checkpoint, NoteKey, NoteSignature, log_origin
from etanche.crypto import HASH_SIZE, Signer, Verifier
from etanche.errors import IntegrityError, SourceError

HEAD_FORMAT = "etanche-sth/v1"
_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_time(value: datetime) -> str:
    """UTC, microseconds, ``Z``: the one text form of a time in heads and proofs."""
    if value.tzinfo is None:  # naive values come from SQLite and are UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime(_TIME)


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, _TIME).replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    """The root of the first ``tree_size`` events, signed at ``signed_at`` by ``key_id``."""

    tree_size: int
    root: bytes
    signed_at: datetime
    key_id: str
    signature: bytes
    checkpoint_sig: bytes | None = None  # the log's signed-note signature (type 0x01)
    cosignatures: tuple[NoteSignature, ...] = ()  # witnesses' cosignature/v1 lines

    @staticmethod
    def message_for(tree_size: int, root: bytes, signed_at: datetime) -> bytes:
        return (
            f"{HEAD_FORMAT}\ntree_size {tree_size}\nroot {root.hex()}\n"
            f"signed_at {format_time(signed_at)}\n"
        ).encode("ascii")

    @classmethod
    def sign(
        cls, signer: Signer, tree_size: int, root: bytes, signed_at: datetime
    ) -> SignedTreeHead:
        at = parse_time(format_time(signed_at))  # exactly what storage keeps: UTC, microseconds
        signature = signer.sign(cls.message_for(tree_size, root, at))
        note = Checkpoint(log_origin(signer.key_id), tree_size, root).sign(signer)
        return cls(tree_size, root, at, signer.key_id, signature, note.signature)

    @property
    def origin(self) -> str:
        return log_origin(self.key_id)

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self.origin, self.tree_size, self.root)

    def note(self, public_key: bytes) -> str:
        """The checkpoint as a signed note: the log's signature, then the cosignatures."""
        key = NoteKey.of(self.origin, ED25519, public_key)
        lines = []
        if self.checkpoint_sig is not None:
            lines.append(NoteSignature(key.name, key.key_hash, self.checkpoint_sig))
        return self.checkpoint().note([*lines, *self.cosignatures])

    def message(self) -> bytes:
        return self.message_for(self.tree_size, self.root, self.signed_at)

    def verify(self, verifier: Verifier) -> None:
        """Raise IntegrityError naming this head unless ``verifier``'s key signed it."""
        if self.key_id != verifier.key_id:
            raise IntegrityError(
                f"head {self.tree_size}: signed by key {self.key_id[:16]}, "
                f"expected key {verifier.key_id}"
            )
        if len(self.root) != HASH_SIZE:
            raise IntegrityError(f"head {self.tree_size}: root is not a SHA-256 hash")
        try:
            verifier.verify(self.message(), self.signature)
        except IntegrityError:
            raise IntegrityError(f"head {self.tree_size}: signature does not verify") from None

    # -- JSON ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": HEAD_FORMAT,
            "tree_size": self.tree_size,
            "root": self.root.hex(),
            "signed_at": format_time(self.signed_at),
            "key_id": self.key_id,
            "signature": self.signature.hex(),
            "checkpoint_signature": None
            if self.checkpoint_sig is None
            else self.checkpoint_sig.hex(),
            "cosignatures": [c.line() for c in self.cosignatures],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, doc: Any, where: str = "head") -> SignedTreeHead:
        """Parse a head; SourceError names the field that is missing or malformed."""
        if not isinstance(doc, dict):
            raise SourceError(f"{where}: expected a JSON object")
        if doc.get("format") != HEAD_FORMAT:
            raise SourceError(f"{where}: format: expected {HEAD_FORMAT!r}")
        size = doc.get("tree_size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise SourceError(f"{where}: tree_size: expected a non-negative integer")
        key_id = doc.get("key_id")
        if not isinstance(key_id, str) or not 0 < len(key_id) <= 64:
            raise SourceError(f"{where}: key_id: expected a key id")
        checkpoint_sig = None
        if doc.get("checkpoint_signature") is not None:
            checkpoint_sig = _hex_field(doc, "checkpoint_signature", where)
        lines = doc.get("cosignatures", [])
        if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
            raise SourceError(f"{where}: cosignatures: expected a list of signature lines")
        try:
            cosignatures = tuple(NoteSignature.parse(line) for line in lines)
        except SourceError as exc:
            raise SourceError(f"{where}: cosignatures: {exc}") from None
        return cls(
            tree_size=size,
            root=_hex_field(doc, "root", where),
            signed_at=_time_field(doc, "signed_at", where),
            key_id=key_id,
            signature=_hex_field(doc, "signature", where),
            checkpoint_sig=checkpoint_sig,
            cosignatures=cosignatures,
        )

    @classmethod
    def from_json(cls, text: str | bytes, where: str = "head") -> SignedTreeHead:
        try:
            doc = json.loads(text)
        except (ValueError, UnicodeDecodeError):
            raise SourceError(f"{where}: not valid JSON") from None
        return cls.from_dict(doc, where)


def _hex_field(doc: dict[str, Any], name: str, where: str) -> bytes:
    value = doc.get(name)
    try:
        if not isinstance(value, str):
            raise ValueError
        return bytes.fromhex(value)
    except ValueError:
        raise SourceError(f"{where}: {name}: expected hexadecimal") from None


def _time_field(doc: dict[str, Any], name: str, where: str) -> datetime:
    value = doc.get(name)
    try:
        if not isinstance(value, str):
            raise ValueError
        return parse_time(value)
    except ValueError:
        raise SourceError(
            f"{where}: {name}: expected a UTC time like 2026-01-02T03:04:05.000000Z"
        ) from None


def read_heads(path: str | Path) -> list[SignedTreeHead]:
    """Heads saved in a file: one JSON head, or JSON lines (a FileWitness file)."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{source.name}: cannot read ({type(exc).__name__})") from None
    stripped = text.strip()
    if not stripped:
        raise SourceError(f"{source.name}: no head in the file")
    if "\n" not in stripped:
        return [SignedTreeHead.from_json(stripped, f"{source.name}")]
    try:  # a pretty-printed single head spans several lines
        return [SignedTreeHead.from_dict(json.loads(stripped), source.name)]
    except ValueError:
        pass
    heads = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            heads.append(SignedTreeHead.from_json(line, f"{source.name} line {number}"))
    return heads
