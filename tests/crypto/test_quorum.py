"""Quorum custody: M of N custodians unseal, fewer or forged shares do not, files hold nothing."""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etanche.crypto import (
    CUSTODY_FILE,
    AgeIdentity,
    Context,
    Custodian,
    KeyProvider,
    QuorumKeyProvider,
    Unsealer,
    age_encrypt,
    create_quorum,
    new_key,
    open_share,
)
from etanche.errors import (
    EXIT_CODES,
    CryptoError,
    IntegrityError,
    KeyNotFound,
    KeyProviderError,
    UsageError,
    WrongShares,
    exit_code_for,
)

CTX = Context("data_keys", "L01/admin", "L01", "admin", 1)
NAMES = ("alice", "bruno", "chloe", "driss", "elise", "farid", "gaelle")


class Panel:
    """Custodians with their age identities, as each one keeps them."""

    def __init__(self, count: int) -> None:
        self.identities = {name: AgeIdentity.generate() for name in NAMES[:count]}
        self.custodians = [Custodian(n, i.public_text()) for n, i in self.identities.items()]

    def lines(self, encrypted: dict[str, bytes]) -> dict[str, str]:
        return {
            name: open_share(blob, self.identities[name].secret_text())
            for name, blob in encrypted.items()
        }


@pytest.fixture(params=[0o022, 0o277], ids=["umask-022", "umask-277"])
def umask(request: pytest.FixtureRequest) -> Iterator[None]:
    old = os.umask(request.param)
    try:
        yield
    finally:
        os.umask(old)


def share_data(line: str) -> bytes:
    return base64.b64decode(line.split(" ")[4])


def unseal(directory: Path, lines: list[str]) -> QuorumKeyProvider:
    unsealer = Unsealer(directory)
    for line in lines:
        unsealer.add(line)
    return unsealer.provider()


def test_three_of_five_any_three_unseal(tmp_path: Path) -> None:
    panel = Panel(5)
    custody = tmp_path / "custody"
    provider, encrypted = create_quorum(custody, panel.custodians, 3)
    assert isinstance(provider, KeyProvider)
    assert set(encrypted) == set(NAMES[:5])
    key = new_key()
    kek_id, wrapped = provider.wrap(key, CTX)
    lines = panel.lines(encrypted)
    for trio in itertools.combinations(NAMES[:5], 3):
        unsealer = Unsealer(custody)
        assert unsealer.threshold == 3 and len(unsealer.custodians) == 5
        assert [unsealer.add(lines[n]) for n in trio] == [False, False, True]
        assert unsealer.given == trio
        assert unsealer.provider().unwrap(kek_id, wrapped, CTX) == key


def test_share_line_format(tmp_path: Path) -> None:
    panel = Panel(2)
    _, encrypted = create_quorum(tmp_path / "c", panel.custodians, 2)
    doc = json.loads((tmp_path / "c" / CUSTODY_FILE).read_text())
    line = panel.lines(encrypted)["bruno"]
    fmt, custody_id, name, index, data = line.split(" ")
    assert (fmt, custody_id, name) == ("etanche-share/1", doc["id"], "bruno")
    assert int(index) == next(c["index"] for c in doc["custodians"] if c["name"] == "bruno")
    assert len(base64.b64decode(data)) == 32 and line.isascii()
    assert doc["format"] == "etanche-custody/1" and doc["kind"] == "quorum"
    assert doc["threshold"] == 2 and doc["created_at"].endswith("+00:00")


def test_too_few_shares_refused(tmp_path: Path) -> None:
    panel = Panel(5)
    _, encrypted = create_quorum(tmp_path / "c", panel.custodians, 3)
    lines = panel.lines(encrypted)
    unsealer = Unsealer(tmp_path / "c")
    unsealer.add(lines["alice"])
    unsealer.add(lines["chloe"])
    with pytest.raises(KeyProviderError, match=r"^custody: 2 of 3 shares given$"):
        unsealer.provider()


def test_forged_share_raises_wrong_shares(tmp_path: Path) -> None:
    panel = Panel(5)
    _, encrypted = create_quorum(tmp_path / "c", panel.custodians, 3)
    lines = panel.lines(encrypted)
    unsealer = Unsealer(tmp_path / "c")
    unsealer.add(lines["alice"])
    unsealer.add(lines["bruno"])
    head = lines["elise"].rsplit(" ", 1)[0]
    forged = head + " " + base64.b64encode(os.urandom(32)).decode()
    assert unsealer.add(forged)
    with pytest.raises(WrongShares, match=r"^shares: they do not open this custody$") as info:
        unsealer.provider()
    assert isinstance(info.value, CryptoError) and exit_code_for(info.value) == 5
    assert EXIT_CODES[CryptoError] == 5
    for line in lines.values():
        assert line.split(" ")[4] not in str(info.value)


def test_share_of_another_custody_refused(tmp_path: Path) -> None:
    panel = Panel(3)
    create_quorum(tmp_path / "one", panel.custodians, 2)
    _, other = create_quorum(tmp_path / "two", panel.custodians, 2)
    unsealer = Unsealer(tmp_path / "one")
    with pytest.raises(UsageError, match="another custody"):
        unsealer.add(panel.lines(other)["alice"])
    assert unsealer.given == ()


def test_duplicate_and_mismatched_shares_refused(tmp_path: Path) -> None:
    panel = Panel(3)
    _, encrypted = create_quorum(tmp_path / "c", panel.custodians, 3)
    lines = panel.lines(encrypted)
    unsealer = Unsealer(tmp_path / "c")
    unsealer.add(lines["alice"])
    with pytest.raises(UsageError, match=r"^share of custodian alice: already given$") as info:
        unsealer.add(lines["alice"])
    assert lines["alice"].split(" ")[4] not in str(info.value)
    fmt, cid, _, index, data = lines["bruno"].split(" ")
    with pytest.raises(UsageError, match="index: not the index of custodian chloe"):
        unsealer.add(" ".join([fmt, cid, "chloe", index, data]))
    with pytest.raises(UsageError, match="zoe is not a custodian"):
        unsealer.add(" ".join([fmt, cid, "zoe", index, data]))
    with pytest.raises(UsageError, match="share data"):
        unsealer.add(" ".join([fmt, cid, "bruno", index, "AAAA"]))
    with pytest.raises(UsageError, match=r"^share: not an etanche-share/1 line$"):
        unsealer.add("hello")
    assert unsealer.given == ("alice",)
    unsealer.reset()
    assert unsealer.given == ()


def test_open_share_refuses_what_is_not_a_share() -> None:
    me = AgeIdentity.generate()
    with pytest.raises(UsageError, match=r"^share: "):
        open_share(age_encrypt(b"just a file\n", [me.public_text()]), me.secret_text())
    with pytest.raises(UsageError, match="identity"):
        open_share(b"", "not a key")


def test_files_hold_no_kek_and_no_share(tmp_path: Path, umask: None) -> None:
    panel = Panel(5)
    custody = tmp_path / "custody"
    provider, encrypted = create_quorum(custody, panel.custodians, 3)
    provider.rotate()
    provider.reshare(panel.custodians, 3)  # rewrites both files
    lines = panel.lines(encrypted)
    assert stat.S_IMODE(custody.stat().st_mode) == 0o700
    files = [p for p in custody.iterdir() if p.is_file()]
    assert {p.name for p in files} == {"custody.json", "keks.json", "custody.lock"}
    secrets_ = [*provider._keks.values(), *(share_data(line) for line in lines.values())]
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
        raw = path.read_bytes()
        for secret in secrets_:
            assert secret not in raw
            assert base64.b64encode(secret) not in raw
            assert secret.hex().encode() not in raw
    doc = json.loads((custody / "custody.json").read_text())
    assert set(doc) == {
        "format",
        "kind",
        "id",
        "threshold",
        "custodians",
        "check",
        "created_at",
    }


def test_refuses_existing_custody_and_bad_panels(tmp_path: Path) -> None:
    panel = Panel(3)
    create_quorum(tmp_path / "c", panel.custodians, 2)
    with pytest.raises(KeyProviderError, match="already holds"):
        create_quorum(tmp_path / "c", panel.custodians, 2)
    with pytest.raises(UsageError, match="threshold"):
        create_quorum(tmp_path / "d", panel.custodians, 4)
    with pytest.raises(UsageError, match="threshold"):
        create_quorum(tmp_path / "d", panel.custodians, 0)
    twice = [panel.custodians[0], Custodian("alice", panel.custodians[1].recipient)]
    with pytest.raises(UsageError, match="alice: named twice"):
        create_quorum(tmp_path / "d", twice, 1)
    same_key = [panel.custodians[0], Custodian("bob", panel.custodians[0].recipient)]
    with pytest.raises(UsageError, match="recipient shared"):
        create_quorum(tmp_path / "d", same_key, 1)
    with pytest.raises(UsageError, match="custodian x: recipient"):
        Custodian("x", "age1notakey")
    with pytest.raises(UsageError, match="custodian name"):
        Custodian("two words", panel.custodians[0].recipient)
    many = Panel(7).custodians * 3
    with pytest.raises(UsageError, match="between 1 and 16"):
        create_quorum(tmp_path / "d", many, 2)
    assert not (tmp_path / "d").exists()
    (tmp_path / "open").mkdir(mode=0o755)
    os.chmod(tmp_path / "open", 0o755)
    with pytest.raises(KeyProviderError, match="open to others"):
        create_quorum(tmp_path / "open", panel.custodians, 2)


def test_rotate_and_retire_survive_reopen(tmp_path: Path) -> None:
    panel = Panel(3)
    custody = tmp_path / "c"
    provider, encrypted = create_quorum(custody, panel.custodians, 2)
    lines = panel.lines(encrypted)
    old = provider.active_kek_id
    key = new_key()
    _, wrapped_old = provider.wrap(key, CTX)
    new = provider.rotate()
    assert new != old and provider.active_kek_id == new
    assert provider.unwrap(old, wrapped_old, CTX) == key
    provider.retire(old)
    with pytest.raises(KeyNotFound):
        provider.unwrap(old, wrapped_old, CTX)
    with pytest.raises(KeyProviderError, match="active"):
        provider.retire(new)
    reopened = unseal(custody, [lines["alice"], lines["chloe"]])
    assert reopened.kek_ids == (new,) and reopened.active_kek_id == new


def test_unwrap_reloads_after_another_process_rotates(tmp_path: Path) -> None:
    panel = Panel(2)
    custody = tmp_path / "c"
    first, encrypted = create_quorum(custody, panel.custodians, 1)
    second = unseal(custody, [panel.lines(encrypted)["bruno"]])
    new = second.rotate()
    key = new_key()
    kek_id, wrapped = second.wrap(key, CTX)
    assert kek_id == new and new not in first.kek_ids
    assert first.unwrap(kek_id, wrapped, CTX) == key
    with pytest.raises(IntegrityError, match=r"^wrapped data key: "):
        first.unwrap(kek_id, wrapped, Context("data_keys", "L02/admin", "L02", "admin", 1))


def test_reshare_makes_old_shares_useless(tmp_path: Path) -> None:
    panel = Panel(5)
    custody = tmp_path / "c"
    provider, encrypted = create_quorum(custody, panel.custodians, 3)
    old_lines = panel.lines(encrypted)
    key = new_key()
    kek_id, wrapped = provider.wrap(key, CTX)
    assert QuorumKeyProvider.verify_shares(custody, [old_lines[n] for n in NAMES[:3]])
    assert not QuorumKeyProvider.verify_shares(custody, [old_lines[n] for n in NAMES[:2]])

    newcomers = Panel(4)
    new_encrypted = provider.reshare(newcomers.custodians, 2)
    assert set(new_encrypted) == set(NAMES[:4])
    new_lines = newcomers.lines(new_encrypted)
    assert provider.unwrap(kek_id, wrapped, CTX) == key  # the running service keeps working
    with pytest.raises(UsageError, match="another custody"):
        Unsealer(custody).add(old_lines["alice"])
    reopened = unseal(custody, [new_lines["driss"], new_lines["alice"]])
    assert reopened.unwrap(kek_id, wrapped, CTX) == key
    assert QuorumKeyProvider.verify_shares(custody, [new_lines["bruno"], new_lines["chloe"]])
    # Old shares, even relabelled with the new custody id, no longer open anything.
    new_id = Unsealer(custody).custody_id
    unsealer = Unsealer(custody)
    for name in ("alice", "bruno"):
        fmt, _, who, _, data = old_lines[name].split(" ")
        index = new_lines[name].split(" ")[3]
        unsealer.add(" ".join([fmt, new_id, who, index, data]))
    with pytest.raises(WrongShares):
        unsealer.provider()
    # The files hold no share of either generation.
    raw = b"".join(p.read_bytes() for p in custody.iterdir() if p.is_file())
    for line in [*old_lines.values(), *new_lines.values()]:
        assert share_data(line) not in raw


def test_one_of_one(tmp_path: Path) -> None:
    panel = Panel(1)
    provider, encrypted = create_quorum(tmp_path / "c", panel.custodians, 1)
    key = new_key()
    kek_id, wrapped = provider.wrap(key, CTX)
    unsealer = Unsealer(tmp_path / "c")
    assert unsealer.add(panel.lines(encrypted)["alice"])
    assert unsealer.provider().unwrap(kek_id, wrapped, CTX) == key


def test_stock_age_cli_decrypts_a_share(tmp_path: Path) -> None:
    if shutil.which("age") is None:
        if os.environ.get("CI"):
            pytest.fail("the age CLI is missing: scripts/test-suite.sh installs it")
        pytest.skip("the stock age CLI is not installed")
    panel = Panel(2)
    _, encrypted = create_quorum(tmp_path / "c", panel.custodians, 2)
    (tmp_path / "key.txt").write_text(panel.identities["bruno"].secret_text() + "\n")
    (tmp_path / "bruno.age").write_bytes(encrypted["bruno"])
    out = subprocess.run(
        ["age", "-d", "-i", str(tmp_path / "key.txt"), str(tmp_path / "bruno.age")],
        capture_output=True,
        check=True,
        text=True,
    )
    line = out.stdout.strip()
    assert line == panel.lines(encrypted)["bruno"]
    unsealer = Unsealer(tmp_path / "c")
    unsealer.add(line)
    assert unsealer.given == ("bruno",)


# One panel of 7 custodians for every example: age keys are cheap, shares are not reused.
_PANEL = Panel(7)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_every_m_subset_unseals_and_no_smaller_one(tmp_path: Path, data: st.DataObject) -> None:
    count = data.draw(st.integers(min_value=1, max_value=7), label="N")
    threshold = data.draw(st.integers(min_value=1, max_value=count), label="M")
    custody = tmp_path / f"c{count}-{threshold}-{os.urandom(4).hex()}"
    provider, encrypted = create_quorum(custody, _PANEL.custodians[:count], threshold)
    key = new_key()
    kek_id, wrapped = provider.wrap(key, CTX)
    lines = _PANEL.lines(encrypted)
    names = list(lines)
    for subset in itertools.combinations(names, threshold):
        assert unseal(custody, [lines[n] for n in subset]).unwrap(kek_id, wrapped, CTX) == key
    for subset in itertools.combinations(names, threshold - 1):
        assert not QuorumKeyProvider.verify_shares(custody, [lines[n] for n in subset])
        if subset:  # M−1 real shares cannot be completed by a guess
            forged = f"etanche-share/1 {Unsealer(custody).custody_id}"
            outsider = next(n for n in names if n not in subset)
            index = lines[outsider].split(" ")[3]
            guess = base64.b64encode(os.urandom(32)).decode()
            attempt = [*(lines[n] for n in subset), f"{forged} {outsider} {index} {guess}"]
            assert not QuorumKeyProvider.verify_shares(custody, attempt)


def test_the_audit_log_key_is_sealed_with_the_keks_and_survives_rotation_and_reshare(
    tmp_path: Path,
) -> None:
    """The log's key lives in custody (keks.json, sealed), never in the clear on disk."""
    panel = Panel(3)
    custody = tmp_path / "custody"
    provider, encrypted = create_quorum(custody, panel.custodians, 2)
    seed = provider.audit_log_seed()
    stored = (custody / "keks.json").read_bytes()
    assert len(seed) == 32 and base64.b64encode(seed) not in stored and seed not in stored
    lines = list(panel.lines(encrypted).values())
    assert unseal(custody, lines[:2]).audit_log_seed() == seed  # every unseal agrees
    provider.rotate()
    assert unseal(custody, lines[1:]).audit_log_seed() == seed  # a KEK rotation keeps it
    newcomers = Panel(2)
    fresh = newcomers.lines(provider.reshare(newcomers.custodians, 2))
    assert unseal(custody, list(fresh.values())).audit_log_seed() == seed  # resealed
