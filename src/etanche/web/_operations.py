"""Every API operation and every action it performs: what an API token must hold.

One table for the FHIR and JSON APIs. An operation is refused to a token unless
the token's scopes hold *all* the actions the operation performs, not just the
one it is named after: a search that returns patients is a search and a read of
each, a patient's sheet lists their specimens too. ``bind`` checks at start-up
that every route under ``/fhir`` and ``/api/v1`` has its row (an unmapped route
stops the server), and ``api_person`` checks the token against the row of the
route it serves. The service still decides each action with the policy; this
table only keeps a token from doing more than its scopes name. README.md
("API tokens and their scopes") prints the same table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from starlette.routing import BaseRoute

from etanche.errors import ConfigError
from etanche.names import Action

__all__ = [
    "OPERATIONS",
    "SCOPED_PREFIXES",
    "Operation",
    "Operations",
    "bind",
    "routes_of",
    "unmapped",
]

SCOPED_PREFIXES = ("/fhir", "/api/v1")
"""Paths whose every route must be in the table."""

_NONE: frozenset[Action] = frozenset()
_SEARCH_READ = frozenset({Action.PATIENT_SEARCH, Action.PATIENT_READ})
_READ = frozenset({Action.PATIENT_READ})


def _one(action: Action) -> frozenset[Action]:
    return frozenset({action})


# "METHOD /path" → every action the operation may perform. Operations with no
# action are public (status, login, unsealing) or concern the caller only
# (whoami, logout), or answer "not supported".
OPERATIONS: dict[str, frozenset[Action]] = {
    # -- FHIR ------------------------------------------------------------------------
    "GET /fhir/metadata": _NONE,
    "GET /fhir/Patient": _NONE,  # refused: search parameters go in a POST body
    "POST /fhir/Patient/_search": _SEARCH_READ,
    "GET /fhir/Patient/{patient_id}": _READ,
    "POST /fhir/Patient": _one(Action.PATIENT_CREATE),
    "GET /fhir/Specimen": _one(Action.SPECIMEN_LIST),
    "GET /fhir/Specimen/{specimen_id}": _one(Action.SPECIMEN_LIST),
    "POST /fhir/Specimen": _one(Action.SPECIMEN_CREATE),
    "GET /fhir/Observation": _READ,
    "GET /fhir/Observation/{observation_id}": _READ,
    "GET /fhir/Coverage": _READ,
    "GET /fhir/Coverage/{coverage_id}": _READ,
    "PUT /fhir/Coverage/{coverage_id}": frozenset({Action.PATIENT_READ, Action.PATIENT_UPDATE}),
    "GET /fhir/AuditEvent": _one(Action.AUDIT_READ),
    "GET /fhir/AuditEvent/{audit_event_id}": _one(Action.AUDIT_READ),
    **{f"{m} /fhir/{{rest:path}}": _NONE for m in ("DELETE", "GET", "PATCH", "POST", "PUT")},
    # -- JSON API: custody and people ------------------------------------------------
    "GET /api/v1/status": _NONE,
    "POST /api/v1/custody/unseal": _NONE,
    "POST /api/v1/custody/approve": _NONE,
    "POST /api/v1/custody/reshare": _one(Action.KEYS_ROTATE),
    "POST /api/v1/login": _NONE,
    "POST /api/v1/logout": _NONE,
    "GET /api/v1/whoami": _NONE,
    "POST /api/v1/break-glass": _one(Action.BREAK_GLASS),  # never to a token
    "POST /api/v1/users": _one(Action.USER_MANAGE),
    "GET /api/v1/users": _one(Action.USER_MANAGE),
    "POST /api/v1/users/{username}/disable": _one(Action.USER_MANAGE),
    "POST /api/v1/users/{username}/reset-totp": _one(Action.USER_MANAGE),
    "GET /api/v1/users/requests": _one(Action.USER_APPROVE),
    "POST /api/v1/users/{username}/approve": _one(Action.USER_APPROVE),
    "POST /api/v1/users/{username}/refuse": _one(Action.USER_APPROVE),
    "POST /api/v1/users/{username}/role": _one(Action.USER_MANAGE),
    "POST /api/v1/users/{username}/reset-password": _one(Action.USER_MANAGE),
    "POST /api/v1/tokens": _one(Action.TOKEN_MANAGE),
    "GET /api/v1/tokens": _one(Action.TOKEN_MANAGE),
    "POST /api/v1/tokens/{token_id}/revoke": _one(Action.TOKEN_MANAGE),
    # -- JSON API: patients ----------------------------------------------------------
    "POST /api/v1/patients/search": _SEARCH_READ,
    "POST /api/v1/patients/link": _one(Action.PATIENT_LINK),
    "GET /api/v1/patients/{patient_id}": _READ | {Action.SPECIMEN_LIST},
    "POST /api/v1/patients/{patient_id}/erase": _one(Action.PATIENT_ERASE),
    # -- JSON API: identity vigilance (RNIV statuses, merges) -------------------------
    "GET /api/v1/identity/{patient_id}/status": _READ,
    "POST /api/v1/identity/{patient_id}/validate": _one(Action.IDENTITY_VALIDATE),
    "POST /api/v1/identity/{patient_id}/retrieve-ins": _one(Action.IDENTITY_RETRIEVE),
    "POST /api/v1/identity/{patient_id}/qualify": _one(Action.IDENTITY_QUALIFY),
    "POST /api/v1/identity/{patient_id}/downgrade": _one(Action.IDENTITY_DOWNGRADE),
    "POST /api/v1/identity/{patient_id}/restore": _one(Action.IDENTITY_RESTORE),
    "GET /api/v1/identity/merges": _one(Action.IDENTITY_REVIEW),
    "POST /api/v1/identity/merges": _one(Action.IDENTITY_MERGE),
    "POST /api/v1/identity/merges/{merge_id}/approve": _one(Action.IDENTITY_MERGE),
    "POST /api/v1/identity/merges/{merge_id}/unmerge": _one(Action.IDENTITY_UNMERGE),
    # -- JSON API: keys, exports, leaks, incidents -----------------------------------
    "POST /api/v1/keys/rotate-kek": _one(Action.KEYS_ROTATE),
    "POST /api/v1/keys/rotate-lab/{lab_id}": _one(Action.KEYS_ROTATE),
    "POST /api/v1/backups": _one(Action.BACKUP_CREATE),
    "POST /api/v1/backups/drill": _one(Action.BACKUP_DRILL),
    "POST /api/v1/exports": _one(Action.EXPORT_CREATE),
    "POST /api/v1/leak/scan/match": _one(Action.LEAK_SCAN),
    "POST /api/v1/leak/trace": _one(Action.LEAK_TRACE),
    "POST /api/v1/incidents": frozenset({Action.INCIDENT_MANAGE, Action.LEAK_SCAN}),
    "GET /api/v1/incidents": _one(Action.INCIDENT_MANAGE),
    "GET /api/v1/incidents/{incident_id}": _one(Action.INCIDENT_MANAGE),
    "POST /api/v1/incidents/{incident_id}/notes": _one(Action.INCIDENT_MANAGE),
    "POST /api/v1/incidents/{incident_id}/describe": _one(Action.INCIDENT_MANAGE),
    "POST /api/v1/incidents/{incident_id}/filed": _one(Action.INCIDENT_MANAGE),
    "POST /api/v1/incidents/{incident_id}/assess": _one(Action.INCIDENT_MANAGE),
    "POST /api/v1/incidents/{incident_id}/close": _one(Action.INCIDENT_MANAGE),
    "POST /api/v1/incidents/{incident_id}/report": _one(Action.INCIDENT_MANAGE),
    "POST /api/v1/incidents/{incident_id}/notify": _one(Action.INCIDENT_NOTIFY),
    # -- JSON API: migrations --------------------------------------------------------
    "POST /api/v1/migrations/plan": _one(Action.MIGRATION_PLAN),
    "POST /api/v1/migrations/approve": _one(Action.MIGRATION_APPROVE),
    "POST /api/v1/migrations/check": _one(Action.MIGRATION_PLAN),
    "POST /api/v1/migrations/run": _one(Action.MIGRATION_RUN),
    "POST /api/v1/migrations/import": _one(Action.MIGRATION_IMPORT),
    "POST /api/v1/migrations/{plan_id}/close": _one(Action.MIGRATION_CLOSE),
    "POST /api/v1/migrations/{plan_id}/certificate": _one(Action.MIGRATION_CLOSE),
    "GET /api/v1/migrations/signer-key": _one(Action.MIGRATION_CLOSE),
    "GET /api/v1/migrations": _one(Action.MIGRATION_CLOSE),
    # -- JSON API: supervision -------------------------------------------------------
    "GET /api/v1/audit/public-key": _one(Action.AUDIT_VERIFY),
    "POST /api/v1/audit/head": _one(Action.AUDIT_VERIFY),
    "POST /api/v1/audit/prove": _one(Action.AUDIT_VERIFY),
    "POST /api/v1/audit/events": _one(Action.AUDIT_READ),
    "GET /api/v1/audit/log": _one(Action.AUDIT_VERIFY),
    "GET /api/v1/audit/log/events": _one(Action.AUDIT_VERIFY),
    "POST /api/v1/audit/verification-failure": _one(Action.AUDIT_VERIFY),
    "GET /api/v1/alerts": _one(Action.ALERT_READ),
    "POST /api/v1/alerts/ack": _one(Action.ALERT_ACK),
    "GET /api/v1/alerts/rules": _one(Action.ALERT_READ),
    "POST /api/v1/vault/verify": _one(Action.VAULT_VERIFY),
    "POST /api/v1/vault/reindex": _one(Action.VAULT_REINDEX),
    "POST /api/v1/decoys/plant": _one(Action.DECOY_MANAGE),
    "GET /api/v1/decoys/count": _one(Action.DECOY_MANAGE),
    "GET /api/v1/register": _one(Action.REGISTER_READ),
    # -- JSON API: patients' rights requests (the DPO) ---------------------------------
    "POST /api/v1/rights-requests": _one(Action.RIGHTS_ADD),
    "GET /api/v1/rights-requests": _one(Action.RIGHTS_READ),
    "POST /api/v1/rights-requests/lookup": _one(Action.RIGHTS_LOOKUP),
    "POST /api/v1/rights-requests/check": _one(Action.RIGHTS_CHECK),
    "GET /api/v1/rights-requests/{request_id}": _one(Action.RIGHTS_READ),
    "POST /api/v1/rights-requests/{request_id}/identity": _one(Action.RIGHTS_VERIFY),
    "POST /api/v1/rights-requests/{request_id}/record": _one(Action.RIGHTS_LINK),
    "POST /api/v1/rights-requests/{request_id}/extend": _one(Action.RIGHTS_EXTEND),
    "POST /api/v1/rights-requests/{request_id}/close": frozenset(
        {Action.RIGHTS_CLOSE, Action.RIGHTS_ERASE}
    ),
    "POST /api/v1/rights-requests/{request_id}/lift": _one(Action.RIGHTS_LIFT),
    "POST /api/v1/retention/purge": _one(Action.RETENTION_PURGE),
    "POST /api/v1/retention/hold": _one(Action.RETENTION_HOLD),
    "POST /api/v1/retention/release": _one(Action.RETENTION_HOLD),
    "POST /api/v1/rights/access-report": _one(Action.RIGHTS_ACCESS_REPORT),
    "POST /api/v1/rights/accesses": _one(Action.RIGHTS_ACCESS_REPORT),
    "POST /api/v1/identity/link": _one(Action.IDENTITY_LINK),
    "GET /api/v1/identity/pairs": _one(Action.IDENTITY_PAIRS),
    # -- outside the prefixes, but served to bearer tokens ---------------------------
    "GET /openapi.json": _NONE,
}


@dataclass(frozen=True, slots=True)
class Operation:
    """One row of the table: its name (``METHOD /path``) and its actions."""

    name: str
    actions: frozenset[Action]


class Operations:
    """The table bound to one application's routes: the operation a request is."""

    def __init__(self, by_endpoint: dict[tuple[Callable[..., Any], str], Operation]) -> None:
        self._by_endpoint = by_endpoint

    def of(self, route: object, method: str) -> Operation | None:
        """The operation of the route a request matched (None: not in the table)."""
        endpoint = getattr(route, "endpoint", None)
        if endpoint is None:
            return None
        wanted = "GET" if method == "HEAD" else method
        return self._by_endpoint.get((endpoint, wanted))


def routes_of(app: FastAPI) -> Iterator[tuple[str, str, BaseRoute]]:
    """(method, full path, route) of every endpoint of ``app``, included routers too."""
    try:  # FastAPI ≥ 0.150 keeps included routers lazily; this flattens them
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI lists routes flat
        for route in app.routes:
            for method in sorted(getattr(route, "methods", None) or ()):
                yield method, str(getattr(route, "path", "")), route
        return
    for context in iter_route_contexts(app.routes):
        for method in sorted(context.methods or ()):
            yield method, str(context.path), context.original_route


def _scoped(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in SCOPED_PREFIXES)


def unmapped(routes: Iterable[tuple[str, str, BaseRoute]]) -> list[str]:
    """``METHOD /path`` of every scoped route the table lacks."""
    return [
        f"{method} {path}"
        for method, path, _ in routes
        if method != "HEAD" and _scoped(path) and f"{method} {path}" not in OPERATIONS
    ]


def bind(app: FastAPI) -> Operations:
    """The table for ``app``'s routes; a scoped route without a row is a ConfigError."""
    routes = list(routes_of(app))
    missing = unmapped(routes)
    if missing:
        raise ConfigError(
            "web/_operations.py", "OPERATIONS", ", ".join(missing), "no scope mapping"
        )
    found: dict[tuple[Callable[..., Any], str], Operation] = {}
    for method, path, route in routes:
        name = f"{method} {path}"
        endpoint = getattr(route, "endpoint", None)
        if name in OPERATIONS and endpoint is not None:
            found[(endpoint, method)] = Operation(name, OPERATIONS[name])
    return Operations(found)
