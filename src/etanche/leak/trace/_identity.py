"""The normalised values a row is found by: the same ones the vault's blind indexes hash.

Index names and the name+birth-date key come from the vault's own index
definitions, normalisers from ``etanche.domain``: a value read back from an
export or a found file lands on the digest the vault computed at load time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from etanche.domain import normalize_email, normalize_nir, normalize_phone_for_index
from etanche.leak.trace._renderings import canonical_nir, canonical_phone
from etanche.vault import EMAIL_INDEX as EMAIL
from etanche.vault import NAME_DOB_INDEX as NAME_DOB
from etanche.vault import NIR_INDEX as NIR
from etanche.vault import PHONE_INDEX as PHONE
from etanche.vault import name_dob_key

__all__ = ["EMAIL", "NAME_DOB", "NIR", "PHONE", "parse_found_date", "row_identity"]

_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ][0-9:.]+)?")
_FR = re.compile(r"([0-9]{2})[/.-]([0-9]{2})[/.-]([0-9]{4})")
_COMPACT = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")


def parse_found_date(text: str) -> date | None:
    """ISO (with or without a time), DD/MM/YYYY or YYYYMMDD; None otherwise."""
    t = text.strip()
    try:
        if m := _ISO.fullmatch(t):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _FR.fullmatch(t):
            return date(int(m[3]), int(m[2]), int(m[1]))
        if m := _COMPACT.fullmatch(t):
            return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None
    return None


def row_identity(fields: Mapping[str, str]) -> list[tuple[str, str]]:
    """(index name, normalised value) of a canonical row, deduplicated, in order."""
    values: list[tuple[str, str]] = []
    if nir := fields.get("nir", "").strip():
        values.append((NIR, normalize_nir(canonical_nir(nir))))
    birth_name = fields.get("birth_name", "").strip()
    first = fields.get("first_names", "").split()
    born = parse_found_date(fields.get("birth_date", ""))
    if birth_name and first and born is not None:
        values.append((NAME_DOB, name_dob_key(birth_name, first[0], born)))
    for phone in fields.get("phone", "").split("\n"):
        if phone.strip():
            values.append((PHONE, normalize_phone_for_index(canonical_phone(phone))))
    for email in fields.get("email", "").split("\n"):
        if email.strip():
            values.append((EMAIL, normalize_email(email)))
    return list(dict.fromkeys(values))
