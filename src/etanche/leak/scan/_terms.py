"""Where the lexicon's terms occur in texts: one Aho-Corasick pass for them all.

edsnlp's matcher tokenised and normalised each of the ~6,000 drug names through
the pipeline when it was built (over a second at every start); here the terms
are folded once (lower case, no accents, one character for one) and found in
the folded texts, whose offsets are then those of the original text.

The automatons are built once per process (ahocorasick-rs): polars' own
``find_many`` and ``contains_any`` build theirs again at every call, about 50 ms
each for these ~6,000 terms, and the scan called them for every frame.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import ahocorasick_rs
import polars as pl

from etanche.leak.scan._lexicon import HEALTH_REGEX, HEALTH_TERMS, drug_terms, prefilter_terms

__all__ = ["Mention", "find_terms", "fold", "mentions_any"]

_LOOP_MAX = 20_000  # more distinct texts than this: polars' parallel pass pays its build

Mention = tuple[int, int, str]  # start, end (characters) and label: a concept or an ATC code


class _Folding(dict[int, str]):
    """str.translate table, filled on demand: each character to one ASCII character."""

    def __missing__(self, code: int) -> str:
        low = chr(code).lower()
        base = "".join(
            c for c in unicodedata.normalize("NFKD", low) if not unicodedata.combining(c)
        )
        if low in "’‘`´":
            out = "'"
        elif len(base) == 1 and base.isascii():
            out = base
        else:
            out = low if len(low) == 1 and low.isascii() else "?"
        self[code] = out
        return out


_FOLDING = _Folding()


def fold(text: str) -> str:
    """Lower case without diacritics, same length: offsets stay those of ``text``."""
    return text.translate(_FOLDING)


@cache
def _lexicon() -> tuple[list[str], dict[str, str], list[tuple[re.Pattern[str], str]]]:
    """Folded terms (longest first), their labels, and the concepts' regular expressions."""
    labels: dict[str, str] = {}
    for concept, terms in HEALTH_TERMS.items():
        for term in terms:
            labels.setdefault(fold(term), concept)
    for atc, names in drug_terms().items():
        for name in names:
            labels.setdefault(fold(name), atc)
    regexes = [(re.compile(p), concept) for concept, ps in HEALTH_REGEX.items() for p in ps]
    return sorted(labels, key=len, reverse=True), labels, regexes


@cache
def _automaton() -> ahocorasick_rs.AhoCorasick:
    """The folded terms (standard match kind: every overlapping match is reported)."""
    return ahocorasick_rs.AhoCorasick(_lexicon()[0])


@cache
def _prefilter() -> ahocorasick_rs.AhoCorasick:
    return ahocorasick_rs.AhoCorasick(list(prefilter_terms()))


def mentions_any(texts: pl.Series) -> pl.Series:
    """Per lower-case unaccented text, whether it holds a prefilter term (null stays null)."""
    if texts.len() > _LOOP_MAX:
        return texts.str.contains_any(list(prefilter_terms()))
    automaton = _prefilter()
    found = [None if t is None else bool(automaton.find_matches_as_indexes(t)) for t in texts]
    return pl.Series(texts.name, found, dtype=pl.Boolean)


def _bounded(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not before.isalnum() and not after.isalnum()


def find_terms(texts: list[str]) -> list[list[Mention]]:
    """Per text, its mentions: whole words only, the longest where two overlap."""
    terms, labels, regexes = _lexicon()
    automaton = _automaton()
    out: list[list[Mention]] = []
    for text in map(fold, texts):
        candidates = [
            (start, end, labels[terms[index]])
            for index, start, end in automaton.find_matches_as_indexes(text, overlapping=True)
            if _bounded(text, start, end)
        ]
        for pattern, concept in regexes:
            candidates += [(m.start(), m.end(), concept) for m in pattern.finditer(text)]
        candidates.sort(key=lambda m: (m[0], m[0] - m[1]))
        kept: list[Mention] = []
        for mention in candidates:
            if not kept or mention[0] >= kept[-1][1]:
                kept.append(mention)
        out.append(kept)
    return out
