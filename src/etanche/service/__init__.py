"""Operations as people run them: policy decision, compartment keys, audit, alerts.

The CLI, the web pages and the FHIR API are thin adapters over these services;
none of them decides, logs or alerts on its own.
"""

from etanche.access import NETWORK_WIDE, Actor, User
from etanche.audit import Alert, AuditEvent, DetailValue, Outcome, VerificationReport
from etanche.service._acts import Acts
from etanche.service._core import Core
from etanche.service._custody import Custody, Opener
from etanche.service._door import Door, FormTokens
from etanche.service._exports import ExportAsked
from etanche.service._housekeeping import shred_expired_artefacts
from etanche.service._incidents import IncidentService, incident_detail, incident_summary
from etanche.service._keys import KeyService
from etanche.service._leaks import LeakService
from etanche.service._links import Traits as LinkTraits
from etanche.service._migration import marker_for, plan_marks
from etanche.service._migrations import MigrationService, PlanText
from etanche.service._patients import DUPLICATE_MIN_REASON, PatientService
from etanche.service._people import Enrolment, People
from etanche.service._revisions import RevisionReport, Revisions
from etanche.service._rights import (
    SheetRights,
    actions_of,
    allowed,
    holds_clinical_role,
    sheet_rights,
)
from etanche.service._search_tally import SearchTally
from etanche.service._supervision import Supervision
from etanche.service._supervision_read import Oversight
from etanche.service._throttle import LoginThrottle
from etanche.service._trail import SYSTEM, Trail
from etanche.service._views import patient_detail, patient_summary
from etanche.vault import VaultLocation, new_record_id

__all__ = [
    "DUPLICATE_MIN_REASON",
    "NETWORK_WIDE",
    "SYSTEM",
    "Actor",
    "Acts",
    "Alert",
    "AuditEvent",
    "Core",
    "Custody",
    "DetailValue",
    "Door",
    "Enrolment",
    "ExportAsked",
    "FormTokens",
    "IncidentService",
    "KeyService",
    "LeakService",
    "LinkTraits",
    "LoginThrottle",
    "MigrationService",
    "Opener",
    "Outcome",
    "Oversight",
    "PatientService",
    "People",
    "PlanText",
    "RevisionReport",
    "Revisions",
    "SearchTally",
    "SheetRights",
    "Supervision",
    "Trail",
    "User",
    "VaultLocation",
    "VerificationReport",
    "actions_of",
    "allowed",
    "holds_clinical_role",
    "incident_detail",
    "incident_summary",
    "marker_for",
    "new_record_id",
    "patient_detail",
    "patient_summary",
    "plan_marks",
    "sheet_rights",
    "shred_expired_artefacts",
]
