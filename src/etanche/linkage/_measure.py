"""Precision and recall of found pairs against a known truth (synthetic networks only)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scores:
    found: int
    true: int
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.true if self.true else 1.0


def score(found: Iterable[tuple[str, str]], truth: set[tuple[str, str]]) -> Scores:
    """Pairs are compared unordered; ``truth`` holds (smaller id, larger id)."""
    got = {(a, b) if a < b else (b, a) for a, b in found}
    return Scores(len(got), len(truth), len(got & truth))
