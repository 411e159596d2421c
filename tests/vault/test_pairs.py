"""The identity review queue (revision 0015): ids and codes only, replaced per run, both engines."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import inspect

from conftest import Backend
from etanche.vault import StoredPair, Vault, index_digests, read_pairs, replace_pairs
from etanche.vault._store import _alembic_config

AT = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)


def _pair(left: str, right: str, labs: tuple[str, str], weight: float) -> StoredPair:
    return StoredPair(left, right, *labs, weight, 0.99, {"surname": "exact"}, "r1", AT)


def test_the_queue_is_replaced_read_strongest_first_and_filtered_by_lab(vault: Vault) -> None:
    replace_pairs(vault.engine, [_pair("a", "b", ("L01", "L01"), 3.0)])
    pairs = [
        _pair("c", "d", ("L01", "L02"), 9.5),
        _pair("e", "f", ("L02", "L02"), 12.0),
        _pair("g", "h", ("L03", "L03"), 4.0),
    ]
    assert replace_pairs(vault.engine, pairs) == 3
    total, found = read_pairs(vault.engine)
    assert total == 3
    assert [(p.left_id, p.match_weight) for p in found] == [("e", 12.0), ("c", 9.5), ("g", 4.0)]
    assert found[0].levels == {"surname": "exact"} and found[0].found_at == AT
    total, mine = read_pairs(vault.engine, labs=["L01"])
    assert total == 1 and mine[0].right_id == "d"
    assert read_pairs(vault.engine, limit=1, offset=1)[1][0].left_id == "c"


def test_digests_come_from_the_vault_as_stored(vault: Vault) -> None:
    assert index_digests(vault.engine, ["nir"]) == {}


def test_revision_0015_goes_down_and_up_again(backend: Backend, vault: Vault) -> None:
    replace_pairs(vault.engine, [_pair("a", "b", ("L01", "L01"), 3.0)])
    with vault.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0011")
    assert "identity_pairs" not in inspect(vault.engine).get_table_names()
    with vault.engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")
    assert read_pairs(vault.engine) == (0, [])
