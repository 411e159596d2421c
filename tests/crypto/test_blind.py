from __future__ import annotations

import os

from hypothesis import given
from hypothesis import strategies as st

from etanche.crypto import BlindIndexer, BlindIndexSpec

SPECS = (
    BlindIndexSpec("patients", "nir", "nir", 4),
    BlindIndexSpec("patients", "phones", "phone", 4),
    BlindIndexSpec("patients", "emails", "email", 8),
)
ROOT = os.urandom(32)


@given(st.text(max_size=40))
def test_deterministic_and_truncated(value: str) -> None:
    indexer = BlindIndexer(ROOT, SPECS)
    assert indexer.digest("nir", value) == indexer.digest("nir", value)
    assert len(indexer.digest("nir", value)) == 4
    assert len(indexer.digest("email", value)) == 8


def test_domain_separation() -> None:
    indexer = BlindIndexer(ROOT, SPECS)
    assert indexer.digest("nir", "same") != indexer.digest("phone", "same")


def test_root_key_matters() -> None:
    assert BlindIndexer(ROOT, SPECS).digest("nir", "x") != BlindIndexer(
        os.urandom(32), SPECS
    ).digest("nir", "x")


def test_collision_rate_matches_truncation() -> None:
    """With 16-bit digests, 20,000 values give ~ n^2 / 2^17 = 3,052 colliding pairs."""
    indexer = BlindIndexer(ROOT, (BlindIndexSpec("t", "f", "short", 2),))
    counts: dict[bytes, int] = {}
    for i in range(20_000):
        digest = indexer.digest("short", f"value-{i}")
        counts[digest] = counts.get(digest, 0) + 1
    pairs = sum(c * (c - 1) // 2 for c in counts.values())
    assert 2_500 < pairs < 3_600


@given(st.text(max_size=40))
def test_digest_is_truncated_hmac_of_the_derived_key(value: str) -> None:
    """Stored indexes stay valid: HKDF(root, info) then HMAC-SHA256, truncated."""
    import hashlib
    import hmac

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    spec = SPECS[0]
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=spec.info).derive(ROOT)
    expected = hmac.new(key, value.encode("utf-8"), hashlib.sha256).digest()[: spec.length]
    indexer = BlindIndexer(ROOT, SPECS)
    assert indexer.digest("nir", value) == expected
    assert indexer.tag("nir", value) == expected == indexer.tag("nir", value)
