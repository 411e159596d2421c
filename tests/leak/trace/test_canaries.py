"""Canaries are decoys of ours, unique, never someone real; the ledger keeps them sealed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from conftest import Backend
from etanche.audit._decoys import is_decoy
from etanche.errors import UsageError
from etanche.leak.trace import (
    CanaryList,
    Ledger,
    canary_count,
    canary_list,
    make_canaries,
    new_export_mark,
    record_export,
    render_row,
)
from etanche.leak.trace._identity import NIR, row_identity
from etanche.synth import SynthNetwork
from etanche.vault import Vault
from etanche.vault._schema import patients


def test_canaries_are_new_decoys_with_the_exports_lab(loaded_vault: Vault) -> None:
    mark = new_export_mark()
    before = set(loaded_vault.patient_ids())
    canaries = make_canaries(mark, 3, vault=loaded_vault, lab_id="L02", seed=12345)
    assert len(canaries) == 3 and len({c.row_key for c in canaries}) == 3
    for c in canaries:
        assert c.row_key not in before
        assert is_decoy(loaded_vault, c.row_key)
        assert c.fields["lab"] == "L02"
        assert mark.export_id in c.location and c.row_key not in c.location
        for name, value in row_identity(c.fields):
            if name != NIR:
                continue
            with loaded_vault.engine.connect() as conn:
                owners = conn.execute(
                    select(patients.c.id).where(
                        patients.c.nir_digest == loaded_vault.index_digest(name, value)
                    )
                ).scalars()
                assert set(owners) == {c.row_key}


def test_an_identity_already_in_the_vault_is_never_a_canary(
    loaded_vault: Vault, small_network: SynthNetwork
) -> None:
    # the network was made with seed 7: planting with seed 7 draws its first patients again
    real = {p.nir for p in small_network.patients()}
    canaries = make_canaries("e1", 2, vault=loaded_vault, lab_id="L01", seed=7)
    assert len(canaries) == 2
    assert not {c.fields.get("nir") for c in canaries} & real


def test_the_importer_drops_canaries_with_the_sealed_list(loaded_vault: Vault) -> None:
    mark = new_export_mark()
    canaries = make_canaries(mark, 2, vault=loaded_vault, lab_id="L01", seed=99)
    listed = CanaryList.from_dict(canary_list(canaries).to_dict())
    for c in canaries:
        marked = render_row(c.fields, mark=mark, row_key=c.row_key)
        assert listed.matches(marked)  # by identity, whatever the writing
        assert listed.matches({}, row_key=c.row_key)  # or by row key
    planted = {c.row_key for c in canaries}  # decoys now live in L01 too
    real = loaded_vault.get(next(p for p in loaded_vault.patient_ids("L01") if p not in planted))
    assert not listed.matches({"nir": real.nir or "", "birth_name": real.birth_name})
    text = str(listed.to_dict())
    assert all(c.fields["birth_name"] not in text for c in canaries)
    with pytest.raises(UsageError):
        CanaryList.from_dict({"salt": "??"})


def test_canary_count() -> None:
    assert canary_count(10, 0.001) == 2
    assert canary_count(491_840, 0.001) == 492
    with pytest.raises(UsageError):
        canary_count(10, 0.5)


def test_ledger_entries_are_sealed_and_expire(loaded_vault: Vault, backend: Backend) -> None:
    mark = new_export_mark({"phone", "order"})
    rows = loaded_vault.patient_ids("L01")
    entry = record_export(
        loaded_vault, mark, recipient="Recipient Zeta-4411", purpose="migration", lab_id="L01",
        fmt="csv", rows=rows, canaries=["c1"], retention_days=30,
    )  # fmt: skip
    ledger = Ledger(loaded_vault)
    (back,) = ledger.entries()
    assert back.mark.key == mark.key and back.mark.marks == {"phone", "order"}
    assert back.rows == tuple(rows) and back.recipient == "Recipient Zeta-4411"
    assert entry.expires_at is not None
    raw = backend.raw_bytes()
    assert b"Zeta-4411" not in raw and b"Recipient" not in raw  # the body is sealed
    assert ledger.purge_expired(datetime.now(UTC) + timedelta(days=29)) == 0
    assert ledger.purge_expired(datetime.now(UTC) + timedelta(days=31)) == 1
    assert ledger.entries() == []
    with pytest.raises(UsageError):
        record_export(
            loaded_vault, mark, recipient=" ", purpose="", lab_id="L01", fmt="csv", rows=rows,
            canaries=[], retention_days=30,
        )  # fmt: skip
