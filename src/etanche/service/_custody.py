"""How the service comes to hold its key-encryption key: sealed until custody opens.

The service is the only process that unwraps keys. It starts sealed: nothing
patient-related works until its custody opens, either by M custodian shares of
the unseal secret (quorum) or by the PIN of the security token that holds the
KEK (PKCS#11). People never hold keys; custodians each hold one share, which
alone reveals nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from etanche.crypto import KeyProvider
from etanche.errors import ServiceSealed, UsageError


class Opener(Protocol):
    """One way of opening custody: collects what custodians give, then yields a provider."""

    kind: str

    def status(self) -> dict[str, Any]: ...

    def give(self, secret: str) -> bool:
        """Take one share (or the token PIN); True once custody can open."""
        ...

    def open(self) -> KeyProvider: ...

    def reset(self) -> None: ...

    def check(self, secret: str) -> str:
        """Whose share (or PIN) this is, checked alone; raises if it is not genuine."""
        ...


@dataclass
class Custody:
    """The service's custody state: sealed, then unsealed once and for its lifetime."""

    opener: Opener | None = None
    _provider: KeyProvider | None = None
    _listeners: list[Callable[[KeyProvider], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    unsealed_by: tuple[str, ...] = ()

    @classmethod
    def unsealed(cls, provider: KeyProvider, *, by: tuple[str, ...] = ()) -> Custody:
        """Custody already open (a provider opened by the caller, e.g. in tests)."""
        return cls(None, provider, unsealed_by=by)

    @property
    def sealed(self) -> bool:
        return self._provider is None

    @property
    def kind(self) -> str:
        return self.opener.kind if self.opener is not None else "open"

    def provider(self) -> KeyProvider:
        """The KEK provider; ServiceSealed while custody has not opened."""
        if self._provider is None:
            raise ServiceSealed("service: sealed; its custodians must unseal it (`etanche unseal`)")
        return self._provider

    def on_unseal(self, listener: Callable[[KeyProvider], None]) -> None:
        """Call ``listener`` once custody opens (at once if it already has)."""
        if self._provider is not None:
            listener(self._provider)
        else:
            self._listeners.append(listener)

    def status(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"sealed": self.sealed, "kind": self.kind}
        if self.opener is not None and self.sealed:
            doc.update(self.opener.status())
        return doc

    def give(self, secret: str) -> dict[str, Any]:
        """One custodian's share (or the token PIN); opens custody when enough are in."""
        if not self.sealed:
            raise UsageError("unseal: the service is already unsealed")
        assert self.opener is not None
        with self._lock:
            if not self.opener.give(secret):
                return self.status()
            try:
                provider = self.opener.open()
            except BaseException:
                self.opener.reset()
                raise
            given = self.opener.status().get("given", [])
            self.unsealed_by = tuple(str(g) for g in given)
            self._provider = provider
            listeners, self._listeners = self._listeners, []
        for listener in listeners:
            listener(provider)
        return self.status()
