"""The encrypted store: schema, repository and search over blind indexes."""

from etanche.vault._location import VaultLocation, parse_location
from etanche.vault._store import ALL_COMPARTMENTS, RotationReport, Vault, new_record_id

__all__ = [
    "ALL_COMPARTMENTS",
    "RotationReport",
    "Vault",
    "VaultLocation",
    "new_record_id",
    "parse_location",
]
