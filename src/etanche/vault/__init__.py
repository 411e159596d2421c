"""The encrypted store: schema, repository and search over blind indexes."""

from etanche.vault._documents import Document, Documents
from etanche.vault._location import VaultLocation, parse_location
from etanche.vault._store import ALL_COMPARTMENTS, RotationReport, Vault, new_record_id

__all__ = [
    "ALL_COMPARTMENTS",
    "Document",
    "Documents",
    "RotationReport",
    "Vault",
    "VaultLocation",
    "new_record_id",
    "parse_location",
]
