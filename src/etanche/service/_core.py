"""The service's core: custody, then (once unsealed) the vault, the trail and secrets.

One per server process. Adapters (web pages, FHIR, the JSON API) get the vault
and the trail only through the operations of this room; while custody is
sealed every one of them fails with ServiceSealed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etanche.audit import DetailValue, Outcome, WitnessEndpoint, read_keys
from etanche.crypto import SYSTEM_PURPOSE, KeyProvider, sign_payload
from etanche.domain import load_retention
from etanche.errors import EtancheError, ServiceSealed, UsageError
from etanche.names import Action
from etanche.service._custody import Custody
from etanche.service._housekeeping import shred_expired_artefacts
from etanche.service._purge_schedule import PurgeSchedule
from etanche.service._reindex import reindex_at_start
from etanche.service._revision_watch import RevisionWatch
from etanche.service._revisions import adopt_older_rows, journal_for
from etanche.service._rights_deadlines import run_deadline_check
from etanche.service._shred_ledger import ShredLedger, default_ledger
from etanche.service._trail import Trail
from etanche.vault import Vault, VaultLocation

_log = logging.getLogger(__name__)


def _resolve(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)


def read_witnesses(path: Path) -> list[WitnessEndpoint]:
    """The witnesses the service asks to cosign: ``<vkey> <url>`` lines of a list file."""
    endpoints = []
    for key, url in read_keys(path, "witness"):
        if url is None:
            raise UsageError(f"{path.name}: witness {key.name} has no URL to reach it")
        endpoints.append(WitnessEndpoint(key, url))
    return endpoints


def _keep_erasures(vault: Vault, trail: Trail, ledger: ShredLedger) -> None:
    """No patient of the shred ledger is served: whatever brought the database back
    (a restore, a PITR, a copied file), listed patients still alive are shredded
    again before the first request; then every new erasure is appended."""
    try:
        _, again = ledger.reapply()
        ledger.sync()  # erasures made before the ledger existed
    except EtancheError as exc:  # a backup refuses later, with the same message
        _log.error("shred ledger: %s", exc)
    else:
        if again:
            details: dict[str, DetailValue] = {
                "operation": "reapply-erasures",
                "erasures_reapplied": len(again),
            }
            trail.record(None, Action.BACKUP_RESTORE, Outcome.OK, details=details)
    vault.on_shred(ledger.append)


@dataclass
class _Opened:
    vault: Vault
    trail: Trail
    form_secret: bytes
    watch: RevisionWatch | None
    purge: PurgeSchedule | None = None


class Core:
    """Custody and what it opens: the only holder of keys in the system."""

    def __init__(
        self,
        location: VaultLocation,
        custody: Custody,
        *,
        rules: Path | None = None,
        retention: Path | None = None,
        trail_mode: str = "sync",
        verify_interval_s: float = 0.0,
        purge_interval_s: float = 0.0,
        witnesses: Path | None = None,
        witness_quorum: int = 1,
        shred_ledger: Path | None = None,
    ) -> None:
        self.location = location
        self.custody = custody
        self.rules = rules
        # read now: a bad retention file fails at start, not when the register is asked
        self.retention = load_retention(retention)
        self.trail_mode = trail_mode
        self.verify_interval_s = verify_interval_s
        self.purge_interval_s = purge_interval_s
        # read now: a bad witness list fails at start, not at the first head
        self.witnesses = read_witnesses(witnesses) if witnesses is not None else []
        self.witness_quorum = witness_quorum
        # every erasure is appended here, apart from the backups (docs/operations.md)
        self.shred_ledger = default_ledger(location, str(shred_ledger) if shred_ledger else None)
        self._opened: _Opened | None = None
        custody.on_unseal(self._open)

    def _open(self, provider: KeyProvider) -> None:
        vault = Vault.open_with(self.location, provider, compartments=())
        trail = Trail.for_vault(
            vault,
            self.rules,
            mode=self.trail_mode,
            witnesses=self.witnesses,
            quorum=self.witness_quorum,
        )
        # Every write of every session of this vault is logged (rollback detection).
        vault.record_writes(journal_for(trail))
        if self.shred_ledger is not None:
            _keep_erasures(vault, trail, ShredLedger(self.shred_ledger, vault))
        adopt_older_rows(vault, trail)
        # records from before the front-desk indexes: found by prefix search from now on
        reindex_at_start(vault, trail)
        shred_expired_artefacts(vault, trail, client="server")
        # Derived from the vault's system key: every worker process and every restart
        # agrees on the same form (CSRF) tokens, and no secret sits in a file.
        secret = sign_payload(vault.network_key(SYSTEM_PURPOSE), b"etanche/csrf/v1").encode()
        watch = None
        # rights requests past their deadline alert at every start, then every interval
        run_deadline_check(trail, vault, client="server")
        if self.verify_interval_s > 0:
            deadlines = ("rights deadline check", lambda: run_deadline_check(trail, vault))
            watch = RevisionWatch(vault, trail, self.verify_interval_s, also=[deadlines]).start()
        purge = None
        if self.purge_interval_s > 0:
            purge = PurgeSchedule(vault, trail, self.retention, self.purge_interval_s).start()
        self._opened = _Opened(vault, trail, secret, watch, purge)

    def unseal(self, secret: str) -> dict[str, Any]:
        """One custodian's share or the token PIN; the opening itself is an audit event."""
        was_sealed = self.custody.sealed
        status = self.custody.give(secret)
        if was_sealed and not self.custody.sealed:
            self.trail.record(
                None,
                Action.CUSTODY_UNSEAL,
                Outcome.OK,
                client="custody",
                details={
                    "kind": self.custody.kind,
                    "custodians": ",".join(self.custody.unsealed_by),
                },
            )
        return status

    def _require(self) -> _Opened:
        if self._opened is None:
            raise ServiceSealed("service: sealed; its custodians must unseal it (`etanche unseal`)")
        return self._opened

    @property
    def sealed(self) -> bool:
        return self._opened is None

    @property
    def vault(self) -> Vault:
        return self._require().vault

    @property
    def trail(self) -> Trail:
        return self._require().trail

    @property
    def form_secret(self) -> bytes:
        return self._require().form_secret

    def settle(self) -> None:
        """Return once every audit event recorded so far is committed (durable).

        A buffered trail acknowledges nothing by itself: the server calls this
        before it answers, so no operation is confirmed whose event could be lost.
        """
        if self._opened is not None:
            self._opened.trail.flush()

    async def settled(self) -> None:
        """``settle`` for an event loop: the request waits without holding a thread;
        the trail's writer wakes it once its events are committed (or raises its
        failure)."""
        if self._opened is None:
            return
        trail = self._opened.trail
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            loop.call_soon_threadsafe(_resolve, done)

        if trail.when_flushed(wake):
            await done
        trail.raise_failure()

    def close(self) -> None:
        if self._opened is not None:
            opened, self._opened = self._opened, None
            if opened.watch is not None:
                opened.watch.stop()
            if opened.purge is not None:
                opened.purge.stop()
            opened.trail.close()
            opened.vault.close()
