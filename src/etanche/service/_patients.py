"""Patient operations as people use them: decided, audited, supervised.

Every call asks the one policy function, widens the vault session to exactly
the compartments granted, logs the event (denials too) and tells the alert
engine when a decoy was touched. The CLI, the web pages and the API all go
through here, so none of them holds a rule of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import TypeVar

from etanche.access import (
    RESTRICTED_REFUSED,
    Action,
    Actor,
    Decision,
    Resource,
    can,
    compartments_for,
    role_actions,
)
from etanche.audit import DetailValue, Outcome, is_decoy
from etanche.domain import (
    BirthQuery,
    Clinical,
    Compartment,
    DowngradeReason,
    Patient,
    Specimen,
    apply_trait_change,
    supported_status,
)
from etanche.errors import (
    DuplicateUnconfirmed,
    EtancheError,
    PermissionDenied,
    RecordNotFound,
    UsageError,
)
from etanche.service import _links
from etanche.service._authors import Author, authors_of
from etanche.service._labels import tube_label_pdf
from etanche.service._trail import Trail
from etanche.vault import Change, RightsStore, Vault, Version, retrying

PATIENT = "patient"
MAX_REASON = 500
DUPLICATE_MIN_REASON = 15  # like break-glass: a sentence, not "ok"
CLINICAL_MIN_REASON = 5  # "erreur de saisie" fits, "." does not
_NO_CLINICAL = "clinical.update: this session does not hold the clinical key"
_T = TypeVar("_T")


@dataclass(frozen=True)
class Sheet:
    """A patient's sheet as read: the record, its specimens, its restriction flag."""

    patient: Patient
    specimens: list[Specimen]
    restricted: bool


class PatientService:
    """One person's patient operations on one vault session."""

    def __init__(
        self,
        vault: Vault,
        trail: Trail,
        actor: Actor,
        *,
        client: str | None = None,
        purpose: str | None = None,
    ) -> None:
        self.vault = vault
        self.trail = trail
        self.actor = actor
        self.client = client
        self.purpose = purpose
        self._clinical_wanted = True

    def without_clinical(self) -> None:
        """Never unwrap clinical keys in this service, even where the policy would."""
        self._clinical_wanted = False

    def holds_clinical(self) -> bool:
        """Whether this service's session has unwrapped the clinical compartment."""
        return self.vault.holds(Compartment.CLINICAL)

    # -- searching ------------------------------------------------------------
    def find_by_nir(self, nir: str) -> list[Patient]:
        return self._search("nir", lambda: self.vault.find_by_nir(nir))

    def find_by_name(self, birth_name: str, first_name: str, birth_date: date) -> list[Patient]:
        return self._search(
            "name_dob", lambda: self.vault.find_by_name(birth_name, first_name, birth_date)
        )

    def find_by_phone(self, phone: str) -> list[Patient]:
        return self._search("phone", lambda: self.vault.find_by_phone(phone))

    def find_by_email(self, email: str) -> list[Patient]:
        return self._search("email", lambda: self.vault.find_by_email(email))

    def find_by_prefix(self, prefix: str, birth: BirthQuery) -> list[Patient]:
        """Birth name starting with ``prefix`` + birth year (or date): this person's labs only.

        The truncated index is keyed per lab; other labs' buckets are never
        computed, so this search cannot enumerate another lab's patients.
        """
        labs = self._own_labs()
        return self._search("prefix_year", lambda: self.vault.find_by_prefix(labs, prefix, birth))

    def find_by_sound(self, name: str, birth: BirthQuery) -> list[Patient]:
        """Birth name sounding like ``name`` in French + birth year: this person's labs only."""
        labs = self._own_labs()
        return self._search("phonetic_year", lambda: self.vault.find_by_sound(labs, name, birth))

    def link(
        self, lab_id: str, *, nir: str | None = None, traits: _links.Traits | None = None
    ) -> Patient:
        """A record of ``lab_id`` bound to the network identity of a patient known elsewhere."""
        return _links.link(self, lab_id, nir=nir, traits=traits)

    # -- one patient ----------------------------------------------------------
    def get(self, patient_id: str, *, via: str | None = None) -> Patient:
        """Read a patient: the compartments granted decide what is decrypted. ``via``
        names the page or operation that showed it (e.g. ``identity_review``)."""
        lab = self._lab_of(Action.PATIENT_READ, patient_id)
        decision = self._decide(Action.PATIENT_READ, lab, patient_id)
        patient = self._run(
            Action.PATIENT_READ, [patient_id], lambda: self.vault.get(patient_id), read=True
        )
        details: dict[str, DetailValue] = {"lab": lab, "compartments": _names(decision)}
        if via is not None:
            details["via"] = via
        self._done(Action.PATIENT_READ, decision, [patient_id], details)
        return patient

    def sheet(self, patient_id: str) -> Sheet:
        """What the patient sheet shows: the read and the specimen list, each decided
        and audited as ``get`` and ``specimens_of`` would, over one row fetch."""
        lab = self._lab_of(Action.PATIENT_READ, patient_id)
        restricted = self.restricted(patient_id)
        read = self._decide(Action.PATIENT_READ, lab, patient_id)
        listing = self._decide(Action.SPECIMEN_LIST, lab, patient_id)
        patient, found = self._run(
            Action.PATIENT_READ, [patient_id], lambda: self.vault.get_with_specimens(patient_id)
        )
        self._done(
            Action.PATIENT_READ, read, [patient_id], {"lab": lab, "compartments": _names(read)}
        )
        self._done(Action.SPECIMEN_LIST, listing, [patient_id], {"lab": lab, "count": len(found)})
        return Sheet(patient, found, restricted)

    def specimens_of(self, patient_id: str) -> list[Specimen]:
        lab = self._lab_of(Action.SPECIMEN_LIST, patient_id)
        decision = self._decide(Action.SPECIMEN_LIST, lab, patient_id)
        found = self._run(
            Action.SPECIMEN_LIST,
            [patient_id],
            lambda: self.vault.specimens_of(patient_id),
            read=True,
        )
        self._done(Action.SPECIMEN_LIST, decision, [patient_id], {"lab": lab, "count": len(found)})
        return found

    def get_specimen(self, specimen_id: str) -> Specimen:
        """Read one specimen: decided on its patient's lab, audited like a list."""
        patient_id = self._run(
            Action.SPECIMEN_LIST, [], lambda: self.vault.specimen_owner(specimen_id)
        )
        lab = self._lab_of(Action.SPECIMEN_LIST, patient_id)
        decision = self._decide(Action.SPECIMEN_LIST, lab, patient_id)
        found = self._run(
            Action.SPECIMEN_LIST, [patient_id], lambda: self.vault.specimen(specimen_id)
        )
        self._done(
            Action.SPECIMEN_LIST, decision, [patient_id, specimen_id], {"lab": lab, "count": 1}
        )
        return found

    def add(
        self,
        patient: Patient,
        specimens: Sequence[Specimen] = (),
        *,
        duplicate_reason: str | None = None,
        refuse_duplicates: bool = False,
    ) -> str:
        """Create a record. Its identity status is what the evidence it carries supports
        (none at intake: provisoire); a claimed status is not taken on trust (RNIV).
        ``duplicate_reason`` says why a second record of a person known in the network
        is wanted (the page asks for it): audited as the purpose. ``refuse_duplicates``:
        without that reason, an identity already known (same NIR, or same birth name,
        first name and birth date, in any lab) is refused (``DuplicateUnconfirmed``,
        audited as failed with the count), as the API and FHIR clients need."""
        decision = self._decide(Action.PATIENT_CREATE, patient.lab_id, patient.id)
        patient = replace(patient, identity_status=supported_status(patient))
        details: dict[str, DetailValue] = {"lab": patient.lab_id, "specimens": len(specimens)}
        if refuse_duplicates and duplicate_reason is None:
            self._refuse_known(patient, details)
        if duplicate_reason is not None:
            reason = " ".join(duplicate_reason.split())
            if len(reason) < DUPLICATE_MIN_REASON:
                raise UsageError(
                    f"patient.create: a duplicate needs a reason of at least "
                    f"{DUPLICATE_MIN_REASON} characters"
                )
            details["duplicate_confirmed"] = True
            self.purpose = f"duplicate confirmed: {reason}"
        self._run(Action.PATIENT_CREATE, [patient.id], lambda: self.vault.add(patient, specimens))
        self._done(Action.PATIENT_CREATE, decision, [patient.id], details)
        return patient.id

    def _refuse_known(self, patient: Patient, details: dict[str, DetailValue]) -> None:
        """Refuse a silent second record of a known identity (counted, never shown)."""
        known = self._run(Action.PATIENT_CREATE, [], lambda: self.vault.known_identity(patient))
        if known:
            self._record(
                Action.PATIENT_CREATE,
                Outcome.FAILED,
                [],
                {**details, "error": "DuplicateUnconfirmed", "known": known},
            )
            raise DuplicateUnconfirmed(
                "identity",
                "already known in the network (here or in another lab); link the identity "
                "to your lab or confirm a second record with a reason",
            )

    def update(
        self, patient: Patient, *, reason: str | None = None, request_id: str | None = None
    ) -> None:
        """Change a record; what it replaces is kept as an earlier version with the reason
        (and the rights request it answers, art. 16). The log holds neither value nor reason.

        The identity status and its evidence are kept as stored (only the identity
        operations move them); a changed strict trait of a validated, retrieved or
        qualified identity sends it back to provisoire, logged as such.
        """
        lab = self._lab_of(Action.PATIENT_UPDATE, patient.id)
        decision = self._decide(Action.PATIENT_UPDATE, lab, patient.id)
        before = self._run(Action.PATIENT_UPDATE, [patient.id], lambda: self.vault.get(patient.id))
        stored, lowered = apply_trait_change(
            before, patient, self.actor.username, datetime.now(UTC)
        )
        self._write(Action.PATIENT_UPDATE, decision, lab, stored, reason, request_id)
        if lowered:
            self._record(
                Action.IDENTITY_DOWNGRADE,
                Outcome.OK,
                [patient.id],
                {
                    "lab": lab,
                    "from": before.identity_status.value,
                    "to": stored.identity_status.value,
                    "reason": DowngradeReason.STRICT_TRAIT_CHANGED.value,
                },
            )

    def update_clinical(
        self,
        patient_id: str,
        clinical: Clinical,
        *,
        reason: str,
        request_id: str | None = None,
    ) -> None:
        """Replace the clinical part of a record (blood group, pregnancy, treatments,
        pathologies, comments): a decision of its own, so a role that may edit the
        identity but never holds the clinical key is refused, and logged as refused.

        The reason is required: the replaced part is kept with it in the history.
        """
        action = Action.CLINICAL_UPDATE
        lab, decision = self._decide_clinical(patient_id)
        if len(" ".join(reason.split())) < CLINICAL_MIN_REASON:
            self._record(action, Outcome.FAILED, [patient_id], {"lab": lab, "error": "reason"})
            raise UsageError(
                f"clinical.update: patient {patient_id}: a reason of at least "
                f"{CLINICAL_MIN_REASON} characters is required"
            )
        before = self._run(action, [patient_id], lambda: self.vault.get(patient_id))
        self._write(action, decision, lab, replace(before, clinical=clinical), reason, request_id)

    def clinical_form(self, patient_id: str) -> Patient:
        """The record, to fill the clinical edit form: refused (and logged) to whoever may
        not edit the clinical part; otherwise an audited read."""
        self._decide_clinical(patient_id)
        return self.get(patient_id)

    def _decide_clinical(self, patient_id: str) -> tuple[str, Decision]:
        action = Action.CLINICAL_UPDATE
        lab = self._lab_of(action, patient_id)
        decision = self._decide(action, lab, patient_id)
        if Compartment.CLINICAL not in decision.compartments or not self.holds_clinical():
            self._denied(action, replace(decision, reason=_NO_CLINICAL), [patient_id], {})
        return lab, decision

    def _write(
        self,
        action: Action,
        decision: Decision,
        lab: str,
        stored: Patient,
        reason: str | None,
        request_id: str | None,
    ) -> None:
        """Store a decided change, keeping the replaced version with the reason (art. 16)."""
        why = " ".join((reason or "").split())[:MAX_REASON] or None
        change = Change(by=self.actor.username, reason=why, request_id=request_id)
        self._run(action, [stored.id], lambda: self.vault.update(stored, change=change))
        details: dict[str, DetailValue] = {"lab": lab, "reason": why is not None}
        if request_id is not None:
            details["request"] = request_id
        self._done(action, decision, [stored.id], details)

    def history(self, patient_id: str) -> list[Version]:
        """The record's earlier versions (date, who, reason, fields): to whoever may read it."""
        lab = self._lab_of(Action.PATIENT_READ, patient_id)
        decision = self._decide(Action.PATIENT_READ, lab, patient_id)
        found = self._run(Action.PATIENT_READ, [patient_id], lambda: self.vault.history(patient_id))
        self._done(
            Action.PATIENT_READ,
            decision,
            [patient_id],
            {"lab": lab, "view": "history", "versions": len(found)},
        )
        return found

    def authors(self, versions: Sequence[Version]) -> dict[str, Author]:
        """The staff who wrote ``versions`` (from ``history``): full name and role."""
        return authors_of(self.vault, (v.by for v in versions))

    def restricted(self, patient_id: str) -> bool:
        """Whether the record is under a restriction of processing (GDPR art. 18)."""
        return bool(RightsStore(self.vault).restricted([patient_id]))

    def erase(self, patient_id: str) -> None:
        lab = self._lab_of(Action.PATIENT_ERASE, patient_id)
        decision = self._decide(Action.PATIENT_ERASE, lab, patient_id)
        self._run(Action.PATIENT_ERASE, [patient_id], lambda: self.vault.erase(patient_id))
        self._done(Action.PATIENT_ERASE, decision, [patient_id], {"lab": lab})

    def add_specimen(self, specimen: Specimen) -> None:
        lab = self._lab_of(Action.SPECIMEN_CREATE, specimen.patient_id)
        # Both the patient's lab and the lab collecting the specimen must be the
        # person's (patients are seen in several labs of the network).
        decision = self._decide(Action.SPECIMEN_CREATE, lab, specimen.patient_id)
        if specimen.lab_id != lab:
            decision = self._decide(Action.SPECIMEN_CREATE, specimen.lab_id, specimen.patient_id)
        moved = self._run(
            Action.SPECIMEN_CREATE,
            [specimen.patient_id],
            lambda: self.vault.add_specimen(specimen),
        )
        self._done(
            Action.SPECIMEN_CREATE,
            decision,
            [specimen.patient_id, specimen.id],
            {"lab": specimen.lab_id, "patient_lab": lab, "last_visit_moved": moved},
        )

    def specimen_label(self, patient_id: str, specimen_id: str) -> bytes:
        """The tube label PDF of a specimen: an audited print of identity and accession."""
        lab = self._lab_of(Action.SPECIMEN_LABEL, patient_id)
        decision = self._decide(Action.SPECIMEN_LABEL, lab, patient_id)
        owner = self._run(
            Action.SPECIMEN_LABEL, [patient_id], lambda: self.vault.specimen_owner(specimen_id)
        )
        if owner != patient_id:
            self._record(
                Action.SPECIMEN_LABEL, Outcome.FAILED, [patient_id], {"error": "RecordNotFound"}
            )
            raise RecordNotFound("specimen: not found for this patient")
        patient = self._run(Action.SPECIMEN_LABEL, [patient_id], lambda: self.vault.get(patient_id))
        specimen = self._run(
            Action.SPECIMEN_LABEL, [patient_id], lambda: self.vault.specimen(specimen_id)
        )
        names = {known.id: known.name for known in self.vault.labs()}
        pdf = tube_label_pdf(patient, specimen, names.get(specimen.lab_id, specimen.lab_id))
        self._done(Action.SPECIMEN_LABEL, decision, [patient_id, specimen_id], {"lab": lab})
        return pdf

    def list_specimens(
        self, lab_id: str, start: date | None = None, end: date | None = None
    ) -> Iterator[Specimen]:
        decision = self._decide(Action.SPECIMEN_LIST, lab_id, None)
        found = self._run(
            Action.SPECIMEN_LIST, [], lambda: list(self.vault.list_specimens(lab_id, start, end))
        )
        patients = sorted({s.patient_id for s in found})
        self._done(Action.SPECIMEN_LIST, decision, patients, {"lab": lab_id, "count": len(found)})
        yield from found

    # -- internals ------------------------------------------------------------
    def _search(self, index: str, lookup: Callable[[], list[Patient]]) -> list[Patient]:
        """Search the whole network, then keep what the policy lets this person read.

        Returning a patient is reading it: a search needs ``patient.read`` as well
        as ``patient.search``, and each patient returned is logged as a read. A
        token scoped to search alone is refused before the lookup runs.
        """
        action = Action.PATIENT_SEARCH
        for needed in (action, Action.PATIENT_READ):
            if needed not in role_actions(self.actor.role) or (
                self.actor.scopes is not None and needed not in self.actor.scopes
            ):
                decision = can(self.actor, needed, Resource(PATIENT))
                self._denied(needed, decision, [], {"index": index, "operation": action.value})
        # matching needs the admin compartment only; results carry no clinical data
        self.vault.unlock(compartments_for(self.actor.role) & {Compartment.ADMIN})
        candidates = self._run(action, [], lookup, read=True)
        kept: list[tuple[Patient, Decision]] = []
        hidden = 0
        break_glass = False
        for patient in candidates:
            where = Resource(PATIENT, patient.lab_id, patient.id)
            found = can(self.actor, action, where)
            read = can(self.actor, Action.PATIENT_READ, where)
            if found.allowed and read.allowed:
                kept.append((patient, read))
                break_glass |= found.break_glass_used
            else:
                hidden += 1
        ids = [p.id for p, _ in kept]
        details: dict[str, DetailValue] = {"index": index, "results": len(kept), "hidden": hidden}
        if break_glass:
            details["break_glass"] = True
        self._record(action, Outcome.OK, ids, details, touched=ids)
        for patient, read in kept:
            self._done(
                Action.PATIENT_READ,
                read,
                [patient.id],
                {"lab": patient.lab_id, "compartments": Compartment.ADMIN.value, "via": index},
            )
        return [p for p, _ in kept]

    def _own_labs(self) -> list[str]:
        """The labs this person works in (every lab for a network-wide account)."""
        return [lab.id for lab in self.vault.labs() if self.actor.covers(lab.id)]

    def _decide(self, action: Action, lab_id: str | None, patient_id: str | None) -> Decision:
        restricted = (
            action in RESTRICTED_REFUSED
            and patient_id is not None
            and retrying(lambda: self.restricted(patient_id))
        )
        decision = can(self.actor, action, Resource(PATIENT, lab_id, patient_id, restricted))
        if not decision.allowed:
            self._denied(action, decision, [patient_id] if patient_id else [], {"lab": lab_id})
        granted = decision.compartments
        if not self._clinical_wanted:
            granted = granted - {Compartment.CLINICAL}
        retrying(lambda: self.vault.unlock(granted))  # reads wrapped keys: safe to repeat
        return decision

    def _denied(
        self,
        action: Action,
        decision: Decision,
        objects: list[str],
        details: dict[str, DetailValue],
    ) -> None:
        self._record(action, Outcome.DENIED, objects, {**details, "reason": decision.reason})
        raise PermissionDenied(decision.reason)

    def _lab_of(self, action: Action, patient_id: str) -> str:
        return self._run(action, [patient_id], lambda: self.vault.lab_of(patient_id), read=True)

    def _run(
        self, action: Action, objects: list[str], work: Callable[[], _T], *, read: bool = False
    ) -> _T:
        """Do the work; a failure is logged (outcome failed) before it propagates.

        A ``read`` cut by a lost database connection (a failover) runs again on a
        fresh one; writes retry inside the vault, which knows whether they landed.
        """
        try:
            return retrying(work) if read else work()
        except EtancheError as exc:
            self._record(action, Outcome.FAILED, objects, {"error": type(exc).__name__})
            raise

    def _done(
        self,
        action: Action,
        decision: Decision,
        objects: list[str],
        details: dict[str, DetailValue],
    ) -> None:
        if decision.break_glass_used:
            details = {**details, "break_glass": True}
        self._record(action, Outcome.OK, objects, details, touched=objects)

    def _record(
        self,
        action: Action,
        outcome: Outcome,
        objects: list[str],
        details: dict[str, DetailValue],
        *,
        touched: Sequence[str] = (),
    ) -> None:
        """One audit event of this person; ``touched`` ids are checked against the decoys."""
        self.trail.record(
            self.actor,
            action,
            outcome,
            objects=objects,
            purpose=self._purpose(),
            client=self.client,
            details=details,
            decoy_hit=retrying(lambda: any(is_decoy(self.vault, pid) for pid in touched)),
        )

    def _purpose(self) -> str | None:
        if self.actor.break_glass is not None:
            return f"break-glass: {self.actor.break_glass.reason}"
        return self.purpose


def _names(decision: Decision) -> str:
    return ",".join(sorted(c.value for c in decision.compartments))
