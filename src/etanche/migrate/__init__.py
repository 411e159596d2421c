"""Safe migration between lab systems: plans, packages, verification, deletion.

A migration runs only on a plan approved by two named persons, ships only the
fields and records the plan allows, encrypted to its recipients and signed, and
ends with the destruction of every artefact and a signed certificate (findings
F1-F5 and F9 of DESIGN.md).
"""

from etanche.migrate._check import CheckReport, Problem, check_plan
from etanche.migrate._close import (
    CERTIFICATE_KIND,
    close_plan,
    shred_expired,
    verify_certificate,
)
from etanche.migrate._import import import_rows
from etanche.migrate._outbound import Outbound, OutboundFactory, Unmarked, unmarked
from etanche.migrate._package import PACKAGE_KIND, PackageResult, build_package
from etanche.migrate._plan import (
    EXPORT,
    MIGRATION,
    VAULT_SOURCE,
    Approver,
    MigrationPlan,
    Recipient,
    load_plan,
    parse_plan,
)
from etanche.migrate._registry import PLAN_KIND, PlanRecord, Plans, PlanState
from etanche.migrate._verify import (
    CheckedPackage,
    Reconciliation,
    new_recipient_identity,
    open_package,
    open_received,
    package_rows,
)

__all__ = [
    "CERTIFICATE_KIND",
    "EXPORT",
    "MIGRATION",
    "PACKAGE_KIND",
    "PLAN_KIND",
    "VAULT_SOURCE",
    "Approver",
    "CheckReport",
    "CheckedPackage",
    "MigrationPlan",
    "Outbound",
    "OutboundFactory",
    "PackageResult",
    "PlanRecord",
    "PlanState",
    "Plans",
    "Problem",
    "Recipient",
    "Reconciliation",
    "Unmarked",
    "build_package",
    "check_plan",
    "close_plan",
    "import_rows",
    "load_plan",
    "new_recipient_identity",
    "open_package",
    "open_received",
    "package_rows",
    "parse_plan",
    "shred_expired",
    "unmarked",
    "verify_certificate",
]
