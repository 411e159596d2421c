"""Public door to the bootstrap operations (init, serve, unseal, synth, upgrade)."""

from etanche.crypto import Custodian
from etanche.service._bootstrap import (
    DemoPlan,
    InitReport,
    QuorumOpener,
    QuorumPlan,
    TokenOpener,
    TokenPlan,
    audit_log_vkey,
    custody_folder,
    initialise,
    load_synthetic,
    locate,
    open_custody,
    opened_provider,
    share_from,
    upgrade_schema,
)
from etanche.service._restore_command import restore_from_backup
from etanche.vault import VaultLocation

__all__ = [
    "Custodian",
    "DemoPlan",
    "InitReport",
    "QuorumOpener",
    "QuorumPlan",
    "TokenOpener",
    "TokenPlan",
    "VaultLocation",
    "audit_log_vkey",
    "custody_folder",
    "initialise",
    "load_synthetic",
    "locate",
    "open_custody",
    "opened_provider",
    "restore_from_backup",
    "share_from",
    "upgrade_schema",
]
