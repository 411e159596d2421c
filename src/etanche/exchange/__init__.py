"""Readers and writers of the formats patient data travels in (no policy here)."""

from etanche.exchange.legacy_csv import LEGACY_COLUMNS, write_legacy_csv

__all__ = ["LEGACY_COLUMNS", "write_legacy_csv"]
