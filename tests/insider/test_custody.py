"""The operator of 2020, with a shell and the server's files: what custody denies them.

One vault set up as a network would: ``etanche init`` with three named custodians
(two needed), a synthetic network loaded with two of their shares, the service
started sealed. Each test is one move of someone holding the files, the
configuration and the environment, but no custodian share and no person's token.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from _cli import run
from _service import running_service
from etanche.crypto import AgeIdentity, PassphraseKeyFile, Unsealer
from etanche.errors import EtancheError, KeyProviderError, WrongShares
from etanche.service.bootstrap import custody_folder, open_custody, opened_provider
from etanche.synth import SynthConfig, generate
from etanche.vault import Vault, parse_location

PASSWORD = "Goelette-Brume-Ouessant-29"
SEED = 11
CUSTODIANS = ("aleroux", "ylegoff", "mkerbrat")


@dataclass
class Site:
    root: Path
    vault: Path
    custody: Path
    identities: dict[str, Path]
    shares: dict[str, Path]

    def share_line(self, name: str) -> str:
        from etanche.service.bootstrap import share_from

        return share_from(None, self.shares[name], self.identities[name])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Site:
    """init with 2-of-3 custodians under umask 022, then 60 synthetic patients."""
    identities: dict[str, Path] = {}
    argv = ["init", "--threshold", "2", "--shares-out", str(tmp_path / "shares")]
    for name in CUSTODIANS:
        key = AgeIdentity.generate()
        identities[name] = tmp_path / "keys" / f"{name}.txt"
        identities[name].parent.mkdir(exist_ok=True)
        identities[name].write_text(key.secret_text() + "\n")
        argv += ["--custodian", f"{name}={key.public_text()}"]
    monkeypatch.setenv("ETANCHE_VAULT", str(tmp_path / "v"))
    monkeypatch.setenv("ETANCHE_PASSWORD", PASSWORD)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    previous = os.umask(0o022)
    try:
        code, _, err = run(
            capsys, *argv, "--admin-user", "ylegoff", "--admin-name", "Yannick Le Goff"
        )
    finally:
        os.umask(previous)
    assert code == 0, err
    shares = {n: tmp_path / "shares" / f"share-{n}.age" for n in CUSTODIANS}
    result = Site(tmp_path, tmp_path / "v", tmp_path / "v-custody", identities, shares)
    network = generate(SynthConfig(patients=60, labs=2, seed=SEED))
    provider = opened_provider(
        result.custody, [result.share_line("aleroux"), result.share_line("mkerbrat")]
    )
    with Vault.open_with(parse_location(str(result.vault)), provider) as store:
        for lab in network.labs:
            store.add_lab(lab)
        store.add_many((p, s) for batch in network.batches() for p, s in batch)
    return result


@pytest.fixture
def sealed(site: Site, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    """The service running, sealed, reachable on its socket."""
    location = parse_location(str(site.vault))
    custody = open_custody(custody_folder(location, None))
    with running_service(location, custody, site.root / "run") as address:
        monkeypatch.setenv("ETANCHE_SERVICE", address)
        monkeypatch.setenv("ETANCHE_USER", "ylegoff")
        monkeypatch.setenv("ETANCHE_TOTP", "123456")
        yield site


def _patients() -> list[tuple[str, list[bytes]]]:
    found = []
    for patient in generate(SynthConfig(patients=60, labs=2, seed=SEED)).patients():
        values = [patient.birth_name, patient.nir or "", *patient.phones, *patient.emails]
        found.append((patient.id, [v.encode() for v in values if len(v) >= 6]))
    return found


def test_files_and_folders_are_private_whatever_the_umask(site: Site) -> None:
    assert _mode(site.vault) == 0o700 and _mode(site.custody) == 0o700
    for path in [*site.vault.iterdir(), *site.custody.iterdir(), *site.shares.values()]:
        assert _mode(path) == 0o600, path.name
    assert not any(p.name.startswith("keys") for p in site.vault.iterdir())  # no key file there


def test_the_files_alone_decrypt_no_patient(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """Database, custody folder, configuration and environment: not one patient value."""
    everything = b"".join(
        p.read_bytes() for folder in (site.vault, site.custody) for p in folder.iterdir()
    )
    everything += json.dumps(dict(os.environ)).encode()
    staff = b"Yannick Le Goff"  # the staff account's name is not a patient's value
    for _, values in _patients():
        assert not any(v in everything for v in values if v not in staff)
    location = parse_location(str(site.vault))
    # the custody folder without shares opens nothing
    with pytest.raises(KeyProviderError, match="0 of 2"):
        Unsealer(site.custody).provider()
    with pytest.raises(EtancheError):
        opened_provider(site.custody, [])
    # the old passphrase key file format does not open the sealed KEK file either
    with pytest.raises(EtancheError):
        PassphraseKeyFile.open(site.custody / "keks.json", "any passphrase at all")
    with pytest.raises(EtancheError):
        Vault.open(location, "any passphrase at all")
    # a person's environment variables of old hold nothing the CLI would use
    monkeypatch.setenv("ETANCHE_PASSPHRASE", "whatever the operator types")
    monkeypatch.setenv("ETANCHE_SERVICE", "unix:/nonexistent/service.sock")
    code = subprocess.run(
        [sys.executable, "-m", "etanche", "find", "--nir", "1850775123456"],
        capture_output=True,
        text=True,
        timeout=60,
    ).returncode
    assert code in (7, 9)  # no session, no service: the files alone answer nothing


def test_one_share_short_reveals_nothing_and_is_refused(
    sealed: Site, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(
        capsys,
        "unseal",
        "--share",
        str(sealed.shares["ylegoff"]),
        "--identity",
        str(sealed.identities["ylegoff"]),
    )
    assert code == 0 and "1 of 2" in out and "still sealed" in out, err
    code, _, err = run(capsys, "find", "--nir", "1850775123456")
    assert code in (7, 9)
    code, _, err = run(capsys, "login")
    assert code == 9 and "sealed" in err and "Traceback" not in err
    # a forged second share, right format, random bytes: refused, nothing opens
    real = sealed.share_line("aleroux").split()
    forged = " ".join([*real[:-1], base64.b64encode(os.urandom(32)).decode()])
    (tmp_path / "forged.txt").write_text(forged)
    code, _, err = run(capsys, "unseal", "--share-file", str(tmp_path / "forged.txt"))
    assert code == 5 and "do not open this custody" in err and forged not in err
    code, _, err = run(capsys, "login")
    assert code == 9
    with pytest.raises(WrongShares):
        opened_provider(sealed.custody, [sealed.share_line("ylegoff"), forged])


def test_a_sealed_service_refuses_everything_until_the_quorum(
    sealed: Site, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ETANCHE_TOKEN", "etk_" + "x" * 40)
    for argv in (["find", "--nir", "1850775123456"], ["show", "0" * 32], ["whoami"]):
        code, out, err = run(capsys, *argv)
        assert code == 9 and "sealed" in err and "etanche unseal" in err, argv
        assert "Traceback" not in out + err
    for name in ("ylegoff", "mkerbrat"):
        code, out, err = run(
            capsys,
            "unseal",
            "--share",
            str(sealed.shares[name]),
            "--identity",
            str(sealed.identities[name]),
        )
        assert code == 0, err
    assert "unsealed" in out
    code, _, err = run(capsys, "whoami")
    assert code == 7 and "sealed" not in err  # open now: the made-up token is just refused


def test_the_served_process_keeps_no_secret_in_its_environment(site: Site, tmp_path: Path) -> None:
    """`etanche serve` as a process: shares given to it never reach its environment."""
    share = tmp_path / "demo-share.txt"
    share.write_text(site.share_line("aleroux"))
    share.chmod(0o600)
    env = {**os.environ, "ETANCHE_VAULT": str(site.vault)}
    env.pop("ETANCHE_PASSWORD", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "etanche", "serve", "--port", str(_free_port()), "--workers", "1",
         "--socket", str(tmp_path / "s.sock"), "--share-file", str(share)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "s.sock").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)
        environ = Path(f"/proc/{server.pid}/environ").read_bytes()
        assert share.read_bytes().strip() not in environ
        assert b"ETANCHE_PASSPHRASE" not in environ
    finally:
        server.terminate()
        server.wait(timeout=30)


def _log_in(address: str, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyotp

    from etanche.client import connect, write_session

    anonymous = connect(address)
    enrol = anonymous.post("/login", {"username": "ylegoff", "password": PASSWORD})
    code = pyotp.TOTP(enrol["secret"]).now()
    session = anonymous.post("/login", {"username": "ylegoff", "password": PASSWORD, "code": code})
    write_session(root / "admin.session", session["token"])
    monkeypatch.setenv("ETANCHE_SESSION_FILE", str(root / "admin.session"))
    monkeypatch.delenv("ETANCHE_TOKEN", raising=False)


def test_a_lab_admin_alone_cannot_rotate_the_kek(
    sealed: Site, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Custody changes need a fresh quorum: each custodian approves with their own share."""

    def give(name: str, *extra: str) -> tuple[int, str, str]:
        return run(
            capsys,
            "unseal",
            *extra,
            "--share",
            str(sealed.shares[name]),
            "--identity",
            str(sealed.identities[name]),
        )

    for name in ("ylegoff", "mkerbrat"):
        assert give(name)[0] == 0
    _log_in(os.environ["ETANCHE_SERVICE"], sealed.root, monkeypatch)
    code, _, err = run(capsys, "keys", "rotate-kek")
    assert code == 7 and "needs 2 custodians' approval" in err
    code, out, err = give("aleroux", "--for", "rotate-kek")
    assert code == 0 and "1 of 2" in out, err
    code, out, _ = give("aleroux", "--for", "rotate-kek")  # the same custodian again
    assert "1 of 2" in out
    code, _, err = run(capsys, "keys", "rotate-kek")
    assert code == 7 and "(1 given" in err
    forged = sealed.share_line("mkerbrat").split()
    forged[-1] = base64.b64encode(os.urandom(32)).decode()
    (sealed.root / "forged.txt").write_text(" ".join(forged))
    code, _, err = run(
        capsys, "unseal", "--for", "rotate-kek", "--share-file", str(sealed.root / "forged.txt")
    )
    assert code == 5 and "does not open this custody" in err
    assert give("mkerbrat", "--for", "rotate-kek")[0] == 0
    code, out, err = run(capsys, "keys", "rotate-kek")
    assert code == 0 and "rewrapped" in out, err
    code, _, err = run(capsys, "keys", "rotate-kek")  # an approval is used once
    assert code == 7 and "custodians' approval" in err


def test_new_custodians_need_the_quorum_and_old_shares_die(
    sealed: Site, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def give(name: str, *extra: str) -> int:
        share, key = str(sealed.shares[name]), str(sealed.identities[name])
        return run(capsys, "unseal", *extra, "--share", share, "--identity", key)[0]

    assert give("ylegoff") == 0 and give("mkerbrat") == 0
    _log_in(os.environ["ETANCHE_SERVICE"], sealed.root, monkeypatch)
    newcomer = AgeIdentity.generate()
    argv = [
        "custody", "reshare", "--threshold", "2", "--shares-out", str(sealed.root / "new"),
        "--custodian", f"ylegoff={AgeIdentity.generate().public_text()}",
        "--custodian", f"lpriol={newcomer.public_text()}",
    ]  # fmt: skip
    code, _, err = run(capsys, *argv)
    assert code == 7 and "reshare: needs 2 custodians' approval" in err
    assert give("aleroux", "--for", "reshare") == 0
    assert give("ylegoff", "--for", "reshare") == 0
    code, out, err = run(capsys, *argv)
    assert code == 0 and "old shares open nothing" in out, err
    assert _mode(sealed.root / "new" / "share-lpriol.age") == 0o600
    with pytest.raises(EtancheError):  # the old shares of the custody are dead
        opened_provider(
            sealed.custody, [sealed.share_line("aleroux"), sealed.share_line("mkerbrat")]
        )
