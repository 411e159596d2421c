"""PKCS#11 custody (SoftHSM2): KEKs generated in the token, never extractable."""

from __future__ import annotations

from collections.abc import Iterator

import pkcs11
import pytest
from pkcs11 import Attribute, KeyType, MechanismFlag, ObjectClass

from _softhsm import SoftToken
from etanche.crypto import Context, KeyProvider, Pkcs11KeyProvider, new_key
from etanche.errors import (
    IntegrityError,
    KeyNotFound,
    KeyProviderError,
    WrongPassphrase,
)

CTX = Context("data_keys", "L01/admin", "L01", "admin", 1)
OTHER = Context("data_keys", "L02/admin", "L02", "admin", 1)


@pytest.fixture
def provider(softhsm_token: SoftToken) -> Iterator[Pkcs11KeyProvider]:
    with Pkcs11KeyProvider.create(*softhsm_token) as created:
        yield created


def test_is_a_key_provider(provider: Pkcs11KeyProvider) -> None:
    assert isinstance(provider, KeyProvider)
    assert provider.active_kek_id.startswith("etanche-kek-1-")
    assert provider.kek_ids == (provider.active_kek_id,)


def test_round_trip_after_reopen(softhsm_token: SoftToken, provider: Pkcs11KeyProvider) -> None:
    key = new_key()
    kek_id, wrapped = provider.wrap(key, CTX)
    assert len(wrapped) == 12 + 32 + 16 and key not in wrapped
    assert provider.unwrap(kek_id, wrapped, CTX) == key
    with Pkcs11KeyProvider.open(*softhsm_token) as reopened:
        assert reopened.active_kek_id == kek_id
        assert reopened.unwrap(kek_id, wrapped, CTX) == key


def test_wrong_context_or_flipped_byte_fails(provider: Pkcs11KeyProvider) -> None:
    key = new_key()
    kek_id, wrapped = provider.wrap(key, CTX)
    with pytest.raises(IntegrityError, match=r"^wrapped data key: data_keys L02/admin"):
        provider.unwrap(kek_id, wrapped, OTHER)
    flipped = bytearray(wrapped)
    flipped[20] ^= 1
    with pytest.raises(IntegrityError, match=r"^wrapped data key: "):
        provider.unwrap(kek_id, bytes(flipped), CTX)
    with pytest.raises(IntegrityError, match="truncated"):
        provider.unwrap(kek_id, wrapped[:20], CTX)
    assert provider.unwrap(kek_id, wrapped, CTX) == key  # the session survives failures


def test_kek_cannot_leave_the_token(softhsm_token: SoftToken, provider: Pkcs11KeyProvider) -> None:
    module, label, _ = softhsm_token
    token = pkcs11.lib(str(module)).get_token(token_label=label)
    with token.open(rw=True) as session:  # the provider's login is the process's
        kek = session.get_key(ObjectClass.SECRET_KEY, KeyType.AES, label=provider.active_kek_id)
        assert kek[Attribute.EXTRACTABLE] is False
        assert kek[Attribute.SENSITIVE] is True
        assert kek[Attribute.TOKEN] is True
        assert kek[Attribute.WRAP] is False and kek[Attribute.DERIVE] is False
        with pytest.raises(pkcs11.PKCS11Error):
            kek[Attribute.VALUE]
        wrapper = session.generate_key(
            KeyType.AES,
            256,
            label="attacker",
            capabilities=MechanismFlag.WRAP | MechanismFlag.ENCRYPT,
        )
        with pytest.raises(pkcs11.PKCS11Error):
            wrapper.wrap_key(kek)


def test_rotate_inside_the_token_then_retire(
    softhsm_token: SoftToken, provider: Pkcs11KeyProvider
) -> None:
    old = provider.active_kek_id
    key = new_key()
    _, wrapped_old = provider.wrap(key, CTX)
    new = provider.rotate()
    assert new.startswith("etanche-kek-2-") and provider.active_kek_id == new
    assert provider.wrap(new_key(), CTX)[0] == new
    assert provider.unwrap(old, wrapped_old, CTX) == key
    with pytest.raises(KeyProviderError, match="active"):
        provider.retire(new)
    provider.retire(old)
    with pytest.raises(KeyNotFound):
        provider.unwrap(old, wrapped_old, CTX)
    module, label, _ = softhsm_token
    token = pkcs11.lib(str(module)).get_token(token_label=label)
    with token.open() as session:  # the provider's login is the process's
        labels = [
            o[Attribute.LABEL]
            for o in session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY})
        ]
    assert labels == [new]


def test_other_process_rotation_is_found(softhsm_token: SoftToken) -> None:
    with (
        Pkcs11KeyProvider.create(*softhsm_token) as first,
        Pkcs11KeyProvider.open(*softhsm_token) as second,
    ):
        new = second.rotate()
        key = new_key()
        kek_id, wrapped = second.wrap(key, CTX)
        assert kek_id == new and new not in first.kek_ids
        assert first.unwrap(kek_id, wrapped, CTX) == key
        with pytest.raises(KeyNotFound, match="unknown KEK etanche-kek-9-"):
            first.unwrap("etanche-kek-9-000000000000", wrapped, CTX)


def test_wrong_pin_and_unknown_token_refused_cleanly(softhsm_token: SoftToken) -> None:
    module, label, pin = softhsm_token
    refused = f"^pkcs11: the PIN does not open token {label}$"
    with Pkcs11KeyProvider.create(module, label, pin):
        # Logged in already: a second provider must still present the right PIN.
        with pytest.raises(WrongPassphrase, match=refused):
            Pkcs11KeyProvider.open(module, label, "0000-wrong")
        Pkcs11KeyProvider.open(module, label, pin).close()
    with pytest.raises(WrongPassphrase, match=refused):
        Pkcs11KeyProvider.open(module, label, "0000-wrong")
    with Pkcs11KeyProvider.open(module, label, pin) as reopened:
        assert reopened.kek_ids
    with pytest.raises(KeyProviderError, match="no token labelled nope"):
        Pkcs11KeyProvider.open(module, "nope", pin)
    with pytest.raises(KeyProviderError, match="already holds"):
        Pkcs11KeyProvider.create(module, label, pin)
    with pytest.raises(KeyProviderError, match="not found"):
        Pkcs11KeyProvider.open(module.with_name("missing.so"), label, pin)


def test_empty_token_and_closed_provider(softhsm_token: SoftToken) -> None:
    with pytest.raises(KeyProviderError, match="holds no Étanche KEK"):
        Pkcs11KeyProvider.open(*softhsm_token)
    created = Pkcs11KeyProvider.create(*softhsm_token)
    kek_id, wrapped = created.wrap(new_key(), CTX)
    created.close()
    created.close()
    with pytest.raises(KeyProviderError, match="closed"):
        created.unwrap(kek_id, wrapped, CTX)


def test_the_audit_log_key_is_derived_in_the_token_and_outlives_kek_rotation(
    softhsm_token: SoftToken, provider: Pkcs11KeyProvider
) -> None:
    seed = provider.audit_log_seed()
    old = provider.active_kek_id
    provider.rotate()
    provider.retire(old)
    assert provider.audit_log_seed() == seed
    provider.close()
    with Pkcs11KeyProvider.open(*softhsm_token) as again:
        assert again.audit_log_seed() == seed  # the same HMAC key, found by its label
        secret = next(iter(again._session.get_objects({Attribute.LABEL: "etanche-audit-log"})))
        assert secret[Attribute.EXTRACTABLE] is False and secret[Attribute.SENSITIVE] is True
