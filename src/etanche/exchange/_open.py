"""One entry point for every source format."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from etanche.errors import UsageError
from etanche.exchange._csv import CsvReader
from etanche.exchange._fhir import FhirReader
from etanche.exchange._hl7v2 import Hl7Reader
from etanche.exchange._hprim import HprimReader
from etanche.exchange._model import SourceReader

__all__ = ["FORMATS", "open_source"]

FORMATS = ("legacy-csv", "csv", "hprim", "hl7v2", "fhir")


def open_source(
    fmt: str,
    path: Path,
    *,
    mapping: Mapping[str, str] | None = None,
    encoding: str | None = None,
) -> SourceReader:
    """A streaming reader of ``path`` in format ``fmt``.

    Raises ``SourceError`` (naming the file and line, never a value) when the
    file cannot be read at all; ``ConfigError`` for a mapping naming an unknown
    canonical field; ``UsageError`` for an unknown format or encoding.
    """
    if fmt == "legacy-csv":
        return CsvReader(path, format=fmt, encoding=encoding)
    if fmt == "csv":
        return CsvReader(path, format=fmt, mapping=mapping, encoding=encoding)
    if mapping is not None:
        raise UsageError(f"mapping: only CSV sources take a column mapping, not {fmt}")
    if fmt == "hprim":
        return HprimReader(path, encoding=encoding)
    if fmt == "hl7v2":
        return Hl7Reader(path, encoding=encoding)
    if fmt == "fhir":
        return FhirReader(path, encoding=encoding)
    raise UsageError(f"format: unknown source format (expected one of {', '.join(FORMATS)})")
