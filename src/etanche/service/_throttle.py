"""Login attempts per client address, counted in the vault for every worker.

``etanche serve`` forks workers: a limit in one process's memory let an
address try ``limit`` times per worker, and a restart forgot it. The vault
keeps each attempt under a keyed hash of the address, so all workers share one
sliding window and the table never holds an address.
"""

from __future__ import annotations

from datetime import timedelta

from etanche.vault import SlidingWindow, Vault

__all__ = ["LoginThrottle"]

_SCOPE = "login"


class LoginThrottle:
    """At most ``limit`` login attempts per ``window`` per client address, service-wide."""

    def __init__(self, vault: Vault, limit: int, window: timedelta = timedelta(minutes=1)) -> None:
        self._vault = vault
        self._window = SlidingWindow(vault.engine, _SCOPE, limit, window)

    @property
    def limit(self) -> int:
        return self._window.limit

    def _key(self, address: str | None) -> str:
        return self._vault.client_digest(_SCOPE, address or "unknown")

    def allow(self, address: str | None) -> bool:
        """Count one attempt of ``address``; False once it is over the limit."""
        key = self._key(address)
        if not self._window.open(key):
            return False
        self._window.count(key)
        return True

    def open(self, address: str | None) -> bool:
        """Whether ``address`` is under the limit, without counting an attempt."""
        return self._window.open(self._key(address))

    def count(self, address: str | None) -> None:
        """Count one attempt of ``address`` (a failure, for the JSON login)."""
        self._window.count(self._key(address))
