"""Inclusion proofs: one event, its audit path and the signed head it leads to.

A proof is self-contained JSON: with only the proof and the log's public key, a
regulator or a patient's representative checks offline that the event is in the
log the head commits to. The body is included so the event can be read; it holds
pseudonymous ids only, never a personal value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from etanche.audit._events import AuditEvent
from etanche.audit._heads import SignedTreeHead
from etanche.crypto import HASH_SIZE, Verifier, leaf_hash, verify_inclusion
from etanche.errors import IntegrityError, SourceError

PROOF_FORMAT = "etanche-inclusion/v1"


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Event ``seq`` (leaf hash, optional body) is leaf ``seq`` of the tree ``head`` signs."""

    seq: int
    leaf_hash: bytes
    body: bytes | None
    path: tuple[bytes, ...]
    head: SignedTreeHead

    @property
    def tree_size(self) -> int:
        return self.head.tree_size

    def event(self) -> AuditEvent | None:
        return AuditEvent.from_canonical(self.body) if self.body is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": PROOF_FORMAT,
            "seq": self.seq,
            "leaf_hash": self.leaf_hash.hex(),
            "body": self.body.decode("utf-8") if self.body is not None else None,
            "tree_size": self.tree_size,
            "path": [h.hex() for h in self.path],
            "head": self.head.to_dict(),
        }

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> InclusionProof:
        """Parse a proof; SourceError names the malformed field."""
        try:
            doc = json.loads(text)
        except (ValueError, UnicodeDecodeError):
            raise SourceError("proof: not valid JSON") from None
        if not isinstance(doc, dict) or doc.get("format") != PROOF_FORMAT:
            raise SourceError(f"proof: format: expected {PROOF_FORMAT!r}")
        seq, size = doc.get("seq"), doc.get("tree_size")
        for name, value in (("seq", seq), ("tree_size", size)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise SourceError(f"proof: {name}: expected a non-negative integer")
        body = doc.get("body")
        if body is not None and not isinstance(body, str):
            raise SourceError("proof: body: expected a JSON string or null")
        raw_path = doc.get("path")
        if not isinstance(raw_path, list):
            raise SourceError("proof: path: expected a list of hashes")
        head = SignedTreeHead.from_dict(doc.get("head"), "proof head")
        if head.tree_size != size:
            raise SourceError("proof: tree_size: differs from the head's")
        return cls(
            seq=int(seq),  # type: ignore[arg-type]  # checked above
            leaf_hash=_hash(doc.get("leaf_hash"), "leaf_hash"),
            body=body.encode("utf-8") if body is not None else None,
            path=tuple(_hash(h, f"path[{i}]") for i, h in enumerate(raw_path)),
            head=head,
        )


def _hash(value: Any, name: str) -> bytes:
    try:
        if not isinstance(value, str):
            raise ValueError
        digest = bytes.fromhex(value)
    except ValueError:
        raise SourceError(f"proof: {name}: expected a hexadecimal hash") from None
    if len(digest) != HASH_SIZE:
        raise SourceError(f"proof: {name}: expected {HASH_SIZE} bytes")
    return digest


def verify_inclusion_proof(proof_json: str | bytes, public_key_pem: str | bytes) -> InclusionProof:
    """Check a proof offline with the public key; return it, or raise IntegrityError."""
    proof = InclusionProof.from_json(proof_json)
    proof.head.verify(Verifier.from_pem(public_key_pem))
    if proof.body is not None and leaf_hash(proof.body) != proof.leaf_hash:
        raise IntegrityError(f"proof for seq {proof.seq}: body does not match its leaf hash")
    if not verify_inclusion(
        proof.seq, proof.tree_size, proof.leaf_hash, proof.path, proof.head.root
    ):
        raise IntegrityError(
            f"proof for seq {proof.seq}: audit path does not lead to head {proof.tree_size}"
        )
    return proof
