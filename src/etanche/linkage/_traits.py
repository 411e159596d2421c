"""What linkage compares of a patient: normalised identity traits, in memory only.

One row per record, built inside the service from a decrypted patient and
dropped when the run ends. Blind-index digests (hex) come from the vault as
stored, so exact-identifier blocking never needs the values themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jellyfish

from etanche.domain import Patient, normalize_email, normalize_name, normalize_phone_for_index

COLUMNS = (
    "unique_id",
    "surname",
    "used_name",
    "surname_sound",
    "first_name",
    "second_first_name",
    "first_name_sound",
    "sex",
    "birth_date",
    "birth_year",
    "birthplace",
    "nir",
    "postcode",
    "phone",
    "email",
    "nir_index",
    "name_dob_index",
)


@dataclass(frozen=True, slots=True)
class Digests:
    """The record's blind-index digests (hex) as the vault holds them, if any."""

    nir: str | None = None
    name_dob: str | None = None


def sound(name: str | None) -> str | None:
    """A phonetic key (metaphone of the accent-free form): Lefebvre ~ Lefèvre ~ Lefevre."""
    if not name:
        return None
    return jellyfish.metaphone(name.replace(" ", "")) or None


def traits(patient: Patient, digests: Digests | None = None) -> dict[str, Any]:
    """The row linkage compares for ``patient``; empty values become None (null levels)."""
    surname = normalize_name(patient.birth_name) or None
    firsts = [normalize_name(f) for f in patient.first_names if f.strip()]
    used = normalize_name(patient.used_name) if patient.used_name else None
    address = patient.addresses[0] if patient.addresses else None
    digest = digests or Digests()
    return {
        "unique_id": patient.id,
        "surname": surname,
        "used_name": used or None,
        "surname_sound": sound(surname),
        "first_name": firsts[0] if firsts else None,
        "second_first_name": firsts[1] if len(firsts) > 1 else None,
        "first_name_sound": sound(firsts[0] if firsts else None),
        "sex": patient.sex.value,
        "birth_date": patient.birth_date.isoformat(),
        "birth_year": patient.birth_date.year,
        "birthplace": patient.birthplace_insee,
        "nir": patient.nir.upper() if patient.nir else None,
        "postcode": address.postcode if address and address.country == "FR" else None,
        "phone": normalize_phone_for_index(patient.phones[0]) if patient.phones else None,
        "email": normalize_email(patient.emails[0]) if patient.emails else None,
        "nir_index": digest.nir,
        "name_dob_index": digest.name_dob,
    }


def columns(rows: Iterable[dict[str, Any]]) -> dict[str, list[Any]]:
    """Rows as columns, one row at a time: a stream of records is never held as dicts."""
    out: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    for row in rows:
        for name in COLUMNS:
            out[name].append(row[name])
    return out
