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
from collections.abc import Iterator

from sqlalchemy import Connection, Engine, text

from etanche.audit._heads import SignedTreeHead
from etanche.audit._proof import InclusionProof
from etanche.crypto import inclusion_paths, leaf_hash, verify_inclusion
from etanche.errors import IntegrityError

__all__ = ["object_proofs"]

_STREAM_ROWS = 20_000
_SQL = "SELECT seq, body FROM audit_events WHERE seq < :size ORDER BY seq"


def _bodies(conn: Connection, size: int) -> Iterator[tuple[int, bytes]]:
    """(seq, body) in seq order, as cheaply as the driver allows.

    SQLite's own cursor builds plain tuples in C, several times cheaper per row than
    result rows; PostgreSQL streams through a server-side cursor (bounded memory).
    """
    if conn.dialect.name == "sqlite":
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(_SQL.replace(":size", "?"), (size,))
            while rows := cursor.fetchmany(_STREAM_ROWS):
                yield from rows
        finally:
            cursor.close()
        return
    options = {"stream_results": True, "max_row_buffer": _STREAM_ROWS}
    result = conn.execute(text(_SQL), {"size": size}, execution_options=options)
    for seq, body in result:
        yield int(seq), bytes(body)


def object_proofs(engine: Engine, object_id: str, head: SignedTreeHead) -> list[InclusionProof]:
    """Proofs, in seq order, of every event of the first ``head.tree_size`` naming ``object_id``."""
    needle = json.dumps(object_id).encode()
    digests: list[bytes] = []
    bodies: dict[int, bytes] = {}
    append = digests.append
    with engine.connect() as conn:
        for seq, body in _bodies(conn, head.tree_size):
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
