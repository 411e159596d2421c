"""Per-row evidence of one export: every row of every patient counts.

A found file may hold several rows of one patient (a merge of an old file and
our export, old rows first) and unmarked rows next to marked ones. Three
statistics read every row, each calibrated whatever the file did, because the
file is fixed before the export's choices (PRF outputs) are compared with it:

- per value (family, patient, canonical value): the set of distinct writings
  seen for it in the whole file; under innocence the export's choice falls in
  a set of ``m`` writings out of ``k`` with probability ``m/k``;
- per patient: whether one of its rows agrees with the export on every
  observed writing; under innocence a row with writings of ``k1, k2, …`` does
  so with probability ``1/(k1 k2 …)``, a patient with several distinct rows at
  most the sum. Marked rows hidden among unmarked ones stand out here;
- the row order, one position per patient (its first row).

Families written one single way throughout the file (a leaker re-normalised
the column) are left out of the per-patient test: that choice is the file's,
so it is made before any export is compared and costs no calibration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from etanche.leak.trace._identify import IdentifiedRow
from etanche.leak.trace._observe import Observation

__all__ = ["RowEvidence", "row_chance", "uniform_families"]

Expected = Callable[[str, str, str, int], int]  # (family, row key, canonical, k) -> choice


def uniform_families(rows: Sequence[IdentifiedRow]) -> frozenset[str]:
    """Families with at least two observations in the file, all of one writing."""
    seen: dict[str, set[int]] = {}
    counts: dict[str, int] = {}
    for row in rows:
        for obs in row.marks:
            seen.setdefault(obs.family, set()).add(obs.choice)
            counts[obs.family] = counts.get(obs.family, 0) + 1
    return frozenset(f for f, choices in seen.items() if len(choices) == 1 and counts[f] > 1)


@dataclass
class RowEvidence:
    """What the file shows against one export, row by row (filled by ``add``)."""

    families: frozenset[str]  # the families this export used
    uniform: frozenset[str]  # families the file wrote one way (left out of the row test)
    expected: Expected  # the export's choice
    writings: dict[tuple[str, str, str], tuple[int, set[int]]] = field(default_factory=dict)
    patient_rows: dict[str, set[tuple[Observation, ...]]] = field(default_factory=dict)
    first_seen: dict[str, int] = field(default_factory=dict)  # patient -> first row

    def add(self, pid: str, row: IdentifiedRow) -> None:
        self.first_seen.setdefault(pid, row.position)
        used = tuple(o for o in row.marks if o.family in self.families)  # sorted, unique
        for obs in used:
            _, choices = self.writings.setdefault((obs.family, pid, obs.canonical), (obs.k, set()))
            choices.add(obs.choice)
        in_row_test = tuple(o for o in used if o.family not in self.uniform)
        self.patient_rows.setdefault(pid, set()).add(in_row_test)

    def agrees(self, pid: str, row: tuple[Observation, ...]) -> bool:
        """Whether every writing of the row is the export's choice."""
        return all(self.expected(o.family, pid, o.canonical, o.k) == o.choice for o in row)


def row_chance(row: tuple[Observation, ...]) -> float:
    """Probability that an innocent export agrees with every writing of the row."""
    keys = {(o.family, o.canonical) for o in row}
    if len(keys) < len(row):
        return 0.0  # one value written two ways in one row: no export agrees with both
    chance = 1.0
    for obs in row:
        chance /= obs.k
    return chance
