"""An older vault is refused with a hint, then upgraded in place (no key needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory

from _cli import run
from conftest import PASSPHRASE
from etanche.crypto import KdfCost
from etanche.errors import SchemaError
from etanche.vault import Vault, parse_location
from etanche.vault._store import _alembic_config


def test_upgrade_an_older_vault(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    where = parse_location(str(tmp_path / "v"))
    store = Vault.create(where, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests())
    with store, store.engine.begin() as conn:
        head = ScriptDirectory.from_config(_alembic_config(conn)).get_current_head()
        command.downgrade(_alembic_config(conn), "0003")
    with pytest.raises(SchemaError, match=r"schema revision 0003.*etanche upgrade"):
        Vault.open(where, PASSPHRASE)  # what the service meets at start
    monkeypatch.delenv("ETANCHE_PASSPHRASE", raising=False)
    monkeypatch.setenv("ETANCHE_VAULT", str(tmp_path / "v"))
    code, out, _ = run(capsys, "upgrade")
    assert code == 0 and f"from revision 0003 to {head}" in out
    code, out, _ = run(capsys, "upgrade")
    assert code == 0 and f"already at revision {head}" in out
    Vault.open(where, PASSPHRASE).close()
