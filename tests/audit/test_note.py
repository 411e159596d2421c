"""C2SP signed-note, checkpoint and cosignature formats against the specs' own examples."""

from __future__ import annotations

import pytest

from etanche.audit import COSIGNATURE_V1, Checkpoint, NoteKey, NoteSignature, split_note
from etanche.crypto import Signer
from etanche.errors import IntegrityError, SourceError

# c2sp.org/signed-note, "Verifier keys" example: this vkey verifies this note.
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZ"
    "XsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
# c2sp.org/tlog-cosignature example: the cosignature of witness.example.com/w1 at time 1679315147.
SPEC_COSIGNATURE = (
    "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJs"
    "X3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)


def test_the_signed_note_spec_example_verifies() -> None:
    key = NoteKey.parse(SPEC_VKEY)
    assert key.text() == SPEC_VKEY  # the key ID is recomputed from name, type and key
    body, signatures = split_note(SPEC_NOTE)
    assert body == b"This is an example message.\n" and signatures[0].matches(key)
    key.verifier().verify(body, signatures[0].signature)
    with pytest.raises(IntegrityError):
        key.verifier().verify(body.replace(b"example", b"exemple"), signatures[0].signature)


def test_the_cosignature_spec_example_carries_its_time() -> None:
    signature = NoteSignature.parse(SPEC_COSIGNATURE)
    assert signature.name == "witness.example.com/w1"
    assert signature.timestamp == 1679315147  # "time 1679315147" in the spec's message
    assert signature.line() == SPEC_COSIGNATURE


def test_checkpoint_body_and_log_signature_round_trip() -> None:
    signer = Signer.from_seed(bytes(range(32)))
    checkpoint = Checkpoint("example.com/log", 20852163, bytes(32))
    assert checkpoint.body() == (
        b"example.com/log\n20852163\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    )
    note = checkpoint.note([checkpoint.sign(signer)])
    body, signatures = split_note(note)
    assert Checkpoint.parse_body(body) == checkpoint
    key = NoteKey.for_signer("example.com/log", 0x01, signer)
    checkpoint.verify_log_signature(key, signatures)
    other = Checkpoint("example.com/log", 20852164, bytes(32))
    with pytest.raises(IntegrityError, match="does not verify"):
        other.verify_log_signature(key, signatures)


def test_cosignature_verifies_and_binds_time_and_body() -> None:
    signer = Signer.from_seed(bytes(32))
    checkpoint = Checkpoint("example.com/log", 5, bytes(32))
    line = checkpoint.cosign(signer, "w.example/1", 1_700_000_000)
    key = NoteKey.for_signer("w.example/1", COSIGNATURE_V1, signer)
    assert checkpoint.cosigned_at(key, line) == 1_700_000_000
    moved = NoteSignature(line.name, line.key_hash, (1).to_bytes(8, "big") + line.signature[8:])
    with pytest.raises(IntegrityError):
        checkpoint.cosigned_at(key, moved)
    with pytest.raises(IntegrityError):
        Checkpoint("example.com/log", 6, bytes(32)).cosigned_at(key, line)


@pytest.mark.parametrize(
    "body",
    [b"o\n01\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", b"o\n1\nAA==\n", b"o\n1\n", b""],
)
def test_malformed_checkpoints_are_refused(body: bytes) -> None:
    with pytest.raises(SourceError):
        Checkpoint.parse_body(body)


def test_a_vkey_whose_id_does_not_match_is_refused() -> None:
    with pytest.raises(SourceError, match="key ID"):
        NoteKey.parse(SPEC_VKEY.replace("530d903a", "530d903b"))
