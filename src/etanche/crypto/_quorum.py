"""KEKs held by nobody: sealed under a secret split M of N among named custodians.

The unseal secret exists only in memory while a quorum unseals the service; at
rest the custody directory holds public material (``custody.json``) and KEKs
sealed under a key derived from that secret (``keks.json``). Each custodian gets
their share encrypted to their own age key, so the stock ``age`` CLI opens it.

Shamir sharing is pycryptodome's (16-byte secrets over GF(2^128)): the 32-byte
secret is shared as two 16-byte halves with the same x indices, and a share's
data is the two 16-byte halves' shares side by side. Shamir alone does not
detect a forged share, so ``custody.json`` keeps a check value derived from the
secret by HKDF (never the secret) and the combined secret must match it.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hmac
import json
import os
import re
import secrets
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from Crypto.Protocol.SecretSharing import Shamir
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from etanche.crypto._aead import Context, new_key, open_sealed, seal
from etanche.crypto._age import AgeIdentity, age_decrypt, age_encrypt, age_recipient
from etanche.errors import (
    IntegrityError,
    KeyNotFound,
    KeyProviderError,
    UsageError,
    WrongShares,
)

__all__ = [
    "CUSTODY_FILE",
    "KEKS_FILE",
    "Custodian",
    "QuorumKeyProvider",
    "Unsealer",
    "create_quorum",
    "open_share",
]

CUSTODY_FILE = "custody.json"
KEKS_FILE = "keks.json"
_LOCK_FILE = "custody.lock"
CUSTODY_FORMAT = "etanche-custody/1"
KEKS_FORMAT = "etanche-keks/1"
SHARE_FORMAT = "etanche-share/1"
MAX_CUSTODIANS = 16  # Shamir indices stay small; 16 named people is already a lot
_SECRET_BYTES = 32
_HALF = 16
_WRAP_INFO = b"etanche/custody/kek-wrap/v1"
_CHECK_INFO = b"etanche/custody/check/v1"
_SHARE_CHECK_INFO = b"etanche/custody/share-check/v1"
_KEK_AAD = "etanche-custody/kek/1/"
_LOG_AAD = "etanche-custody/audit-log-key/1/"
_BACKUP_INFO = b"etanche/custody/backup/v1/"
_NAME = re.compile(r"[!-~]{1,64}")  # printable ASCII, no space: a share line splits on spaces


@dataclass(frozen=True, slots=True)
class Custodian:
    """A named person holding one share, reachable at an age X25519 public key."""

    name: str
    recipient: str

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise UsageError("custodian name: 1 to 64 printable ASCII characters without spaces")
        age_recipient(self.recipient, field=f"custodian {self.name}: recipient")


# -- primitives, all from pycryptodome and pyca/cryptography -------------------
def _derive(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


def _split(secret: bytes, threshold: int, count: int) -> list[tuple[int, bytes]]:
    """Two 16-byte Shamir sharings with the same x indices (1..count)."""
    low = Shamir.split(threshold, count, secret[:_HALF])
    high = Shamir.split(threshold, count, secret[_HALF:])
    return [(i, lo + hi) for (i, lo), (_, hi) in zip(low, high, strict=True)]


def _combine(shares: Sequence[tuple[int, bytes]]) -> bytes:
    low = Shamir.combine([(i, data[:_HALF]) for i, data in shares])
    high = Shamir.combine([(i, data[_HALF:]) for i, data in shares])
    return low + high


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _kek_aad(custody_id: str, kek_id: str) -> bytes:
    return f"{_KEK_AAD}{len(custody_id)}:{custody_id}{len(kek_id)}:{kek_id}".encode()


def _log_aad(custody_id: str) -> bytes:
    return (_LOG_AAD + custody_id).encode("ascii")


def _backup_key(wrapping_key: bytes, backup_id: str) -> bytes:
    return _derive(wrapping_key, _BACKUP_INFO + backup_id.encode("ascii"))


def _share_line(custody_id: str, name: str, index: int, data: bytes) -> str:
    return f"{SHARE_FORMAT} {custody_id} {name} {index} {_b64(data)}"


def _prepare(path: Path, doc: dict[str, Any]) -> Path:
    """Write ``doc`` to a 0600 temp file beside ``path`` (whatever the umask), fsynced."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    return tmp


def _commit(*renames: tuple[Path, Path]) -> None:
    """Rename prepared files into place, then fsync their directory."""
    for tmp, path in renames:
        os.replace(tmp, path)
    dir_fd = os.open(renames[0][1].parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _write_private(path: Path, doc: dict[str, Any]) -> None:
    """Atomic write: a crash leaves the old file or the new one, never half of one."""
    _commit((_prepare(path, doc), path))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KeyProviderError(f"custody {path}: not found") from None
    except (OSError, ValueError) as exc:
        raise KeyProviderError(f"custody {path.name}: unreadable ({type(exc).__name__})") from None
    if not isinstance(doc, dict):
        raise KeyProviderError(f"custody {path.name}: not a JSON object")
    return doc


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Serialise read-modify-write of keks.json between server processes."""
    fd = os.open(directory / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _check_custodians(custodians: Sequence[Custodian], threshold: int) -> None:
    count = len(custodians)
    if not 1 <= count <= MAX_CUSTODIANS:
        raise UsageError(f"custodians: between 1 and {MAX_CUSTODIANS} needed, {count} given")
    if not 1 <= threshold <= count:
        raise UsageError(f"threshold: must be between 1 and {count} (the custodians)")
    names = [c.name for c in custodians]
    for name in names:
        if names.count(name) > 1:
            raise UsageError(f"custodian {name}: named twice")
    keys = [str(age_recipient(c.recipient)) for c in custodians]
    for custodian, key in zip(custodians, keys, strict=True):
        if keys.count(key) > 1:
            raise UsageError(f"custodian {custodian.name}: recipient shared with another custodian")


def _deal(
    custody_id: str, secret: bytes, custodians: Sequence[Custodian], threshold: int
) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """Split ``secret``; returns custody.json's custodian entries and encrypted shares."""
    entries: list[dict[str, Any]] = []
    encrypted: dict[str, bytes] = {}
    for custodian, (index, data) in zip(
        custodians, _split(secret, threshold, len(custodians)), strict=True
    ):
        entries.append(
            {
                "name": custodian.name,
                "recipient": custodian.recipient,
                "index": index,
                # one share checked alone: a custodian approves a ceremony by themselves
                "share_check": _b64(_share_check(custody_id, custodian.name, index, data)),
            }
        )
        line = _share_line(custody_id, custodian.name, index, data) + "\n"
        encrypted[custodian.name] = age_encrypt(line.encode("ascii"), [custodian.recipient])
    return entries, encrypted


def _share_check(custody_id: str, name: str, index: int, data: bytes) -> bytes:
    """A value that tells one share right or wrong and reveals nothing of it (HKDF)."""
    return _derive(data, _SHARE_CHECK_INFO + f"/{custody_id}/{name}/{index}".encode())


def check_share(directory: Path, share_line: str) -> str:
    """The custodian whose genuine share this is; WrongShares for a forged one.

    Lets the service count custodians approving a ceremony (KEK rotation,
    resharing) one at a time, in any worker process, without holding shares.
    """
    custody = _Custody.read(directory)
    name, index, data = _parse_share(custody, share_line)
    entry = next(c for c in custody.doc["custodians"] if c["name"] == name)
    expected = entry.get("share_check")
    if not isinstance(expected, str):
        raise KeyProviderError("custody: made before per-share checks; reshare it first")
    given = _share_check(custody.custody_id, name, index, data)
    if not hmac.compare_digest(given, _unb64(expected)):
        raise WrongShares("share: it does not open this custody")
    return name


def _custody_doc(
    custody_id: str, secret: bytes, threshold: int, entries: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "format": CUSTODY_FORMAT,
        "kind": "quorum",
        "id": custody_id,
        "threshold": threshold,
        "custodians": entries,
        "check": _b64(_derive(secret, _CHECK_INFO)),
        "created_at": _now(),
    }


def create_quorum(
    directory: Path, custodians: Sequence[Custodian], threshold: int
) -> tuple[QuorumKeyProvider, dict[str, bytes]]:
    """Create a custody split ``threshold`` of ``len(custodians)``, with one fresh KEK.

    Returns the unsealed provider and, per custodian name, their share encrypted
    to their age recipient (an age file: hand it to them, keep no copy).
    """
    _check_custodians(custodians, threshold)
    for name in (CUSTODY_FILE, KEKS_FILE):
        if (directory / name).exists():
            raise KeyProviderError(f"custody {directory}: already holds {name}")
    if directory.exists():
        mode = directory.stat().st_mode & 0o777
        if mode & 0o077:
            raise KeyProviderError(
                f"custody directory {directory}: open to others (mode {mode:o}); make it 0700"
            )
    else:
        directory.mkdir(mode=0o700, parents=True)
        os.chmod(directory, 0o700)  # mkdir's mode is cut by the umask
    secret = os.urandom(_SECRET_BYTES)
    custody_id = "custody-" + secrets.token_hex(8)
    entries, encrypted = _deal(custody_id, secret, custodians, threshold)
    doc = _custody_doc(custody_id, secret, threshold, entries)
    provider = QuorumKeyProvider(directory, doc, _derive(secret, _WRAP_INFO), {}, None)
    with _locked(directory):
        provider._log_seed = os.urandom(_SECRET_BYTES)  # the audit log's key, sealed with them
        provider._add_kek_locked()  # keks.json first: custody.json marks a finished custody
        _write_private(directory / CUSTODY_FILE, doc)
    return provider, encrypted


def open_share(encrypted_share: bytes, identity_text: str) -> str:
    """Decrypt a custodian's share with their age identity; returns the share line."""
    identity = AgeIdentity.from_text(identity_text, field="identity")
    try:
        plain = age_decrypt(encrypted_share, [identity], what="share")
        line = plain.decode("ascii").strip()
    except UnicodeDecodeError:
        raise UsageError("share: not an Étanche custody share") from None
    if not line.startswith(SHARE_FORMAT + " ") or "\n" in line:
        raise UsageError("share: not an Étanche custody share")
    return line


@dataclass(frozen=True, slots=True)
class _Custody:
    """custody.json, parsed and checked."""

    custody_id: str
    threshold: int
    custodians: tuple[Custodian, ...]
    indices: dict[str, int]
    check: bytes
    doc: dict[str, Any]

    @classmethod
    def read(cls, directory: Path) -> _Custody:
        path = directory / CUSTODY_FILE
        doc = _read_json(path)
        if doc.get("format") != CUSTODY_FORMAT or doc.get("kind") != "quorum":
            raise KeyProviderError(f"custody {path.name}: not an Étanche quorum custody")
        try:
            custodians = tuple(Custodian(c["name"], c["recipient"]) for c in doc["custodians"])
            indices = {c["name"]: int(c["index"]) for c in doc["custodians"]}
            return cls(
                custody_id=str(doc["id"]),
                threshold=int(doc["threshold"]),
                custodians=custodians,
                indices=indices,
                check=_unb64(doc["check"]),
                doc=doc,
            )
        except (KeyError, TypeError, ValueError, binascii.Error, UsageError) as exc:
            raise KeyProviderError(
                f"custody {path.name}: malformed ({type(exc).__name__})"
            ) from None


def _parse_share(custody: _Custody, share_line: str) -> tuple[str, int, bytes]:
    """(custodian, index, data) of a share line of ``custody``; UsageError naming the part."""
    parts = share_line.strip().split(" ")
    if len(parts) != 5 or parts[0] != SHARE_FORMAT:
        raise UsageError(f"share: not an {SHARE_FORMAT} line")
    _, custody_id, name, index_text, data_text = parts
    if custody_id != custody.custody_id:
        raise UsageError("share custody: the share belongs to another custody")
    if name not in custody.indices:
        raise UsageError(f"share custodian: {name} is not a custodian of this custody")
    if not index_text.isdigit() or int(index_text) != custody.indices[name]:
        raise UsageError(f"share index: not the index of custodian {name}")
    try:
        data = _unb64(data_text)
    except (binascii.Error, ValueError):
        data = b""
    if len(data) != _SECRET_BYTES:
        raise UsageError(f"share data: custodian {name}'s share is not {_SECRET_BYTES} bytes")
    return name, int(index_text), data


class Unsealer:
    """Collects custodians' shares until the quorum can open the custody.

    Shares stay in this object's memory only; ``reset`` forgets them, and no
    message ever carries share bytes.
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._custody = _Custody.read(directory)
        self._shares: dict[str, tuple[int, bytes]] = {}

    @property
    def custody_id(self) -> str:
        return self._custody.custody_id

    @property
    def threshold(self) -> int:
        return self._custody.threshold

    @property
    def custodians(self) -> tuple[Custodian, ...]:
        return self._custody.custodians

    @property
    def given(self) -> tuple[str, ...]:
        """Names of the custodians whose share was accepted so far."""
        return tuple(self._shares)

    def add(self, share_line: str) -> bool:
        """Accept one custodian's share line; True once the quorum is reached."""
        name, index, data = _parse_share(self._custody, share_line)
        if name in self._shares:
            raise UsageError(f"share of custodian {name}: already given")
        if len(self._shares) >= self.threshold:
            raise UsageError(f"custody: the {self.threshold} shares needed are already given")
        self._shares[name] = (index, data)
        return len(self._shares) >= self.threshold

    def reset(self) -> None:
        """Forget every share held."""
        self._shares.clear()

    def _secret(self) -> bytes:
        held = len(self._shares)
        if held < self.threshold:
            raise KeyProviderError(f"custody: {held} of {self.threshold} shares given")
        secret = _combine(list(self._shares.values()))
        expected = self._custody.check
        if not hmac.compare_digest(_derive(secret, _CHECK_INFO), expected):
            raise WrongShares("shares: they do not open this custody")
        return secret

    def verify(self) -> None:
        """Raise unless the shares held are a quorum of this custody (opens no KEK)."""
        self._secret()

    def backup_key(self, backup_id: str) -> bytes:
        """The key that opens backup ``backup_id`` of this custody (a restore's quorum)."""
        return _backup_key(_derive(self._secret(), _WRAP_INFO), backup_id)

    def provider(self) -> QuorumKeyProvider:
        """Combine the shares, check them, and open the KEKs."""
        secret = self._secret()
        return QuorumKeyProvider._open(self._directory, self._custody.doc, secret)


class QuorumKeyProvider:
    """KEKs sealed under a key derived from a secret that only a quorum rebuilds.

    Holds the wrapping key and the KEKs in memory once unsealed, never the
    shares. Several server processes may share the directory: rotations are
    serialised by a lock file and an unknown KEK id triggers one reload.
    """

    def __init__(
        self,
        directory: Path,
        custody_doc: dict[str, Any],
        wrapping_key: bytes,
        keks: dict[str, bytes],
        active: str | None,
    ) -> None:
        self._directory = directory
        self._custody_doc = custody_doc
        self._wrapping_key = wrapping_key
        self._keks = keks
        self._active = active
        self._log_seed: bytes | None = None
        self._lock = threading.RLock()

    @classmethod
    def _open(
        cls, directory: Path, custody_doc: dict[str, Any], secret: bytes
    ) -> QuorumKeyProvider:
        return cls._from_key(directory, custody_doc, _derive(secret, _WRAP_INFO))

    @classmethod
    def verify_shares(cls, directory: Path, share_lines: Sequence[str]) -> bool:
        """True if ``share_lines`` are a fresh quorum of this custody (for ceremonies).

        False when there are too few of them or they do not combine to the
        custody's secret; UsageError when a line is malformed, foreign or repeated.
        """
        unsealer = Unsealer(directory)
        for line in share_lines:
            unsealer.add(line)
        try:
            unsealer.verify()
        except (KeyProviderError, WrongShares):
            return False
        finally:
            unsealer.reset()
        return True

    @property
    def custody_id(self) -> str:
        return str(self._custody_doc["id"])

    # -- keks.json ------------------------------------------------------------
    def _reload(self) -> None:
        """Read keks.json and open every KEK with the wrapping key held."""
        path = self._directory / KEKS_FILE
        doc = _read_json(path)
        if doc.get("format") != KEKS_FORMAT:
            raise KeyProviderError(f"custody {KEKS_FILE}: not an Étanche KEK file")
        custody_id = self.custody_id
        if doc.get("custody") != custody_id:
            raise KeyProviderError(
                f"custody {KEKS_FILE}: resealed for another custody (a reshare since "
                "this service was unsealed?); unseal again with the current shares"
            )
        keks: dict[str, bytes] = {}
        aead = AESGCM(self._wrapping_key)
        try:
            for kek_id, entry in doc["keks"].items():
                keks[kek_id] = aead.decrypt(
                    _unb64(entry["nonce"]), _unb64(entry["sealed"]), _kek_aad(custody_id, kek_id)
                )
            active = str(doc["active"])
        except InvalidTag:
            raise IntegrityError(
                f"custody {KEKS_FILE}: a KEK does not open (altered, or sealed by other shares)"
            ) from None
        except (KeyError, TypeError, AttributeError, ValueError, binascii.Error) as exc:
            raise KeyProviderError(
                f"custody {KEKS_FILE}: malformed ({type(exc).__name__})"
            ) from None
        if active not in keks:
            raise KeyProviderError(f"custody {KEKS_FILE}: active KEK {active} is missing")
        self._keks, self._active = keks, active
        self._log_seed = self._open_log_seed(doc.get("audit_log"))

    def _open_log_seed(self, entry: Any) -> bytes | None:
        if entry is None:
            return None  # a custody made before the log key moved here: created on first use
        try:
            return AESGCM(self._wrapping_key).decrypt(
                _unb64(entry["nonce"]), _unb64(entry["sealed"]), _log_aad(self.custody_id)
            )
        except InvalidTag:
            raise IntegrityError(f"custody {KEKS_FILE}: the audit log key does not open") from None
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise KeyProviderError(
                f"custody {KEKS_FILE}: audit_log is malformed ({type(exc).__name__})"
            ) from None

    def _save_locked(self) -> None:
        _write_private(self._directory / KEKS_FILE, self._keks_doc())

    def _keks_doc(self) -> dict[str, Any]:
        custody_id = self.custody_id
        aead = AESGCM(self._wrapping_key)
        sealed: dict[str, dict[str, str]] = {}
        for kek_id, kek in self._keks.items():
            nonce = os.urandom(12)
            sealed[kek_id] = {
                "nonce": _b64(nonce),
                "sealed": _b64(aead.encrypt(nonce, kek, _kek_aad(custody_id, kek_id))),
            }
        doc: dict[str, Any] = {
            "format": KEKS_FORMAT,
            "custody": custody_id,
            "active": self._active,
            "keks": sealed,
            "updated_at": _now(),
        }
        if self._log_seed is not None:
            nonce = os.urandom(12)
            doc["audit_log"] = {
                "nonce": _b64(nonce),
                "sealed": _b64(aead.encrypt(nonce, self._log_seed, _log_aad(custody_id))),
            }
        return doc

    def _add_kek_locked(self) -> str:
        kek_id = "kek-" + secrets.token_hex(6)
        self._keks[kek_id] = new_key()
        self._active = kek_id
        self._save_locked()
        return kek_id

    # -- KeyProvider ----------------------------------------------------------
    @property
    def active_kek_id(self) -> str:
        with self._lock:
            if self._active is None:
                raise KeyProviderError("custody: no active KEK")
            return self._active

    def wrap(self, key: bytes, context: Context) -> tuple[str, bytes]:
        with self._lock:
            kek_id = self.active_kek_id
            return kek_id, seal(self._keks[kek_id], key, context)

    def unwrap(self, kek_id: str, wrapped: bytes, context: Context) -> bytes:
        with self._lock:
            kek = self._keks.get(kek_id)
            if kek is None:
                self._reload()  # another process may have rotated
                kek = self._keks.get(kek_id)
            if kek is None:
                raise KeyNotFound(f"{context.describe()}: wrapped by unknown KEK {kek_id}")
        try:
            return open_sealed(kek, wrapped, context)
        except IntegrityError as exc:
            raise IntegrityError(f"wrapped data key: {exc}") from None

    def rotate(self) -> str:
        with self._lock, _locked(self._directory):
            self._reload()
            return self._add_kek_locked()

    def retire(self, kek_id: str) -> None:
        with self._lock, _locked(self._directory):
            self._reload()
            if kek_id == self._active:
                raise KeyProviderError(f"KEK {kek_id}: is the active KEK and cannot be retired")
            self._keks.pop(kek_id, None)
            self._save_locked()

    def backup_key(self, backup_id: str) -> bytes:
        """The key of backup ``backup_id``: derived from the quorum's wrapping key, so only
        this unsealed custody or a fresh quorum of its shares rebuilds it."""
        with self._lock:
            return _backup_key(self._wrapping_key, backup_id)

    def custody_files(self) -> dict[str, bytes]:
        """custody.json (public) and keks.json (sealed) as they are now, for a backup."""
        with self._lock, _locked(self._directory):
            return {
                name: (self._directory / name).read_bytes() for name in (CUSTODY_FILE, KEKS_FILE)
            }

    def opened_at(self, directory: Path) -> QuorumKeyProvider:
        """This custody's KEKs as sealed in another folder (a restored copy), opened
        with the wrapping key held: a drill needs no shares. Another custody (a
        reshare since) is refused."""
        doc = _read_json(directory / CUSTODY_FILE)
        if doc.get("id") != self.custody_id:
            raise KeyProviderError(
                f"custody {directory}: made under another custody; restore it with its shares"
            )
        with self._lock:
            return QuorumKeyProvider._from_key(directory, doc, self._wrapping_key)

    @classmethod
    def _from_key(
        cls, directory: Path, custody_doc: dict[str, Any], wrapping_key: bytes
    ) -> QuorumKeyProvider:
        provider = cls(directory, custody_doc, wrapping_key, {}, None)
        provider._reload()
        return provider

    @property
    def kek_ids(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._keks)

    def audit_log_seed(self) -> bytes:
        """The audit log's Ed25519 seed, sealed beside the KEKs under the quorum's secret.

        Never a data key of the vault: only an unsealed custody opens it, and a
        reshare reseals it with the KEKs. Drawn on first use (custodies made
        before it existed get one then).
        """
        with self._lock:
            if self._log_seed is None:
                with _locked(self._directory):
                    self._reload()
                    if self._log_seed is None:
                        self._log_seed = os.urandom(_SECRET_BYTES)
                        self._save_locked()
            return self._log_seed

    # -- custody change -------------------------------------------------------
    def reshare(self, custodians: Sequence[Custodian], threshold: int) -> dict[str, bytes]:
        """Draw a new secret, reseal every KEK under it, return the new encrypted shares.

        The custody gets a new id, so old shares are refused by ``Unsealer.add``
        and would not open keks.json anyway. Callers require a fresh quorum
        (``verify_shares``) before calling this. Both files are fully written
        and fsynced before two back-to-back renames; keep the pre-reshare
        backup until the new custodians have checked their shares.
        """
        _check_custodians(custodians, threshold)
        with self._lock, _locked(self._directory):
            self._reload()
            secret = os.urandom(_SECRET_BYTES)
            custody_id = "custody-" + secrets.token_hex(8)
            entries, encrypted = _deal(custody_id, secret, custodians, threshold)
            doc = _custody_doc(custody_id, secret, threshold, entries)
            old_doc, old_key = self._custody_doc, self._wrapping_key
            self._custody_doc, self._wrapping_key = doc, _derive(secret, _WRAP_INFO)
            try:
                keks_tmp = _prepare(self._directory / KEKS_FILE, self._keks_doc())
                custody_tmp = _prepare(self._directory / CUSTODY_FILE, doc)
                _commit(
                    (keks_tmp, self._directory / KEKS_FILE),
                    (custody_tmp, self._directory / CUSTODY_FILE),
                )
            except BaseException:
                self._custody_doc, self._wrapping_key = old_doc, old_key
                raise
        return encrypted
