"""Readers of found files: whatever shape a leaked file has, its tables of text cells.

Used by ``etanche scan`` and ``etanche trace`` (contract C): CSV/TSV with any
delimiter and encoding, XLSX, JSON and FHIR Bundles, NDJSON, SQL INSERT dumps,
plain text and zip archives, all streamed.
"""

from etanche.exchange.found._read import found_files, read_tables, sniff_format
from etanche.exchange.found._source import Source
from etanche.exchange.found._table import FoundTable

__all__ = ["FoundTable", "Source", "found_files", "read_tables", "sniff_format"]
