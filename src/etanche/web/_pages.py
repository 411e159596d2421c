"""French pages for lab staff and the DPO: one router joining the page modules.

- ``_pages_login``: login with TOTP, first-login enrolment, logout;
- ``_pages_patients``: search, sheet, intake and edit (live validation), specimens;
- ``_pages_clinical``: the clinical part of a record, edited with a reason (biologists);
- ``_pages_front_desk``: linking a patient known in another lab, break-glass;
- ``_pages_users``: lab admins' account management;
- ``_pages_requests``: second approvals of privileged accounts and roles;
- ``_pages_supervision``: audit browser and verification, alerts, decoys;
- ``_pages_migrations``: migration plans, approvals, packages, deletion certificates;
- ``_pages_access``: who opened a record, and the patient's art. 15 access report.
- ``_pages_identity``: identity status moves, review of a pair, merges and unmerges.
- ``_pages_linkage``: the identity officer's queue of candidate duplicates.

Every route but the login forms depends on ``page_person`` (GET) or
``form_person`` (POST, CSRF-checked); the policy and the services decide.
"""

from __future__ import annotations

from fastapi import APIRouter

from etanche.web import (
    _pages_access,
    _pages_clinical,
    _pages_front_desk,
    _pages_identity,
    _pages_incident_follow,
    _pages_incidents,
    _pages_linkage,
    _pages_login,
    _pages_migrations,
    _pages_patients,
    _pages_requests,
    _pages_rights,
    _pages_supervision,
    _pages_users,
)

router = APIRouter()
router.include_router(_pages_login.router)
router.include_router(_pages_front_desk.router)
router.include_router(_pages_patients.router)
router.include_router(_pages_clinical.router)
router.include_router(_pages_users.router)
router.include_router(_pages_requests.router)
router.include_router(_pages_supervision.router)
router.include_router(_pages_migrations.router)
router.include_router(_pages_incidents.router)
router.include_router(_pages_incident_follow.router)
router.include_router(_pages_rights.router)
router.include_router(_pages_access.router)
router.include_router(_pages_identity.router)
router.include_router(_pages_linkage.router)
