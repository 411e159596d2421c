"""How well canaries blend in: the best single-column filter a leaker could apply.

A leaker who suspects decoys keeps only the rows whose value in one column is
common in the file (the usual insurance office, the usual towns, the usual
phone areas, the usual e-mail domains). ``filter_survival`` tries every such
filter on every column and on simple features of its values (the value, its
shape, its first and last characters, its length, an e-mail's domain); among
the filters that keep at least ``keep`` of the real rows, it reports the share
of canaries the worst one for us keeps. The leaker sees frequencies over the
whole file, canaries included, and cannot tell apart values seen equally often.

Picking the worst filter after the fact also picks chance: with a few hundred
canaries some filter always keeps a few percent fewer of them than of real
rows. With ``held_out`` canaries (other canaries of the same lab), the filter is
chosen on ``canaries`` and its share measured on the held-out ones: what a
filter learnt on one file does to the canaries of the next.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

__all__ = ["FilterSurvival", "filter_survival"]

_FEATURES: dict[str, Callable[[str], str]] = {
    "value": lambda v: v,
    "shape": lambda v: re.sub(r"[a-zà-ÿ]+", "a", re.sub(r"[0-9]+", "9", v.lower())),
    "first 2": lambda v: v[:2],
    "first 3": lambda v: v[:3],
    "first 5": lambda v: v[:5],
    "last 2": lambda v: v[-2:],
    "length": lambda v: str(len(v)),
    "domain": lambda v: v.rsplit("@", 1)[-1].lower() if "@" in v else "",
}


@dataclass(frozen=True)
class FilterSurvival:
    """The share of canaries kept by the filter that keeps fewest of them."""

    canaries_kept: float  # on the held-out canaries when given
    real_kept: float
    chosen_on_kept: float  # on the canaries the filter was chosen on
    column: str
    feature: str
    threshold: int  # rows whose feature value is seen at least this often are kept
    kept_values: frozenset[str] = field(default=frozenset(), repr=False)

    def keeps(self, row: Mapping[str, str]) -> bool:
        """Whether the filter keeps this row (every row when no filter was found)."""
        if not self.column:
            return True
        return _FEATURES[self.feature](row.get(self.column, "")) in self.kept_values


def filter_survival(
    real: Sequence[Mapping[str, str]],
    canaries: Sequence[Mapping[str, str]],
    columns: Sequence[str],
    *,
    keep: float = 0.9,
    held_out: Sequence[Mapping[str, str]] = (),
) -> FilterSurvival:
    """The leaker's best single-column filter keeping at least ``keep`` of real rows."""
    worst = FilterSurvival(1.0, 1.0, 1.0, "", "", 1)
    if not real or not canaries:
        return worst
    for column in columns:
        for name, feature in _FEATURES.items():
            real_values = [feature(r.get(column, "")) for r in real]
            canary_values = [feature(c.get(column, "")) for c in canaries]
            counts = Counter(real_values) + Counter(canary_values)
            for threshold in sorted(set(counts.values()), reverse=True):
                kept = sum(counts[v] >= threshold for v in real_values) / len(real)
                if kept < keep:
                    continue
                survived = sum(counts[v] >= threshold for v in canary_values) / len(canaries)
                if survived < worst.chosen_on_kept:
                    values = frozenset(v for v, n in counts.items() if n >= threshold)
                    worst = FilterSurvival(
                        survived, kept, survived, column, name, threshold, values
                    )
                break  # the highest threshold that keeps enough real rows
    if held_out and worst.column:
        share = sum(worst.keeps(c) for c in held_out) / len(held_out)
        worst = replace(worst, canaries_kept=share)
    return worst
