"""The only room that imports cryptographic primitives (pyca/cryptography).

A small safe surface: seal/open values bound to their place, wrap keys under a
KEK provider, compute blind indexes, hash Merkle trees (RFC 6962) and sign tree
heads (Ed25519) and encrypt bulk outputs to age recipients. KEKs are held by a
PKCS#11 token or sealed under a secret split among custodians (M of N), so no
person holds them. Nothing else in Étanche touches AES, HMAC, SHA-256, Ed25519,
Shamir, PKCS#11 or age.
"""

from etanche.crypto._aead import (
    FORMAT_VERSION,
    Context,
    Sealer,
    ciphertext_digest,
    new_key,
    open_sealed,
    seal,
)
from etanche.crypto._age import (
    AgeIdentity,
    ContentHash,
    age_decrypt,
    age_encrypt,
    age_encrypt_passphrase,
    age_recipient,
    content_hash,
)
from etanche.crypto._backup import (
    file_sha256,
    manifest_mac,
    open_backup,
    open_backup_identity,
    seal_backup,
)
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
from etanche.crypto._mac import sign_payload, verify_payload
from etanche.crypto._merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    MerkleFrontier,
    consistency_from_frontier,
    consistency_path,
    inclusion_path,
    inclusion_paths,
    leaf_hash,
    merkle_root,
    node_hash,
    root_from_inclusion_path,
    verify_consistency,
    verify_inclusion,
)
from etanche.crypto._pkcs11 import Pkcs11KeyProvider
from etanche.crypto._prf import KeyedPrf
from etanche.crypto._provider import KdfCost, KeyProvider, PassphraseKeyFile
from etanche.crypto._quorum import (
    CUSTODY_FILE,
    Custodian,
    QuorumKeyProvider,
    Unsealer,
    check_share,
    create_quorum,
    open_share,
)
from etanche.crypto._signing import (
    Signer,
    Verifier,
    audit_log_signer,
    new_seed,
    note_key_hash,
)
from etanche.crypto._tokens import hash_token

__all__ = [
    "CUSTODY_FILE",
    "EMPTY_ROOT",
    "FORMAT_VERSION",
    "HASH_SIZE",
    "INDEX_OWNER",
    "INDEX_PURPOSE",
    "NETWORK_PURPOSES",
    "SIGNING_PURPOSE",
    "SYSTEM_PURPOSE",
    "AgeIdentity",
    "BlindIndexSpec",
    "BlindIndexer",
    "ContentHash",
    "Context",
    "Custodian",
    "KdfCost",
    "KeyProvider",
    "KeyRing",
    "KeyedPrf",
    "MerkleFrontier",
    "PassphraseKeyFile",
    "Pkcs11KeyProvider",
    "QuorumKeyProvider",
    "Sealer",
    "Signer",
    "Unsealer",
    "Verifier",
    "WrappedKey",
    "age_decrypt",
    "age_encrypt",
    "age_encrypt_passphrase",
    "age_recipient",
    "audit_log_signer",
    "check_share",
    "ciphertext_digest",
    "consistency_from_frontier",
    "consistency_path",
    "content_hash",
    "create_quorum",
    "file_sha256",
    "hash_token",
    "inclusion_path",
    "inclusion_paths",
    "leaf_hash",
    "manifest_mac",
    "merkle_root",
    "new_key",
    "new_seed",
    "node_hash",
    "note_key_hash",
    "open_backup",
    "open_backup_identity",
    "open_sealed",
    "open_share",
    "root_from_inclusion_path",
    "seal",
    "seal_backup",
    "sign_payload",
    "verify_consistency",
    "verify_inclusion",
    "verify_payload",
]
