"""One PostgreSQL pool per process, sized from ETANCHE_DB_POOL_*; SQLite keeps its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import PASSPHRASE
from etanche import settings
from etanche.crypto import KdfCost
from etanche.errors import UsageError
from etanche.service.bootstrap import locate
from etanche.vault import PoolOptions, Vault, parse_location
from etanche.vault._location import make_engine


def test_pool_settings_size_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETANCHE_DB_POOL_SIZE", "4")
    monkeypatch.setenv("ETANCHE_DB_MAX_OVERFLOW", "6")
    monkeypatch.setenv("ETANCHE_DB_POOL_RECYCLE", "600")
    where = locate("postgresql://etanche@127.0.0.1:1/none", settings.current())
    assert where.keyfile is None  # the service's custody needs no key file
    assert where.pool == PoolOptions(4, 6, 600)
    engine = make_engine(where)  # lazy: nothing connects yet
    try:
        assert engine.pool.size() == 4
        assert engine.pool._max_overflow == 6  # type: ignore[attr-defined]
        assert engine.pool._recycle == 600
        assert engine.pool._pre_ping
    finally:
        engine.dispose()


def test_defaults_and_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = locate("postgresql://etanche@127.0.0.1:1/none", settings.current()).pool
    assert defaults == PoolOptions()
    monkeypatch.setenv("ETANCHE_DB_POOL_SIZE", "ten")
    with pytest.raises(UsageError, match="ETANCHE_DB_POOL_SIZE"):
        settings.current()


def test_request_sessions_borrow_the_one_engine(tmp_path: Path) -> None:

    vault = Vault.create(
        parse_location(str(tmp_path / "v")), PASSPHRASE, kdf_cost=KdfCost.fast_for_tests()
    )
    try:
        sessions = [vault.session(()) for _ in range(3)]
        assert all(s.engine is vault.engine for s in sessions)
        for session in sessions:
            session.close()  # a request's session leaves the process's pool open
        with vault.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar_one() == 1
    finally:
        vault.close()
