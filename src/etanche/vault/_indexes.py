"""The blind indexes of the patients table and what each one hashes.

Every index is truncated to 32 bits: a lookup among 50 M rows returns about
0.01 false candidates (removed after decryption), while two rows sharing a
digest do not prove they share a value. docs/blind-indexes.md has the figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from etanche.crypto import BlindIndexer, BlindIndexSpec
from etanche.domain import Patient
from etanche.domain._normalize import (
    normalize_email,
    normalize_name,
    normalize_nir,
    normalize_phone_for_index,
)

DECOY = "decoy"  # keyed digest of a decoy patient's id: the registry reveals nothing
NIR = "nir"
NAME_DOB = "name_dob"
PHONE = "phone"
EMAIL = "email"

SPECS: tuple[BlindIndexSpec, ...] = (
    BlindIndexSpec("patients", "nir", NIR, 4),
    BlindIndexSpec("patients", "birth_name+first_name+birth_date", NAME_DOB, 4),
    BlindIndexSpec("patients", "phones", PHONE, 4),
    BlindIndexSpec("patients", "emails", EMAIL, 4),
    BlindIndexSpec("decoys", "patient_id", DECOY, 16),
)


def name_dob_key(birth_name: str, first_name: str, birth_date: date) -> str:
    """The INS-trait triple as one normalised string."""
    return f"{normalize_name(birth_name)}|{normalize_name(first_name)}|{birth_date.isoformat()}"


def index_entries(indexer: BlindIndexer, patient: Patient) -> Iterator[tuple[str, bytes]]:
    """(index name, digest) for every searchable value of a patient, deduplicated."""
    seen: set[tuple[str, bytes]] = set()
    values: list[tuple[str, str]] = []
    if patient.nir:
        values.append((NIR, normalize_nir(patient.nir)))
    values.append(
        (NAME_DOB, name_dob_key(patient.birth_name, patient.first_first_name, patient.birth_date))
    )
    values.extend((PHONE, normalize_phone_for_index(phone)) for phone in patient.phones)
    values.extend((EMAIL, normalize_email(email)) for email in patient.emails)
    for name, value in values:
        entry = (name, indexer.digest(name, value))
        if entry not in seen:
            seen.add(entry)
            yield entry
