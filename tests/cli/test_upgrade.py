"""An older vault is refused with a hint, then upgraded in place by its holder."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory

from _cli import run
from conftest import PASSPHRASE
from etanche.crypto import KdfCost
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
    monkeypatch.setenv("ETANCHE_VAULT", str(tmp_path / "v"))
    monkeypatch.setenv("ETANCHE_PASSPHRASE", PASSPHRASE)
    code, _, err = run(capsys, "find", "--nir", "1")
    assert code == 4 and "schema revision 0003" in err and "etanche upgrade" in err
    monkeypatch.setenv("ETANCHE_PASSPHRASE", "not the right passphrase")
    assert run(capsys, "upgrade")[0] == 5
    monkeypatch.setenv("ETANCHE_PASSPHRASE", PASSPHRASE)
    code, out, _ = run(capsys, "upgrade")
    assert code == 0 and f"from revision 0003 to {head}" in out
    code, out, _ = run(capsys, "upgrade")
    assert code == 0 and f"already at revision {head}" in out
    Vault.open(where, PASSPHRASE).close()
