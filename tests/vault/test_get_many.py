"""``Vault.get_many``: a bulk read for exports, in the order asked, strict on missing ids."""

from __future__ import annotations

import pytest

from etanche.errors import RecordNotFound
from etanche.vault import Vault


def test_get_many_reads_in_the_order_asked(loaded_vault: Vault) -> None:
    ids = list(reversed(loaded_vault.patient_ids("L01")))[:7]
    found = loaded_vault.get_many(ids)
    assert [p.id for p in found] == ids
    assert found == [loaded_vault.get(pid) for pid in ids]
    assert loaded_vault.get_many([]) == []


def test_get_many_refuses_an_erased_or_unknown_patient(loaded_vault: Vault) -> None:
    first, second = loaded_vault.patient_ids("L01")[:2]
    loaded_vault.erase(second)
    with pytest.raises(RecordNotFound, match="erased"):
        loaded_vault.get_many([first, second])
    with pytest.raises(RecordNotFound, match="not found"):
        loaded_vault.get_many([first, "0" * 32])
