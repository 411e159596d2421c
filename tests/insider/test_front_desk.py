"""The front desk's new powers, tried by the people who could abuse them.

- A receptionist links patients only into her own labs, and never without the
  trail in both labs; she cannot use the link to read another lab's contacts.
- The prefix search cannot enumerate another lab: it computes digests for the
  searcher's labs only, and answers nothing about other labs.
- The operator, with the database file and no keys, learns from the new
  indexes and the network-identity table no more than docs/blind-indexes.md
  tables: 12-bit buckets keyed per lab, no cross-lab equality, no link between
  records.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from _cli import run
from _service import served
from etanche.access import Role
from etanche.audit import AuditLog, Outcome
from etanche.domain import name_prefix
from etanche.synth import SynthConfig, generate

NETWORK = SynthConfig(patients=120, labs=3, seed=14)


def test_a_receptionist_links_only_into_her_labs_and_both_labs_keep_the_trail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    network = generate(NETWORK)
    theirs = [p for p in network.patients() if p.lab_id == "L02" and p.nir and p.phones]
    with served(tmp_path, monkeypatch, network) as site:
        site.add_person("mleguen", "Marie Le Guen", Role.RECEPTION, ["L01"])
        site.as_person("mleguen")
        # into a lab she does not work in: refused, and the refusal is in the log
        code, _, err = run(capsys, "link", "--lab", "L03", "--nir", theirs[0].nir)
        assert code == 7 and "patient.link" in err
        # from L02 into L02 itself (to get its record's contacts): refused the same way
        code, _, err = run(capsys, "link", "--lab", "L02", "--nir", theirs[0].nir)
        assert code == 7
        # into her lab: allowed; what she gets back has no contact of the other lab
        code, out, err = run(capsys, "link", "--lab", "L01", "--nir", theirs[1].nir)
        assert code == 0, err
        new_id = out.split()[1]
        code, out, _ = run(capsys, "show", new_id, "--json", "--reveal")
        assert json.loads(out)["birth_name"] == theirs[1].birth_name  # the traits, only
        assert theirs[1].phones[0] not in out
        for address in theirs[1].addresses:
            assert address.line not in out
        with site.open() as vault:
            log = AuditLog.for_vault(vault)
            events = [e for _, e in log.events(actor="mleguen", action="patient.link")]
        denied = [e for e in events if e.outcome is Outcome.DENIED]
        done = [e for e in events if e.outcome is Outcome.OK]
        assert {e.details["lab"] for e in denied} == {"L03", "L02"}
        assert {e.details["lab"] for e in done} == {"L01", "L02"}  # both labs' trails
        assert all(new_id in e.object_ids for e in done)


def test_the_prefix_search_cannot_enumerate_another_lab(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    network = generate(NETWORK)
    theirs = [p for p in network.patients() if p.lab_id == "L02"]
    asked = sorted({(name_prefix(p.birth_name), p.birth_date.year) for p in theirs})
    with served(tmp_path, monkeypatch, network) as site:
        site.add_person("mleguen", "Marie Le Guen", Role.RECEPTION, ["L01"])
        site.as_person("mleguen")
        seen: set[str] = set()
        printed = ""
        for prefix, year in asked[:40]:
            code, out, err = run(capsys, "find", "--prefix", prefix, "--born", str(year), "--json")
            assert code == 0, err
            found = json.loads(out)["patients"]
            seen |= {p["id"] for p in found}
            assert all(p["lab"] == "L01" for p in found)
            printed += out
        assert not seen & {p.id for p in theirs}
        for patient in theirs:
            assert patient.birth_name not in printed
        with site.open() as vault:
            searches = [
                e
                for _, e in AuditLog.for_vault(vault).events(
                    actor="mleguen", action="patient.search"
                )
            ]
        assert len(searches) == 40 and all(e.details["hidden"] == 0 for e in searches)


def test_the_operator_learns_no_more_than_the_leakage_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    network = generate(SynthConfig(patients=3_000, labs=2, seed=14))
    source = next(p for p in network.patients() if p.lab_id == "L02" and p.nir)
    with served(tmp_path, monkeypatch, network) as site:
        site.add_person("mleguen", "Marie Le Guen", Role.RECEPTION, ["L01"])
        site.as_person("mleguen")
        code, out, err = run(capsys, "link", "--lab", "L01", "--nir", source.nir)
        assert code == 0, err
        new_id = out.split()[1]
        raw = sqlite3.connect(site.location.sqlite_path)
        lab_of = dict(raw.execute("SELECT id, lab_id FROM patients"))
        digests = raw.execute(
            "SELECT patient_id, digest FROM patient_index WHERE name = 'prefix_year'"
        ).fetchall()
        links = raw.execute("SELECT handle, sealed FROM network_identities").fetchall()
        dump = "\n".join(raw.iterdump())
        raw.close()
    # a 16-bit lab tag (the lab is clear anyway), then 12 bits: at most 4,096 buckets a lab
    assert all(len(d) == 4 and d[3] & 0x0F == 0 for _, d in digests)
    tags = {lab_of[pid]: d[:2] for pid, d in digests}
    assert all(d[:2] == tags[lab_of[pid]] for pid, d in digests)
    for lab in ("L01", "L02"):
        assert len({d for pid, d in digests if lab_of[pid] == lab}) <= 4_096
    # keyed per lab: patients sharing (prefix, year) across labs share a digest by chance only
    value = {p.id: (name_prefix(p.birth_name), p.birth_date.year) for p in network.patients()}
    by_value: dict[tuple[str, int], dict[str, set[bytes]]] = {}
    for pid, d in digests:
        if pid in value:
            by_value.setdefault(value[pid], {}).setdefault(lab_of[pid], set()).add(d[2:])
    across = [v for v in by_value.values() if {"L01", "L02"} <= set(v)]
    assert len(across) > 50  # the check has pairs to look at
    same = sum(bool(v["L01"] & v["L02"]) for v in across)
    assert same <= 3  # chance is about len(across) / 4096
    # inside one lab, a shared digest is a bucket, not a value: buckets mix values
    per_bucket = Counter((lab_of[pid], d) for pid, d in digests)
    assert max(per_bucket.values()) >= 2
    # the link table: two opaque rows, neither holding a record id or the other's bytes
    assert len(links) == 2
    handles = {h for h, _ in links}
    assert new_id not in handles and source.id not in handles
    # the record ids appear in the patients table, never next to an identity
    assert dump.count(new_id) == dump.count(f"'{new_id}'")
    for _, sealed in links:
        assert new_id.encode() not in sealed and source.id.encode() not in sealed
    assert links[0][1][:12] != links[1][1][:12]  # random nonces: no shared prefix to match
