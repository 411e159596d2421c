"""The vault suite runs under each custody: a quorum of custodians and a PKCS#11 token.

Every test of this folder that takes ``vault`` (or ``loaded_vault``) runs once
with the KEK opened from custodian shares and once with the KEK inside a
SoftHSM2 token; ``reopen`` opens another session the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from _softhsm import fresh_token, require_softhsm
from conftest import Backend
from etanche.crypto import (
    AgeIdentity,
    Custodian,
    KeyProvider,
    Pkcs11KeyProvider,
    Unsealer,
    create_quorum,
    open_share,
)
from etanche.domain import Compartment
from etanche.vault import ALL_COMPARTMENTS, Vault


@dataclass
class Custody:
    """A way to open the KEK again, as a restarted service would."""

    kind: str
    opener: Callable[[], KeyProvider]
    opened: list[KeyProvider] = field(default_factory=list)

    def provider(self) -> KeyProvider:
        provider = self.opener()
        self.opened.append(provider)
        return provider

    def close(self) -> None:
        for provider in self.opened:
            close = getattr(provider, "close", None)
            if close is not None:
                close()


@pytest.fixture(scope="session")
def softhsm_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("softhsm")


@pytest.fixture(params=["quorum", "pkcs11"])
def custody(
    request: pytest.FixtureRequest, tmp_path: Path, softhsm_state: Path
) -> Iterator[Custody]:
    if request.param == "quorum":
        identities = [AgeIdentity.generate() for _ in range(3)]
        folder = tmp_path / "custody"
        people = [Custodian(f"c{i}", who.public_text()) for i, who in enumerate(identities)]
        first, shares = create_quorum(folder, people, 2)
        pairs = zip(people, identities, strict=True)
        lines = [open_share(shares[p.name], who.secret_text()) for p, who in pairs]

        def unseal() -> KeyProvider:
            unsealer = Unsealer(folder)
            for line in lines[1:]:  # any two of three
                unsealer.add(line)
            return unsealer.provider()

        held = Custody("quorum", unseal, [first])
    else:
        require_softhsm()
        token = fresh_token(softhsm_state)
        created = Pkcs11KeyProvider.create(token.module, token.label, token.pin)
        held = Custody(
            "pkcs11",
            lambda: Pkcs11KeyProvider.open(token.module, token.label, token.pin),
            [created],
        )
    try:
        yield held
    finally:
        held.close()


@pytest.fixture
def vault(backend: Backend, custody: Custody) -> Iterator[Vault]:
    store = Vault.create_with(backend.location, custody.opened[0])
    yield store
    store.close()


@pytest.fixture
def reopen(backend: Backend, custody: Custody) -> Callable[..., Vault]:
    """Another session on the same vault, its KEK opened afresh from custody."""

    def open_again(compartments: Iterable[Compartment] = ALL_COMPARTMENTS) -> Vault:
        return Vault.open_with(backend.location, custody.provider(), compartments=compartments)

    return open_again
