"""age encryption: round trip, the stock `age` CLI, wrong key and tampering refused."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from etanche.crypto import AgeIdentity, age_decrypt, age_encrypt, age_recipient, content_hash
from etanche.errors import IntegrityError, UsageError


def test_round_trip_to_several_recipients() -> None:
    alice, bob = AgeIdentity.generate(), AgeIdentity.generate()
    sealed = age_encrypt(b"payload", [alice.public_text(), bob.public_text()])
    assert b"payload" not in sealed
    assert age_decrypt(sealed, [alice], what="part 1") == b"payload"
    assert age_decrypt(sealed, [bob], what="part 1") == b"payload"


def test_wrong_identity_and_tampering_are_integrity_errors() -> None:
    alice, eve = AgeIdentity.generate(), AgeIdentity.generate()
    sealed = bytearray(age_encrypt(b"payload" * 100, [alice.public_text()]))
    with pytest.raises(IntegrityError, match="part 1"):
        age_decrypt(bytes(sealed), [eve], what="part 1")
    sealed[-5] ^= 1
    with pytest.raises(IntegrityError):
        age_decrypt(bytes(sealed), [alice], what="part 1")


def test_bad_keys_name_the_field() -> None:
    with pytest.raises(UsageError, match="recipients"):
        age_recipient("age1notakey", field="recipients")
    with pytest.raises(UsageError, match="identity"):
        AgeIdentity.from_text("nothing here")
    text = "# created: today\n" + AgeIdentity.generate().secret_text() + "\n"
    assert AgeIdentity.from_text(text).public_text().startswith("age1")


@pytest.mark.skipif(
    shutil.which("age") is None and not os.environ.get("CI"),
    reason="Debian's age is installed by scripts/test-suite.sh (under CI a missing age fails)",
)
def test_stock_age_cli_decrypts(tmp_path: Path) -> None:
    me = AgeIdentity.generate()
    (tmp_path / "key.txt").write_text(me.secret_text() + "\n")
    (tmp_path / "part.age").write_bytes(age_encrypt(b"line 1\nline 2\n", [me.public_text()]))
    out = subprocess.run(
        ["age", "-d", "-i", str(tmp_path / "key.txt"), str(tmp_path / "part.age")],
        capture_output=True,
        check=True,
    )
    assert out.stdout == b"line 1\nline 2\n"


def test_content_hash_is_incremental() -> None:
    whole = content_hash(b"abcdef").hexdigest()
    parts = content_hash()
    parts.update(b"abc")
    parts.update(b"def")
    assert parts.hexdigest() == whole and len(whole) == 64


def test_passphrase_encryption_round_trips_and_refuses_a_short_passphrase() -> None:
    import pyrage.passphrase

    from etanche.crypto import age_encrypt_passphrase

    sealed = age_encrypt_passphrase(b"rapport", "douze caract")
    assert sealed.startswith(b"age-encryption.org/v1\n-> scrypt ")
    assert pyrage.passphrase.decrypt(sealed, "douze caract") == b"rapport"
    with pytest.raises(UsageError, match="passphrase: at least 12 characters"):
        age_encrypt_passphrase(b"rapport", "onze caract")
