from __future__ import annotations

import json
from pathlib import Path

import pytest

from etanche.crypto import Context, KdfCost, KeyProvider, PassphraseKeyFile, new_key
from etanche.errors import IntegrityError, KeyNotFound, KeyProviderError, WrongPassphrase

PASS = "correct horse battery staple"
CTX = Context("data_keys", "L01/admin", "L01", "admin", 1)


def make(tmp_path: Path) -> PassphraseKeyFile:
    return PassphraseKeyFile.create(tmp_path / "keys.json", PASS, KdfCost.fast_for_tests())


def test_is_a_key_provider(tmp_path: Path) -> None:
    assert isinstance(make(tmp_path), KeyProvider)


def test_wrap_unwrap_after_reopen(tmp_path: Path) -> None:
    provider = make(tmp_path)
    key = new_key()
    kek_id, wrapped = provider.wrap(key, CTX)
    reopened = PassphraseKeyFile.open(tmp_path / "keys.json", PASS)
    assert reopened.unwrap(kek_id, wrapped, CTX) == key


def test_file_holds_no_key_in_clear(tmp_path: Path) -> None:
    provider = make(tmp_path)
    doc = json.loads((tmp_path / "keys.json").read_text())
    assert doc["kdf"]["name"] == "argon2id"
    raw = (tmp_path / "keys.json").read_bytes()
    for kek in provider._keks.values():
        assert kek not in raw
    assert (tmp_path / "keys.json").stat().st_mode & 0o077 == 0


def test_wrong_passphrase_fails_cleanly(tmp_path: Path) -> None:
    make(tmp_path)
    with pytest.raises(WrongPassphrase) as info:
        PassphraseKeyFile.open(tmp_path / "keys.json", "not the passphrase at all")
    assert "not the passphrase" not in str(info.value)


def test_short_passphrase_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyProviderError, match="at least 12"):
        PassphraseKeyFile.create(tmp_path / "k.json", "short", KdfCost.fast_for_tests())


def test_garbage_key_file(tmp_path: Path) -> None:
    (tmp_path / "keys.json").write_text("{not json")
    with pytest.raises(KeyProviderError, match="unreadable"):
        PassphraseKeyFile.open(tmp_path / "keys.json", PASS)


def test_rotate_then_retire(tmp_path: Path) -> None:
    provider = make(tmp_path)
    old = provider.active_kek_id
    key = new_key()
    _, wrapped_old = provider.wrap(key, CTX)
    new = provider.rotate()
    assert new != old and provider.active_kek_id == new
    assert provider.unwrap(old, wrapped_old, CTX) == key  # old still usable until retired
    provider.retire(old)
    with pytest.raises(KeyNotFound):
        provider.unwrap(old, wrapped_old, CTX)
    with pytest.raises(KeyProviderError, match="active"):
        provider.retire(new)
    assert PassphraseKeyFile.open(tmp_path / "keys.json", PASS).kek_ids == (new,)


def test_wrapped_key_bound_to_context(tmp_path: Path) -> None:
    provider = make(tmp_path)
    kek_id, wrapped = provider.wrap(new_key(), CTX)
    with pytest.raises(IntegrityError):
        provider.unwrap(kek_id, wrapped, Context("data_keys", "L02/admin", "L02", "admin", 1))
