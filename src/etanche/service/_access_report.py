"""The patient's right of access (GDPR art. 15): a copy of everything held, and who opened it.

The DPO asks (``rights.access_report``, decided and audited like every
operation); the service reads the record with both compartment keys, finds
every event of the signed log that names it (in the bodies the tree commits
to, not in an index), proves each one against a signed, witnessed checkpoint,
signs the list with the log key, and hands back a French PDF and a FHIR R4
Bundle, encrypted with age to a passphrase or to the patient's own recipient,
or the PDF alone when the DPO asks for print.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TypeVar

from etanche.access import Action, Actor, Resource, can
from etanche.audit import AuditEvent, DetailValue, Outcome, SignedTreeHead, is_decoy, object_proofs
from etanche.crypto import age_encrypt, age_encrypt_passphrase
from etanche.domain import Compartment, RetentionRules, validate_nir
from etanche.errors import EtancheError, PermissionDenied, UsageError
from etanche.leak.incident import sections_markdown, sections_pdf
from etanche.leak.trace import Ledger
from etanche.service._access_fhir import report_bundle
from etanche.service._access_model import AccessEntry, AccessReport, ExportCarried
from etanche.service._access_text import (
    OUTCOMES_FR,
    ROLES_SHORT_FR,
    access_action_fr,
    purpose_fr,
    report_sections,
    short_datetime,
)
from etanche.service._trail import Trail
from etanche.vault import Vault
from etanche.verify import access_statement

__all__ = ["AccessReports", "Delivery", "ListedAccess"]

PATIENT = "patient"
COSIGN_WAIT_S = 10.0
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class ListedAccess:
    """One line of the DPO's page « Qui a consulté ce dossier ? » (no patient value)."""

    seq: int
    at: datetime
    actor: str
    role: str
    lab: str | None
    action: str
    outcome: str
    purpose: str | None
    when_fr: str  # « 03/12/2026 à 14 h 05 », Paris time
    action_fr: str
    role_fr: str
    outcome_fr: str
    purpose_fr: str


@dataclass(frozen=True, slots=True)
class Delivery:
    """What to hand the patient: file name → bytes (encrypted unless printed)."""

    files: dict[str, bytes]
    entries: int
    tree_size: int
    encrypted: bool


class AccessReports:
    """One person's access-report operations."""

    def __init__(
        self,
        vault: Vault,
        trail: Trail,
        actor: Actor,
        *,
        retention: RetentionRules,
        staff_named: bool = False,
        client: str | None = None,
    ) -> None:
        self.vault = vault
        self.trail = trail
        self.actor = actor
        self.retention = retention
        self.staff_named = staff_named
        self.client = client

    # -- the DPO's page ------------------------------------------------------------
    def accesses(self, patient_id: str) -> list[ListedAccess]:
        """Every event naming the record (audit index), oldest first: the page's list."""

        def listing() -> list[ListedAccess]:
            self.vault.lab_of(patient_id)  # RecordNotFound for an unknown or erased id
            self.trail.flush()
            found = self.trail.log.events(object_id=patient_id, limit=100_000)
            return [_listed(seq, event) for seq, event in found]

        return self._do(patient_id, {"operation": "list"}, listing)

    def find_by_nir(self, nir: str) -> list[tuple[str, str]]:
        """(record id, lab) of every record holding this NIR: from a request to its records.

        Decided network-wide and logged as an access to each record found (the NIR
        itself is never logged); nothing else of the records leaves this call.
        """
        action = Action.RIGHTS_ACCESS_REPORT
        details: dict[str, DetailValue] = {"operation": "find", "index": "nir"}
        decision = can(self.actor, action, Resource(PATIENT))
        if not decision.allowed:
            self._log(Outcome.DENIED, [], {**details, "reason": decision.reason})
            raise PermissionDenied(decision.reason)
        self.vault.unlock(decision.compartments & {Compartment.ADMIN})
        try:
            validate_nir(nir)
            found = [(p.id, p.lab_id) for p in self.vault.find_by_nir(nir)]
        except EtancheError as exc:
            self._log(Outcome.FAILED, [], {**details, "error": type(exc).__name__})
            raise
        self._log(Outcome.OK, [pid for pid, _ in found], {**details, "results": len(found)})
        return found

    # -- the report ------------------------------------------------------------------
    def build(self, patient_id: str) -> AccessReport:
        """The report's content, proved and signed (decided and audited)."""
        return self._do(patient_id, {"operation": "build"}, lambda: self._build(patient_id))

    def _build(self, patient_id: str, *, now: datetime | None = None) -> AccessReport:
        lab = self.vault.lab_of(patient_id)
        decision = can(self.actor, Action.RIGHTS_ACCESS_REPORT, Resource(PATIENT, lab, patient_id))
        self.vault.unlock(decision.compartments)
        patient = self.vault.get(patient_id)
        specimens = tuple(self.vault.specimens_of(patient_id))
        head = self._covering_head()
        proofs = object_proofs(self.vault.engine, patient_id, head)
        pseudonyms: dict[str, str] = {}
        entries = []
        for proof in proofs:
            event = AuditEvent.from_canonical(proof.body or b"{}")
            entries.append(
                AccessEntry(
                    seq=proof.seq,
                    at=event.at,
                    staff=self._staff(event.actor, pseudonyms),
                    role=event.role,
                    lab=_lab_of(event),
                    action=event.action,
                    outcome=event.outcome.value,
                    purpose=event.purpose,
                    proof=proof,
                )
            )
        log = self.trail.log
        report = AccessReport(
            patient=patient,
            specimens=specimens,
            labs={lab.id: lab for lab in self.vault.labs()},
            retention=tuple(self.retention),
            carried=self._carried(patient_id),
            entries=tuple(entries),
            head=head,
            checkpoint=head.note(log.public_key_bytes()),
            log_key=log.note_key().text(),
            staff_named=self.staff_named,
            produced_at=now or datetime.now(UTC),
        )
        claims = [e.claim() for e in report.entries]
        signed = self.vault.audit_log_signer().sign(
            access_statement(patient_id, report.checkpoint, claims)
        )
        return replace(report, signature=signed)

    def produce(
        self,
        patient_id: str,
        *,
        passphrase: str | None = None,
        recipient: str | None = None,
        printed: bool = False,
    ) -> Delivery:
        """The PDF and the FHIR Bundle, encrypted to one passphrase or recipient, or printed."""
        chosen = [
            w
            for w, given in (
                ("passphrase", passphrase),
                ("recipient", recipient),
                ("print", printed),
            )
            if given
        ]
        if len(chosen) != 1:
            raise UsageError(
                "delivery: give exactly one of a passphrase, an age recipient or print"
            )
        details: dict[str, DetailValue] = {"operation": "report", "delivery": chosen[0]}

        def make() -> Delivery:
            report = self._build(patient_id)
            title, subtitle, sections = report_sections(report)
            pdf = sections_pdf(title, subtitle, sections)
            short = patient_id[-8:]  # the random end: a UUIDv7 id begins with its clock
            if printed:
                return Delivery(
                    {f"acces-{short}.pdf": pdf},
                    len(report.entries),
                    report.head.tree_size,
                    encrypted=False,
                )
            bundle = json.dumps(report_bundle(report), ensure_ascii=False, indent=1).encode()

            def seal(data: bytes) -> bytes:
                if passphrase is not None:
                    return age_encrypt_passphrase(data, passphrase)
                return age_encrypt(data, [recipient or ""])

            files = {
                f"acces-{short}.pdf.age": seal(pdf),
                f"acces-{short}.fhir.json.age": seal(bundle),
            }
            return Delivery(files, len(report.entries), report.head.tree_size, encrypted=True)

        return self._do(patient_id, details, make)

    def markdown(self, patient_id: str) -> str:
        """The report's text as Markdown (the PDF's twin), for tests and review."""

        def text() -> str:
            title, subtitle, sections = report_sections(self._build(patient_id))
            return sections_markdown(title, subtitle, sections)

        return self._do(patient_id, {"operation": "markdown"}, text)

    # -- internals ---------------------------------------------------------------------
    def _covering_head(self) -> SignedTreeHead:
        """A head covering every event so far, with the witnesses' cosignatures if any."""
        self.trail.flush()
        log = self.trail.log
        head = log.sign_head()
        if self.trail.cosigner is not None:
            self.trail.cosigner.flush(COSIGN_WAIT_S)
            for stored in reversed(log.heads()):
                if stored.tree_size == head.tree_size:
                    return stored
        return head

    def _carried(self, patient_id: str) -> tuple[ExportCarried, ...]:
        out = []
        for entry in Ledger(self.vault).entries():
            if patient_id in entry.rows:
                kind = "paquet de migration" if entry.format == "migration-package" else "export"
                out.append(
                    ExportCarried(
                        entry.created_at, kind, entry.recipient, entry.purpose, entry.format
                    )
                )
        return tuple(out)

    def _staff(self, actor: str, pseudonyms: dict[str, str]) -> str:
        if self.staff_named or actor == "system":
            return actor
        if actor not in pseudonyms:
            pseudonyms[actor] = f"Personne {len(pseudonyms) + 1}"
        return pseudonyms[actor]

    def _do(self, patient_id: str, details: dict[str, DetailValue], work: Callable[[], _T]) -> _T:
        action = Action.RIGHTS_ACCESS_REPORT
        try:
            lab: str | None = self.vault.lab_of(patient_id)
        except EtancheError:
            lab = None
        # An id the vault does not know is never logged: it could be anything typed
        # into the field, a NIR included.
        records = [patient_id] if lab is not None else []
        decision = can(self.actor, action, Resource(PATIENT, lab, patient_id))
        if not decision.allowed:
            self._log(Outcome.DENIED, records, {**details, "reason": decision.reason})
            raise PermissionDenied(decision.reason)
        try:
            result = work()
        except EtancheError as exc:
            self._log(Outcome.FAILED, records, {**details, "error": type(exc).__name__})
            raise
        self._log(Outcome.OK, records, {**details, "lab": lab})
        return result

    def _log(self, outcome: Outcome, records: list[str], details: dict[str, DetailValue]) -> None:
        self.trail.record(
            self.actor,
            Action.RIGHTS_ACCESS_REPORT,
            outcome,
            objects=records,
            purpose="droit d'accès du patient (RGPD art. 15)",
            client=self.client,
            details=details,
            decoy_hit=any(is_decoy(self.vault, pid) for pid in records),
        )


def _lab_of(event: AuditEvent) -> str | None:
    lab = event.details.get("lab")
    return lab if isinstance(lab, str) else None


def _listed(seq: int, event: AuditEvent) -> ListedAccess:
    return ListedAccess(
        seq=seq,
        at=event.at,
        actor=event.actor,
        role=event.role,
        lab=_lab_of(event),
        action=event.action,
        outcome=event.outcome.value,
        purpose=event.purpose,
        when_fr=short_datetime(event.at),
        action_fr=access_action_fr(event.action),
        role_fr=ROLES_SHORT_FR.get(event.role, event.role),
        outcome_fr=OUTCOMES_FR.get(event.outcome.value, event.outcome.value),
        purpose_fr=purpose_fr(event.purpose),
    )
