"""The audit log and its alerts in French, for the pages: the service's one table.

The words live in ``etanche.service`` (``_audit_fr``), where the documents a person
reads are built too; the pages take them through the service's door.
"""

from __future__ import annotations

from etanche.service import (
    ACTION_NOUNS,
    ACTIONS,
    Detail,
    action_fr,
    actor_fr,
    details_fr,
    duration_fr,
    role_fr,
    summary_fr,
)

__all__ = [
    "ACTIONS",
    "ACTION_NOUNS",
    "Detail",
    "action_fr",
    "actor_fr",
    "details_fr",
    "duration_fr",
    "role_fr",
    "summary_fr",
]
