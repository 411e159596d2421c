"""AuditEvent: the tamper-evident audit log, read-only, for the DPO and auditors.

Each event of the Merkle log becomes one AuditEvent; its logical id carries
the leaf index and the event time (``<seq>-<yyyymmddhhmmssffffff>``) so a read
is one indexed query on the time column. Reading the log is itself decided by
the policy (``audit.read``, network-wide) and written to the log.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent

from etanche.errors import RecordNotFound
from etanche.service import AuditEvent, Outcome
from etanche.web._auth import api_person
from etanche.web._state import Person
from etanche.web.fhir._common import (
    ACTION_SYSTEM,
    AUDIT_SEQ_EXTENSION_URL,
    OBJECT_SYSTEM,
    USER_SYSTEM,
    checked,
    only_params,
    patient_id_param,
    searchset,
    token,
)
from etanche.web.fhir._outcome import FhirResponse, FhirRoute, SearchError
from etanche.web.fhir._request import ERRORS

router = APIRouter(route_class=FhirRoute)

SEARCH_PARAMS = ("date", "agent-name", "entity", "patient", "subtype", "_count")
MAX_COUNT = 1000
DEFAULT_COUNT = 100

_DCM = "http://dicom.nema.org/resources/ontology/DCM"
_TYPES = {
    "patient.search": ("110112", "Query"),
    "patient": ("110110", "Patient Record"),
    "specimen": ("110110", "Patient Record"),
    "export": ("110106", "Export"),
    "migration": ("110106", "Export"),
    "audit": ("110101", "Audit Log Used"),
    "alert": ("110113", "Security Alert"),
    "decoy": ("110113", "Security Alert"),
    "incident": ("110113", "Security Alert"),
    "auth": ("110114", "User Authentication"),
}
_APPLICATION = ("110100", "Application Activity")
_OUTCOMES = {Outcome.OK: "0", Outcome.DENIED: "4", Outcome.FAILED: "8", Outcome.ERROR: "12"}
_ID = re.compile(r"(?P<seq>[0-9]{1,18})-(?P<at>[0-9]{20})")
_PREFIXES = ("eq", "ge", "gt", "le", "lt")


def event_id(seq: int, event: AuditEvent) -> str:
    return f"{seq}-{event.at.astimezone(UTC):%Y%m%d%H%M%S%f}"


def _parse_id(value: str) -> tuple[int, datetime] | None:
    """``<seq>-<yyyymmddhhmmssffffff>`` → (seq, UTC time), None if it cannot be one."""
    match = _ID.fullmatch(value)
    if match is None:
        return None
    try:
        at = datetime.strptime(match["at"], "%Y%m%d%H%M%S%f").replace(tzinfo=UTC)
        at + timedelta(microseconds=1)  # the end of the one-microsecond window exists
    except (ValueError, OverflowError):
        return None
    return int(match["seq"]), at


def _action_code(action: str) -> str:
    verb = action.rsplit(".", 1)[-1]
    return {"create": "C", "read": "R", "update": "U", "erase": "D"}.get(verb, "E")


def audit_event_resource(seq: int, event: AuditEvent) -> dict[str, Any]:
    """The FHIR AuditEvent of one log event, validated by fhir.resources."""
    kind = _TYPES.get(event.action) or _TYPES.get(event.action.split(".", 1)[0], _APPLICATION)
    agent: dict[str, Any] = {
        "who": {
            "identifier": {"system": USER_SYSTEM, "value": event.actor},
            "display": event.actor,
        },
        "name": event.actor,
        "role": [{"text": event.role}],
        "requestor": True,
    }
    if event.client:
        agent["network"] = {"address": event.client, "type": "2"}
    entities: list[dict[str, Any]] = [
        {"what": {"identifier": {"system": OBJECT_SYSTEM, "value": oid}}}
        for oid in event.object_ids
    ]
    details = [
        {"type": key, "valueString": str(value)}
        for key, value in sorted(event.details.items())
        if key and value is not None and str(value).strip()  # FHIR strings are never empty
    ]
    if details:
        entities.append({"description": "event details", "detail": details})
    doc: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": event_id(seq, event),
        "extension": [{"url": AUDIT_SEQ_EXTENSION_URL, "valueInteger": seq}],
        "type": {"system": _DCM, "code": kind[0], "display": kind[1]},
        "subtype": [{"system": ACTION_SYSTEM, "code": event.action}],
        "action": _action_code(event.action),
        "recorded": event.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "outcome": _OUTCOMES[event.outcome],
        "agent": [agent],
        "source": {
            "site": "Étanche",
            "observer": {"display": "Étanche audit log"},
            "type": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                    "code": "4",
                    "display": "Application Server",
                }
            ],
        },
    }
    if event.outcome is not Outcome.OK and "reason" in event.details:
        doc["outcomeDesc"] = str(event.details["reason"])
    if event.purpose:
        doc["purposeOfEvent"] = [{"text": event.purpose}]
    if entities:
        doc["entity"] = entities
    return checked(FhirAuditEvent, doc)


def _interval(value: str) -> tuple[datetime, datetime]:
    """A FHIR date or dateTime → [start, end) in UTC (a bare date is a UTC day)."""
    if len(value) == 10:
        day = date.fromisoformat(value)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return start, start + timedelta(days=1)
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment, moment + timedelta(microseconds=1)


def _date_bounds(values: list[str]) -> tuple[datetime | None, datetime | None]:
    since: datetime | None = None
    until: datetime | None = None
    for raw in values:
        prefix = raw[:2] if raw[:2] in _PREFIXES else "eq"
        text = raw[2:] if raw[:2] in _PREFIXES else raw
        try:
            start, end = _interval(text)
        except (ValueError, OverflowError):
            raise SearchError("date", "expected [eq|ge|gt|le|lt]YYYY-MM-DD or a dateTime") from None
        low = {"eq": start, "ge": start, "gt": end}.get(prefix)
        high = {"eq": end, "le": end, "lt": start}.get(prefix)
        if low is not None:
            since = low if since is None else max(since, low)
        if high is not None:
            until = high if until is None else min(until, high)
    return since, until


@router.get(
    "/AuditEvent",
    response_class=FhirResponse,
    summary="Search the audit log, newest first (DPO, auditor)",
    responses=ERRORS,
)
def search_audit_events(
    request: Request,
    date_: list[str] | None = Query(
        None, alias="date", description="[eq|ge|gt|le|lt]date or dateTime; repeatable"
    ),
    agent_name: str | None = Query(None, alias="agent-name", description="User name of the actor"),
    entity: str | None = Query(None, description="Object id (patient, specimen, alert…)"),
    patient: str | None = Query(None, description="Patient/<id> or <id>"),
    subtype: str | None = Query(None, description=f"Action, e.g. `{ACTION_SYSTEM}|patient.read`"),
    count: int = Query(DEFAULT_COUNT, alias="_count", ge=1, le=MAX_COUNT),
    person: Person = Depends(api_person),
) -> Response:
    only_params(request, SEARCH_PARAMS, repeatable=("date",))
    object_id = entity
    if patient is not None:
        object_id = patient_id_param(patient, "patient")
        if entity is not None and entity != object_id:
            raise SearchError("entity", "entity and patient name different objects")
    if object_id is not None and not 0 < len(object_id) <= 64:
        raise SearchError("entity", "expected an object id (1 to 64 characters)")
    action: str | None = None
    if subtype is not None:
        system, action = token(subtype)
        if system not in (None, ACTION_SYSTEM) or not action:
            raise SearchError("subtype", f"expected an action code of {ACTION_SYSTEM}")
    since, until = _date_bounds(date_ or [])
    objects = [object_id] if object_id else []
    oversight = person.oversight()
    rows = oversight.log_reader(objects)(
        actor=agent_name,
        object_id=object_id,
        action=action,
        since=since,
        until=until,
        limit=count,
        newest_first=True,
    )
    resources = [audit_event_resource(seq, event) for seq, event in rows]
    used = ",".join(sorted(name for name in request.query_params if name != "_count"))
    oversight.log_read(objects, len(resources), used)
    return FhirResponse(searchset(request, resources))


@router.get(
    "/AuditEvent/{audit_event_id}",
    response_class=FhirResponse,
    summary="Read one audit event (<seq>-<time>)",
    responses=ERRORS,
)
def read_audit_event(audit_event_id: str, person: Person = Depends(api_person)) -> Response:
    oversight = person.oversight()
    events = oversight.log_reader([])
    found: dict[str, Any] | None = None
    wanted = _parse_id(audit_event_id)
    if wanted is not None:
        seq, at = wanted
        rows = events(since=at, until=at + timedelta(microseconds=1), limit=MAX_COUNT)
        for row_seq, event in rows:
            if row_seq == seq:
                found = audit_event_resource(row_seq, event)
    oversight.log_read([], int(found is not None), "_id")
    if found is None:
        raise RecordNotFound("AuditEvent: no resource with this id")
    return FhirResponse(found)
