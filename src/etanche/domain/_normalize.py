"""Normalisers for blind indexes and duplicate detection.

A blind index is an HMAC of a normalised value, so two writings of the same value
must normalise to the same string, and normalising twice must change nothing
(idempotence): otherwise a value re-read from an export would not find its row.
These functions never validate and never raise on odd input; validation lives in
``_validate``.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

__all__ = [
    "normalize_email",
    "normalize_name",
    "normalize_nir",
    "normalize_phone_for_index",
]

# Letters NFKD does not decompose, spelled the way French civil status spells them
# in upper-case ASCII (INS rules strip diacritics and split ligatures).
_LETTER_MAP = str.maketrans(
    {
        "Œ": "OE",
        "Æ": "AE",
        "ẞ": "SS",
        "ß": "SS",
        "Ø": "O",
        "Đ": "D",
        "Ð": "D",
        "Ł": "L",
        "Þ": "TH",
        "Ħ": "H",
        "Ŀ": "L",
        "Ŧ": "T",
    }
)

# Separators inside names: apostrophes, hyphens and dashes, dots. They become a
# space, so "Lefèvre-Dupont", "LEFEVRE DUPONT" and "Lefèvre.Dupont" agree.
_NAME_SEPARATORS = re.compile(r"['\u2018\u2019\u02bc\u0060\u00b4\-\u2010-\u2015\u2212.]")

_NIR_SEPARATORS = re.compile(r"[\s.\-\u2010-\u2015\u2212]")

_MAX_PASSES = 4

_FRENCH_E164 = re.compile(r"\+33[1-9][0-9]{8}")


def _name_pass(value: str) -> str:
    text = unicodedata.normalize("NFKD", value.upper())
    text = "".join(c for c in text if unicodedata.category(c) not in {"Mn", "Me", "Cf", "Cc"})
    text = text.upper().translate(_LETTER_MAP)
    text = _NAME_SEPARATORS.sub(" ", text)
    return " ".join(text.split())


def normalize_name(value: str) -> str:
    """Upper-case ASCII-like form of a name, for matching and blind indexes.

    NFKD and accent stripping make "Lefèvre" and "LEFEVRE" equal; ligatures are
    split (Œ→OE, Æ→AE, ß→SS); apostrophes, hyphens and dots become single spaces.
    The pass is repeated until stable because upper-casing and compatibility
    decomposition can each expose work for the other (e.g. "ª" → "a" → "A"):
    this makes the function idempotent by construction.
    """
    if value.isascii() and value.isprintable():
        # Fast path, same result: printable ASCII has nothing to decompose or strip.
        return " ".join(_NAME_SEPARATORS.sub(" ", value.upper()).split())
    text = _name_pass(value)
    for _ in range(_MAX_PASSES):
        again = _name_pass(text)
        if again == text:
            break
        text = again
    return text


def normalize_nir(value: str) -> str:
    """Compact NIR for indexing: no spaces, dots or dashes, upper-case (2a → 2A).

    No validation: a malformed NIR must still index the same way every time.
    """
    return _NIR_SEPARATORS.sub("", value.upper())


def normalize_email(value: str) -> str:
    """Whole address stripped and lower-cased, for the blind index only.

    The local part is case-sensitive in theory but never in practice, and export
    fingerprints vary the case of the domain: the index must ignore both.
    """
    return value.lower().strip()


def _phone_fallback(value: str) -> str:
    stripped = value.strip()
    sign = "+" if stripped.startswith("+") else ""
    return sign + "".join(c for c in stripped if c in "0123456789")


def _e164_if_valid(value: str) -> str | None:
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_phone_for_index(value: str) -> str:
    """Best-effort E.164 (region FR), else the digits (and a leading "+") only.

    The fallback is tried as a number too, so that the output is a fixed point:
    whatever comes out normalises to itself.
    """
    if _FRENCH_E164.fullmatch(value):
        # Fast path, same result: already the canonical form phonenumbers gives
        # (valid: its E.164; invalid: the "+digits" fallback is the value itself).
        return value
    e164 = _e164_if_valid(value)
    if e164 is not None:
        return e164
    fallback = _phone_fallback(value)
    e164 = _e164_if_valid(fallback)
    return e164 if e164 is not None else fallback
