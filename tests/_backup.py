"""A quorum-custody vault (2 of 3 custodians) with a small synthetic network, for backups."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from etanche.crypto import AgeIdentity, Custodian, QuorumKeyProvider, create_quorum, open_share
from etanche.service._shred_ledger import ShredLedger
from etanche.service._trail import Trail
from etanche.service.bootstrap import load_synthetic
from etanche.synth import SynthConfig, generate
from etanche.vault import Vault, VaultLocation

NAMES = ("aleroux", "ylegoff", "mkerbrat")


@dataclass
class QuorumSite:
    location: VaultLocation
    custody: Path
    provider: QuorumKeyProvider
    shares: dict[str, str]  # custodian -> share line in clear (as `etanche unseal` sends it)
    ledger: Path

    def open(self) -> tuple[Vault, Trail, ShredLedger]:
        """The vault as the service holds it: writes logged, erasures in the ledger."""
        from etanche.service._revisions import journal_for

        store = Vault.open_with(self.location, self.provider)
        trail = Trail.for_vault(store)
        store.record_writes(journal_for(trail))
        ledger = ShredLedger(self.ledger, store)
        ledger.sync()
        store.on_shred(ledger.append)
        return store, trail, ledger

    def backup_now(self, out: Path) -> Path:
        """One backup under ``out`` as the service makes it; its folder."""
        from etanche.service._backup import create_backup

        store, trail, _ = self.open()
        try:
            manifest = create_backup(store, trail, self.provider, out)
        finally:
            trail.close()
            store.close()
        return out / str(manifest["id"])


def quorum_site(root: Path, location: VaultLocation, patients: int = 60) -> QuorumSite:
    """Custody (2 of 3), the vault, ``patients`` synthetic patients in 3 labs."""
    custodians, identities = [], {}
    for name in NAMES:
        key = AgeIdentity.generate()
        identities[name] = key.secret_text()
        custodians.append(Custodian(name, key.public_text()))
    custody = root / "custody"
    provider, encrypted = create_quorum(custody, custodians, threshold=2)
    shares = {name: open_share(encrypted[name], identities[name]) for name in NAMES}
    Vault.create_with(location, provider).close()
    load_synthetic(location, provider, generate(SynthConfig(patients=patients, labs=3, seed=5)))
    return QuorumSite(location, custody, provider, shares, root / "shred-ledger.jsonl")
