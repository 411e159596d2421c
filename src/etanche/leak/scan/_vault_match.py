"""How many of our patients a found file holds, per lab, through blind indexes only.

Each row's identifiers are normalised exactly as the vault indexes them (NIR,
birth name + first name + birth date, phone, e-mail), turned into blind-index
digests under the vault's keys and looked up where the vault keeps them (the
patient row or ``patient_index``): no patient is decrypted. Digests are
truncated to 32 bits, so one agreeing index can be a coincidence: a row
matches a patient when two of its indexes agree on them, or its only index
does when the row has just one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from typing import TYPE_CHECKING

import polars as pl

from etanche.domain import normalize_name
from etanche.leak.scan import _values as v
from etanche.leak.scan._classify import TablePlan
from etanche.leak.scan._detect import FrameFindings, HealthCache, role_mask
from etanche.leak.scan._report import CATEGORIES

if TYPE_CHECKING:  # the vault loads only when a scan matches (``etanche scan`` alone does not)
    from etanche.vault import Vault

__all__ = [
    "IdentifierSet",
    "Identifiers",
    "VaultMatcher",
    "match_exposures",
    "match_identifiers",
    "per_lab",
    "row_exposures",
]


@cache
def _indexes() -> tuple[str, str, str, str]:
    """The vault's NIR, name + birth date, phone and e-mail index names, in that order."""
    from etanche.vault import EMAIL_INDEX, NAME_DOB_INDEX, NIR_INDEX, PHONE_INDEX

    return (NIR_INDEX, NAME_DOB_INDEX, PHONE_INDEX, EMAIL_INDEX)


Identifiers = tuple[str | None, str | None, str | None, str | None]
"""One row's normalised NIR, name + birth date key, phone and e-mail (or None)."""


class IdentifierSet:
    """The distinct identifier tuples of a scan's rows, normalised as the vault indexes them.

    Collected where the files are (the DPO's machine); no key is needed. The
    service turns them into blind-index digests and matches them
    (``match_identifiers``): the client never computes a digest.
    """

    def __init__(self) -> None:
        self.rows: dict[Identifiers, None] = {}
        # what the rows of each identifier tuple held: categories and health:<concept>
        self.exposure: dict[Identifiers, set[str]] = {}

    def feed(
        self,
        frame: pl.DataFrame,
        plan: TablePlan,
        found: FrameFindings | None = None,
        cache: HealthCache | None = None,
    ) -> None:
        values = _index_values(frame, plan)
        if values is None:
            return
        exposures = row_exposures(frame, found, cache) if found is not None else None
        for position, row in enumerate(values.iter_rows()):
            if any(row):
                key = (row[0], row[1], row[2], row[3])
                self.rows[key] = None
                if exposures is not None and exposures[position]:
                    self.exposure.setdefault(key, set()).update(exposures[position])

    def exposures(self) -> list[str]:
        """One space-joined token string per row of ``rows``, in order (for the service)."""
        return [" ".join(sorted(self.exposure.get(row, ()))) for row in self.rows]

    def __len__(self) -> int:
        return len(self.rows)


def row_exposures(
    frame: pl.DataFrame, found: FrameFindings, cache: HealthCache | None
) -> list[frozenset[str]]:
    """Per row, the categories its cells held and its health concepts (never a value).

    Categories travel as one bit each through polars; only rows with a health
    finding in free text are looked at one by one, for their concepts.
    """
    bits = {category: 1 << n for n, category in enumerate(CATEGORIES)}
    held: dict[str, pl.Series] = {}
    concepts: dict[int, set[str]] = defaultdict(set)
    for category, column, source, cells in found.masks:
        if category not in bits or (category == "ins_traits" and source != "ins_row"):
            continue
        held[category] = held[category] | cells if category in held else cells
        if category == "health" and source == "free_text" and cache is not None:
            texts = frame[column]
            for position in cells.arg_true().to_list():
                result = cache.results.get(texts[position])
                if result is not None:
                    concepts[position].update(result.health)
    if not held:
        return [frozenset()] * frame.height
    mask = pl.Series([0] * frame.height, dtype=pl.Int64)
    for category, cells in held.items():
        mask = mask + cells.cast(pl.Int64) * bits[category]
    names = list(bits.items())
    decoded: dict[int, frozenset[str]] = {}
    out: list[frozenset[str]] = []
    for position, value in enumerate(mask.to_list()):
        tokens = decoded.get(value)
        if tokens is None:
            tokens = decoded[value] = frozenset(c for c, bit in names if value & bit)
        if position in concepts:
            tokens = tokens | {f"health:{c}" for c in concepts[position]}
        out.append(tokens)
    return out


def _matches(
    vault: Vault, rows: Iterable[Sequence[str | None]]
) -> Iterator[tuple[tuple[str | None, ...], str, str]]:
    """(row, patient id, lab) for every row that matches: two agreeing indexes, or the only one."""
    distinct = [tuple(row) for row in rows]
    cache: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for position, name in enumerate(_indexes()):
        wanted = {row[position] for row in distinct if row[position]}
        digests = {vault.index_digest(name, x): x for x in wanted if x}
        for x in wanted:
            if x:
                cache[(name, x)] = []
        if digests:
            for digest, patient_id, lab in vault.patients_by_digest(name, list(digests)):
                cache[(name, digests[digest])].append((patient_id, lab))
    for row in distinct:
        keys = [(name, value) for name, value in zip(_indexes(), row, strict=True) if value]
        if not keys:
            continue
        votes: Counter[str] = Counter()
        labs: dict[str, str] = {}
        for key in keys:
            for patient_id, lab in cache.get(key, ()):
                votes[patient_id] += 1
                labs[patient_id] = lab
        need = min(2, len(keys))
        for patient_id, count in votes.items():
            if count >= need:
                yield row, patient_id, labs[patient_id]


def match_identifiers(vault: Vault, rows: Iterable[Sequence[str | None]]) -> dict[str, str]:
    """Matched patient id -> lab: two agreeing indexes, or the only one a row has."""
    return {patient_id: lab for _, patient_id, lab in _matches(vault, rows)}


def match_exposures(
    vault: Vault, rows: Sequence[Sequence[str | None]], exposures: Sequence[str]
) -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    """As ``match_identifiers``, and what each matched patient's own rows held.

    ``exposures`` is parallel to ``rows`` (``IdentifierSet.exposures``): a patient
    matched by several rows gets the union of theirs.
    """
    of_row = {tuple(row): set(tokens.split()) for row, tokens in zip(rows, exposures, strict=True)}
    matched: dict[str, str] = {}
    exposed: dict[str, set[str]] = defaultdict(set)
    for row, patient_id, lab in _matches(vault, rows):
        matched[patient_id] = lab
        exposed[patient_id].update(of_row.get(row, ()))
    return matched, {pid: frozenset(tokens) for pid, tokens in exposed.items()}


def per_lab(matched: dict[str, str]) -> dict[str, list[str]]:
    """Matched patient ids grouped by lab, sorted."""
    out: dict[str, list[str]] = defaultdict(list)
    for patient_id, lab in sorted(matched.items()):
        out[lab].append(patient_id)
    return dict(out)


class VaultMatcher:
    """Accumulates a scan's identifiers, then matches them in one vault (in-process use)."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault
        self.identifiers = IdentifierSet()

    def feed(
        self,
        frame: pl.DataFrame,
        plan: TablePlan,
        found: FrameFindings | None = None,
        cache: HealthCache | None = None,
    ) -> None:
        self.identifiers.feed(frame, plan, found, cache)

    def per_lab(self) -> dict[str, list[str]]:
        return per_lab(match_identifiers(self._vault, self.identifiers.rows))

    def match(self) -> tuple[dict[str, list[str]], dict[str, frozenset[str]]]:
        """Matched ids per lab, and each matched patient's exposure."""
        rows = list(self.identifiers.rows)
        matched, exposed = match_exposures(self._vault, rows, self.identifiers.exposures())
        return per_lab(matched), exposed


def _index_values(frame: pl.DataFrame, plan: TablePlan) -> pl.DataFrame | None:
    """One row per frame row: normalised NIR, name+dob key, phone, e-mail (or nulls)."""
    exprs: dict[str, pl.Expr] = {}
    nir = plan.first("nir")
    if nir is not None:
        compact = v.compact_nir(pl.col(nir))
        exprs[_indexes()[0]] = pl.when(v.nir_valid(compact)).then(compact)
    phone = plan.first("phone")
    if phone is not None:
        exprs[_indexes()[2]] = v.phone_e164(pl.col(phone))
    email = plan.first("email")
    if email is not None:
        exprs[_indexes()[3]] = pl.when(v.email(pl.col(email))).then(
            pl.col(email).str.strip_chars().str.to_lowercase()
        )
    names = [plan.first(r) for r in ("birth_name", "first_names", "birth_date")]
    if not exprs and not all(names):
        return None
    out = frame.select(
        [exprs.get(name, pl.lit(None, pl.String)).alias(name) for name in _indexes()]
    )
    if all(names):
        from etanche.vault import name_dob_key

        birth_name, first_names, born = (n for n in names if n is not None)
        parts = frame.select(
            ok=role_mask("birth_name", birth_name)
            & role_mask("birth_date", born, plan.formats(born)),
            b=pl.col(birth_name),
            f=pl.col(first_names),
            d=v.birth_date(pl.col(born), plan.formats(born)),
        )
        keys = [
            name_dob_key(b, _first(f), d) if ok and f and d else None
            for ok, b, f, d in parts.iter_rows()
        ]
        out = out.with_columns(pl.Series(_indexes()[1], keys, dtype=pl.String))
    return out


def _first(first_names: str) -> str:
    """The first first name, as the vault indexes it (space-separated list)."""
    parts = normalize_name(first_names).split(" ")
    return parts[0] if parts else ""
