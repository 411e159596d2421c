"""Renderings that mean exactly the same value: the alphabet of export fingerprints.

Each family turns a canonical value into ``k`` distinct writings (``variants``)
and any of them back into the canonical value (``canonical``), so that
``canonical(variants(c)[i]) == c`` for every ``i``: a recipient's system that
normalises sees one value, our normalisers (domain blind-index normalisers and
the importer's) see one value, and only the choice among writings is left to
carry the mark. A value a family cannot write ``k`` distinct ways is not
markable (``variants`` returns None) and is left as it is.

Date separators are deliberately absent: "03/04/2020" and "04/03/2020" swap
meaning between readers, so only ISO dates are written, always the same way.
First names are not re-separated either: "Jean-Pierre" (one compound name) and
"Jean Pierre" (two names) are different identities.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from etanche.domain import normalize_phone
from etanche.errors import ValidationError

__all__ = [
    "FAMILIES",
    "FIELD_FAMILY",
    "MARKS",
    "Family",
    "canonical_blood_group",
    "canonical_email",
    "canonical_nir",
    "canonical_phone",
    "canonical_street",
]

PHONE = "phone"
NFD = "nfd"
CASE = "case"
STREET = "street"
NIR = "nir"
BLOOD = "blood"
ORDER = "order"
MARKS: tuple[str, ...] = (PHONE, NFD, CASE, STREET, NIR, BLOOD, ORDER)
"""Every mark a recipient may tolerate; ``order`` is the keyed order of rows."""


# -- phone ------------------------------------------------------------------------
_FR_E164 = re.compile(r"\+33([1-9][0-9]{8})")


def canonical_phone(text: str) -> str:
    """E.164 for any French national or +33 writing; anything else as it is."""
    # chained replaces: a fifth of the cost of str.translate with a deletion table
    compact = text.strip().replace(" ", "").replace(".", "").replace("-", "").replace("\u00a0", "")
    if compact.startswith("0033"):
        compact = "+" + compact[2:]
    if len(compact) == 10 and compact[0] == "0" and compact[1] != "0" and compact.isdigit():
        compact = "+33" + compact[1:]
    return compact if _FR_E164.fullmatch(compact) else text


def _pairs(digits: str, sep: str) -> str:
    """Ten digits in five pairs (the French writing), joined by ``sep``."""
    d = digits
    return f"{d[0:2]}{sep}{d[2:4]}{sep}{d[4:6]}{sep}{d[6:8]}{sep}{d[8:10]}"


@lru_cache(maxsize=1 << 16)
def _valid_number(e164: str) -> bool:
    """Whether every writing indexes as this E.164 number (libphonenumber finds it valid).

    The domain's check of French numbers (libphonenumber's own patterns, joined):
    the same answer as indexing its national writing, on a package's hot path.
    """
    try:
        normalize_phone(e164)
    except ValidationError:
        return False
    return True


def _phone_variants(value: str) -> tuple[str, ...] | None:
    found = _FR_E164.fullmatch(canonical_phone(value))
    if found is None:
        return None
    if not _valid_number(found.group(0)):
        return None  # the index would keep an invalid number's digits as written
    rest = found.group(1)
    national = "0" + rest
    r = rest
    return (
        "+33" + rest,
        national,
        _pairs(national, " "),
        _pairs(national, "."),
        f"+33 {r[0]} {r[1:3]} {r[3:5]} {r[5:7]} {r[7:9]}",
        _pairs(national, "-"),
    )


# -- accented names: NFC or NFD ------------------------------------------------------
def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _nfd_variants(value: str) -> tuple[str, ...] | None:
    composed = _nfc(value)
    decomposed = unicodedata.normalize("NFD", composed)
    return None if composed == decomposed else (composed, decomposed)


# -- case of an e-mail's domain ------------------------------------------------------
def canonical_email(text: str) -> str:
    """The local part as written, the domain in lower case."""
    local, at, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}" if at and local and domain else text


def _case_variants(value: str) -> tuple[str, ...] | None:
    local, at, domain = value.rpartition("@")
    if not (at and local and domain) or not domain.isascii():
        return None
    lower = domain.lower()
    out = (f"{local}@{lower}", f"{local}@{lower.capitalize()}", f"{local}@{lower.upper()}")
    return out if len(set(out)) == 3 else None


# -- street-type abbreviation --------------------------------------------------------
# Full lower-case type (as written by our systems) -> La Poste style abbreviations.
_STREET_TYPES: dict[str, tuple[str, ...]] = {
    "rue": ("r.",),
    "avenue": ("av.", "ave"),
    "boulevard": ("bd", "boul."),
    "place": ("pl.",),
    "chemin": ("ch.", "chem."),
    "impasse": ("imp.",),
    "allée": ("all.",),
    "route": ("rte",),
    "square": ("sq.",),
    "résidence": ("rés.",),
    "faubourg": ("fg",),
    "lotissement": ("lot.",),
}
_ABBREVIATION = {a: full for full, abbrs in _STREET_TYPES.items() for a in abbrs}
_STREET = re.compile(
    r"(?P<head>[0-9]{1,5}(?: ?(?:bis|ter|quater|[a-d]))?,? )"
    r"(?P<type>[a-zé]+\.?)"
    r"(?P<tail> .+)",
    re.DOTALL,
)


def _street_parts(text: str) -> tuple[str, str, str] | None:
    found = _STREET.fullmatch(_nfc(text))
    if found is None:
        return None
    word = found.group("type")
    full = _ABBREVIATION.get(word, word)
    if full not in _STREET_TYPES:
        return None
    return found.group("head"), full, found.group("tail")


def canonical_street(text: str) -> str:
    """The street type written in full ("bd" -> "boulevard"); anything else as it is."""
    parts = _street_parts(text)
    return text if parts is None else f"{parts[0]}{parts[1]}{parts[2]}"


def _street_variants(value: str) -> tuple[str, ...] | None:
    parts = _street_parts(value)
    if parts is None:
        return None
    head, full, tail = parts
    return tuple(f"{head}{word}{tail}" for word in (full, *_STREET_TYPES[full]))


# -- NIR spacing ----------------------------------------------------------------------
_NIR = re.compile(r"[12][0-9]{4}(?:[0-9]{2}|2A|2B)[0-9]{8}")


def canonical_nir(text: str) -> str:
    """Compact upper-case NIR; anything that is not 15 NIR characters as it is."""
    compact = text.strip().replace(" ", "").upper()
    return compact if _NIR.fullmatch(compact) else text


def _nir_variants(value: str) -> tuple[str, ...] | None:
    compact = canonical_nir(value)
    if not _NIR.fullmatch(compact):
        return None
    c = compact
    return (c, f"{c[0]} {c[1:3]} {c[3:5]} {c[5:7]} {c[7:10]} {c[10:13]} {c[13:]}")


# -- blood group ---------------------------------------------------------------------
# The usual writings of French lab reports: "A+", "A Rh+", "A +", "A Rh positif".
_BLOOD = re.compile(
    r"(A|B|AB|O) ?(?:RH ?)?(\+|-|POS|POSITIF|NEG|NEGATIF|NÉG|NÉGATIF)", re.IGNORECASE
)
_BLOOD_CANONICAL = re.compile(r"(?:A|B|AB|O)[+-]")


def canonical_blood_group(text: str) -> str:
    """ "A Rh positif" -> "A+"; anything that is not a blood group as it is."""
    found = _BLOOD.fullmatch(text.strip())
    if found is None:
        return text
    sign = found.group(2).upper()
    return found.group(1).upper() + ("+" if sign in ("+", "POS", "POSITIF") else "-")


def _blood_variants(value: str) -> tuple[str, ...] | None:
    canonical = canonical_blood_group(value)
    if not _BLOOD_CANONICAL.fullmatch(canonical):
        return None
    group, rh = canonical[:-1], canonical[-1]
    word = "positif" if rh == "+" else "négatif"
    return (canonical, f"{group} Rh{rh}", f"{group} {rh}", f"{group} Rh {word}")


@dataclass(frozen=True, slots=True)
class Family:
    """One kind of mark: its writings of a value and the way back."""

    name: str
    variants: Callable[[str], tuple[str, ...] | None]
    canonical: Callable[[str], str]

    def choice_of(self, found: str) -> tuple[str, int, int] | None:
        """(canonical value, index of the writing, k) of a found writing, if it is one."""
        value = self.canonical(found)
        options = self.variants(value)
        if options is None:
            return None
        try:
            return options[0], options.index(found), len(options)
        except ValueError:
            return None


FAMILIES: dict[str, Family] = {
    PHONE: Family(PHONE, _phone_variants, canonical_phone),
    NFD: Family(NFD, _nfd_variants, _nfc),
    CASE: Family(CASE, _case_variants, canonical_email),
    STREET: Family(STREET, _street_variants, canonical_street),
    NIR: Family(NIR, _nir_variants, canonical_nir),
    BLOOD: Family(BLOOD, _blood_variants, canonical_blood_group),
}

FIELD_FAMILY: dict[str, str] = {
    "phone": PHONE,
    "email": CASE,
    "birth_name": NFD,
    "used_name": NFD,
    "first_names": NFD,
    "city": NFD,
    "address_line": STREET,
    "nir": NIR,
    "blood_group": BLOOD,
}
"""Canonical fields (contract A) that carry a mark, and which family marks them."""
