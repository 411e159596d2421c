from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etanche.crypto import Context, Sealer, new_key, open_sealed, seal
from etanche.errors import IntegrityError

CTX = Context("patients", "p1", "L01", "admin", 1)


@given(st.binary(max_size=2048))
def test_round_trip(plaintext: bytes) -> None:
    key = new_key()
    assert open_sealed(key, seal(key, plaintext, CTX), CTX) == plaintext


def test_nonces_are_fresh() -> None:
    key = new_key()
    assert seal(key, b"same", CTX) != seal(key, b"same", CTX)


@pytest.mark.parametrize(
    "other",
    [
        Context("specimens", "p1", "L01", "admin", 1),
        Context("patients", "p2", "L01", "admin", 1),
        Context("patients", "p1", "L02", "admin", 1),
        Context("patients", "p1", "L01", "clinical", 1),
        Context("patients", "p1", "L01", "admin", 2),
    ],
)
def test_ciphertext_is_bound_to_its_place(other: Context) -> None:
    key = new_key()
    blob = seal(key, b"value", CTX)
    with pytest.raises(IntegrityError, match="failed authentication"):
        open_sealed(key, blob, other)


@given(st.integers(min_value=0, max_value=60))
def test_any_flipped_byte_is_detected(position: int) -> None:
    key = new_key()
    blob = bytearray(seal(key, b"some patient payload", CTX))
    position %= len(blob)
    blob[position] ^= 0x01
    with pytest.raises(IntegrityError):
        open_sealed(key, bytes(blob), CTX)


def test_truncated_ciphertext() -> None:
    with pytest.raises(IntegrityError, match="truncated"):
        open_sealed(new_key(), b"\x01short", CTX)


def test_context_encoding_is_unambiguous() -> None:
    a = Context("patients", "a|b", "c", "admin", 1).encode()
    b = Context("patients", "a", "b|c", "admin", 1).encode()
    assert a != b


def _reference_encoding(ctx: Context) -> bytes:
    """The associated data as first defined: stored ciphertexts depend on it."""
    parts = [ctx.table, ctx.row_id, ctx.lab_id, ctx.compartment, str(ctx.key_version)]
    if ctx.revision:
        parts.append(str(ctx.revision))
    return ("etanche-aad/1/" + "".join(f"{len(p)}:{p}" for p in parts)).encode("utf-8")


_field = st.text(max_size=40)


@given(_field, _field, _field, _field, st.integers(0, 10**6), st.integers(0, 10**6))
def test_context_encoding_is_unchanged(
    table: str, row_id: str, lab: str, part: str, version: int, revision: int
) -> None:
    ctx = Context(table, row_id, lab, part, version, revision)
    assert ctx.encode() == _reference_encoding(ctx)


def test_context_encoding_known_vector() -> None:
    ctx = Context("patients", "p1", "L01", "admin", 1, 2)
    assert ctx.encode() == b"etanche-aad/1/8:patients2:p13:L015:admin1:11:2"


def test_sealer_matches_the_one_shot_functions() -> None:
    key = new_key()
    sealer = Sealer(key)
    other = Context("patients", "p2", "L01", "admin", 1)
    assert open_sealed(key, sealer.seal(b"value", CTX), CTX) == b"value"
    assert sealer.open(seal(key, b"value", CTX), CTX) == b"value"
    assert sealer.seal(b"same", CTX) != sealer.seal(b"same", CTX)
    with pytest.raises(IntegrityError, match="failed authentication"):
        sealer.open(sealer.seal(b"value", CTX), other)
    with pytest.raises(IntegrityError, match="failed authentication"):
        Sealer(new_key()).open(sealer.seal(b"value", CTX), CTX)
