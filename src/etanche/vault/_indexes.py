"""The blind indexes of the patients table and what each one hashes.

The equality indexes are truncated to 32 bits: a lookup among 50 M rows returns
about 0.01 false candidates (removed after decryption), while two rows sharing
a digest do not prove they share a value. The two front-desk indexes hash a
low-entropy compound (lab, 3 first letters or phonetic key of the birth name,
birth year) and keep 12 bits only, so every bucket mixes many values of one
lab. docs/blind-indexes.md has the figures and the leakage table.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from etanche.crypto import BlindIndexer, BlindIndexSpec
from etanche.domain import (
    Patient,
    name_prefix,
    normalize_email,
    normalize_name,
    normalize_nir,
    normalize_phone_for_index,
    phonetic_key,
)

# The French phonetic key costs about 0.25 ms a name, more than sealing the record:
# birth names repeat (a bulk load of 491,840 patients has a few thousand distinct
# ones), so the last few thousand keys are kept in memory, in this process only.
_sound_of = lru_cache(maxsize=8192)(phonetic_key)
# Name normalisation (NFKD, accents, separators) is the next cost of a load, and
# birth and first names repeat as much: same bounded in-process memory.
_name = lru_cache(maxsize=16384)(normalize_name)
_prefix = lru_cache(maxsize=8192)(name_prefix)

DECOY = "decoy"  # keyed digest of a decoy patient's id: the registry reveals nothing
NIR = "nir"
NAME_DOB = "name_dob"
PHONE = "phone"
EMAIL = "email"
PREFIX_YEAR = "prefix_year"
PHONETIC_YEAR = "phonetic_year"
FRONT_DESK_BITS = 12  # 4,096 buckets per lab: see docs/blind-indexes.md
LAB_TAG = "lab_tag"  # 16-bit keyed tag of the lab before a front-desk bucket
FRONT_DESK = frozenset({"prefix_year", "phonetic_year"})

SPECS: tuple[BlindIndexSpec, ...] = (
    BlindIndexSpec("patients", "nir", NIR, 4),
    BlindIndexSpec("patients", "birth_name+first_name+birth_date", NAME_DOB, 4),
    BlindIndexSpec("patients", "phones", PHONE, 4),
    BlindIndexSpec("patients", "emails", EMAIL, 4),
    BlindIndexSpec("patients", "lab+birth_name[:3]+birth_year", PREFIX_YEAR, 2, FRONT_DESK_BITS),
    BlindIndexSpec(
        "patients", "lab+phonetic(birth_name)+birth_year", PHONETIC_YEAR, 2, FRONT_DESK_BITS
    ),
    BlindIndexSpec("patients", "lab_id", LAB_TAG, 2),
    BlindIndexSpec("decoys", "patient_id", DECOY, 16),
)


def name_dob_key(birth_name: str, first_name: str, birth_date: date) -> str:
    """The INS-trait triple as one normalised string."""
    return f"{normalize_name(birth_name)}|{normalize_name(first_name)}|{birth_date.isoformat()}"


def prefix_year_key(lab_id: str, prefix: str, year: int) -> str:
    """The compound the prefix index hashes: lab, 3 first letters, birth year."""
    return f"{lab_id}|{prefix}|{year:04d}"


def phonetic_year_key(lab_id: str, phonetic: str, year: int) -> str:
    """The compound the phonetic index hashes: lab, phonetic key, birth year."""
    return f"{lab_id}|{phonetic}|{year:04d}"


# What the indexes need of a patient, in plain types (bulk loads ship it to workers).
IndexInput = tuple[str | None, str, str, date, list[str], list[str], str]


def index_input(patient: Patient) -> IndexInput:
    return (
        patient.nir,
        patient.birth_name,
        patient.first_first_name,
        patient.birth_date,
        list(patient.phones),
        list(patient.emails),
        patient.lab_id,
    )


def index_values(patient: Patient | IndexInput) -> list[tuple[str, str]]:
    """(index name, normalised value) for every searchable value: no key involved."""
    nir, birth_name, first_name, birth_date, phones, emails, lab_id = (
        index_input(patient) if isinstance(patient, Patient) else patient
    )
    values: list[tuple[str, str]] = []
    if nir:
        values.append((NIR, normalize_nir(nir)))
    # name_dob_key's string, through the write path's caches
    values.append((NAME_DOB, f"{_name(birth_name)}|{_name(first_name)}|{birth_date.isoformat()}"))
    year = birth_date.year
    values.append((PREFIX_YEAR, prefix_year_key(lab_id, _prefix(birth_name), year)))
    values.append((PHONETIC_YEAR, phonetic_year_key(lab_id, _sound_of(birth_name), year)))
    values.extend((PHONE, normalize_phone_for_index(phone)) for phone in phones)
    values.extend((EMAIL, normalize_email(email)) for email in emails)
    return values


def digest(indexer: BlindIndexer, name: str, value: str) -> bytes:
    """One digest; a front-desk bucket is led by a keyed tag of its lab.

    The lab is clear in ``patients.lab_id`` already: the tag tells the operator
    nothing new, and it makes one lab's bucket one short index range, so a search
    never reads the rows of other labs that share the 12 bits by chance.
    """
    if name in FRONT_DESK:
        lab = value.split("|", 1)[0]
        return indexer.tag(LAB_TAG, lab) + indexer.digest(name, value)
    return indexer.digest(name, value)


def digests(indexer: BlindIndexer, values: list[tuple[str, str]]) -> list[tuple[str, bytes]]:
    """Blind-index digests of normalised values, deduplicated, in order."""
    seen: set[tuple[str, bytes]] = set()
    out: list[tuple[str, bytes]] = []
    for name, value in values:
        entry = (name, digest(indexer, name, value))
        if entry not in seen:
            seen.add(entry)
            out.append(entry)
    return out


def index_entries(indexer: BlindIndexer, patient: Patient) -> list[tuple[str, bytes]]:
    """(index name, digest) for every searchable value of a patient, deduplicated."""
    return digests(indexer, index_values(patient))
