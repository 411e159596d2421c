"""Realistic data-entry faults, so that importers and matchers meet real dirt."""

from __future__ import annotations

import random


def typo(rng: random.Random, text: str) -> str:
    """Swap two adjacent letters, drop one, or type one twice; always changes ``text``."""
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    if not letters:
        return text + text[-1:] if text else "X"
    i = letters[int(rng.random() * len(letters))]
    op = rng.random()
    if op < 0.4 and i + 1 < len(text) and text[i + 1].isalpha() and text[i] != text[i + 1]:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if op < 0.7 and len(letters) > 2:
        return text[:i] + text[i + 1 :]
    return text[:i] + text[i] + text[i:]


def wrong_nir_key(rng: random.Random, nir: str) -> str:
    """The same NIR with a different, hence invalid, 2-digit key (keys run 01..97)."""
    key = int(nir[13:])
    bad = (key - 1 + 1 + int(rng.random() * 96)) % 97 + 1
    return f"{nir[:13]}{bad:02d}"
