"""Leak tracing (F10): fingerprinted exports, canaries, the export ledger and `trace`.

Every row that leaves (migration package or export) passes ``render_row`` with
the export's ``ExportMark``; ``trace`` reads a found file, recognises our rows
through the blind indexes and names the export it came from.
"""

from etanche.leak.trace._blend import FilterSurvival, filter_survival
from etanche.leak.trace._canaries import (
    CanaryList,
    CanaryRecord,
    canary_count,
    canary_list,
    make_canaries,
)
from etanche.leak.trace._identify import (
    IdentifiedRow,
    Identifier,
    MemoryIdentifier,
    VaultIdentifier,
    identify_rows,
)
from etanche.leak.trace._ledger import Ledger, LedgerEntry, record_export
from etanche.leak.trace._mark import (
    DEFAULT_MARKS,
    ExportMark,
    keyed_order,
    new_export_mark,
    parse_marks,
    render_row,
    unmark_row,
)
from etanche.leak.trace._observe import FoundRow, Observation, map_columns, observe_rows
from etanche.leak.trace._outbound import MarkedOutbound
from etanche.leak.trace._regional import localise
from etanche.leak.trace._renderings import FAMILIES, FIELD_FAMILY, MARKS
from etanche.leak.trace._rows import ADMIN_FIELDS, CLINICAL_FIELDS, PATIENT_FIELDS, canonical_row
from etanche.leak.trace._score import (
    ACCUSATION_LOG10,
    ExportModel,
    ExportScore,
    TraceResult,
    attribute,
    score_exports,
)

__all__ = [
    "ACCUSATION_LOG10",
    "ADMIN_FIELDS",
    "CLINICAL_FIELDS",
    "DEFAULT_MARKS",
    "FAMILIES",
    "FIELD_FAMILY",
    "MARKS",
    "PATIENT_FIELDS",
    "CanaryList",
    "CanaryRecord",
    "ExportMark",
    "ExportModel",
    "ExportScore",
    "FilterSurvival",
    "FoundRow",
    "IdentifiedRow",
    "Identifier",
    "Ledger",
    "LedgerEntry",
    "MarkedOutbound",
    "MemoryIdentifier",
    "Observation",
    "TraceResult",
    "VaultIdentifier",
    "attribute",
    "canary_count",
    "canary_list",
    "canonical_row",
    "filter_survival",
    "identify_rows",
    "keyed_order",
    "localise",
    "make_canaries",
    "map_columns",
    "new_export_mark",
    "observe_rows",
    "parse_marks",
    "record_export",
    "render_row",
    "score_exports",
    "unmark_row",
]
