"""A served core over a small synthetic network, and the people of the rights tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from conftest import PASSPHRASE
from etanche.access import Actor, Role
from etanche.crypto import KdfCost, PassphraseKeyFile
from etanche.domain import Clinical, Patient
from etanche.service import Core, Custody, Door, PatientService, RightsRequests
from etanche.synth import SynthConfig, SynthNetwork, generate
from etanche.vault import Vault, VaultLocation, new_record_id, parse_location

NETWORK: SynthNetwork = generate(SynthConfig(patients=20, labs=2, seed=19))
LAB = NETWORK.labs[0].id

DPO = Actor("mdpo", "u-dpo", Role.DPO, frozenset({"*"}))
RECEPTION = Actor("rdesk", "u-rec", Role.RECEPTION, frozenset({LAB}))
BIOLOGIST = Actor("bbio", "u-bio", Role.BIOLOGIST, frozenset({LAB}))
LAB_ADMIN = Actor("ladmin", "u-lab", Role.LAB_ADMIN, frozenset({"*"}))
AUDITOR = Actor("aaudit", "u-aud", Role.AUDITOR, frozenset({"*"}))
OPERATOR = Actor("mop", "u-mop", Role.MIGRATION_OPERATOR, frozenset({"*"}))
OTHERS = (RECEPTION, BIOLOGIST, LAB_ADMIN, AUDITOR, OPERATOR)


def created(tmp_path: Path) -> VaultLocation:
    location = parse_location(str(tmp_path / "v"))
    with Vault.create(location, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests()) as store:
        for lab in NETWORK.labs:
            store.add_lab(lab)
        store.add_many((p, s) for batch in NETWORK.batches() for p, s in batch)
    return location


@contextmanager
def core_of(location: VaultLocation) -> Iterator[Core]:
    assert location.keyfile is not None
    provider = PassphraseKeyFile.open(location.keyfile, PASSPHRASE)
    core = Core(location, Custody.unsealed(provider))
    try:
        yield core
    finally:
        core.close()


def rights(core: Core, actor: Actor = DPO) -> RightsRequests:
    return Door(core).rights(actor, client="test")


def patients(core: Core, actor: Actor = BIOLOGIST) -> PatientService:
    return Door(core).patients(actor, client="test")


def first_patient() -> Patient:
    """A synthetic patient of the lab of the staff above (visits and specimens: kept 10 years)."""
    return next(p for p in NETWORK.patients() if p.lab_id == LAB and NETWORK.specimens(p))


def created_in_error(core: Core) -> str:
    """A record registered by mistake: no visit, no specimen, so no retention duty."""
    patient = replace(first_patient(), id=new_record_id(), last_visit=None, clinical=Clinical())
    return patients(core, RECEPTION).add(patient)
