"""Health mentions in free text, with negation: edsnlp's rule-based pipes, offline.

The pipeline (sentences, normalizer, our lexicon through eds.matcher, eds.drugs
for ATC codes, eds.negation) is built once per process. Only
texts the fast prefilter flagged reach it, each distinct text once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from etanche.leak.scan._lexicon import HEALTH_REGEX, HEALTH_TERMS, drug_terms

__all__ = ["TextHealth", "analyse_texts"]


@dataclass(frozen=True, slots=True)
class TextHealth:
    """Affirmed (not negated) health concepts and drugs (name, ATC) of one text."""

    health: frozenset[str]
    drugs: frozenset[tuple[str, str]]


NOTHING = TextHealth(frozenset(), frozenset())


@cache
def _pipeline() -> Any:
    os.environ.setdefault("TQDM_DISABLE", "1")  # edsnlp shows a progress bar when loading terms
    import edsnlp
    import edsnlp.pipes as eds

    nlp = edsnlp.blank("eds")
    nlp.add_pipe(eds.sentences())
    nlp.add_pipe(eds.normalizer())
    nlp.add_pipe(
        eds.matcher(
            terms={**HEALTH_TERMS, **drug_terms()},
            regex=HEALTH_REGEX,
            attr="NORM",
            ignore_excluded=True,
        )
    )
    nlp.add_pipe(eds.negation())
    # eds.hypothesis is left out: its qualifier is never read and it does not filter ents
    return nlp


def analyse_texts(texts: Iterable[str]) -> list[TextHealth]:
    """One result per text, in order."""
    nlp = _pipeline()
    out: list[TextHealth] = []
    for doc in nlp.pipe(list(texts)):
        health: set[str] = set()
        drugs: set[tuple[str, str]] = set()
        for ent in doc.ents:
            if ent._.negation:
                continue
            if ent.label_ not in HEALTH_TERMS and ent.label_ not in HEALTH_REGEX:
                drugs.add((ent.text.lower(), ent.label_))  # drug labels are ATC codes
            else:
                health.add(ent.label_)
        out.append(TextHealth(frozenset(health), frozenset(drugs)) if health or drugs else NOTHING)
    return out
