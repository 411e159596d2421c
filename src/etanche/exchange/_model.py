"""The canonical vocabulary every reader speaks, and the shapes readers yield.

Readers translate their format into ``SourceRecord`` objects keyed by canonical
field names, so the migration engine applies one plan whatever the source. A
location ("line 12", "message 7 (PID)") always names where, never a value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal, Protocol

__all__ = [
    "FIELDS",
    "SPECIMEN_FIELDS",
    "FieldSpec",
    "SourceIssue",
    "SourceReader",
    "SourceRecord",
    "fold_header",
    "is_credential",
    "safe_label",
]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A canonical field: its compartment, and whether it is free text to review."""

    name: str
    compartment: Literal["admin", "clinical"]
    free_text: bool = False


def _spec(name: str, compartment: Literal["admin", "clinical"], free: bool = False) -> FieldSpec:
    return FieldSpec(name=name, compartment=compartment, free_text=free)


_ADMIN = (
    "lab",
    "dossier",
    "birth_name",
    "used_name",
    "first_names",
    "sex",
    "birth_date",
    "birthplace_insee",
    "nir",
    "identity_status",
    "address_line",
    "postcode",
    "city",
    "country",
    "phone",
    "email",
    "physician_name",
    "physician_rpps",
    "amo_regime",
    "amo_caisse",
    "amc_name",
    "amc_member_number",
    "last_visit",
)
_CLINICAL = ("blood_group", "comments", "pregnant", "treatments", "pathologies")
_FREE_TEXT = frozenset({"comments", "pathologies"})
# Specimen fields; ``specimen.lab`` is an addition to contract A (the lab that
# collected it, which may differ from the patient's lab); it defaults to the patient's.
SPECIMEN_FIELDS: tuple[str, ...] = (
    "specimen.accession",
    "specimen.collected_at",
    "specimen.type",
    "specimen.prescriber_name",
    "specimen.prescriber_rpps",
    "specimen.lab",
)

FIELDS: Mapping[str, FieldSpec] = {
    **{name: _spec(name, "admin") for name in _ADMIN},
    **{name: _spec(name, "clinical", name in _FREE_TEXT) for name in _CLINICAL},
    **{name: _spec(name, "admin") for name in SPECIMEN_FIELDS},
}


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One patient read from a source: canonical name -> text, empty fields omitted.

    Multi-valued fields (phone, email, address parts, comments, treatments,
    pathologies) hold their values joined by "\\n".
    """

    location: str
    fields: Mapping[str, str]
    specimens: tuple[Mapping[str, str], ...] = field(default=())


@dataclass(frozen=True, slots=True)
class SourceIssue:
    """A record-level problem; reading went on after it."""

    location: str
    field: str | None
    reason: str


class SourceReader(Protocol):
    """What ``open_source`` returns: metadata, then a stream of records and issues."""

    @property
    def format(self) -> str:
        """ "legacy-csv", "csv", "hprim", "hl7v2" or "fhir"."""

    @property
    def columns(self) -> tuple[str, ...]:
        """Source columns or segment fields seen (for streamed formats: so far)."""

    @property
    def refused(self) -> tuple[str, ...]:
        """Columns refused as credentials: never read into a record."""

    @property
    def unmapped(self) -> tuple[str, ...]:
        """Columns with no canonical field (for streamed formats: so far)."""

    def __iter__(self) -> Iterator[SourceRecord | SourceIssue]: ...


_NON_ALNUM = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=4096)
def fold_header(header: str) -> str:
    """Lower-case, accent-free, punctuation as single spaces: "N° dossier" -> "n dossier".

    Only the first 200 characters count: no real column name is longer.
    """
    header = header[:200]
    if header.isascii():
        bare = header.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", header)
        bare = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return _NON_ALNUM.sub(" ", bare).strip()


_CREDENTIAL = re.compile(
    r"\b(?:login|logins|identifiant portail|identifiant web|identifiant de connexion|"
    r"user|username|user name|utilisateur|nom d utilisateur|password|passwords|"
    r"mot de passe|mots de passe|motdepasse|mdp|passwd|pwd|pass|token|tokens|jeton|secret|"
    r"secrets|identifiantportail|"
    r"api key|apikey|cle api|pin|code pin)\b"
)


def is_credential(header: str) -> bool:
    """Whether a column name designates a credential (refused whatever the plan says)."""
    return _CREDENTIAL.search(fold_header(header)) is not None


_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}")
_LONG_NUMBER = re.compile(r"[0-9]{6}")  # phone numbers, NIRs and dates are not labels


def safe_label(text: str, fallback: str) -> str:
    """``text`` if it looks like a code or a name of structure, else ``fallback``.

    Labels (segment names, test codes, resource types) come from the file: a
    damaged file could put a personal value there, and labels reach the terminal.
    """
    if _LABEL.fullmatch(text) and not _LONG_NUMBER.search(text):
        return text
    return fallback
