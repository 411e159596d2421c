"""The scheduled retention purge: the service runs it itself, every interval, in one worker.

Off by default (``ETANCHE_PURGE_INTERVAL`` 0): destroying records starts when
the site turns it on, once the DPO has confirmed the rules. Every worker ticks;
a conditional update of one row lets a single one run each interval. The run
is the system's ``retention.purge`` event (counts, the report's hash); a failing
run is logged and retried at the next tick, never fatal to the server.
"""

from __future__ import annotations

import logging
import threading

from etanche.domain import RetentionRules
from etanche.errors import EtancheError, UsageError
from etanche.service._purge import RetentionService
from etanche.service._trail import Trail
from etanche.vault import Vault, claim_purge

logger = logging.getLogger("etanche.service.purge")


class PurgeSchedule:
    """A daemon thread purging every ``interval_s`` seconds until stopped."""

    def __init__(
        self, vault: Vault, trail: Trail, retention: RetentionRules, interval_s: float
    ) -> None:
        if interval_s <= 0:
            raise UsageError("purge interval: must be more than 0 seconds")
        self._vault = vault
        self._trail = trail
        self._retention = retention
        self._interval = interval_s
        self._stop = threading.Event()
        self.runs = 0
        self._thread = threading.Thread(target=self._loop, name="etanche-purge", daemon=True)

    def start(self) -> PurgeSchedule:
        self._thread.start()
        return self

    def run_once(self) -> bool:
        """One tick: purge if this worker wins the interval's claim; whether it ran."""
        if not claim_purge(self._vault, self._interval):
            return False
        service = RetentionService(
            self._vault.session(()), self._trail, None, retention=self._retention, client="schedule"
        )
        service.purge()
        self.runs += 1
        return True

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.run_once()
            except EtancheError as exc:  # the class only: a message may name a record
                logger.warning("scheduled retention purge failed (%s)", type(exc).__name__)
