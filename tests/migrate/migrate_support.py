"""A controller vault with named staff, a legacy source file and plan files to edit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from _staff import Staff
from conftest import PASSPHRASE
from etanche.access import Role
from etanche.crypto import AgeIdentity, KdfCost
from etanche.exchange import write_legacy_csv
from etanche.migrate import MigrationPlan, Plans, load_plan
from etanche.synth import SynthConfig, SynthNetwork, generate
from etanche.vault import Vault, parse_location

NETWORK = SynthConfig(
    patients=240, labs=3, seed=11, invalid_nir_key=0.05, duplicates_across_labs=0.03
)


@dataclass
class Migration:
    vault: Vault
    staff: Staff
    network: SynthNetwork
    source: Path
    recipient: AgeIdentity
    folder: Path

    def plan_data(self, **changes: Any) -> dict[str, Any]:
        data: dict[str, Any] = {
            "plan": "bionord-2026-01",
            "controller": {"name": "Groupe BioNord", "labs": ["L01", "L02", "L03"]},
            "processor": {"name": "LabSoft SAS", "contact": "dpo@labsoft.example"},
            "purpose": "Move the patient files of L01 and L02 to the new lab system",
            "source": {"format": "legacy-csv", "path": str(self.source)},
            "scope": {"labs": ["L01", "L02"]},
            "fields": {
                "admin": ["birth_name", "first_names", "sex", "birth_date", "nir", "phone"],
                "clinical": ["blood_group"],
            },
            "recipients": [{"name": "NewLIS SAS", "age": self.recipient.public_text()}],
            "retention": {"expires": "2099-12-31"},
            "approvers": [
                {"username": "cbernard", "role": "lab_admin"},
                {"username": "alefevre", "role": "dpo"},
            ],
        }
        data.update(changes)
        return data

    def write_plan(self, name: str = "plan.yaml", **changes: Any) -> Path:
        path = self.folder / name
        path.write_text(yaml.safe_dump(self.plan_data(**changes), allow_unicode=True))
        return path


@pytest.fixture
def sqlite_vault(tmp_path: Path) -> Iterator[Vault]:
    """Migration tests read and write files around one SQLite vault."""
    store = Vault.create(
        parse_location(str(tmp_path / "vault")), PASSPHRASE, kdf_cost=KdfCost.fast_for_tests()
    )
    yield store
    store.close()


@pytest.fixture
def migration(sqlite_vault: Vault, tmp_path: Path) -> Migration:
    vault = sqlite_vault
    network = generate(NETWORK)
    for lab in network.labs:
        vault.add_lab(lab)
    source = tmp_path / "export.csv"
    write_legacy_csv(network, source)
    staff = Staff(vault)
    staff.add("pgirard", "Pierre Girard", Role.MIGRATION_OPERATOR, ["*"])
    staff.add("cbernard", "Claire Bernard", Role.LAB_ADMIN, ["*"])
    staff.add("alefevre", "Anne Lefèvre", Role.DPO, ["*"])
    return Migration(vault, staff, network, source, AgeIdentity.generate(), tmp_path)


def approved(migration: Migration, plan_path: Path) -> MigrationPlan:
    """Register as the operator, approve as both named approvers."""
    plan = load_plan(plan_path)
    plans = Plans(migration.vault)
    plans.register(plan, "pgirard")
    plans.approve(plan, "cbernard")
    plans.approve(plan, "alefevre")
    return plan
