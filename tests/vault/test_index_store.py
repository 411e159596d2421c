"""Where the blind-index digests live: the NIR and INS-trait digests on the patient row,
the others in ``patient_index``; the same digests whatever the write path."""

from __future__ import annotations

import dataclasses
from datetime import date

from sqlalchemy import select

from etanche.synth import SynthNetwork
from etanche.vault import Vault, name_dob_key
from etanche.vault._index_store import split
from etanche.vault._indexes import NAME_DOB, index_values
from etanche.vault._schema import patient_index, patients


def test_the_write_path_hashes_the_lookup_string() -> None:
    names = [("Lefèvre-Dupont", "Zoé"), ("LEFEVRE DUPONT", "ZOE"), ("Œuvray", "Ægidius")]
    for birth_name, first in names:
        value = dict(index_values((None, birth_name, first, date(1970, 1, 2), [], [], "L01")))
        assert value[NAME_DOB] == name_dob_key(birth_name, first, date(1970, 1, 2))


def test_split_puts_single_digests_on_the_row() -> None:
    entries = [("nir", b"n"), ("name_dob", b"d"), ("phone", b"p1"), ("phone", b"p2")]
    columns, rows = split("P1", entries)
    assert columns == {"nir_digest": b"n", "name_dob_digest": b"d"}
    assert rows == [
        {"name": "phone", "digest": b"p1", "patient_id": "P1"},
        {"name": "phone", "digest": b"p2", "patient_id": "P1"},
    ]
    assert split("P2", [("email", b"e")])[0] == {"nir_digest": None, "name_dob_digest": None}


def test_bulk_single_update_and_erasure_keep_the_row_digests(
    vault: Vault, small_network: SynthNetwork
) -> None:
    for lab in small_network.labs:
        vault.add_lab(lab)
    items = [p for batch in small_network.batches() for p in batch]
    vault.add_many(items[:-1])
    last, specs = items[-1]
    vault.add(last, specs)  # one by one: the same columns as the bulk path
    with_nir = [p for p, _ in items if p.nir]
    with vault.engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(patients))}
        names = set(conn.execute(select(patient_index.c.name).distinct()).scalars())
    assert not names & {"nir", "name_dob"}
    assert all(rows[p.id].nir_digest and rows[p.id].name_dob_digest for p in with_nir)
    assert rows[last.id].name_dob_digest is not None
    moved = with_nir[0]
    vault.update(dataclasses.replace(moved, nir=with_nir[1].nir), validate=False)
    assert {p.id for p in vault.find_by_nir(with_nir[1].nir or "")} >= {moved.id, with_nir[1].id}
    assert moved.id not in {p.id for p in vault.find_by_nir(moved.nir or "")}
    vault.erase(moved.id)
    with vault.engine.connect() as conn:
        gone = conn.execute(select(patients).where(patients.c.id == moved.id)).one()
    assert gone.nir_digest is None and gone.name_dob_digest is None
    assert vault.check_records()[1] == []
