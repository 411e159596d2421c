"""Second records of one person, as desks really make them, and the truth about them.

A duplicate is a person registered again (at the same lab or another one) with
the faults identity vigilance meets: a typo in a name, first names in another
order, the used (married) name typed as the birth name, day and month of birth
swapped, fields left empty. A child registered under a parent's NIR is the
opposite trap: two people sharing an identifier. Linkage is measured against
the truth these draws keep, which is written apart from the records (never in
the vault).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from etanche.domain import Patient, Sex
from etanche.errors import UsageError
from etanche.synth._dirt import typo
from etanche.synth._people import age_on

ORIGINAL = "original"
DUPLICATE = "duplicate"
CHILD_ON_PARENT_NIR = "child_on_parent_nir"

POOL_SIZE = 64  # recent originals a duplicate or a parent is drawn from


@dataclass(frozen=True)
class DuplicateMix:
    """Chances, per duplicate, of each fault (they combine); see the module docstring."""

    name_typo: float = 0.35
    swapped_first_names: float = 0.15
    used_name_as_birth_name: float = 0.5  # of women with a used name
    day_month_swapped: float = 0.08  # when the day could be a month
    missing_fields: float = 0.3  # birthplace, contacts and NIR left empty
    same_lab: float = 0.3  # registered twice at one lab rather than at another


@dataclass(frozen=True, slots=True)
class Truth:
    """Which person a record belongs to: ``person`` is the first record's id."""

    record: str
    person: str
    kind: str


def vary(rng: random.Random, original: Patient, mix: DuplicateMix) -> Patient:
    """``original`` as a second desk typed it (same id and lab: the caller sets them)."""
    dup = original
    if rng.random() < mix.name_typo:
        if rng.random() < 0.6 or not dup.first_names:
            dup = replace(dup, birth_name=typo(rng, dup.birth_name))
        else:
            dup = replace(dup, first_names=(typo(rng, dup.first_names[0]), *dup.first_names[1:]))
    if len(dup.first_names) > 1 and rng.random() < mix.swapped_first_names:
        firsts = dup.first_names
        dup = replace(dup, first_names=(firsts[1], firsts[0], *firsts[2:]))
    if dup.used_name and rng.random() < mix.used_name_as_birth_name:
        dup = replace(dup, birth_name=dup.used_name, used_name=None)
    born = dup.birth_date
    if born.day <= 12 and born.day != born.month and rng.random() < mix.day_month_swapped:
        # The NIR carries the month: a desk that swapped them had no card to read it from.
        dup = replace(dup, birth_date=date(born.year, born.day, born.month), nir=None)
    if rng.random() < mix.missing_fields:
        dup = replace(dup, birthplace_insee=None, phones=(), emails=(), nir=None)
    return dup


def child_on(parent: Patient, child: Patient) -> Patient | None:
    """``child`` registered under ``parent``'s NIR and surname, or None if it cannot be."""
    if parent.nir is None or age_on(parent.birth_date, child.birth_date) < 18:
        return None
    assert child.last_visit is not None
    if age_on(child.birth_date, child.last_visit) >= 18:
        return None
    surname = parent.birth_name if parent.sex is Sex.MALE else parent.used_name
    return replace(
        child,
        nir=parent.nir,
        birth_name=surname or child.birth_name,
        used_name=None,
        addresses=parent.addresses or child.addresses,
    )


_HEADER = "record_id,person_id,kind\n"


def write_truth(truths: Iterable[Truth], path: Path) -> int:
    """The truth as CSV (ids and kinds only: no identity), apart from any vault."""
    count = 0
    with path.open("w", encoding="ascii", newline="") as out:
        out.write(_HEADER)
        for t in truths:
            out.write(f"{t.record},{t.person},{t.kind}\n")
            count += 1
    return count


def read_truth(path: Path) -> list[Truth]:
    """A truth file written by ``write_truth``; a bad line names its number."""
    with path.open(encoding="ascii") as lines:
        if next(lines, "") != _HEADER:
            raise UsageError(f"{path.name}: not a truth file (header record_id,person_id,kind)")
        found: list[Truth] = []
        for number, line in enumerate(lines, start=2):
            parts = line.rstrip("\n").split(",")
            if len(parts) != 3 or not all(parts):
                raise UsageError(f"{path.name} line {number}: expected record_id,person_id,kind")
            found.append(Truth(*parts))
    return found


def true_pairs(truths: Iterable[Truth]) -> set[tuple[str, str]]:
    """Every pair of records (ordered ids) that are the same person."""
    by_person: dict[str, list[str]] = {}
    for t in truths:
        by_person.setdefault(t.person, []).append(t.record)
    pairs: set[tuple[str, str]] = set()
    for records in by_person.values():
        for i, a in enumerate(records):
            for b in records[i + 1 :]:
                pairs.add((a, b) if a < b else (b, a))
    return pairs
