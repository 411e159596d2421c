"""``etanche identity link`` / ``pairs`` through the service: the DPO runs, others are refused.

The queue the service stores holds record ids, labs, weights and level codes:
the raw scan of the vault's file finds none of the network's personal values,
and neither does the CLI's output nor the audit log.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from _cli import run
from _service import served
from etanche.access import Role
from etanche.synth import SynthConfig, generate, true_pairs
from test_no_personal_values import leaked_ids, personal_values

pytestmark = pytest.mark.slow  # queued first (tests/conftest.py)

# No child on a parent's NIR here: the vault's validation refuses a NIR that does not match
# the birth date (the linkage tests meet them in memory).
CONFIG = SynthConfig(patients=1_500, labs=2, seed=13, duplicates=0.06)


def test_the_dpo_links_the_network_and_reads_a_queue_without_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    network = generate(CONFIG)
    people = list(network.patients())
    truth = true_pairs(network.truth())
    with served(tmp_path, monkeypatch, network) as service:
        service.add_person("aleroux", "Anne Le Roux", Role.DPO, ["*"])
        service.add_person("jmartin", "Jeanne Martin", Role.BIOLOGIST, ["L01"])
        service.add_person("kquere", "Katell Quéré", Role.RECEPTION, ["L01"])

        service.as_person("aleroux")
        code, out, err = run(capsys, "identity", "link", "--json")
        assert code == 0, err
        ran = json.loads(out)
        assert ran["records"] == len(people)
        assert ran["pairs"] > 0.8 * len(truth)
        printed = [out, err]

        code, out, err = run(capsys, "identity", "pairs", "--limit", "1000", "--json")
        assert code == 0, err
        queue = json.loads(out)
        assert queue["total"] == ran["pairs"]
        found = {(p["left"], p["right"]) for p in queue["pairs"]}
        assert len(found & truth) >= 0.9 * len(found)
        first = queue["pairs"][0]
        assert set(first) >= {"left", "right", "match_weight", "match_probability", "levels"}
        printed += [out, err]
        code, out, err = run(capsys, "identity", "pairs", "--limit", "5")
        assert code == 0, err
        assert "5 of" in out
        printed += [out, err]

        for who in ("jmartin", "kquere"):
            service.as_person(who)
            for argv in (("identity", "link"), ("identity", "pairs")):
                code, out, err = run(capsys, *argv)
                assert code == 7, (who, argv, out, err)
                assert "identity." in err and "Traceback" not in err
                printed += [out, err]

        with sqlite3.connect(service.directory / "vault.sqlite") as conn:
            logged = conn.execute(
                "SELECT actor, action, outcome FROM audit_events "
                "WHERE action LIKE 'identity.%' ORDER BY seq"
            ).fetchall()
            bodies = [bytes(r[0]).decode() for r in conn.execute("SELECT body FROM audit_events")]
        raw = (service.directory / "vault.sqlite").read_bytes().decode("latin-1")

    assert logged == [
        ("aleroux", "identity.link", "ok"),
        ("aleroux", "identity.pairs", "ok"),
        ("aleroux", "identity.pairs", "ok"),
        ("jmartin", "identity.link", "denied"),
        ("jmartin", "identity.pairs", "denied"),
        ("kquere", "identity.link", "denied"),
        ("kquere", "identity.pairs", "denied"),
    ]
    # The raw file holds the queue (ids in clear) but no personal value anywhere.
    assert first["left"] in raw
    haystack = "\n".join([*printed, *bodies, raw])
    assert leaked_ids(people, haystack) == []


def test_the_raw_scan_would_see_a_value_in_the_file(tmp_path: Path) -> None:
    """The scan above can fail: a value written in clear is found in the raw bytes."""
    patient = next(iter(generate(CONFIG).patients()))
    path = tmp_path / "x.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (v TEXT)")
        conn.execute("INSERT INTO t VALUES (?)", (patient.birth_name + " " + (patient.nir or ""),))
    raw = path.read_bytes().decode("latin-1")
    assert any(value in raw for value in personal_values(patient))
    assert leaked_ids([patient], raw) == [patient.id]
