"""Seed files and mutations for fuzzing the readers (tests and bench/fuzz_readers.py).

Mutations are what damaged exports look like: flipped bytes, cut files, stray
delimiters and line ends, duplicated or lost lines, huge fields, foreign bytes.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path

__all__ = ["FUZZ_FORMATS", "SEEDS", "mutate", "seeds"]

# Fuzz target -> open_source format.
FUZZ_FORMATS: Mapping[str, str] = {
    "legacy-csv": "legacy-csv",
    "csv": "csv",
    "hprim": "hprim",
    "hl7v2": "hl7v2",
    "fhir-json": "fhir",
    "fhir-ndjson": "fhir",
}
_SPECIAL = [
    b"\r",
    b"\n",
    b"\r\n",
    b"|",
    b"^",
    b"~",
    b"\\",
    b"&",
    b";",
    b",",
    b'"',
    b"\t",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"\x00",
    b"\xff",
    b"\x81",
    b"\xc3",
    b"\xef\xbb\xbf",
    b"\\X\\",
    b"\\XZZ\\",
    b"MSH|^~\\&|",
    b"H|~^\\&|",
    b"P|1|",
    b"OBR|1||",
    b"OBX|1|ST|882-1^x^LN||",
    b"A|",
    b"PID|1||",
    b'{"resourceType":"Patient","id":"x"}',
    b'"resourceType":"Bundle","entry":[',
    b"-1e999",
    b"9" * 30,
    b"\xe9",
]


@cache
def seeds() -> dict[str, bytes]:
    """Small valid files of every format, written from a tiny synthetic network."""
    from etanche.exchange._convert import patient_fields  # lazy: synth only when fuzzing
    from etanche.exchange._csv import write_canonical_csv
    from etanche.exchange._fhir import write_fhir
    from etanche.exchange._hl7v2 import write_hl7v2
    from etanche.exchange._hprim import write_hprim
    from etanche.exchange.legacy_csv import write_legacy_csv
    from etanche.synth import SynthConfig, generate

    net = generate(SynthConfig(patients=2, labs=2, seed=7))
    # Small seeds keep each input cheap: two patients, at most two specimens each.
    pairs = [(p, s[:2]) for batch in net.batches() for p, s in batch]
    writers: dict[str, Callable[[Path], object]] = {
        "legacy-csv": lambda p: write_legacy_csv(net, p),
        "csv": lambda p: write_canonical_csv((patient_fields(a, b) for a, b in pairs), p),
        "hprim": lambda p: write_hprim(pairs, p),
        "hl7v2": lambda p: write_hl7v2(pairs, p),
        "fhir-json": lambda p: write_fhir(pairs, p),
        "fhir-ndjson": lambda p: write_fhir(pairs, p, ndjson=True),
    }
    out: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, write in writers.items():
            path = Path(folder) / "seed"
            write(path)
            out[name] = path.read_bytes()
    out["fhir"] = out["fhir-ndjson"]
    return out


class _Seeds(Mapping[str, bytes]):
    """``SEEDS[name]``: built on first use (it generates a small network)."""

    def __getitem__(self, key: str) -> bytes:
        return seeds()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(seeds())

    def __len__(self) -> int:
        return len(seeds())


SEEDS: Mapping[str, bytes] = _Seeds()


def mutate(data: bytes, seed: int, *, huge: bool = True) -> bytes:
    """A damaged copy of ``data``: 1 to 8 random mutations, deterministic for ``seed``."""
    rng = random.Random(seed)
    buf = bytearray(data)
    for _ in range(1 + int(rng.random() * 8)):
        op = rng.random()
        n = len(buf)
        at = int(rng.random() * (n + 1))
        if op < 0.25 and n:  # flip bits of a few bytes
            for _ in range(1 + int(rng.random() * 4)):
                i = int(rng.random() * n)
                buf[i] ^= 1 << int(rng.random() * 8)
        elif op < 0.35:  # truncate
            del buf[at:]
        elif op < 0.55:  # inject a delimiter, line end or foreign token
            buf[at:at] = rng.choice(_SPECIAL) * (1 + int(rng.random() * 3))
        elif op < 0.65 and n:  # delete a range
            del buf[at : at + int(rng.random() * 200)]
        elif op < 0.75 and n:  # duplicate a range (lines, records)
            end = min(n, at + int(rng.random() * 400))
            buf[at:at] = buf[at:end]
        elif op < 0.80:  # a huge field
            size = 1 << (8 + int(rng.random() * (10 if huge else 6)))
            if huge and rng.random() < 0.002:
                size = 5 << 20  # beyond the longest line kept
            buf[at:at] = bytes([rng.choice(b"A9|~^;\xe9 ")]) * size
        elif op < 0.90 and n:  # overwrite with random bytes
            buf[at : at + 8] = rng.randbytes(1 + int(rng.random() * 8))
        else:  # swap two chunks
            a, b = sorted((int(rng.random() * (n + 1)), int(rng.random() * (n + 1))))
            buf = buf[:a] + buf[b:] + buf[a:b]
    return bytes(buf)
