"""The service as the CLI meets it: the web application on a Unix socket, in a thread.

CLI tests run person commands in-process (``tests/_cli.py``); those commands are
clients that reach this server over its 0600 socket, exactly as they reach
``etanche serve``. The server holds the keys; the test's environment holds none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from _staff import APPROVER, Staff
from etanche.access import Role
from etanche.crypto import KdfCost, KeyProvider, PassphraseKeyFile
from etanche.service import Custody
from etanche.synth import SynthNetwork
from etanche.vault import Vault, VaultLocation, parse_location
from etanche.web import Background, WebConfig, bind_unix, create_app


@contextmanager
def running_service(
    location: VaultLocation,
    provider: KeyProvider | Custody,
    socket_dir: Path,
    *,
    rules: Path | None = None,
    witnesses: Path | None = None,
) -> Iterator[str]:
    """Serve ``location`` on a Unix socket until the block ends; yields ETANCHE_SERVICE."""
    custody = provider if isinstance(provider, Custody) else Custody.unsealed(provider)
    config = WebConfig(location, custody, rules=rules, trail_mode="sync", witnesses=witnesses)
    app = create_app(config)
    path = socket_dir / "service.sock"
    server = Background(app, [bind_unix(path)]).start()
    try:
        yield f"unix:{path}"
    finally:
        server.stop()


def passphrase_provider(location: VaultLocation, passphrase: str) -> KeyProvider:
    """The KEK provider of a test vault created with a passphrase key file."""
    assert location.keyfile is not None
    return PassphraseKeyFile.open(location.keyfile, passphrase)


def passphrase_custody(location: VaultLocation, passphrase: str) -> Custody:
    """Custody already open on a test vault's passphrase key file."""
    return Custody.unsealed(passphrase_provider(location, passphrase))


@dataclass
class Served:
    """A vault filled with a synthetic network and served; the CLI holds session files only.

    ``as_person(username)`` points ETANCHE_SESSION_FILE at that person's session.
    """

    root: Path
    location: VaultLocation
    passphrase: str
    staff: Staff
    address: str
    monkeypatch: pytest.MonkeyPatch
    sessions: dict[str, Path] = field(default_factory=dict)

    @property
    def directory(self) -> Path:
        assert self.location.directory is not None
        return self.location.directory

    def add_person(self, username: str, full_name: str, role: Role, labs: list[str]) -> Path:
        token = self.staff.add(username, full_name, role, labs)
        return self._save(username, token)

    def _save(self, username: str, token: str) -> Path:
        path = self.root / "sessions" / username
        path.parent.mkdir(mode=0o700, exist_ok=True)
        path.write_text(token)
        path.chmod(0o600)
        self.sessions[username] = path
        return path

    def as_person(self, username: str) -> None:
        self.monkeypatch.setenv("ETANCHE_SESSION_FILE", str(self.sessions[username]))

    def open(self) -> Vault:
        """The vault opened directly, for a test's own checks (never by the CLI)."""
        return Vault.open(self.location, self.passphrase)


@contextmanager
def served(
    root: Path,
    monkeypatch: pytest.MonkeyPatch,
    network: SynthNetwork | None = None,
    *,
    rules: Path | None = None,
    passphrase: str = "served vault passphrase",
    witnesses: Callable[[Vault], Path] | None = None,
) -> Iterator[Served]:
    """A vault (with ``network`` loaded), a lab admin ``ylegoff``, the DPO ``nquillec`` (the
    second approver of privileged accounts), and the service running.

    The test keeps its own connection (``staff``) to set people up, as an
    administrator would have done beforehand; the CLI itself never opens the vault.
    """
    location = parse_location(str(root / "v"))
    store = Vault.create(location, passphrase, kdf_cost=KdfCost.fast_for_tests())
    try:
        if network is not None:
            for lab in network.labs:
                store.add_lab(lab)
            store.add_many((p, s) for batch in network.batches() for p, s in batch)
        staff = Staff(store)
        staff._ensure_root()
        monkeypatch.setenv("COLUMNS", "200")
        for name in ("ETANCHE_VAULT", "ETANCHE_PASSPHRASE", "ETANCHE_TOKEN", "ETANCHE_CUSTODY"):
            monkeypatch.delenv(name, raising=False)
        provider = passphrase_provider(location, passphrase)
        listing = witnesses(store) if witnesses is not None else None  # a witness list file
        with running_service(
            location, provider, root / "run", rules=rules, witnesses=listing
        ) as address:
            monkeypatch.setenv("ETANCHE_SERVICE", address)
            result = Served(root, location, passphrase, staff, address, monkeypatch)
            assert staff.root_token is not None and staff.approver_token is not None
            result._save("ylegoff", staff.root_token)
            result._save(APPROVER[0], staff.approver_token)  # the DPO, second approver
            result.as_person("ylegoff")
            yield result
    finally:
        store.close()
