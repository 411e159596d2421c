"""The encrypted store: schema, repository and search over blind indexes."""

from etanche.vault._documents import Document, Documents
from etanche.vault._indexes import EMAIL as EMAIL_INDEX
from etanche.vault._indexes import NAME_DOB as NAME_DOB_INDEX
from etanche.vault._indexes import NIR as NIR_INDEX
from etanche.vault._indexes import PHONE as PHONE_INDEX
from etanche.vault._indexes import name_dob_key
from etanche.vault._location import VaultLocation, parse_location
from etanche.vault._merges import Merges
from etanche.vault._revisions import Finding, Journal, Ledger, Write, WriteBatch
from etanche.vault._revisions import decode as decode_writes
from etanche.vault._schema import patients as patients_table
from etanche.vault._schema import specimens as specimens_table
from etanche.vault._store import ALL_COMPARTMENTS, RotationReport, Vault, new_record_id
from etanche.vault._throttle import SlidingWindow, throttle_table

__all__ = [
    "ALL_COMPARTMENTS",
    "EMAIL_INDEX",
    "NAME_DOB_INDEX",
    "NIR_INDEX",
    "PHONE_INDEX",
    "Document",
    "Documents",
    "Finding",
    "Journal",
    "Ledger",
    "Merges",
    "RotationReport",
    "SlidingWindow",
    "Vault",
    "VaultLocation",
    "Write",
    "WriteBatch",
    "decode_writes",
    "name_dob_key",
    "new_record_id",
    "parse_location",
    "patients_table",
    "specimens_table",
    "throttle_table",
]
