"""The witness's add-checkpoint decisions, as tlog-witness specifies them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etanche.audit import Checkpoint, NoteKey, add_checkpoint_body, log_origin
from etanche.crypto import MerkleFrontier, Signer, consistency_path, leaf_hash
from etanche.errors import UsageError
from etanche.witness import init_witness, open_witness

LOG = Signer.from_seed(b"\x07" * 32)
ORIGIN = log_origin(LOG.key_id)
LEAVES = [leaf_hash(f"event {i}".encode()) for i in range(64)]


def _note(size: int, leaves: list[bytes] = LEAVES, signer: Signer = LOG) -> str:
    frontier = MerkleFrontier()
    frontier.extend(leaves[:size])
    checkpoint = Checkpoint(ORIGIN, size, frontier.root())
    return checkpoint.note([checkpoint.sign(signer)])


def _ask(witness, old: int, size: int, leaves: list[bytes] = LEAVES, signer: Signer = LOG):
    proof = consistency_path(old, leaves, size) if old else []
    return witness.add_checkpoint(add_checkpoint_body(old, proof, _note(size, leaves, signer)))


@pytest.fixture
def witness(tmp_path: Path):
    log_key = NoteKey.for_signer(ORIGIN, 0x01, LOG).text()
    init_witness(tmp_path / "w", "witness.test/w1", [log_key])
    return open_witness(tmp_path / "w")


def _refusals(witness) -> list[dict]:
    return witness.folder.refusals()


def test_cosigns_a_consistent_sequence_and_persists_it(witness, tmp_path: Path) -> None:
    for old, new in ((0, 5), (5, 17), (17, 17), (17, 64)):
        answer = _ask(witness, old, new)
        assert answer.status == 200, answer.body
        assert answer.body.decode().startswith("\u2014 witness.test/w1 ")
    state = json.loads((tmp_path / "w" / "state.json").read_text())
    assert state["logs"][ORIGIN]["size"] == 64
    assert open_witness(tmp_path / "w").folder.state[ORIGIN].size == 64  # survives a restart
    assert _refusals(witness) == []


def test_a_stale_old_size_gets_409_and_the_known_size(witness) -> None:
    assert _ask(witness, 0, 10).status == 200
    answer = _ask(witness, 0, 20)
    assert (answer.status, answer.content_type, answer.body) == (409, "text/x.tlog.size", b"10\n")


def test_a_fork_is_refused_and_recorded(witness) -> None:
    assert _ask(witness, 0, 10).status == 200
    forked = [*LEAVES[:3], leaf_hash(b"rewritten"), *LEAVES[4:]]
    answer = _ask(witness, 10, 20, forked)
    assert answer.status == 422
    same_size = _ask(witness, 10, 10, forked)
    assert same_size.status == 422
    reasons = [r["reason"] for r in _refusals(witness)]
    assert any("does not verify (fork)" in r for r in reasons)
    assert any("fork: size 10 cosigned with another root" in r for r in reasons)
    assert witness.folder.state[ORIGIN].size == 10  # nothing moved


def test_a_rollback_behind_the_cosigned_size_is_recorded(witness) -> None:
    assert _ask(witness, 0, 30).status == 200
    assert _ask(witness, 0, 12).status == 409
    assert any("behind the cosigned size 30" in r["reason"] for r in _refusals(witness))


def test_another_key_or_unknown_origin_is_refused(witness) -> None:
    answer = _ask(witness, 0, 5, signer=Signer.from_seed(b"\x09" * 32))
    assert answer.status in (403, 404)  # another key names another origin
    checkpoint = Checkpoint(ORIGIN, 5, bytes(32))
    forged = checkpoint.note([checkpoint.sign(Signer.from_seed(b"\x09" * 32))])
    renamed = forged.replace(log_origin(Signer.from_seed(b"\x09" * 32).key_id), ORIGIN)
    assert witness.add_checkpoint(add_checkpoint_body(0, [], renamed)).status == 403


@pytest.mark.parametrize(
    "body",
    [b"old 01\n\nx", b"new 1\n\nx", b"old 1\nnot base64!\n\nx", b"old 0\n" + b"\n" * 0],
)
def test_malformed_requests_get_400(witness, body: bytes) -> None:
    assert witness.add_checkpoint(body).status == 400


def test_init_refuses_an_existing_folder(tmp_path: Path, witness) -> None:
    with pytest.raises(UsageError, match="already exists"):
        init_witness(tmp_path / "w", "witness.test/w1", [NoteKey.for_signer(ORIGIN, 1, LOG).text()])
