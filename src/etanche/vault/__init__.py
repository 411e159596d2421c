"""The encrypted store: schema, repository and search over blind indexes."""

from etanche.vault._copy import (
    copy_database,
    database_empty,
    drop_restored,
    load_database,
    pg_tool,
    row_counts,
    schema_revision,
)
from etanche.vault._documents import Document, Documents
from etanche.vault._indexes import EMAIL as EMAIL_INDEX
from etanche.vault._indexes import NAME_DOB as NAME_DOB_INDEX
from etanche.vault._indexes import NIR as NIR_INDEX
from etanche.vault._indexes import PHONE as PHONE_INDEX
from etanche.vault._indexes import name_dob_key
from etanche.vault._location import PoolOptions, VaultLocation, parse_location
from etanche.vault._merges import Merges
from etanche.vault._pairs import StoredPair, index_digests, pairs_table, read_pairs, replace_pairs
from etanche.vault._reconnect import is_disconnect, retrying
from etanche.vault._reindex import ReindexReport
from etanche.vault._retention import (
    ExpiredPatient,
    ExpiredSpecimen,
    claim_purge,
    delete_specimens,
    expired_patients,
    expired_specimens,
    fill_clocks,
    holds,
    release_hold,
    set_hold,
)
from etanche.vault._revisions import Finding, Journal, Ledger, Write, WriteBatch
from etanche.vault._revisions import decode as decode_writes
from etanche.vault._rights import (
    RightsStore,
    StoredRequest,
    restrictions_table,
    rights_requests_table,
)
from etanche.vault._schema import patients as patients_table
from etanche.vault._schema import specimens as specimens_table
from etanche.vault._store import ALL_COMPARTMENTS, RotationReport, Vault, new_record_id
from etanche.vault._throttle import SlidingWindow, throttle_table
from etanche.vault._versions import Change, Version, versions_table

__all__ = [
    "ALL_COMPARTMENTS",
    "EMAIL_INDEX",
    "NAME_DOB_INDEX",
    "NIR_INDEX",
    "PHONE_INDEX",
    "Change",
    "Document",
    "Documents",
    "ExpiredPatient",
    "ExpiredSpecimen",
    "Finding",
    "Journal",
    "Ledger",
    "Merges",
    "PoolOptions",
    "ReindexReport",
    "RightsStore",
    "RotationReport",
    "SlidingWindow",
    "StoredPair",
    "StoredRequest",
    "Vault",
    "VaultLocation",
    "Version",
    "Write",
    "WriteBatch",
    "claim_purge",
    "copy_database",
    "database_empty",
    "decode_writes",
    "delete_specimens",
    "drop_restored",
    "expired_patients",
    "expired_specimens",
    "fill_clocks",
    "holds",
    "index_digests",
    "is_disconnect",
    "load_database",
    "name_dob_key",
    "new_record_id",
    "pairs_table",
    "parse_location",
    "patients_table",
    "pg_tool",
    "read_pairs",
    "release_hold",
    "replace_pairs",
    "restrictions_table",
    "retrying",
    "rights_requests_table",
    "row_counts",
    "schema_revision",
    "set_hold",
    "specimens_table",
    "throttle_table",
    "versions_table",
]
