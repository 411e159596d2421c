"""``etanche vault reindex`` and the backfill at unseal, against a running service.

Records whose front-desk index rows are missing (written before those indexes:
simulated by deleting the rows in the database file) are indexed by the command,
run by the network-wide lab admin; a second run finds nothing; a lab admin of one
lab is refused; a restarted service fills a new gap by itself before serving.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from _cli import run
from _service import Served, passphrase_custody, served
from etanche.access import Role
from etanche.service import Core
from etanche.synth import SynthConfig, generate


def _forget(site: Served, ids: list[str]) -> None:
    marks = ",".join("?" * len(ids))
    with closing(sqlite3.connect(site.location.sqlite_path)) as db:
        db.execute(
            "DELETE FROM patient_index WHERE name IN ('prefix_year', 'phonetic_year') "
            f"AND patient_id IN ({marks})",
            ids,
        )
        db.commit()


def _gap(site: Served) -> int:
    vault = site.open()
    try:
        return vault.front_desk_gap()
    finally:
        vault.close()


def test_reindex_fills_the_gap_once_and_the_service_does_it_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    network = generate(SynthConfig(patients=30, labs=2, seed=5))
    ids = [p.id for p in network.patients()]
    with served(tmp_path, monkeypatch, network) as site:
        _forget(site, ids[:4])
        assert _gap(site) == 4
        site.add_person("lbras", "Loïc Bras", Role.LAB_ADMIN, ["L01"])
        site.as_person("lbras")
        code, _, err = run(capsys, "vault", "reindex")
        assert code == 7 and "network-wide" in err and _gap(site) == 4

        site.as_person("ylegoff")
        code, out, err = run(capsys, "vault", "reindex", "--json")
        assert code == 0, err
        assert json.loads(out) == {"indexed": 4, "batches": 1, "unreadable": 0}
        code, out, _ = run(capsys, "vault", "reindex")
        assert code == 0 and "0 records indexed" in out
        assert _gap(site) == 0

        _forget(site, ids[4:6])  # a restart finds the gap and fills it before serving
        core = Core(site.location, passphrase_custody(site.location, site.passphrase))
        core.close()
        assert _gap(site) == 0
