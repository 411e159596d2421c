"""Readers and writers of the formats patient data travels in (no policy here).

Readers (``open_source``) turn a legacy CSV, a CSV under a plan, HPRIM Santé,
HL7 v2 or FHIR into a stream of canonical ``SourceRecord`` objects and
``SourceIssue`` notes; ``build_patient`` makes domain objects of a record and
``patient_fields`` goes back. Writers produce every format from synthetic data.
"""

from etanche.exchange._convert import build_patient, patient_fields
from etanche.exchange._csv import (
    CANONICAL_COLUMNS,
    CsvReader,
    write_canonical_csv,
    write_canonical_csv_to,
)
from etanche.exchange._escape import HL7_DEFAULT, HPRIM_DEFAULT, Delimiters
from etanche.exchange._fhir import (
    FhirReader,
    write_fhir,
    write_fhir_ndjson,
    write_fhir_records,
    write_fhir_records_to,
)
from etanche.exchange._hl7v2 import Hl7Reader, write_hl7v2
from etanche.exchange._hprim import HprimReader, write_hprim
from etanche.exchange._model import (
    FIELDS,
    SPECIMEN_FIELDS,
    FieldSpec,
    SourceIssue,
    SourceReader,
    SourceRecord,
    is_credential,
)
from etanche.exchange._open import FORMATS, open_source
from etanche.exchange._text import detect_encoding
from etanche.exchange.legacy_csv import LEGACY_COLUMNS, write_legacy_csv

__all__ = [
    "CANONICAL_COLUMNS",
    "FIELDS",
    "FORMATS",
    "HL7_DEFAULT",
    "HPRIM_DEFAULT",
    "LEGACY_COLUMNS",
    "SPECIMEN_FIELDS",
    "CsvReader",
    "Delimiters",
    "FhirReader",
    "FieldSpec",
    "Hl7Reader",
    "HprimReader",
    "SourceIssue",
    "SourceReader",
    "SourceRecord",
    "build_patient",
    "detect_encoding",
    "is_credential",
    "open_source",
    "patient_fields",
    "write_canonical_csv",
    "write_canonical_csv_to",
    "write_fhir",
    "write_fhir_ndjson",
    "write_fhir_records",
    "write_fhir_records_to",
    "write_hl7v2",
    "write_hprim",
    "write_legacy_csv",
]
