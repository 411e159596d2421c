"""Operations as people run them: policy decision, compartment keys, audit, alerts.

The CLI, the web pages and the FHIR API are thin adapters over these services;
none of them decides, logs or alerts on its own.
"""

from etanche.service._core import Core
from etanche.service._custody import Custody, Opener
from etanche.service._housekeeping import shred_expired_artefacts
from etanche.service._keys import KeyService
from etanche.service._migration import marker_for, plan_marks
from etanche.service._patients import PatientService
from etanche.service._people import Enrolment, People
from etanche.service._supervision import Supervision
from etanche.service._trail import SYSTEM, Trail
from etanche.service._views import patient_detail, patient_summary

__all__ = [
    "SYSTEM",
    "Core",
    "Custody",
    "Enrolment",
    "KeyService",
    "Opener",
    "PatientService",
    "People",
    "Supervision",
    "Trail",
    "marker_for",
    "patient_detail",
    "patient_summary",
    "plan_marks",
    "shred_expired_artefacts",
]
