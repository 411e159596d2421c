"""What a scan found: per category, per file, and against the vault (contract B)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CATEGORIES",
    "CONCEPTS",
    "SPECIAL_CATEGORIES",
    "CategoryFinding",
    "FileFinding",
    "ScanReport",
    "concept_bucket",
]

CATEGORIES: tuple[str, ...] = (
    "nir",
    "ins_traits",
    "name",
    "birth_date",
    "address",
    "phone",
    "email",
    "insurance",
    "file_number",
    "last_visit",
    "rpps",
    "iban",
    "credential",
    "blood_group",
    "health",
    "drug",
)
SPECIAL_CATEGORIES = frozenset({"health", "drug", "blood_group"})  # GDPR art. 9
MAX_SAMPLES = 3
# Health concepts as the report breaks them down; the lexicon's others go to "other".
CONCEPTS: tuple[str, ...] = ("hiv", "pregnancy", "hepatitis", "cancer", "other")


def concept_bucket(concept: str) -> str:
    """The report's concept for one of the lexicon's (diabetes, renal... are "other")."""
    return concept if concept in CONCEPTS else "other"


@dataclass
class CategoryFinding:
    """One category: cells found (count), rows and distinct persons holding it, where,
    how sure, and masked samples. A person counts once however many cells they have."""

    category: str
    count: int = 0
    rows: int = 0
    persons: int = 0
    columns: list[str] = field(default_factory=list)
    confidence: float = 0.0
    samples: list[str] = field(default_factory=list)

    def merge(self, count: int, column: str, confidence: float, samples: list[str]) -> None:
        self.count += count
        if column not in self.columns:
            self.columns.append(column)
        self.confidence = max(self.confidence, confidence)
        for sample in samples:
            if len(self.samples) < MAX_SAMPLES and sample not in self.samples:
                self.samples.append(sample)

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "rows": self.rows,
            "persons": self.persons,
            "columns": list(self.columns),
            "confidence": round(self.confidence, 2),
            "samples": list(self.samples),
        }


@dataclass
class FileFinding:
    """One table of one file (a sheet, an SQL table, an archive member)."""

    name: str
    format: str
    rows: int = 0
    bytes: int = 0
    categories: dict[str, CategoryFinding] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "format": self.format,
            "rows": self.rows,
            "bytes": self.bytes,
            "categories": {k: c.to_dict() for k, c in self.categories.items() if c.count},
            "error": self.error,
        }


@dataclass
class ScanReport:
    """The whole scan. ``matched_patients`` holds pseudonymous ids: never print it."""

    files: list[FileFinding] = field(default_factory=list)
    bytes_read: int = 0
    rows: int = 0
    persons: int = 0
    categories: dict[str, CategoryFinding] = field(default_factory=dict)
    special_category: bool = False
    vault_matches: dict[str, int] | None = None
    matched_patients: dict[str, list[str]] = field(default_factory=dict)
    # patient id -> categories and health:<concept> of that patient's rows (never printed)
    matched_exposure: dict[str, frozenset[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # health concept (CONCEPTS) -> (rows, distinct persons) holding it
    concepts: dict[str, tuple[int, int]] = field(default_factory=dict)
    physicians: int = 0  # distinct treating physicians named (by RPPS, else by name)
    physicians_rpps: bool = False  # the file gives their RPPS numbers

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary: masked samples only, no patient id."""
        return {
            "files": [f.to_dict() for f in self.files],
            "bytes": self.bytes_read,
            "rows": self.rows,
            "persons": self.persons,
            "special_category": self.special_category,
            "categories": {
                k: self.categories[k].to_dict()
                for k in CATEGORIES
                if k in self.categories and self.categories[k].count
            },
            "health_concepts": {
                k: {"rows": self.concepts[k][0], "persons": self.concepts[k][1]}
                for k in CONCEPTS
                if k in self.concepts
            },
            "physicians": {"count": self.physicians, "rpps": self.physicians_rpps},
            "vault_matches": dict(self.vault_matches) if self.vault_matches is not None else None,
            "notes": list(self.notes),
        }
