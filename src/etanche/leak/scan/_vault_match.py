"""How many of our patients a found file holds, per lab, through blind indexes only.

Each row's identifiers are normalised exactly as the vault indexes them (NIR,
birth name + first name + birth date, phone, e-mail), turned into blind-index
digests under the vault's keys and looked up in ``patient_index``: no patient
is decrypted. Digests are truncated to 32 bits, so one agreeing index can be a
coincidence: a row matches a patient when two of its indexes agree on them, or
its only index does when the row has just one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import polars as pl

from etanche.domain import normalize_name
from etanche.leak.scan import _values as v
from etanche.leak.scan._classify import TablePlan
from etanche.leak.scan._detect import role_mask
from etanche.vault import EMAIL_INDEX as EMAIL
from etanche.vault import NAME_DOB_INDEX as NAME_DOB
from etanche.vault import NIR_INDEX as NIR
from etanche.vault import PHONE_INDEX as PHONE
from etanche.vault import Vault, name_dob_key

__all__ = ["IdentifierSet", "Identifiers", "VaultMatcher", "match_identifiers", "per_lab"]

_INDEXES = (NIR, NAME_DOB, PHONE, EMAIL)


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

    def feed(self, frame: pl.DataFrame, plan: TablePlan) -> None:
        values = _index_values(frame, plan)
        if values is None:
            return
        for row in values.iter_rows():
            if any(row):
                self.rows[(row[0], row[1], row[2], row[3])] = None

    def __len__(self) -> int:
        return len(self.rows)


def match_identifiers(vault: Vault, rows: Iterable[Sequence[str | None]]) -> dict[str, str]:
    """Matched patient id -> lab: two agreeing indexes, or the only one a row has."""
    distinct = [tuple(row) for row in rows]
    cache: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for position, name in enumerate(_INDEXES):
        wanted = {row[position] for row in distinct if row[position]}
        digests = {vault.index_digest(name, x): x for x in wanted if x}
        for x in wanted:
            if x:
                cache[(name, x)] = []
        if digests:
            for digest, patient_id, lab in vault.patients_by_digest(name, list(digests)):
                cache[(name, digests[digest])].append((patient_id, lab))
    matched: dict[str, str] = {}
    for row in distinct:
        keys = [(name, value) for name, value in zip(_INDEXES, row, strict=True) if value]
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
                matched[patient_id] = labs[patient_id]
    return matched


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

    def feed(self, frame: pl.DataFrame, plan: TablePlan) -> None:
        self.identifiers.feed(frame, plan)

    def per_lab(self) -> dict[str, list[str]]:
        return per_lab(match_identifiers(self._vault, self.identifiers.rows))


def _index_values(frame: pl.DataFrame, plan: TablePlan) -> pl.DataFrame | None:
    """One row per frame row: normalised NIR, name+dob key, phone, e-mail (or nulls)."""
    exprs: dict[str, pl.Expr] = {}
    nir = plan.first("nir")
    if nir is not None:
        compact = v.compact_nir(pl.col(nir))
        exprs[NIR] = pl.when(v.nir_valid(compact)).then(compact)
    phone = plan.first("phone")
    if phone is not None:
        exprs[PHONE] = v.phone_e164(pl.col(phone))
    email = plan.first("email")
    if email is not None:
        exprs[EMAIL] = pl.when(v.email(pl.col(email))).then(
            pl.col(email).str.strip_chars().str.to_lowercase()
        )
    names = [plan.first(r) for r in ("birth_name", "first_names", "birth_date")]
    if not exprs and not all(names):
        return None
    out = frame.select([exprs.get(name, pl.lit(None, pl.String)).alias(name) for name in _INDEXES])
    if all(names):
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
        out = out.with_columns(pl.Series(NAME_DOB, keys, dtype=pl.String))
    return out


def _first(first_names: str) -> str:
    """The first first name, as the vault indexes it (space-separated list)."""
    parts = normalize_name(first_names).split(" ")
    return parts[0] if parts else ""
