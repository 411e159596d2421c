"""The scheduled revision check: the service runs ``vault verify`` itself, every interval.

Nobody has to remember to look: a rollback made while no auditor is watching
still raises the ``rollback_detected`` alert within one interval. The first run
waits one interval (starting a server costs no full scan); a failing run is
logged and retried at the next tick, never fatal to the server.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from etanche.errors import EtancheError, UsageError
from etanche.service._revisions import check_revisions, report
from etanche.service._trail import Trail
from etanche.vault import Vault

logger = logging.getLogger("etanche.service.revisions")


class RevisionWatch:
    """A daemon thread checking revisions every ``interval_s`` seconds until stopped."""

    def __init__(
        self,
        vault: Vault,
        trail: Trail,
        interval_s: float,
        *,
        also: Sequence[tuple[str, Callable[[], object]]] = (),
    ) -> None:
        if interval_s <= 0:
            raise UsageError("verify interval: must be more than 0 seconds")
        self._vault = vault
        self._trail = trail
        self._interval = interval_s
        # further scheduled checks on the same interval, each failing on its own
        self._also = tuple(also)
        self._stop = threading.Event()
        self.runs = 0
        self._thread = threading.Thread(target=self._loop, name="etanche-revisions", daemon=True)

    def start(self) -> RevisionWatch:
        self._thread.start()
        return self

    def run_once(self) -> None:
        """One scheduled check, logged as the system; a mismatch raises the alert."""
        result = check_revisions(self._vault, self._trail)
        report(self._trail, result, actor=None, where="schedule", client="schedule")
        self.runs += 1

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            for name, check in (("vault verify", self.run_once), *self._also):
                try:
                    check()
                except EtancheError as exc:  # the class only: a message may name a record
                    logger.warning("scheduled %s failed (%s)", name, type(exc).__name__)
