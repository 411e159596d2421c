"""Health mentions in free text, with negation: edsnlp's rule-based pipes, offline.

The lexicon's terms and drug names (with their ATC codes) are located by
``_terms``; edsnlp tokenises (sentences, normalizer) and qualifies them
(eds.negation). The pipeline is built once per process, the first time a text
mentions a term; only texts the fast prefilter flagged reach it, each distinct
text once.

Building it took seconds, most of them compiling spaCy's French tokenizer
exceptions (one regular expression of about 200 kB), which edsnlp's own
tokenizer never uses: that expression is compiled on first use instead.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from etanche.leak.scan._lexicon import HEALTH_REGEX, HEALTH_TERMS
from etanche.leak.scan._terms import find_terms

__all__ = ["TextHealth", "analyse_texts"]


@dataclass(frozen=True, slots=True)
class TextHealth:
    """Affirmed (not negated) health concepts and drugs (name, ATC) of one text."""

    health: frozenset[str]
    drugs: frozenset[tuple[str, str]]


NOTHING = TextHealth(frozenset(), frozenset())


_LONG_PATTERN = 10_000  # characters: only the tokenizer-exception expression is this long
_FRENCH_EXCEPTIONS = "spacy.lang.fr.tokenizer_exceptions"


class _LazyPattern:
    """A regular expression compiled the first time one of its methods is called."""

    def __init__(self, compile_: Callable[..., re.Pattern[str]], pattern: str, flags: int) -> None:
        self._compile, self._pattern, self._flags = compile_, pattern, flags
        self._compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            if self._compiled is None:
                self._compiled = self._compile(self._pattern, self._flags)
            return getattr(self._compiled, name)(*args, **kwargs)

        return call


def _import_french_lazily() -> None:
    """Import spaCy's French tokenizer exceptions with their long expression left uncompiled."""
    if _FRENCH_EXCEPTIONS in sys.modules:
        return
    import spacy.lang.char_classes
    import spacy.lang.tokenizer_exceptions
    import spacy.util  # noqa: F401 (imported before the patch: their expressions compile now)

    real = re.compile

    def compile_(pattern: Any, flags: int = 0) -> Any:
        if isinstance(pattern, str) and len(pattern) > _LONG_PATTERN:
            return _LazyPattern(real, pattern, flags)
        return real(pattern, flags)

    re.compile = compile_
    try:
        __import__(_FRENCH_EXCEPTIONS)
    finally:
        re.compile = real


@cache
def _pipeline() -> tuple[Any, Any]:
    """The tokenising pipeline (sentences, normalizer) and the negation qualifier."""
    os.environ.setdefault("TQDM_DISABLE", "1")
    _import_french_lazily()
    import edsnlp
    import edsnlp.pipes as eds

    nlp = edsnlp.blank("eds")
    nlp.add_pipe(eds.sentences())
    nlp.add_pipe(eds.normalizer())
    # eds.hypothesis is left out: its qualifier is never read and it does not filter ents
    return nlp, eds.negation(nlp=nlp)


def analyse_texts(texts: Iterable[str]) -> list[TextHealth]:
    """One result per text, in order."""
    todo = list(texts)
    mentions = find_terms(todo) if todo else []
    if not any(mentions):
        return [NOTHING] * len(todo)
    from spacy.util import filter_spans

    nlp, negation = _pipeline()
    out: list[TextHealth] = []
    for doc, found in zip(nlp.pipe(todo), mentions, strict=True):
        spans = [doc.char_span(a, b, label=label, alignment_mode="expand") for a, b, label in found]
        doc.ents = filter_spans([s for s in spans if s is not None])
        health: set[str] = set()
        drugs: set[tuple[str, str]] = set()
        for ent in negation(doc).ents:
            if ent._.negation:
                continue
            if ent.label_ not in HEALTH_TERMS and ent.label_ not in HEALTH_REGEX:
                drugs.add((ent.text.lower(), ent.label_))  # drug labels are ATC codes
            else:
                health.add(ent.label_)
        out.append(TextHealth(frozenset(health), frozenset(drugs)) if health or drugs else NOTHING)
    return out
