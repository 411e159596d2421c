"""KEKs that never leave a PKCS#11 token (an HSM; SoftHSM2 in tests).

Each KEK is an AES-256 secret key object created inside the token, not
extractable and sensitive, usable only to encrypt and decrypt. Wrapping a data
key is AES-GCM performed by the token itself, with the record's context as
associated data, so the server's files and memory never see a KEK. Labels are
``etanche-kek-<seq>-<hex>`` and the KEK id is the label; the highest sequence
number is the active KEK, so every process sharing the token agrees on it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import pkcs11
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass
from pkcs11.mechanisms import GCMParams

from etanche.crypto._aead import Context
from etanche.errors import IntegrityError, KeyNotFound, KeyProviderError, WrongPassphrase

__all__ = ["Pkcs11KeyProvider"]

_LABEL = re.compile(r"etanche-kek-(\d+)-([0-9a-f]{12})")
_IV_BYTES = 12
_TAG_BITS = 128
_KEY_BITS = 256
LOG_KEY_LABEL = "etanche-audit-log"
_LOG_SEED_INFO = b"etanche/audit-log/ed25519-seed/v1"


def _template() -> dict[Attribute, Any]:
    """Attributes of a KEK: stays in the token, only encrypts and decrypts."""
    return {
        Attribute.TOKEN: True,
        Attribute.PRIVATE: True,
        Attribute.SENSITIVE: True,
        Attribute.EXTRACTABLE: False,
        Attribute.ENCRYPT: True,
        Attribute.DECRYPT: True,
        Attribute.WRAP: False,
        Attribute.UNWRAP: False,
        Attribute.SIGN: False,
        Attribute.VERIFY: False,
        Attribute.DERIVE: False,
    }


def _why(exc: BaseException) -> str:
    """python-pkcs11 errors often have no message: name the CKR class instead."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass
class _Login:
    """The login of this process to one token, shared by its providers.

    PKCS#11 logs in an application, not a session: a second ``C_Login`` fails
    with USER_ALREADY_LOGGED_IN and logging out one session logs out all of
    them. So the first provider logs in through a session kept here, later
    ones open unauthenticated sessions that share the login once their PIN
    matches the one that logged in, and the last one to close logs out.
    """

    session: Any
    pin_digest: bytes
    users: int = 0


_LOGINS: dict[tuple[str, str], _Login] = {}
_LOGINS_LOCK = threading.Lock()
_PIN_KEY = secrets.token_bytes(32)  # per process: PIN digests are never comparable elsewhere


def _pin_digest(pin: str) -> bytes:
    return hmac.new(_PIN_KEY, pin.encode("utf-8"), hashlib.sha256).digest()


class Pkcs11KeyProvider:
    """KeyProvider whose KEKs are non-extractable AES keys inside a PKCS#11 token.

    One session per provider; a lock serialises token calls because a PKCS#11
    session must not be used by two threads at once.
    """

    def __init__(self, login_key: tuple[str, str], session: Any) -> None:
        self._login_key = login_key
        self._token_label = login_key[1]
        self._session = session
        self._lock = threading.Lock()
        self._keks: dict[str, Any] = {}
        self._closed = False

    # -- opening --------------------------------------------------------------
    @classmethod
    def _login(cls, module: Path, token_label: str, pin: str) -> Pkcs11KeyProvider:
        if not module.is_file():
            raise KeyProviderError(f"pkcs11 module {module}: not found")
        try:
            lib = pkcs11.lib(str(module))
        except (pkcs11.PKCS11Error, RuntimeError, OSError) as exc:
            raise KeyProviderError(f"pkcs11 module {module}: does not load ({_why(exc)})") from None
        try:
            token = lib.get_token(token_label=token_label)
        except pkcs11.NoSuchToken:
            raise KeyProviderError(f"pkcs11: no token labelled {token_label}") from None
        except pkcs11.MultipleTokensReturned:
            raise KeyProviderError(f"pkcs11: several tokens labelled {token_label}") from None
        except pkcs11.PKCS11Error as exc:
            raise KeyProviderError(f"pkcs11 token {token_label}: {_why(exc)}") from None
        key = (str(module.resolve()), token_label)
        wrong_pin = WrongPassphrase(f"pkcs11: the PIN does not open token {token_label}")
        with _LOGINS_LOCK:
            login = _LOGINS.get(key)
            try:
                if login is None:
                    try:
                        login = _Login(token.open(rw=True, user_pin=pin), _pin_digest(pin))
                    except (pkcs11.PinIncorrect, pkcs11.PinLenRange, pkcs11.PinInvalid):
                        raise wrong_pin from None
                    except pkcs11.PinLocked:
                        raise KeyProviderError(f"pkcs11 token {token_label}: PIN locked") from None
                    except pkcs11.UserAlreadyLoggedIn:
                        raise KeyProviderError(
                            f"pkcs11 token {token_label}: already logged in by other code "
                            "in this process"
                        ) from None
                    _LOGINS[key] = login
                elif not hmac.compare_digest(login.pin_digest, _pin_digest(pin)):
                    raise wrong_pin
                session = token.open(rw=True)  # shares the login
            except pkcs11.PKCS11Error as exc:
                if login is not None and login.users == 0:  # nobody else uses this login
                    _LOGINS.pop(key, None)
                    with suppress(pkcs11.PKCS11Error):
                        login.session.close()
                raise KeyProviderError(
                    f"pkcs11 token {token_label}: cannot log in ({_why(exc)})"
                ) from None
            login.users += 1
        provider = cls(key, session)
        try:
            with provider._lock, provider._token_calls("search"):
                provider._search()
        except BaseException:
            provider.close()
            raise
        return provider

    @classmethod
    def create(cls, module: Path, token_label: str, pin: str) -> Pkcs11KeyProvider:
        """Log in and generate the first KEK inside the token."""
        provider = cls._login(module, token_label, pin)
        if provider._keks:
            provider.close()
            raise KeyProviderError(f"pkcs11 token {token_label}: already holds Étanche KEKs")
        provider.rotate()
        return provider

    @classmethod
    def open(cls, module: Path, token_label: str, pin: str) -> Pkcs11KeyProvider:
        """Log in and find the KEKs already in the token."""
        provider = cls._login(module, token_label, pin)
        if not provider._keks:
            provider.close()
            raise KeyProviderError(f"pkcs11 token {token_label}: holds no Étanche KEK")
        return provider

    def close(self) -> None:
        """Close this provider's session; the last one on a token logs out."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._keks.clear()
            with suppress(pkcs11.PKCS11Error):  # the session is gone either way
                self._session.close()
        with _LOGINS_LOCK:
            login = _LOGINS.get(self._login_key)
            if login is not None:
                login.users -= 1
                if login.users <= 0:
                    del _LOGINS[self._login_key]
                    with suppress(pkcs11.PKCS11Error):
                        login.session.close()  # C_Logout, then close

    def __enter__(self) -> Pkcs11KeyProvider:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- token access (callers hold self._lock) -------------------------------
    @contextmanager
    def _token_calls(self, doing: str) -> Iterator[None]:
        """Turn library errors into one-line KeyProviderErrors."""
        if self._closed:
            raise KeyProviderError(f"pkcs11 token {self._token_label}: provider is closed")
        try:
            yield
        except pkcs11.PKCS11Error as exc:
            raise KeyProviderError(
                f"pkcs11 token {self._token_label}: {doing} failed ({_why(exc)})"
            ) from None

    def _search(self) -> None:
        found: dict[str, Any] = {}
        for obj in self._session.get_objects(
            {Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.AES}
        ):
            label = str(obj[Attribute.LABEL])
            if _LABEL.fullmatch(label):
                found[label] = obj
        self._keks = dict(sorted(found.items(), key=lambda item: _seq(item[0])))

    def _key(self, kek_id: str) -> Any:
        key = self._keks.get(kek_id)
        if key is None:
            self._search()  # another process may have rotated
            key = self._keks.get(kek_id)
        return key

    # -- KeyProvider ----------------------------------------------------------
    @property
    def active_kek_id(self) -> str:
        with self._lock:
            if not self._keks:
                raise KeyProviderError(f"pkcs11 token {self._token_label}: holds no Étanche KEK")
            return next(reversed(self._keks))

    def wrap(self, key: bytes, context: Context) -> tuple[str, bytes]:
        kek_id = self.active_kek_id
        iv = os.urandom(_IV_BYTES)
        with self._lock, self._token_calls("wrap"):
            sealed = self._keks[kek_id].encrypt(
                key,
                mechanism=Mechanism.AES_GCM,
                mechanism_param=GCMParams(iv, context.encode(), _TAG_BITS),
            )
        return kek_id, iv + bytes(sealed)

    def unwrap(self, kek_id: str, wrapped: bytes, context: Context) -> bytes:
        if len(wrapped) < _IV_BYTES + _TAG_BITS // 8:
            raise IntegrityError(f"wrapped data key: {context.describe()}: truncated")
        with self._lock:
            with self._token_calls("search"):
                key = self._key(kek_id)
            if key is None:
                raise KeyNotFound(f"{context.describe()}: wrapped by unknown KEK {kek_id}")
            if self._closed:
                raise KeyProviderError(f"pkcs11 token {self._token_label}: provider is closed")
            try:
                plain = key.decrypt(
                    wrapped[_IV_BYTES:],
                    mechanism=Mechanism.AES_GCM,
                    mechanism_param=GCMParams(wrapped[:_IV_BYTES], context.encode(), _TAG_BITS),
                )
            except (pkcs11.ObjectHandleInvalid, pkcs11.KeyHandleInvalid):
                self._keks.pop(kek_id, None)  # destroyed by another process
                raise KeyNotFound(
                    f"{context.describe()}: wrapped by unknown KEK {kek_id}"
                ) from None
            except pkcs11.PKCS11Error:
                # SoftHSM2 reports a failed GCM tag as CKR_GENERAL_ERROR, others as
                # CKR_ENCRYPTED_DATA_INVALID: both mean the ciphertext does not open.
                raise IntegrityError(
                    f"wrapped data key: {context.describe()}: failed authentication in the "
                    "token (altered, or moved from another record)"
                ) from None
        return bytes(plain)

    def rotate(self) -> str:
        with self._lock, self._token_calls("key generation"):
            self._search()
            seq = max((_seq(k) for k in self._keks), default=0) + 1
            label = f"etanche-kek-{seq}-{secrets.token_hex(6)}"
            key = self._session.generate_key(
                KeyType.AES,
                _KEY_BITS,
                label=label,
                store=True,
                capabilities=MechanismFlag.ENCRYPT | MechanismFlag.DECRYPT,
                template=_template(),
            )
            self._keks[label] = key
        return label

    def retire(self, kek_id: str) -> None:
        with self._lock, self._token_calls("key destruction"):
            self._search()
            if self._keks and kek_id == next(reversed(self._keks)):
                raise KeyProviderError(f"KEK {kek_id}: is the active KEK and cannot be retired")
            key = self._keks.pop(kek_id, None)
            if key is not None:
                key.destroy()

    @property
    def kek_ids(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._keks)

    def audit_log_seed(self) -> bytes:
        """The audit log's Ed25519 seed: an HMAC computed by the token, never stored.

        The HMAC key is a non-extractable secret of the token (made on first use),
        separate from the KEKs, so rotating or retiring KEKs keeps the log key.
        """
        with self._lock, self._token_calls("audit log key"):
            found = list(
                self._session.get_objects(
                    {Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.LABEL: LOG_KEY_LABEL}
                )
            )
            if found:
                key = found[0]
            else:
                template = {**_template(), Attribute.ENCRYPT: False, Attribute.DECRYPT: False}
                template[Attribute.SIGN] = True
                key = self._session.generate_key(
                    KeyType.GENERIC_SECRET,
                    _KEY_BITS,
                    label=LOG_KEY_LABEL,
                    store=True,
                    capabilities=MechanismFlag.SIGN,
                    template=template,
                )
            return bytes(key.sign(_LOG_SEED_INFO, mechanism=Mechanism.SHA256_HMAC))


def _seq(label: str) -> int:
    match = _LABEL.fullmatch(label)
    return int(match.group(1)) if match else 0
