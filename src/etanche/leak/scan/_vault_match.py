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
from collections.abc import Iterable

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

__all__ = ["VaultMatcher"]

_INDEXES = (NIR, NAME_DOB, PHONE, EMAIL)


class VaultMatcher:
    """Accumulates matched patients (id -> lab) over the frames of a scan."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault
        self.matched: dict[str, str] = {}
        self._cache: dict[tuple[str, str], list[tuple[str, str]]] = {}

    def feed(self, frame: pl.DataFrame, plan: TablePlan) -> None:
        values = _index_values(frame, plan)
        if values is None:
            return
        self._resolve(values)
        for row in values.iter_rows():
            keys = [(name, value) for name, value in zip(_INDEXES, row, strict=True) if value]
            if not keys:
                continue
            votes: Counter[str] = Counter()
            labs: dict[str, str] = {}
            for key in keys:
                for patient_id, lab in self._cache.get(key, ()):
                    votes[patient_id] += 1
                    labs[patient_id] = lab
            need = min(2, len(keys))
            for patient_id, count in votes.items():
                if count >= need:
                    self.matched[patient_id] = labs[patient_id]

    def per_lab(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for patient_id, lab in sorted(self.matched.items()):
            out[lab].append(patient_id)
        return dict(out)

    def _resolve(self, values: pl.DataFrame) -> None:
        for name in _INDEXES:
            wanted = {x for x in values[name].drop_nulls().unique() if (name, x) not in self._cache}
            if not wanted:
                continue
            digests = {self._vault.index_digest(name, x): x for x in wanted}
            for x in wanted:
                self._cache[(name, x)] = []
            for digest, patient_id, lab in self._lookup(name, list(digests)):
                self._cache[(name, digests[digest])].append((patient_id, lab))

    def _lookup(self, name: str, digests: list[bytes]) -> Iterable[tuple[bytes, str, str]]:
        return self._vault.patients_by_digest(name, digests)


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
