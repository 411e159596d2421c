"""The key ring of one open vault session.

Holds the unwrapped data keys a session is entitled to: per-lab keys for the
compartments its policy grants, and the blind-index root key. A session opened
without the clinical compartment never unwraps a clinical lab key, so it cannot
decrypt clinical data even by calling the store directly.

Hierarchy: KEK (provider) → lab data keys (per lab, compartment, version) →
per-patient keys (random, wrapped by the lab key) → compartment ciphertexts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from etanche.crypto._aead import Context, Sealer, new_key
from etanche.crypto._provider import KeyProvider
from etanche.errors import IntegrityError, KeyNotFound

INDEX_OWNER = "*"
INDEX_PURPOSE = "index"
SYSTEM_PURPOSE = "system"  # seals non-patient secrets (TOTP seeds)
SIGNING_PURPOSE = "signing"  # 32-byte Ed25519 seed of the audit log
NETWORK_PURPOSES = frozenset({INDEX_PURPOSE, SYSTEM_PURPOSE, SIGNING_PURPOSE})
KEYS_TABLE = "data_keys"


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A data key as stored: wrapped by KEK ``kek_id``."""

    owner: str  # lab id, or "*" for network-wide keys
    purpose: str  # compartment name, or "index"
    version: int
    kek_id: str
    wrapped: bytes

    def context(self) -> Context:
        return Context(
            KEYS_TABLE, f"{self.owner}/{self.purpose}", self.owner, self.purpose, self.version
        )


def _patient_key_context(row_id: str, lab_id: str, compartment: str, version: int) -> Context:
    return Context("patients", row_id, lab_id, f"{compartment}-key", version)


class KeyRing:
    """Unwrapped data keys of a session, limited to its compartments."""

    def __init__(self, provider: KeyProvider, compartments: Iterable[str]) -> None:
        self.provider = provider
        self.compartments = frozenset(compartments)
        self._keys: dict[tuple[str, str, int], bytes] = {}
        # a lab key's cipher, set up once: it wraps or opens every patient key of its lab
        self._sealers: dict[tuple[str, str, int], Sealer] = {}

    def allows(self, compartment: str) -> bool:
        return compartment in self.compartments

    def load(self, stored: Iterable[WrappedKey]) -> None:
        """Unwrap the stored keys this session may hold; skip the others."""
        for item in stored:
            if item.purpose not in NETWORK_PURPOSES and item.purpose not in self.compartments:
                continue
            key = self.provider.unwrap(item.kek_id, item.wrapped, item.context())
            self._keep((item.owner, item.purpose, item.version), key)

    def adopt(self, other: KeyRing) -> None:
        """Take the keys ``other`` already unwrapped, for this ring's purposes only.

        A server unwraps the data keys once; each request's ring then copies
        only the compartments its person was granted.
        """
        for (owner, purpose, version), key in other._keys.items():
            if purpose in NETWORK_PURPOSES or purpose in self.compartments:
                self._keep((owner, purpose, version), key)

    def create(self, owner: str, purpose: str, version: int) -> WrappedKey:
        """Make a fresh data key, keep it, and return its wrapped form to store."""
        key = new_key()
        probe = WrappedKey(owner, purpose, version, "", b"")
        kek_id, wrapped = self.provider.wrap(key, probe.context())
        self._keep((owner, purpose, version), key)
        return WrappedKey(owner, purpose, version, kek_id, wrapped)

    def rewrap(self, item: WrappedKey) -> WrappedKey:
        """Same data key, wrapped by the provider's active KEK (KEK rotation)."""
        key = self.provider.unwrap(item.kek_id, item.wrapped, item.context())
        kek_id, wrapped = self.provider.wrap(key, item.context())
        return WrappedKey(item.owner, item.purpose, item.version, kek_id, wrapped)

    def _keep(self, slot: tuple[str, str, int], key: bytes) -> None:
        self._keys[slot] = key
        self._sealers.pop(slot, None)  # a cipher never outlives the key it was built on

    def key(self, owner: str, purpose: str, version: int) -> bytes:
        try:
            return self._keys[(owner, purpose, version)]
        except KeyError:
            if purpose not in NETWORK_PURPOSES and purpose not in self.compartments:
                raise KeyNotFound(f"{purpose} compartment: not open in this session") from None
            raise KeyNotFound(
                f"{purpose} key v{version} of lab {owner}: not in the vault"
            ) from None

    def has(self, owner: str, purpose: str, version: int) -> bool:
        return (owner, purpose, version) in self._keys

    def index_root(self) -> bytes:
        return self.key(INDEX_OWNER, INDEX_PURPOSE, 1)

    def network_key(self, purpose: str) -> bytes:
        """A network-wide key (system sealing, audit signing seed)."""
        if purpose not in NETWORK_PURPOSES:
            raise KeyNotFound(f"{purpose}: not a network-wide key")
        return self.key(INDEX_OWNER, purpose, 1)

    # -- per-patient keys -----------------------------------------------------
    def _lab_sealer(self, lab_id: str, compartment: str, version: int) -> Sealer:
        found = self._sealers.get((lab_id, compartment, version))
        if found is None:
            found = Sealer(self.key(lab_id, compartment, version))
            self._sealers[(lab_id, compartment, version)] = found
        return found

    def wrap_patient_key(
        self, key: bytes, row_id: str, lab_id: str, compartment: str, version: int
    ) -> bytes:
        sealer = self._lab_sealer(lab_id, compartment, version)
        return sealer.seal(key, _patient_key_context(row_id, lab_id, compartment, version))

    def unwrap_patient_key(
        self, wrapped: bytes | None, row_id: str, lab_id: str, compartment: str, version: int
    ) -> bytes:
        if wrapped is None:
            raise KeyNotFound(f"patients {row_id}: {compartment} key was shredded")
        sealer = self._lab_sealer(lab_id, compartment, version)
        context = _patient_key_context(row_id, lab_id, compartment, version)
        try:
            return sealer.open(wrapped, context)
        except IntegrityError as exc:
            raise IntegrityError(f"patient key: {exc}") from None
