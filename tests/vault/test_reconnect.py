"""A connection cut at the commit: the retry finds what landed and never writes it twice.

The failover test (tests/service/test_failover.py) kills a real primary, but
where the cut falls is luck. Here it falls exactly after the commit, the case
where the client cannot know the outcome: the write itself reports a lost
connection once its transaction is committed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select

from etanche.errors import VaultError
from etanche.synth import SynthNetwork
from etanche.vault import (
    Vault,
    WriteBatch,
    decode_writes,
    is_disconnect,
    parse_location,
    patients_table,
    retrying,
    specimens_table,
)


class _Lost(Exception):
    """What the driver raises when the server vanished."""


def lost() -> sa_exc.OperationalError:
    return sa_exc.OperationalError("COMMIT", {}, _Lost(), connection_invalidated=True)


def cut_after(work: Callable[..., Any], times: int = 1) -> Callable[..., Any]:
    """``work`` runs to the end (commit included), then the connection is 'lost'."""
    left = [times]

    def wrapped(*args: Any, **kw: Any) -> Any:
        result = work(*args, **kw)
        if left[0] > 0:
            left[0] -= 1
            raise lost()
        return result

    return wrapped


def count(vault: Vault, table: Any, row_id: str) -> int:
    with vault.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(table).where(table.c.id == row_id)
            ).scalar_one()
        )


def test_a_cut_patient_write_lands_once_and_is_journaled(
    vault: Vault, small_network: SynthNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    for lab in small_network.labs:
        vault.add_lab(lab)
    patient, specimens = next(pair for batch in small_network.batches() for pair in batch)
    logged: list[WriteBatch] = []
    vault.record_writes(logged.append)
    monkeypatch.setattr(vault, "add_many", cut_after(vault.add_many))
    assert vault.add(patient) == patient.id
    assert count(vault, patients_table, patient.id) == 1
    # the commit's own journal call was lost with the connection: the retry logs it
    rows = {w.row_id for batch in logged for w in decode_writes(batch.encoded)}
    assert rows == {patient.id}
    assert specimens, "the synthetic patient has specimens"
    specimen = specimens[0]
    monkeypatch.setattr(vault, "_add_specimen", cut_after(vault._add_specimen))
    assert vault.add_specimen(specimen) is True
    assert count(vault, specimens_table, specimen.id) == 1
    assert [s.id for s in vault.specimens_of(patient.id)] == [specimen.id]


def test_a_write_cut_before_its_commit_is_written_by_the_retry(
    vault: Vault, small_network: SynthNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    for lab in small_network.labs:
        vault.add_lab(lab)
    patient, _ = next(pair for batch in small_network.batches() for pair in batch)
    original = vault.add_many
    calls = []

    def refused(*args: Any, **kw: Any) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise lost()  # nothing committed
        return original(*args, **kw)

    monkeypatch.setattr(vault, "add_many", refused)
    vault.add(patient)
    assert len(calls) == 2 and count(vault, patients_table, patient.id) == 1


def test_retries_stop_at_the_window_with_one_clear_error() -> None:
    def never() -> None:
        raise lost()

    with pytest.raises(VaultError, match=r"no primary answered within 0\.3 s"):
        retrying(never, window=0.3)


def test_only_lost_connections_are_retried() -> None:
    calls = []

    def bad_statement() -> None:
        calls.append(1)
        raise sa_exc.ProgrammingError("SELECT", {}, ValueError("syntax"))

    with pytest.raises(sa_exc.ProgrammingError):
        retrying(bad_statement, window=5)
    assert calls == [1]
    assert is_disconnect(lost())
    assert not is_disconnect(sa_exc.IntegrityError("INSERT", {}, ValueError("dup")))


def test_a_multi_host_url_reaches_sqlalchemy_as_hosts() -> None:
    location = parse_location(
        "postgresql://etanche@db1:5432,db2:5433/etanche?target_session_attrs=read-write",
        "keys.json",
    )
    assert location.url == (
        "postgresql+psycopg://etanche@/etanche?host=db1:5432&host=db2:5433"
        "&target_session_attrs=read-write"
    )
    from sqlalchemy import make_url

    url = make_url(location.url)
    assert url.query["host"] == ("db1:5432", "db2:5433")
    assert "secret" not in parse_location("postgresql://u:secret@a:1,b:2/d", "k").describe()
