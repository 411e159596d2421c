"""Identity vigilance as people run it: statuses of the RNIV, pair review, merge, unmerge.

Each move asks the policy for the record's lab, applies the pure rule of
``etanche.domain`` and logs one event (refusals and failures too). A merge only
points the absorbed record at the survivor (``vault.Merges``): both records keep
their ciphertexts and specimens as they are, so an unmerge is exact. The merge's
who and when is a sealed document; merges across labs wait for the officer of the
other lab (a second account), unless the officer holds every lab of the network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from etanche.access import Action, Resource, can
from etanche.audit import DetailValue, Outcome
from etanche.domain import (
    DowngradeReason,
    IdentityStatus,
    InsRetrieval,
    InsTraits,
    Patient,
    Specimen,
    check_document,
    downgrade,
    ins_mismatches,
    normalize_name,
    qualify,
    record_ins,
    restore,
)
from etanche.errors import PermissionDenied, RecordNotFound, UsageError, ValidationError
from etanche.service._patients import PATIENT, PatientService
from etanche.vault import Document, Documents, Merges, Vault, new_record_id

MERGE = "identity_merge"  # kind of the sealed merge documents
PENDING, MERGED, UNMERGED = "pending", "merged", "unmerged"
COMPARED = (
    "birth_name",
    "first_names",
    "sex",
    "birth_date",
    "birthplace_insee",
    "used_name",
    "nir",
    "addresses",
    "phones",
    "emails",
)
"""Fields the review page compares (the five strict traits first)."""


@dataclass(frozen=True)
class Pair:
    """Two records under review: labs, statuses, which fields differ (names only)."""

    left: Patient
    right: Patient
    differing: frozenset[str]
    left_open: bool  # whether this person may reveal the left record
    right_open: bool


@dataclass(frozen=True)
class Merge:
    """A merge as the pages show it (ids, labs and accounts: no personal value)."""

    id: str
    state: str
    survivor: str
    absorbed: str
    survivor_lab: str
    absorbed_lab: str
    requested_by: str
    approvers: tuple[str, ...]
    missing_labs: tuple[str, ...]  # labs whose officer has not approved yet
    at: datetime  # of the last step


@dataclass(frozen=True)
class SheetMerges:
    """A sheet's merge panel: the merge, the survivor pointed at, the absorbed specimens."""

    merge: Merge | None
    merged_into: str | None
    merged_specimens: list[Specimen]
    merged_hidden: int


class IdentityService(PatientService):
    """One person's identity operations on one vault session."""

    # -- statuses (RNIV) ----------------------------------------------------------
    def validate(
        self, patient_id: str, document: str, checked_at: datetime | None = None
    ) -> Patient:
        """A high-trust document checked at the desk (its kind, never the document)."""
        moment = checked_at or datetime.now(UTC)
        return self._move(
            Action.IDENTITY_VALIDATE,
            patient_id,
            lambda p: check_document(p, document, self.actor.username, moment),
            {"document": document},
        )

    def retrieve_ins(
        self,
        patient_id: str,
        matricule: str,
        oid: str,
        traits: InsTraits,
        retrieved_at: datetime,
    ) -> Patient:
        """Enter a result of the INSi teleservice (this system never calls it)."""
        result = InsRetrieval(matricule.upper(), oid, traits, retrieved_at, self.actor.username)
        moved = self._move(
            Action.IDENTITY_RETRIEVE, patient_id, lambda p: record_ins(p, result), {"oid": oid}
        )
        return moved

    def qualify(self, patient_id: str) -> Patient:
        return self._move(Action.IDENTITY_QUALIFY, patient_id, qualify, {})

    def downgrade(
        self, patient_id: str, target: IdentityStatus, reason: DowngradeReason
    ) -> Patient:
        moment = datetime.now(UTC)
        return self._move(
            Action.IDENTITY_DOWNGRADE,
            patient_id,
            lambda p: downgrade(p, target, reason, self.actor.username, moment),
            {"reason": reason.value},
        )

    def restore(self, patient_id: str) -> Patient:
        return self._move(Action.IDENTITY_RESTORE, patient_id, restore, {})

    def mismatches(self, patient: Patient) -> list[str]:
        """Strict traits where a record differs from its retrieved INS (names only)."""
        return [] if patient.ins is None else ins_mismatches(patient, patient.ins.traits)

    def _move(
        self,
        action: Action,
        patient_id: str,
        rule: Callable[[Patient], Patient],
        details: dict[str, DetailValue],
    ) -> Patient:
        lab = self._lab_of(action, patient_id)
        decision = self._decide(action, lab, patient_id)
        before = self._run(action, [patient_id], lambda: self.vault.get(patient_id))
        try:
            after = rule(before)
        except ValidationError as exc:
            self._record(
                action,
                Outcome.FAILED,
                [patient_id],
                {**details, "lab": lab, "field": exc.field, "reason": exc.reason},
            )
            raise
        self._run(action, [patient_id], lambda: self.vault.update(after))
        self._done(
            action,
            decision,
            [patient_id],
            {
                **details,
                "lab": lab,
                "from": before.identity_status.value,
                "to": after.identity_status.value,
            },
        )
        return after

    # -- review -------------------------------------------------------------------
    def review(self, left_id: str, right_id: str) -> Pair:
        """Compare two records; decrypted here, only the names of differing fields leave
        unless a side is revealed. Needs the review right on at least one side's lab."""
        if left_id == right_id:
            raise UsageError("review: the two record ids are the same")
        labs = [self._lab_of(Action.IDENTITY_REVIEW, pid) for pid in (left_id, right_id)]
        opens = [
            self._may(Action.IDENTITY_REVIEW, lab, pid)
            for lab, pid in zip(labs, (left_id, right_id), strict=True)
        ]
        if not any(opens):
            self._decide(Action.IDENTITY_REVIEW, labs[0], left_id)  # refuses, audited
        own = labs[0] if opens[0] else labs[1]
        decision = self._decide(Action.IDENTITY_REVIEW, own, left_id if opens[0] else right_id)
        pair = [left_id, right_id]
        left = self._run(Action.IDENTITY_REVIEW, pair, lambda: self.vault.get(left_id))
        right = self._run(Action.IDENTITY_REVIEW, pair, lambda: self.vault.get(right_id))
        differing = frozenset(f for f in COMPARED if _value(left, f) != _value(right, f))
        self._done(
            Action.IDENTITY_REVIEW,
            decision,
            [left_id, right_id],
            {"labs": ",".join(sorted(set(labs))), "differing": len(differing)},
        )
        return Pair(left, right, differing, opens[0], opens[1])

    def reveal(self, patient_id: str, purpose: str) -> Patient:
        """Show one record of a reviewed pair: an audited read with the officer's purpose."""
        if not purpose.strip():
            raise ValidationError("purpose", "say why the record is revealed", patient_id)
        self.purpose = purpose.strip()[:200]
        return self.get(patient_id, via="identity_review")

    # -- merge and unmerge ----------------------------------------------------------
    def merge(self, survivor_id: str, absorbed_id: str) -> Merge:
        """Ask for a merge; done at once when this officer's approval is enough."""
        if survivor_id == absorbed_id:
            raise UsageError("merge: the two record ids are the same")
        labs = [self._lab_of(Action.IDENTITY_MERGE, pid) for pid in (survivor_id, absorbed_id)]
        covered = [lab for lab in labs if self._may(Action.IDENTITY_MERGE, lab, None)]
        if not covered:
            self._decide(Action.IDENTITY_MERGE, labs[0], survivor_id)  # refuses, audited
        merges = Merges(self.vault)
        for pid in (survivor_id, absorbed_id):
            if merges.merged_into(pid) is not None:
                self._fail(Action.IDENTITY_MERGE, [survivor_id, absorbed_id], "already merged")
        if merges.absorbed_by(absorbed_id):
            self._fail(
                Action.IDENTITY_MERGE,
                [survivor_id, absorbed_id],
                "other records are merged into it",
            )
        merge_id = new_record_id()
        body: dict[str, Any] = {
            "survivor": survivor_id,
            "absorbed": absorbed_id,
            "survivor_lab": labs[0],
            "absorbed_lab": labs[1],
            "requested_by": self.actor.username,
            "requested_at": datetime.now(UTC).isoformat(),
            "approvals": [self._approval()],
        }
        Documents(self.vault).put(MERGE, merge_id, body, state=PENDING)
        self._record(
            Action.IDENTITY_MERGE,
            Outcome.OK,
            [survivor_id, absorbed_id],
            {"merge": merge_id, "step": "requested", "labs": ",".join(sorted(set(labs)))},
        )
        return self._complete_if_approved(merge_id)

    def approve(self, merge_id: str) -> Merge:
        """The second officer's approval of a merge across labs (never the requester's)."""
        doc = self._merge_doc(merge_id, PENDING)
        body = doc.body
        objects = [body["survivor"], body["absorbed"]]
        if any(a["user"] == self.actor.username for a in body["approvals"]):
            self._fail(Action.IDENTITY_MERGE, objects, "the same account cannot approve twice")
        missing = _missing_labs(body)
        if not any(self._may(Action.IDENTITY_MERGE, lab, None) for lab in missing):
            self._decide(Action.IDENTITY_MERGE, missing[0], body["absorbed"])  # refuses, audited
        body["approvals"].append(self._approval())
        Documents(self.vault).put(MERGE, merge_id, body, state=PENDING)
        self._record(
            Action.IDENTITY_MERGE, Outcome.OK, objects, {"merge": merge_id, "step": "approved"}
        )
        return self._complete_if_approved(merge_id)

    def unmerge(self, merge_id: str) -> Merge:
        """Undo a merge exactly: the pointer is cleared, both records are as before."""
        doc = self._merge_doc(merge_id, MERGED)
        body = doc.body
        objects = [body["survivor"], body["absorbed"]]
        labs = [body["survivor_lab"], body["absorbed_lab"]]
        if not any(self._may(Action.IDENTITY_UNMERGE, lab, None) for lab in labs):
            self._decide(Action.IDENTITY_UNMERGE, labs[0], body["survivor"])  # refuses, audited
        self._run(
            Action.IDENTITY_UNMERGE,
            objects,
            lambda: Merges(self.vault).unmark(body["absorbed"], body["survivor"]),
        )
        body["unmerged_by"] = self.actor.username
        body["unmerged_at"] = datetime.now(UTC).isoformat()
        Documents(self.vault).put(MERGE, merge_id, body, state=UNMERGED)
        self._record(Action.IDENTITY_UNMERGE, Outcome.OK, objects, {"merge": merge_id})
        return _view(Documents(self.vault).get(MERGE, merge_id))

    def merges(self, *, state: str | None = None) -> list[Merge]:
        """Merges touching this person's labs (ids and accounts only, not audited reads)."""
        found = Documents(self.vault).list(MERGE, state=state)
        mine = [
            d
            for d in found
            if self._may(Action.IDENTITY_REVIEW, d.body["survivor_lab"], None)
            or self._may(Action.IDENTITY_REVIEW, d.body["absorbed_lab"], None)
        ]
        return [_view(d) for d in mine]

    def merge_of(self, patient_id: str) -> Merge | None:
        """The current merge a record takes part in (survivor or absorbed), if any."""
        for doc in Documents(self.vault).list(MERGE, state=MERGED):
            if patient_id in (doc.body["survivor"], doc.body["absorbed"]):
                return _view(doc)
        return None

    def sheet_merges(self, patient_id: str) -> SheetMerges:
        """What a sheet shows of merges, with one query for a record in none."""
        into, absorbed = Merges(self.vault).involvement(patient_id)
        if into is None and not absorbed:
            return SheetMerges(None, None, [], 0)
        shown, hidden = self._specimens_of_absorbed(absorbed)
        return SheetMerges(self.merge_of(patient_id), into, shown, hidden)

    def merged_specimens(self, survivor_id: str) -> tuple[list[Specimen], int]:
        """Specimens of the records merged into ``survivor_id`` this person may list,
        and how many such records are outside their labs (counted, not shown)."""
        return self._specimens_of_absorbed(Merges(self.vault).absorbed_by(survivor_id))

    def _specimens_of_absorbed(self, absorbed_ids: list[str]) -> tuple[list[Specimen], int]:
        shown: list[Specimen] = []
        hidden = 0
        for absorbed in absorbed_ids:
            lab = self._lab_of(Action.SPECIMEN_LIST, absorbed)
            if not self._may(Action.SPECIMEN_LIST, lab, absorbed):
                hidden += 1
                continue
            shown.extend(self.specimens_of(absorbed))
        return shown, hidden

    def merged_into(self, patient_id: str) -> str | None:
        return Merges(self.vault).merged_into(patient_id)

    # -- internals ----------------------------------------------------------------
    def _may(self, action: Action, lab: str, patient_id: str | None) -> bool:
        return bool(can(self.actor, action, Resource(PATIENT, lab, patient_id)))

    def _approval(self) -> dict[str, Any]:
        labs = sorted(lab.id for lab in self.vault.labs() if self.actor.covers(lab.id))
        network = len(labs) == len(self.vault.labs())
        return {"user": self.actor.username, "labs": labs, "network": network}

    def _merge_doc(self, merge_id: str, state: str) -> Document:
        try:
            doc = Documents(self.vault).get(MERGE, merge_id)
        except RecordNotFound:
            self._fail(Action.IDENTITY_MERGE, [], f"merge {merge_id}: no such merge")
            raise
        if doc.state != state:
            self._fail(
                Action.IDENTITY_MERGE,
                [doc.body["survivor"], doc.body["absorbed"]],
                f"merge {merge_id}: {doc.state}, not {state}",
            )
        return doc

    def _complete_if_approved(self, merge_id: str) -> Merge:
        doc = Documents(self.vault).get(MERGE, merge_id)
        body = doc.body
        if _missing_labs(body):
            return _view(doc)
        objects = [body["survivor"], body["absorbed"]]
        self._run(
            Action.IDENTITY_MERGE,
            objects,
            lambda: Merges(self.vault).mark(body["absorbed"], body["survivor"]),
        )
        body["merged_at"] = datetime.now(UTC).isoformat()
        Documents(self.vault).put(MERGE, merge_id, body, state=MERGED)
        approvers = ",".join(a["user"] for a in body["approvals"])
        self._record(
            Action.IDENTITY_MERGE,
            Outcome.OK,
            objects,
            {"merge": merge_id, "step": "merged", "approvers": approvers},
        )
        return _view(Documents(self.vault).get(MERGE, merge_id))

    def _fail(self, action: Action, objects: list[str], reason: str) -> None:
        self._record(action, Outcome.DENIED, objects, {"reason": reason})
        raise PermissionDenied(f"{action}: {reason}")


def merge_findings(vault: Vault) -> list[str]:
    """Merge pointers (a clear column) against the sealed merge documents: a pointer the
    operator set or cleared by hand shows here (ids only, never a value)."""
    pointers = Merges(vault).pointers()
    sealed = {
        d.body["absorbed"]: (d.id, d.body["survivor"])
        for d in Documents(vault).list(MERGE, state=MERGED)
    }
    findings = [
        f"patients {absorbed} merged_into: no sealed merge points it at {survivor}"
        for absorbed, survivor in sorted(pointers.items())
        if sealed.get(absorbed, ("", ""))[1] != survivor
    ]
    findings += [
        f"identity_merge {merge_id}: merged, but patients {absorbed} does not point at {survivor}"
        for absorbed, (merge_id, survivor) in sorted(sealed.items())
        if pointers.get(absorbed) != survivor
    ]
    return findings


def _missing_labs(body: dict[str, Any]) -> list[str]:
    """Labs of the pair no approval covers yet; a cross-lab merge needs two accounts
    unless one approval came from an officer holding every lab of the network."""
    approvals: list[dict[str, Any]] = body["approvals"]
    labs = sorted({body["survivor_lab"], body["absorbed_lab"]})
    if any(a.get("network") for a in approvals):
        return []
    missing = [lab for lab in labs if not any(lab in a["labs"] for a in approvals)]
    if not missing and len(labs) > 1 and len({a["user"] for a in approvals}) < 2:
        # one account holding both labs is still one person: the absorbed record's lab
        # approves through a second officer account
        return [body["absorbed_lab"]]
    return missing


def _view(doc: Document) -> Merge:
    body = doc.body
    return Merge(
        id=doc.id,
        state=doc.state,
        survivor=body["survivor"],
        absorbed=body["absorbed"],
        survivor_lab=body["survivor_lab"],
        absorbed_lab=body["absorbed_lab"],
        requested_by=body["requested_by"],
        approvers=tuple(a["user"] for a in body["approvals"]),
        missing_labs=tuple(_missing_labs(body)) if doc.state == PENDING else (),
        at=datetime.fromisoformat(
            body.get("unmerged_at") or body.get("merged_at") or body["requested_at"]
        ),
    )


def _value(patient: Patient, name: str) -> Any:
    """A field as compared: names on normalised terms (case, accents, hyphens)."""
    if name == "birth_name":
        return normalize_name(patient.birth_name)
    if name == "first_names":
        return tuple(normalize_name(n) for n in patient.first_names)
    if name == "used_name":
        return normalize_name(patient.used_name or "")
    return getattr(patient, name)


__all__ = ["COMPARED", "MERGE", "IdentityService", "Merge", "Pair", "merge_findings"]
