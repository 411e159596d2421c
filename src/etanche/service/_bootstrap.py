"""Setting a vault up: custody at ``init``, custody opened at ``serve``, synthetic loads.

The only operations that run without a logged-in person. Each needs what the
custody needs: ``init`` creates it, ``serve`` waits sealed for its custodians,
and a synthetic load (``etanche synth``) opens it with the custodians' shares,
exactly like an unseal.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from etanche.access import NETWORK_WIDE, Accounts, Role, validate_account
from etanche.crypto import (
    CUSTODY_FILE,
    Custodian,
    KeyProvider,
    Pkcs11KeyProvider,
    Unsealer,
    check_share,
    create_quorum,
    open_share,
)
from etanche.errors import KeyProviderError, UsageError, VaultNotFound
from etanche.service._custody import Custody
from etanche.service._revisions import journal_for
from etanche.service._trail import Trail
from etanche.settings import Settings
from etanche.synth import SynthNetwork
from etanche.vault import PoolOptions, Vault, VaultLocation, parse_location

TOKEN_KIND = "pkcs11"  # noqa: S105 (a custody kind, not a secret)
QUORUM_KIND = "quorum"


def locate(vault: str | None, settings: Settings | None = None) -> VaultLocation:
    """The vault named by --vault or ETANCHE_VAULT (a directory or a PostgreSQL URL).

    ``settings`` size the process's one PostgreSQL pool (ETANCHE_DB_POOL_*).
    """
    if not vault:
        raise UsageError("vault: no location given (use --vault or ETANCHE_VAULT)")
    pool = None
    if settings is not None:
        pool = PoolOptions(
            settings.db_pool_size, settings.db_max_overflow, settings.db_pool_recycle
        )
    return parse_location(vault, pool=pool)


def custody_folder(location: VaultLocation, given: str | None) -> Path:
    """Where custody lives: given, or beside (never inside) a SQLite vault's folder."""
    if given:
        return Path(given).expanduser().resolve()
    if location.directory is None:
        raise UsageError("custody: a PostgreSQL vault needs --custody or ETANCHE_CUSTODY")
    return location.directory.with_name(location.directory.name + "-custody")


# -- custody plans ---------------------------------------------------------------
@dataclass(frozen=True)
class QuorumPlan:
    """M of N named custodians, each share encrypted to the custodian's age key."""

    custodians: Sequence[Custodian]
    threshold: int
    shares_out: Path


@dataclass(frozen=True)
class DemoPlan:
    """One custodian whose share is written in clear to a 0600 file: demos only."""

    share_file: Path


@dataclass(frozen=True)
class TokenPlan:
    """The KEK inside a PKCS#11 token (an HSM; SoftHSM2 in tests)."""

    module: Path
    token: str
    pin: str


@dataclass
class InitReport:
    location: VaultLocation
    custody: Path
    kind: str
    written: list[Path] = field(default_factory=list)
    admin: str | None = None


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.exists():
        raise UsageError(f"{path}: already exists; refusing to overwrite a share")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _create_custody(
    folder: Path, plan: QuorumPlan | DemoPlan | TokenPlan
) -> tuple[KeyProvider, str, list[Path]]:
    if (folder / CUSTODY_FILE).exists():
        raise UsageError(f"custody {folder}: already exists")
    provider: KeyProvider
    if isinstance(plan, TokenPlan):
        provider = Pkcs11KeyProvider.create(plan.module, plan.token, plan.pin)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        doc = {
            "format": "etanche-custody/1",
            "kind": TOKEN_KIND,
            "module": str(plan.module),
            "token": plan.token,
            "created_at": datetime.now(UTC).isoformat(),
        }
        _write_private(folder / CUSTODY_FILE, json.dumps(doc, indent=2).encode())
        return provider, TOKEN_KIND, []
    if isinstance(plan, DemoPlan):
        from etanche.crypto import AgeIdentity

        identity = AgeIdentity.generate()
        custodian = Custodian("demo", identity.public_text())
        provider, shares = create_quorum(folder, [custodian], 1)
        line = open_share(shares["demo"], identity.secret_text())
        _write_private(plan.share_file, line.encode("ascii") + b"\n")
        return provider, QUORUM_KIND, [plan.share_file]
    provider, shares = create_quorum(folder, list(plan.custodians), plan.threshold)
    written: list[Path] = []
    for name, encrypted in shares.items():
        target = plan.shares_out / f"share-{name}.age"
        _write_private(target, encrypted)
        written.append(target)
    return provider, QUORUM_KIND, written


def initialise(
    location: VaultLocation,
    folder: Path,
    plan: QuorumPlan | DemoPlan | TokenPlan,
    admin: tuple[str, str, str],
) -> InitReport:
    """Create custody, the vault (schema and network keys) and the first account.

    The account is checked before anything is written, so a refused init leaves
    no custody, share or database behind.
    """
    validate_account(admin[0], admin[1], Role.LAB_ADMIN, {NETWORK_WIDE}, admin[2])
    if location.directory is not None and location.sqlite_path.exists():
        raise UsageError(f"vault {location.describe()}: already exists")
    provider, kind, written = _create_custody(folder, plan)
    with Vault.create_with(location, provider) as store:
        user = None
        if admin is not None:
            user = (
                Accounts(store)
                .add(admin[0], admin[1], Role.LAB_ADMIN, {NETWORK_WIDE}, admin[2], None)
                .username
            )
    return InitReport(location, folder, kind, written, user)


# -- opening custody -------------------------------------------------------------
class QuorumOpener:
    """Collects custodian shares until the threshold; then the KEK file opens."""

    kind = QUORUM_KIND

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._unsealer = Unsealer(folder)

    def status(self) -> dict[str, Any]:
        # public (no login while sealed): how many shares are in, not who the custodians are
        return {"threshold": self._unsealer.threshold, "given": sorted(self._unsealer.given)}

    def give(self, secret: str) -> bool:
        return self._unsealer.add(secret.strip())

    def open(self) -> KeyProvider:
        return self._unsealer.provider()

    def reset(self) -> None:
        self._unsealer.reset()

    def check(self, secret: str) -> str:
        return check_share(self._folder, secret.strip())


class TokenOpener:
    """The token's PIN opens a session on the HSM; the KEK never leaves it."""

    kind = TOKEN_KIND

    def __init__(self, module: Path, token: str) -> None:
        self._module = module
        self._token = token
        self._pin: str | None = None

    def status(self) -> dict[str, Any]:
        return {"threshold": 1, "given": [], "token": self._token}

    def give(self, secret: str) -> bool:
        self._pin = secret
        return True

    def open(self) -> KeyProvider:
        assert self._pin is not None
        return Pkcs11KeyProvider.open(self._module, self._token, self._pin)

    def reset(self) -> None:
        self._pin = None

    def check(self, secret: str) -> str:
        Pkcs11KeyProvider.open(self._module, self._token, secret).close()
        return "token"


def _custody_doc(folder: Path) -> dict[str, Any]:
    try:
        doc = json.loads((folder / CUSTODY_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VaultNotFound(
            f"custody {folder}: not found (run `etanche init`, or give --custody)"
        ) from None
    except (OSError, ValueError):
        raise KeyProviderError(f"custody {folder}: {CUSTODY_FILE} is unreadable") from None
    if not isinstance(doc, dict) or doc.get("kind") not in (QUORUM_KIND, TOKEN_KIND):
        raise KeyProviderError(f"custody {folder}: not an Étanche custody")
    return doc


def open_custody(folder: Path) -> Custody:
    """The service's custody, sealed until its custodians (or the token PIN) open it."""
    doc = _custody_doc(folder)
    if doc["kind"] == TOKEN_KIND:
        return Custody(TokenOpener(Path(doc["module"]), str(doc["token"])))
    return Custody(QuorumOpener(folder))


def share_from(share_file: Path | None, encrypted: Path | None, identity: Path | None) -> str:
    """A custodian's share line: from a clear share file, or decrypted with their age key."""
    try:
        if share_file is not None:
            return share_file.read_text(encoding="ascii").strip()
        if encrypted is None or identity is None:
            raise UsageError("unseal: give --share-file, or --share with --identity")
        return open_share(encrypted.read_bytes(), identity.read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError):
        raise UsageError("unseal: cannot read the share or identity file") from None


def opened_provider(folder: Path, secrets: Sequence[str]) -> KeyProvider:
    """Custody opened in this process with the given shares or PIN (bootstrap loads)."""
    custody = open_custody(folder)
    for secret in secrets:
        custody.give(secret)
        if not custody.sealed:
            return custody.provider()
    status = custody.status()
    raise KeyProviderError(
        f"custody: {len(status.get('given', []))} of {status.get('threshold')} shares given"
    )


# -- synthetic loads -------------------------------------------------------------
def load_synthetic(
    location: VaultLocation,
    provider: KeyProvider,
    network: SynthNetwork,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Labs, then patients and specimens in one transaction (generated valid).

    Each batch's writes go to the audit log (one event per batch), like the
    service's own writes, so ``vault verify`` knows every loaded value.
    """
    with Vault.open_with(location, provider) as store:
        trail = Trail.for_vault(store)
        try:
            store.record_writes(journal_for(trail))
            for lab in network.labs:
                store.add_lab(lab)
            return store.add_many(
                ((p, s) for batch in network.batches() for p, s in batch),
                validate=False,  # generated valid by construction (tests/synth checks it)
                progress=progress,
                workers=1 if (os.cpu_count() or 1) > 1 else 0,
            )
        finally:
            trail.close()


def audit_log_vkey(location: VaultLocation, provider: KeyProvider) -> str:
    """The audit log's verifier key (custody holds the key): what witnesses pin."""
    from etanche.audit import AuditLog

    with Vault.open_with(location, provider, compartments=()) as store:
        return AuditLog.for_vault(store).note_key().text()


def upgrade_schema(location: VaultLocation) -> tuple[str, str]:
    """Pending schema migrations; the database is all it needs, never a key."""
    return Vault.upgrade(location)
