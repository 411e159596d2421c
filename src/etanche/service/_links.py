"""Linking a patient known in another lab: one network identity, never a silent copy.

A front desk that finds a patient registered elsewhere in the network does not
retype them: the service opens the other lab's record, copies its strict identity
traits only (birth name, birth first names, sex, birth date, birthplace, NIR;
no contact, insurance or clinical data) into a new record of the desk's lab, and
binds both records to one network identity (sealed, docs/key-hierarchy.md). The
person never reads the other lab's record; both labs' audit trails get the event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from etanche.access import Action
from etanche.audit import Outcome
from etanche.domain import IdentityStatus, Patient
from etanche.errors import RecordNotFound, UsageError
from etanche.vault import new_record_id

if TYPE_CHECKING:
    from etanche.service._patients import PatientService


@dataclass(frozen=True, slots=True)
class Traits:
    """The INS traits a front desk searched with (birth name, first name, birth date)."""

    birth_name: str
    first_name: str
    birth_date: date


def identity_traits(source: Patient, lab_id: str) -> Patient:
    """A new record of ``lab_id`` with the strict identity traits of ``source`` only.

    The identity status starts provisional: each lab qualifies the identity it
    holds against its own documents.
    """
    return Patient(
        id=new_record_id(),
        lab_id=lab_id,
        birth_name=source.birth_name,
        first_names=source.first_names,
        sex=source.sex,
        birth_date=source.birth_date,
        birthplace_insee=source.birthplace_insee,
        nir=source.nir,
        identity_status=IdentityStatus.PROVISIONAL,
    )


def link(
    service: PatientService, lab_id: str, *, nir: str | None, traits: Traits | None
) -> Patient:
    """Create ``lab_id``'s record of a patient known elsewhere, bound to the same identity."""
    action = Action.PATIENT_LINK
    decision = service._decide(action, lab_id, None)
    vault = service.vault
    if nir:
        found = service._run(action, [], lambda: vault.find_by_nir(nir))
    elif traits is not None:
        found = service._run(
            action,
            [],
            lambda: vault.find_by_name(traits.birth_name, traits.first_name, traits.birth_date),
        )
    else:
        raise UsageError("link: give the NIR or the birth name, first name and birth date")
    if any(p.lab_id == lab_id for p in found):
        service._record(action, Outcome.FAILED, [], {"lab": lab_id, "error": "already_here"})
        raise UsageError(f"link: lab {lab_id} already holds a record of this person; open it")
    sources = sorted(found, key=lambda p: (p.lab_id, p.id))
    if not sources:
        service._record(action, Outcome.FAILED, [], {"lab": lab_id, "error": "not_found"})
        raise RecordNotFound("link: no record of this identity elsewhere in the network")
    source = sources[0]
    patient = identity_traits(source, lab_id)
    identity = vault.identity_of(source.id) or new_record_id()
    service._run(action, [patient.id], lambda: vault.add(patient))
    vault.bind_identity([source.id, patient.id], identity)
    objects = [patient.id, source.id]
    # Once in the lab that creates the record, once in the lab whose record was read.
    service._done(action, decision, objects, {"lab": lab_id, "source_lab": source.lab_id})
    service._record(
        action,
        Outcome.OK,
        [source.id, patient.id],
        {"lab": source.lab_id, "linked_lab": lab_id, "traits_copied": True},
    )
    return patient
