"""The DPO's rights requests (GDPR art. 12, 15-18, 21): every step decided and audited.

Registered, identity checked (the kind of document seen, by whom, when; never
the document), linked to the record it is about, extended once with a reason,
closed granted or refused with a reason. The deadline of each step is logged
in the audit log, which the deadline check reads (``_rights_deadlines``).
Closing an erasure request as granted erases the record only where no
retention duty applies (``_rights_erasure``); a granted restriction sets the
flag the policy honours. Audit events carry the request id, the kind, dates
and pseudonymous record ids; never the contact, a reason or a trait.
"""

from __future__ import annotations

import builtins
import secrets
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from etanche.access import Action, Actor
from etanche.audit import DetailValue, Outcome, is_decoy
from etanche.domain import (
    DOCUMENTS,
    KINDS,
    OUTCOMES,
    RetentionRules,
    due_at,
    extended_due,
    first_due,
    paris_day,
)
from etanche.errors import UsageError
from etanche.service._operations import Operations
from etanche.service._rights_deadlines import Finding, find_overdue, report_overdue
from etanche.service._rights_erasure import ErasureVerdict, assess_erasure
from etanche.service._trail import Trail
from etanche.vault import RightsStore, StoredRequest, Vault

__all__ = ["LookupMatch", "RightsRequests"]

REQUEST = "rights_request"
MAX_CONTACT = 300
MAX_TEXT = 1000


def _text(value: str | None, what: str, limit: int, *, required: bool = True) -> str | None:
    cleaned = " ".join((value or "").split())
    if not cleaned:
        if required:
            raise UsageError(f"{what}: must not be empty")
        return None
    if len(cleaned) > limit:
        raise UsageError(f"{what}: at most {limit} characters")
    return cleaned


def _choice(value: str, what: str, known: dict[str, Any]) -> str:
    token = value.strip().lower().replace("-", "_")
    if token not in known:
        raise UsageError(f"{what}: unknown {value!r} (expected any of {', '.join(known)})")
    return token


def _past_moment(moment: datetime | None, what: str, now: datetime) -> datetime:
    if moment is None:
        return now
    if moment.tzinfo is None:
        raise UsageError(f"{what}: give a time zone (e.g. 2026-12-03T09:30+01:00)")
    if moment > now:
        raise UsageError(f"{what}: must not be in the future")
    return moment.astimezone(UTC)


class LookupMatch(tuple[str, str, str]):
    """(lab, record id, matched by): what a lookup returns, and nothing else."""

    __slots__ = ()

    @property
    def lab_id(self) -> str:
        return self[0]

    @property
    def patient_id(self) -> str:
        return self[1]

    @property
    def matched_by(self) -> str:
        return self[2]


class RightsRequests(Operations):
    """The rights requests of one person (the DPO) on one vault session."""

    def __init__(
        self,
        vault: Vault,
        trail: Trail,
        actor: Actor,
        *,
        retention: RetentionRules,
        client: str | None = None,
    ) -> None:
        super().__init__(vault, trail, actor, client=client)
        self.store = RightsStore(vault)
        self.retention = retention

    # -- reading -----------------------------------------------------------------------
    def list(self) -> builtins.list[StoredRequest]:
        """Every request, oldest receipt first."""
        details: dict[str, DetailValue] = {"operation": "list"}
        self._decide(Action.RIGHTS_READ, REQUEST, None, details)
        found = self._run(Action.RIGHTS_READ, details, self.store.list)
        self._record(Action.RIGHTS_READ, Outcome.OK, {**details, "count": len(found)})
        return found

    def get(self, request_id: str) -> StoredRequest:
        details: dict[str, DetailValue] = {"operation": "show", "request": request_id}
        self._decide(Action.RIGHTS_READ, REQUEST, None, details)
        found = self._run(Action.RIGHTS_READ, details, lambda: self.store.get(request_id))
        self._record(Action.RIGHTS_READ, Outcome.OK, details, [request_id])
        return found

    def restricted(self, patient_id: str) -> bool:
        """Whether a record is restricted (a clear fact the pages show as a banner)."""
        return bool(self.store.restricted([patient_id]))

    # -- registering -------------------------------------------------------------------
    def add(
        self,
        kind: str,
        *,
        contact: str,
        received_at: datetime | None = None,
        note: str | None = None,
        patient_id: str | None = None,
        now: datetime | None = None,
    ) -> StoredRequest:
        """Register a request received at ``received_at`` (default now): due one month later."""
        details: dict[str, DetailValue] = {"operation": "add"}
        self._decide(Action.RIGHTS_ADD, REQUEST, None, details)
        moment = now or datetime.now(UTC)
        kind = _choice(kind, "kind", KINDS)
        received = _past_moment(received_at, "received at", moment)
        contact_text = _text(contact, "requester contact", MAX_CONTACT)
        note_text = _text(note, "note", MAX_TEXT, required=False)
        lab = self.vault.lab_of(patient_id) if patient_id else None
        due = first_due(received)
        request_id = f"DR-{paris_day(received):%Y%m%d}-{secrets.token_hex(3)}"
        body: dict[str, Any] = {
            "contact": contact_text,
            "note": note_text,
            "registered_by": self.actor.username,
            "first_due": due.isoformat(),
            "due": due.isoformat(),
            "identity": None,
            "extension": None,
            "outcome": None,
            "reason": None,
            "legal": None,
            "timeline": [],
        }
        stored = StoredRequest(
            request_id, kind, "received", lab, patient_id, received, due_at(due), None, body
        )
        stored = _step(stored, moment, self.actor.username, "received", None)
        details.update(
            {"request": request_id, "kind": kind, "received": received.isoformat(), "due": str(due)}
        )
        self._run(Action.RIGHTS_ADD, details, lambda: self.store.put(stored))
        self._record(Action.RIGHTS_ADD, Outcome.OK, details, _objects(stored))
        return stored

    def lookup(
        self, birth_name: str, first_name: str, birth_date: date, nir: str | None = None
    ) -> builtins.list[LookupMatch]:
        """The requester's records across the network, by blind index: lab and id only."""
        details: dict[str, DetailValue] = {"operation": "lookup", "nir": nir is not None}
        decision = self._decide(Action.RIGHTS_LOOKUP, "patient", None, details)
        self.vault.unlock(decision.compartments)
        matches: dict[str, LookupMatch] = {}

        def search() -> None:
            for patient in self.vault.find_by_name(birth_name, first_name, birth_date):
                matches[patient.id] = LookupMatch((patient.lab_id, patient.id, "name_dob"))
            if nir:
                for patient in self.vault.find_by_nir(nir):
                    how = "name_dob+nir" if patient.id in matches else "nir"
                    matches[patient.id] = LookupMatch((patient.lab_id, patient.id, how))

        self._run(Action.RIGHTS_LOOKUP, details, search)
        # a decoy is nobody's record: it never answers a requester
        found = [m for m in matches.values() if not is_decoy(self.vault, m.patient_id)]
        found.sort()
        ids = [m.patient_id for m in found]
        self._record(Action.RIGHTS_LOOKUP, Outcome.OK, {**details, "results": len(found)}, ids)
        return found

    # -- the steps ---------------------------------------------------------------------
    def verify_identity(
        self, request_id: str, document: str, *, now: datetime | None = None
    ) -> StoredRequest:
        """Record that the requester's identity was checked on a document of this kind."""
        details: dict[str, DetailValue] = {"operation": "verify", "request": request_id}
        self._decide(Action.RIGHTS_VERIFY, REQUEST, None, details)
        moment = now or datetime.now(UTC)
        kind = _choice(document, "document", DOCUMENTS)
        stored = self._open_request(Action.RIGHTS_VERIFY, details, request_id)
        if stored.body["identity"] is not None:
            raise UsageError(f"request {request_id}: identity already verified")
        body = {
            **stored.body,
            "identity": {"document": kind, "by": self.actor.username, "at": moment.isoformat()},
        }
        status = "in_progress" if stored.patient_id else "identity_verified"
        if stored.status == "extended":
            status = "extended"
        changed = _step(
            replace(stored, status=status, body=body), moment, self.actor.username, "identity", kind
        )
        return self._save(Action.RIGHTS_VERIFY, {**details, "document": kind}, changed)

    def link(
        self, request_id: str, patient_id: str, *, now: datetime | None = None
    ) -> StoredRequest:
        """Attach the record the request is about (found with ``lookup``)."""
        details: dict[str, DetailValue] = {"operation": "link", "request": request_id}
        self._decide(Action.RIGHTS_LINK, REQUEST, None, details)
        moment = now or datetime.now(UTC)
        stored = self._open_request(Action.RIGHTS_LINK, details, request_id)
        lab = self._run(Action.RIGHTS_LINK, details, lambda: self.vault.lab_of(patient_id))
        status = stored.status
        if status == "identity_verified":
            status = "in_progress"
        changed = replace(stored, patient_id=patient_id, lab_id=lab, status=status)
        changed = _step(changed, moment, self.actor.username, "linked", lab)
        return self._save(Action.RIGHTS_LINK, {**details, "lab": lab}, changed)

    def extend(
        self,
        request_id: str,
        reason: str,
        *,
        told_on: date | None = None,
        now: datetime | None = None,
    ) -> StoredRequest:
        """The one extension by two months (art. 12(3)), with its reason and when the
        requester was told."""
        details: dict[str, DetailValue] = {"operation": "extend", "request": request_id}
        self._decide(Action.RIGHTS_EXTEND, REQUEST, None, details)
        moment = now or datetime.now(UTC)
        why = _text(reason, "reason", MAX_TEXT)
        told = told_on or paris_day(moment)
        if told > paris_day(moment):
            raise UsageError("told on: must not be in the future")
        stored = self._open_request(Action.RIGHTS_EXTEND, details, request_id)
        if stored.body["extension"] is not None:
            raise UsageError(f"request {request_id}: already extended once (art. 12(3))")
        first = date.fromisoformat(stored.body["first_due"])
        if told > first:
            raise UsageError("told on: the requester must be told within the first month")
        due = extended_due(first)
        body = {
            **stored.body,
            "due": due.isoformat(),
            "extension": {
                "reason": why,
                "by": self.actor.username,
                "at": moment.isoformat(),
                "told_on": told.isoformat(),
            },
        }
        changed = replace(stored, status="extended", due_at=due_at(due), body=body)
        changed = _step(changed, moment, self.actor.username, "extended", due.isoformat())
        return self._save(
            Action.RIGHTS_EXTEND, {**details, "due": str(due), "told_on": str(told)}, changed
        )

    def close(
        self,
        request_id: str,
        outcome: str,
        reason: str | None = None,
        *,
        now: datetime | None = None,
    ) -> StoredRequest:
        """Answer the request. Granted erasure erases where no retention duty applies,
        else the request is refused with the rule's legal source and the end of the duty;
        granted restriction flags the record."""
        details: dict[str, DetailValue] = {"operation": "close", "request": request_id}
        self._decide(Action.RIGHTS_CLOSE, REQUEST, None, details)
        moment = now or datetime.now(UTC)
        result = _choice(outcome, "outcome", OUTCOMES)
        why = _text(reason, "reason", MAX_TEXT, required=result == "refused")
        stored = self._open_request(Action.RIGHTS_CLOSE, details, request_id)
        legal: dict[str, str] | None = None
        if result == "granted":
            if stored.body["identity"] is None:
                raise UsageError(f"request {request_id}: verify the requester's identity first")
            if stored.kind in ("erasure", "restriction") and stored.patient_id is None:
                raise UsageError(f"request {request_id}: link the record it is about first")
            if stored.kind == "erasure":
                verdict = self._erase(stored, moment)
                if verdict.duty is not None:
                    result, why, legal = "refused", verdict.reason_fr(), verdict.to_dict()
            elif stored.kind == "restriction":
                assert stored.patient_id is not None
                patient_id = stored.patient_id
                self._run(
                    Action.RIGHTS_CLOSE, details, lambda: self.store.restrict(patient_id, stored.id)
                )
        body = {**stored.body, "outcome": result, "reason": why, "legal": legal}
        changed = replace(stored, status="closed", closed_at=moment, body=body)
        changed = _step(changed, moment, self.actor.username, "closed", result)
        details.update({"kind": stored.kind, "outcome": result})
        if legal is not None:
            details["retention"] = legal["category"]
        return self._save(Action.RIGHTS_CLOSE, details, changed)

    def lift(self, request_id: str, *, now: datetime | None = None) -> StoredRequest:
        """Lift the restriction a granted request set (the requester is told beforehand)."""
        details: dict[str, DetailValue] = {"operation": "lift", "request": request_id}
        self._decide(Action.RIGHTS_LIFT, REQUEST, None, details)
        moment = now or datetime.now(UTC)
        stored = self._run(Action.RIGHTS_LIFT, details, lambda: self.store.get(request_id))
        if stored.kind != "restriction" or stored.body["outcome"] != "granted":
            raise UsageError(f"request {request_id}: not a granted restriction")
        assert stored.patient_id is not None
        patient_id = stored.patient_id
        if not self._run(Action.RIGHTS_LIFT, details, lambda: self.store.lift(patient_id)):
            raise UsageError(f"request {request_id}: the restriction was already lifted")
        changed = _step(stored, moment, self.actor.username, "lifted", None)
        return self._save(Action.RIGHTS_LIFT, details, changed)

    def check(self, *, now: datetime | None = None) -> builtins.list[Finding]:
        """The deadline check on demand: each finding is logged and alerts like the schedule's."""
        details: dict[str, DetailValue] = {"operation": "check"}
        self._decide(Action.RIGHTS_CHECK, REQUEST, None, details)
        moment = now or datetime.now(UTC)
        findings = self._run(
            Action.RIGHTS_CHECK, details, lambda: find_overdue(self.trail, self.vault, moment)
        )
        report_overdue(self.trail, findings, client=self.client or "request")
        self._record(Action.RIGHTS_CHECK, Outcome.OK, {**details, "findings": len(findings)})
        self.trail.flush()
        return findings

    # -- internals ---------------------------------------------------------------------
    def _erase(self, stored: StoredRequest, now: datetime) -> ErasureVerdict:
        """Weigh the retention rules; erase (crypto-shred) only when no duty applies."""
        assert stored.patient_id is not None
        patient_id = stored.patient_id
        details: dict[str, DetailValue] = {"request": stored.id, "lab": stored.lab_id}
        decision = self._decide(Action.RIGHTS_ERASE, "patient", stored.lab_id, details)
        self.vault.unlock(decision.compartments)
        verdict = self._run(
            Action.RIGHTS_ERASE,
            details,
            lambda: assess_erasure(self.vault, self.retention, patient_id, now),
        )
        if verdict.duty is not None:
            self._record(
                Action.RIGHTS_ERASE,
                Outcome.DENIED,
                {**details, "reason": "retention", "retention": verdict.duty.category},
                [stored.id, patient_id],
            )
            return verdict
        self._run(Action.RIGHTS_ERASE, details, lambda: self.vault.erase(patient_id))
        self._record(Action.RIGHTS_ERASE, Outcome.OK, details, [stored.id, patient_id])
        return verdict

    def _open_request(
        self, action: Action, details: dict[str, DetailValue], request_id: str
    ) -> StoredRequest:
        stored = self._run(action, details, lambda: self.store.get(request_id))
        if stored.status == "closed":
            raise UsageError(f"request {request_id}: already closed")
        return stored

    def _save(
        self, action: Action, details: dict[str, DetailValue], changed: StoredRequest
    ) -> StoredRequest:
        self._run(action, details, lambda: self.store.put(changed))
        self._record(action, Outcome.OK, details, _objects(changed))
        return changed


def _objects(stored: StoredRequest) -> list[str]:
    return [stored.id] + ([stored.patient_id] if stored.patient_id else [])


def _step(
    stored: StoredRequest, at: datetime, by: str, step: str, value: str | None
) -> StoredRequest:
    entry = {"at": at.isoformat(), "by": by, "step": step, "value": value}
    return replace(stored, body={**stored.body, "timeline": [*stored.body["timeline"], entry]})
