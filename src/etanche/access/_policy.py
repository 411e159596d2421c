"""The one policy function: ``can(actor, action, resource) -> Decision``.

CLI, API and web call this and nothing else to decide, so a rule lives in one
place and a route cannot quietly grow its own. The rules are a table (role →
actions it may do in its own labs) plus two narrow exceptions: API-token scopes
only ever take actions away, and break-glass only ever adds patient search and
read outside the person's labs, for a limited time, and flags the decision so
the caller raises an alert.

Compartments follow the same table: a decision names the compartment keys the
session may unwrap for that action, and ``compartments_for(role)`` is the most a
role ever gets, so a reception session never holds a clinical key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from etanche.domain import Compartment
from etanche.names import IDENTITY_ACTIONS, PATIENT_ACTIONS, Action, Role

__all__ = [
    "NETWORK_ROLES",
    "NETWORK_WIDE",
    "RESTRICTED_REFUSED",
    "RIGHTS_ACTIONS",
    "Actor",
    "BreakGlass",
    "Decision",
    "Resource",
    "can",
    "compartments_for",
    "role_actions",
    "scopes_cover",
]

NETWORK_WIDE = "*"
"""Lab marker of an account that covers every lab of the network."""

NETWORK_ROLES = frozenset({Role.LAB_ADMIN, Role.DPO, Role.AUDITOR, Role.MIGRATION_OPERATOR})
"""Roles that may hold the network-wide marker; patient-facing roles never do."""

_ADMIN_ONLY = frozenset({Compartment.ADMIN})
_BOTH = frozenset({Compartment.ADMIN, Compartment.CLINICAL})
_NONE: frozenset[Compartment] = frozenset()

RIGHTS_ACTIONS = frozenset(
    {
        Action.RIGHTS_READ,
        Action.RIGHTS_ADD,
        Action.RIGHTS_LOOKUP,
        Action.RIGHTS_VERIFY,
        Action.RIGHTS_LINK,
        Action.RIGHTS_EXTEND,
        Action.RIGHTS_CLOSE,
        Action.RIGHTS_ERASE,
        Action.RIGHTS_LIFT,
        Action.RIGHTS_CHECK,
    }
)
"""The DPO's rights-request workflow: no other role takes any of these."""

_RECEPTION_ACTIONS = PATIENT_ACTIONS - {Action.PATIENT_ERASE}
# At the desk (RNIV): check a document, enter an INSi result, qualify. Lowering a
# status, restoring it, reviewing pairs and merging are the identity officer's.
_DESK_IDENTITY = frozenset(
    {Action.IDENTITY_VALIDATE, Action.IDENTITY_RETRIEVE, Action.IDENTITY_QUALIFY}
)
_OFFICER_ACTIONS = (
    IDENTITY_ACTIONS
    | {Action.PATIENT_SEARCH, Action.PATIENT_READ, Action.PATIENT_UPDATE, Action.SPECIMEN_LIST}
    | {Action.IDENTITY_LINK, Action.IDENTITY_PAIRS}  # the duplicate queue is the officer's tool
    | {Action.TOKEN_MANAGE}
)

# role → actions it may take on resources of its own labs (or anywhere with "*").
# Every role may manage its own API tokens (TOKEN_MANAGE), from a session only.
_GRANTS: dict[Role, frozenset[Action]] = {
    Role.RECEPTION: _RECEPTION_ACTIONS | _DESK_IDENTITY | {Action.TOKEN_MANAGE},
    Role.BIOLOGIST: PATIENT_ACTIONS
    | _DESK_IDENTITY
    | {Action.CLINICAL_UPDATE, Action.TOKEN_MANAGE},
    Role.IDENTITY_OFFICER: _OFFICER_ACTIONS,
    Role.LAB_ADMIN: frozenset(
        {
            Action.USER_MANAGE,
            Action.USER_APPROVE,
            Action.KEYS_ROTATE,
            Action.LAB_MANAGE,
            Action.VAULT_REINDEX,
            Action.MIGRATION_APPROVE,
            Action.TOKEN_MANAGE,
            Action.BACKUP_CREATE,
            Action.BACKUP_DRILL,
        }
    ),
    Role.DPO: frozenset(
        {
            Action.AUDIT_READ,
            Action.AUDIT_VERIFY,
            Action.ALERT_READ,
            Action.ALERT_ACK,
            Action.DECOY_MANAGE,
            Action.INCIDENT_MANAGE,
            Action.INCIDENT_NOTIFY,
            Action.LEAK_SCAN,
            Action.LEAK_TRACE,
            Action.VAULT_VERIFY,
            Action.REGISTER_READ,
            *RIGHTS_ACTIONS,
            Action.RETENTION_PURGE,
            Action.RETENTION_HOLD,
            Action.RIGHTS_ACCESS_REPORT,
            Action.IDENTITY_LINK,
            Action.IDENTITY_PAIRS,
            Action.MIGRATION_APPROVE,
            Action.MIGRATION_CLOSE,
            Action.USER_APPROVE,
            Action.TOKEN_MANAGE,
        }
    ),
    Role.MIGRATION_OPERATOR: frozenset(
        {
            Action.MIGRATION_PLAN,
            Action.MIGRATION_RUN,
            Action.MIGRATION_IMPORT,
            Action.MIGRATION_CLOSE,
            Action.EXPORT_CREATE,
            Action.TOKEN_MANAGE,
        }
    ),
    Role.AUDITOR: frozenset(
        {
            Action.AUDIT_VERIFY,
            Action.AUDIT_READ,
            Action.VAULT_VERIFY,
            Action.REGISTER_READ,
            Action.TOKEN_MANAGE,
            Action.BACKUP_DRILL,
        }
    ),
}

# Compartments the patient actions of a role unwrap: the cryptographic side of the rules.
_PATIENT_COMPARTMENTS: dict[Role, frozenset[Compartment]] = {
    Role.RECEPTION: _ADMIN_ONLY,
    Role.BIOLOGIST: _BOTH,
    Role.IDENTITY_OFFICER: _ADMIN_ONLY,  # identities only: never the clinical key
}

# Non-browsing actions that still have to unwrap lab keys: re-encrypting a lab,
# creating a lab's keys, writing an export or a migration package.
_KEY_HANDLING = frozenset(
    {
        Action.KEYS_ROTATE,
        Action.LAB_MANAGE,
        Action.MIGRATION_RUN,
        Action.MIGRATION_IMPORT,
        Action.EXPORT_CREATE,
    }
)

# Letters to the patients of a breach (GDPR art. 34) need names and addresses only;
# the retention purge opens the admin compartment of the expired records only, in the
# service, to check their clear days against the sealed ones (nothing is shown);
# matching a requester's traits (rights.lookup) and weighing an erasure against the
# retention rules (rights.erase: last visit) open the admin compartment inside the
# service, which answers with lab and record id only; duplicate linkage compares
# identity traits, decrypted inside the service; the front-desk index backfill
# decrypts birth names and dates inside the service to compute digests only.
_IDENTITY_HANDLING = frozenset(
    {
        Action.VAULT_REINDEX,
        Action.INCIDENT_NOTIFY,
        Action.RIGHTS_LOOKUP,
        Action.RIGHTS_ERASE,
        Action.RETENTION_PURGE,
        Action.IDENTITY_LINK,
    }
)

# What a restricted record (GDPR art. 18) still allows: it is kept and may be read
# by whoever may read it; it is not changed, erased or given new specimens until
# the DPO lifts the restriction. Exports and migration packages leave it out.
RESTRICTED_REFUSED = frozenset(
    {Action.PATIENT_UPDATE, Action.CLINICAL_UPDATE, Action.PATIENT_ERASE, Action.SPECIMEN_CREATE}
)
# The patient's copy of everything held (GDPR art. 15) holds both compartments.
_RECORD_HANDLING = frozenset({Action.RIGHTS_ACCESS_REPORT})

_BREAK_GLASS_ACTIONS = frozenset({Action.PATIENT_SEARCH, Action.PATIENT_READ})
_BREAK_GLASS_ROLES = frozenset({Role.RECEPTION, Role.BIOLOGIST})

# Recorded by the audit log, never decided here.
_EVENTS_ONLY = frozenset(
    {
        Action.LOGIN,
        Action.LOGOUT,
        Action.BREAK_GLASS,
        Action.KEY_OPERATION,
        Action.CUSTODY_UNSEAL,
        Action.CUSTODY_APPROVE,
        Action.BACKUP_RESTORE,
        Action.VAULT_WRITE,
        Action.RIGHTS_OVERDUE,
    }
)


@dataclass(frozen=True, slots=True)
class BreakGlass:
    """An emergency widening of a session: why, and until when."""

    reason: str
    until: datetime

    def active(self, now: datetime) -> bool:
        return now < self.until


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking: a named person, through a session or an API token.

    ``labs`` holds lab codes, or ``"*"`` for a network-wide account. ``scopes`` is
    None for a session (every action of the role) and the token's scopes for an
    API token.
    """

    username: str
    user_id: str
    role: Role
    labs: frozenset[str]
    scopes: frozenset[Action] | None = None
    break_glass: BreakGlass | None = None
    session_id: str | None = None

    @property
    def via_token(self) -> bool:
        return self.scopes is not None

    @property
    def network_wide(self) -> bool:
        """Covers every lab: only roles allowed to hold the marker."""
        return NETWORK_WIDE in self.labs and self.role in NETWORK_ROLES

    def covers(self, lab_id: str | None) -> bool:
        """Whether a resource of ``lab_id`` (None: network-wide) is in this actor's labs."""
        if self.network_wide:
            return True
        return lab_id is not None and lab_id != NETWORK_WIDE and lab_id in self.labs


@dataclass(frozen=True, slots=True)
class Resource:
    """What an action is about: a kind, its lab (None: network-wide), maybe a patient id.

    ``restricted``: the patient's record is under a restriction of processing.
    """

    kind: str
    lab_id: str | None = None
    patient_id: str | None = None
    restricted: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's answer. ``reason`` is plain English and never holds a personal value.

    ``compartments`` are the keys the session may unwrap for this action;
    ``break_glass_used`` means it was allowed only through break-glass, and the
    caller must raise an alert.
    """

    allowed: bool
    reason: str
    compartments: frozenset[Compartment] = _NONE
    break_glass_used: bool = False

    def __bool__(self) -> bool:
        return self.allowed


def role_actions(role: Role) -> frozenset[Action]:
    """Every action a role may take in its own labs (what a token may be scoped to)."""
    return _GRANTS[role]


@cache  # the grants are constants: computed once per role
def compartments_for(role: Role) -> frozenset[Compartment]:
    """The most a session of ``role`` may ever unwrap; open the vault with no more."""
    allowed: set[Compartment] = set()
    for action in _GRANTS[role]:
        allowed |= _compartments(role, action)
    return frozenset(allowed)


def _compartments(role: Role, action: Action) -> frozenset[Compartment]:
    if action in PATIENT_ACTIONS or action is Action.CLINICAL_UPDATE:
        return _PATIENT_COMPARTMENTS.get(role, _NONE)
    if action in IDENTITY_ACTIONS:  # statuses and merges read and write identities only
        return _ADMIN_ONLY
    if action in _KEY_HANDLING:
        return _BOTH
    if action in _IDENTITY_HANDLING:
        return _ADMIN_ONLY
    if action in _RECORD_HANDLING:
        return _BOTH
    return _NONE


def _deny(reason: str) -> Decision:
    return Decision(False, reason)


def can(
    actor: Actor, action: Action, resource: Resource, *, now: datetime | None = None
) -> Decision:
    """Decide whether ``actor`` may take ``action`` on ``resource``.

    Denies by default; every denial says why. ``now`` is only for tests.
    """
    if action in _EVENTS_ONLY:
        return _deny(f"{action}: an authentication event, recorded but not decided by the policy")
    if actor.scopes is not None and action not in actor.scopes:
        return _deny(f"{action}: not in the scopes of this API token")
    if action not in _GRANTS[actor.role]:
        return _deny(f"{action}: not allowed to the {actor.role} role")
    if action is Action.TOKEN_MANAGE:
        if actor.via_token:
            return _deny(f"{action}: API tokens cannot manage tokens; log in")
        return Decision(True, f"{action}: every person manages their own API tokens")
    if action is Action.USER_APPROVE:
        # Which requests a person may approve (never their own, never from their own
        # lab) is the second-person rule of ``_approvals``; here only role and session.
        if actor.via_token:
            return _deny(f"{action}: approving an account needs a login session, not a token")
        return Decision(True, f"{action}: allowed to the {actor.role} role as a second person")
    if resource.restricted and action in RESTRICTED_REFUSED:
        return _deny(
            f"{action}: this record is restricted (GDPR art. 18); the DPO must lift it first"
        )
    where = f"lab {resource.lab_id}" if resource.lab_id is not None else "network-wide resource"
    if actor.covers(resource.lab_id):
        return _allowed_in_labs(actor.role, action)
    if _break_glass_applies(actor, action, now if now is not None else datetime.now(UTC)):
        return Decision(
            True,
            f"{action}: {where} is outside this account's labs; allowed by break-glass",
            _compartments(actor.role, action),
            break_glass_used=True,
        )
    if resource.lab_id is None:
        return _deny(f"{action}: a network-wide resource needs a network-wide account")
    return _deny(f"{action}: {where} is outside this account's labs")


@cache  # immutable, and the same for every resource of the actor's labs
def _allowed_in_labs(role: Role, action: Action) -> Decision:
    return Decision(
        True, f"{action}: allowed to the {role} role in its labs", _compartments(role, action)
    )


def scopes_cover(actor: Actor, actions: Iterable[Action]) -> Decision:
    """Whether an API token's scopes hold every action one API operation performs.

    An operation is allowed to a token only if it may take all of them: a search
    that returns patients is also a read of each, so ``patient.search`` alone
    returns nothing. A session (no scopes) passes; ``can`` still decides each action.
    """
    if actor.scopes is None:
        return Decision(True, "a session: the role decides each action")
    missing = sorted(set(actions) - actor.scopes)
    if missing:
        return _deny(f"{', '.join(missing)}: not in the scopes of this API token")
    return Decision(True, "every action of this operation is in the token's scopes")


def _break_glass_applies(actor: Actor, action: Action, now: datetime) -> bool:
    return (
        actor.break_glass is not None
        and actor.break_glass.active(now)
        and actor.role in _BREAK_GLASS_ROLES
        and action in _BREAK_GLASS_ACTIONS
        and not actor.via_token
    )
