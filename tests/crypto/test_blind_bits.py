"""Truncation to bits: a 12-bit index keeps 2 bytes, the last 4 bits zeroed."""

from __future__ import annotations

import pytest

from etanche.crypto import BlindIndexer, BlindIndexSpec

ROOT = bytes(range(32))


def test_bits_mask_the_last_byte_and_make_buckets() -> None:
    indexer = BlindIndexer(ROOT, (BlindIndexSpec("t", "f", "twelve", 2, 12),))
    digests = {
        indexer.digest("twelve", f"L01|MAR|{year}|{n}") for year in range(100) for n in range(100)
    }
    assert all(len(d) == 2 and d[1] & 0x0F == 0 for d in digests)
    assert 3_000 < len(digests) <= 4_096  # 10,000 values in at most 2^12 buckets


def test_bits_must_fit_the_length() -> None:
    with pytest.raises(ValueError, match="bits must fit"):
        BlindIndexer(ROOT, (BlindIndexSpec("t", "f", "x", 1, 12),))
