"""The only room that imports cryptographic primitives (pyca/cryptography).

A small safe surface: seal/open values bound to their place, wrap keys under a
KEK provider, compute blind indexes. Nothing else in Étanche touches AES or HMAC.
"""

from etanche.crypto._aead import FORMAT_VERSION, Context, new_key, open_sealed, seal
from etanche.crypto._blind import BlindIndexer, BlindIndexSpec
from etanche.crypto._keyring import (
    INDEX_OWNER,
    INDEX_PURPOSE,
    NETWORK_PURPOSES,
    SIGNING_PURPOSE,
    SYSTEM_PURPOSE,
    KeyRing,
    WrappedKey,
)
from etanche.crypto._provider import KdfCost, KeyProvider, PassphraseKeyFile

__all__ = [
    "FORMAT_VERSION",
    "INDEX_OWNER",
    "INDEX_PURPOSE",
    "NETWORK_PURPOSES",
    "SIGNING_PURPOSE",
    "SYSTEM_PURPOSE",
    "BlindIndexSpec",
    "BlindIndexer",
    "Context",
    "KdfCost",
    "KeyProvider",
    "KeyRing",
    "PassphraseKeyFile",
    "WrappedKey",
    "new_key",
    "open_sealed",
    "seal",
]
