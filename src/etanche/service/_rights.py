"""What a person's role lets them see: the policy's answers for display only.

Pages show a menu entry, an edit button or the clinical block only when the
policy would allow it; each operation still decides (and audits) on its own.
Asking here keeps ``can`` out of the adapters.
"""

from __future__ import annotations

from dataclasses import dataclass

from etanche.access import Actor, Resource, can, compartments_for, role_actions
from etanche.domain import Compartment
from etanche.names import Action


def allowed(actor: Actor, action: Action, lab_id: str | None = None) -> bool:
    """Whether the policy allows ``action`` on a resource of ``lab_id`` (None: network)."""
    return bool(can(actor, action, Resource(action.value.split(".")[0], lab_id)))


def actions_of(actor: Actor) -> frozenset[Action]:
    """Every action the person's role may take in its own labs (menus, buttons)."""
    return role_actions(actor.role)


def holds_clinical_role(actor: Actor) -> bool:
    """Whether the person's role may ever unwrap the clinical compartment."""
    return Compartment.CLINICAL in compartments_for(actor.role)


@dataclass(frozen=True)
class SheetRights:
    """What a patient sheet may offer this person."""

    clinical_open: bool
    can_edit: bool
    can_add_specimen: bool
    break_glass: bool
    can_edit_clinical: bool = False


def sheet_rights(
    actor: Actor, lab_id: str, patient_id: str, *, restricted: bool = False
) -> SheetRights:
    """The policy's answers for one patient's sheet (the read itself is audited apart)."""
    resource = Resource("patient", lab_id, patient_id, restricted)
    read = can(actor, Action.PATIENT_READ, resource)
    return SheetRights(
        clinical_open=Compartment.CLINICAL in read.compartments,
        can_edit=bool(can(actor, Action.PATIENT_UPDATE, resource)),
        can_add_specimen=bool(can(actor, Action.SPECIMEN_CREATE, resource)),
        break_glass=read.break_glass_used,
        can_edit_clinical=bool(can(actor, Action.CLINICAL_UPDATE, resource)),
    )
