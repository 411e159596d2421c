"""Every event naming one object, each with its inclusion proof, in one pass over the log.

An access report must list exactly what the signed log holds about a record, so
the events are found in the bodies the tree commits to, not through the
``audit_objects`` index an operator could edit; the same pass hashes every
leaf, so all the proofs cost one tree build (``inclusion_paths``) instead of
one pass per event. A missing or edited row fails here, before any proof is
handed out.
"""

from __future__ import annotations

import json

from sqlalchemy import Engine

from etanche.audit._heads import SignedTreeHead
from etanche.audit._proof import InclusionProof
from etanche.audit._rows import raw_rows
from etanche.crypto import inclusion_paths, leaf_hash, verify_inclusion
from etanche.errors import IntegrityError

__all__ = ["object_proofs"]

_SQL = "SELECT seq, body FROM audit_events WHERE seq < :size ORDER BY seq"


def object_proofs(engine: Engine, object_id: str, head: SignedTreeHead) -> list[InclusionProof]:
    """Proofs, in seq order, of every event of the first ``head.tree_size`` naming ``object_id``."""
    needle = json.dumps(object_id).encode()
    digests: list[bytes] = []
    bodies: dict[int, bytes] = {}
    append = digests.append
    with engine.connect() as conn:
        for seq, body in raw_rows(conn, _SQL, {"size": head.tree_size}):
            data = bytes(body)
            if seq != len(digests):
                raise IntegrityError(
                    f"audit log: event {len(digests)} is missing; run `etanche audit verify`"
                )
            append(leaf_hash(data))
            if needle in data and object_id in json.loads(data).get("objects", ()):
                bodies[seq] = data
    if len(digests) != head.tree_size:
        raise IntegrityError(
            f"audit log: events {len(digests)} to {head.tree_size - 1} are missing; "
            "run `etanche audit verify`"
        )
    paths = inclusion_paths(bodies, digests, head.tree_size)
    proofs = []
    for seq, data in sorted(bodies.items()):
        path = tuple(paths[seq])
        if not verify_inclusion(seq, head.tree_size, digests[seq], path, head.root):
            raise IntegrityError(
                f"audit log: event {seq} does not lead to the signed head {head.tree_size}; "
                "run `etanche audit verify`"
            )
        proofs.append(InclusionProof(seq, digests[seq], data, path, head))
    return proofs
