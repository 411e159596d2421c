"""``etanche scan``: what personal and health data a found file exposes (contract B).

Findings are counted per cell (structured columns) and per free-text cell
(spans, health terms with negation), masked in every output, and optionally
matched to our patients through blind indexes only.
"""

from etanche.leak.scan._classify import ColumnRole, TablePlan, plan_table
from etanche.leak.scan._detect import HealthCache, detect_frame, role_mask
from etanche.leak.scan._french import CATEGORY_LABELS, CONCEPT_LABELS
from etanche.leak.scan._html import render_html
from etanche.leak.scan._report import (
    CATEGORIES,
    SPECIAL_CATEGORIES,
    CategoryFinding,
    FileFinding,
    ScanReport,
)
from etanche.leak.scan._scan import scan_paths
from etanche.leak.scan._vault_match import (
    IdentifierSet,
    match_exposures,
    match_identifiers,
    per_lab,
)

__all__ = [
    "CATEGORIES",
    "CATEGORY_LABELS",
    "CONCEPT_LABELS",
    "SPECIAL_CATEGORIES",
    "CategoryFinding",
    "ColumnRole",
    "FileFinding",
    "HealthCache",
    "IdentifierSet",
    "ScanReport",
    "TablePlan",
    "detect_frame",
    "match_exposures",
    "match_identifiers",
    "per_lab",
    "plan_table",
    "render_html",
    "role_mask",
    "scan_paths",
]
