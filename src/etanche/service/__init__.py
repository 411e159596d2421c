"""Operations as people run them: policy decision, compartment keys, audit, alerts.

The CLI, the web pages and the FHIR API are thin adapters over these services;
none of them decides, logs or alerts on its own.
"""

from etanche.access import NETWORK_WIDE, Actor, User
from etanche.audit import Alert, AuditEvent, DetailValue, Outcome, VerificationReport
from etanche.service._access_report import AccessReports, Delivery, ListedAccess
from etanche.service._acts import Acts
from etanche.service._audit_fr import (
    ACTION_NOUNS,
    ACTIONS,
    ALERT_RULES,
    OUTCOMES,
    ROLE_FORMS,
    ROLES,
    SEVERITIES,
    Detail,
    action_fr,
    actor_fr,
    alert_fr,
    details_fr,
    duration_fr,
    role_fr,
    rule_fr,
    summary_fr,
)
from etanche.service._authors import Author
from etanche.service._backups import BackupService
from etanche.service._core import Core
from etanche.service._custody import Custody, Opener
from etanche.service._door import Door, FormTokens
from etanche.service._exports import ExportAsked
from etanche.service._housekeeping import shred_expired_artefacts
from etanche.service._identity import IdentityService, Merge, Pair
from etanche.service._incidents import IncidentService, incident_detail, incident_summary
from etanche.service._keys import KeyService
from etanche.service._leaks import LeakService
from etanche.service._linkage import IdentityLinkage, LinkRun
from etanche.service._links import Traits as LinkTraits
from etanche.service._migration import marker_for, plan_marks
from etanche.service._migrations import MigrationService, PlanText
from etanche.service._patients import CLINICAL_MIN_REASON, DUPLICATE_MIN_REASON, PatientService
from etanche.service._people import Enrolment, People
from etanche.service._purge import RetentionService
from etanche.service._reindex import Reindex
from etanche.service._revisions import RevisionReport, Revisions
from etanche.service._rights import (
    SheetRights,
    actions_of,
    allowed,
    holds_clinical_role,
    sheet_rights,
)
from etanche.service._rights_deadlines import Finding as DeadlineFinding
from etanche.service._rights_requests import LookupMatch, RightsRequests
from etanche.service._rights_views import request_detail, request_summary
from etanche.service._search_tally import SearchTally
from etanche.service._supervision import Supervision
from etanche.service._supervision_read import Oversight
from etanche.service._throttle import LoginThrottle
from etanche.service._trail import SYSTEM, Trail
from etanche.service._views import aware_iso, patient_detail, patient_summary
from etanche.vault import VaultLocation, new_record_id

__all__ = [
    "ACTIONS",
    "ACTION_NOUNS",
    "ALERT_RULES",
    "CLINICAL_MIN_REASON",
    "DUPLICATE_MIN_REASON",
    "NETWORK_WIDE",
    "OUTCOMES",
    "ROLES",
    "ROLE_FORMS",
    "SEVERITIES",
    "SYSTEM",
    "AccessReports",
    "Actor",
    "Acts",
    "Alert",
    "AuditEvent",
    "Author",
    "BackupService",
    "Core",
    "Custody",
    "DeadlineFinding",
    "Delivery",
    "Detail",
    "DetailValue",
    "Door",
    "Enrolment",
    "ExportAsked",
    "FormTokens",
    "IdentityLinkage",
    "IdentityService",
    "IncidentService",
    "KeyService",
    "LeakService",
    "LinkRun",
    "LinkTraits",
    "ListedAccess",
    "LoginThrottle",
    "LookupMatch",
    "Merge",
    "MigrationService",
    "Opener",
    "Outcome",
    "Oversight",
    "Pair",
    "PatientService",
    "People",
    "PlanText",
    "Reindex",
    "RetentionService",
    "RevisionReport",
    "Revisions",
    "RightsRequests",
    "SearchTally",
    "SheetRights",
    "Supervision",
    "Trail",
    "User",
    "VaultLocation",
    "VerificationReport",
    "action_fr",
    "actions_of",
    "actor_fr",
    "alert_fr",
    "allowed",
    "aware_iso",
    "details_fr",
    "duration_fr",
    "holds_clinical_role",
    "incident_detail",
    "incident_summary",
    "marker_for",
    "new_record_id",
    "patient_detail",
    "patient_summary",
    "plan_marks",
    "request_detail",
    "request_summary",
    "role_fr",
    "rule_fr",
    "sheet_rights",
    "shred_expired_artefacts",
    "summary_fr",
]
