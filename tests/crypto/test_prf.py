"""The export PRF: HMAC-SHA256 under an HKDF-derived key, the same answers however it is computed.

Fingerprints chosen by an export must be recomputed by trace years later: any
faster way of computing the PRF must give the very same bits.
"""

from __future__ import annotations

import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given, settings
from hypothesis import strategies as st

from etanche.crypto import KeyedPrf


def _reference(key: bytes, purpose: str, message: str) -> bytes:
    info = f"etanche/prf/v1/{purpose}".encode()
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)
    return hmac.digest(derived, message.encode("utf-8"), "sha256")


@settings(max_examples=200, deadline=None)
@given(key=st.binary(min_size=32, max_size=64), message=st.text(max_size=80))
def test_the_prf_is_hmac_sha256_under_the_derived_key(key: bytes, message: str) -> None:
    prf = KeyedPrf(key, "export-marks")
    expected = _reference(key, "export-marks", message)
    assert prf.value(message) == int.from_bytes(expected[:8], "big")
    assert prf.hexdigest(message) == expected[:16].hex()
    assert prf.below(6, message) == int.from_bytes(expected[:8], "big") % 6


def test_one_prf_answers_many_messages_independently() -> None:
    """Keyed once and copied: a message's answer does not depend on the ones before."""
    prf = KeyedPrf(bytes(range(32)), "export-order")
    first = [prf.value(f"row-{i}") for i in range(50)]
    again = KeyedPrf(bytes(range(32)), "export-order")
    assert [again.value(f"row-{i}") for i in reversed(range(50))] == first[::-1]
    assert prf.value("row-0") == first[0]
