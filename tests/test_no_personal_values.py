"""No personal value in logs, errors, CLI output (unless revealed), audit events or alerts.

One scenario drives the CLI the way staff would, including mistakes, with every
logger captured at DEBUG; then everything that left the vault in clear is scanned
for the synthetic patients' personal values.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from _cli import run
from _service import Served, served
from etanche.access import Role
from etanche.domain import Patient
from etanche.synth import SynthConfig, generate

SEED = 11


def personal_values(patient: Patient) -> list[str]:
    values = [patient.birth_name, *patient.phones, *patient.emails, patient.nir or ""]
    values += [f"0{p[3:]}" for p in patient.phones if p.startswith("+33")]
    values += [a.line for a in patient.addresses]
    values += list(patient.clinical.comments)
    return [v for v in values if len(v) >= 6]


def leaked_ids(people: Iterable[Patient], haystack: str) -> list[str]:
    """The patients with a personal value found in ``haystack``.

    The haystack is first cut down to its runs of the characters the values are
    made of, long enough to hold one: any occurrence lies within such a run, so
    the same values are found, while ciphertext (a raw database file) falls away
    and a network's worth of values is not searched through megabytes each.
    """
    wanted = {p.id: personal_values(p) for p in people}
    values = [v for found in wanted.values() for v in found]
    if not values:
        return []
    alphabet = "".join(sorted({c for v in values for c in v}))
    shortest = min(len(v) for v in values)
    runs = re.findall(f"[{re.escape(alphabet)}]{{{shortest},}}", haystack)
    text = "\0".join(runs)  # \0 is in no value: no occurrence spans two runs
    assert "\0" not in alphabet
    return [pid for pid, found in wanted.items() if any(value in text for value in found)]


@pytest.fixture
def service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> Iterator[Served]:
    """The network served, every logger (the service's too) captured at DEBUG from the start."""
    caplog.set_level(logging.DEBUG)
    with served(tmp_path, monkeypatch, generate(SynthConfig(patients=80, labs=2, seed=SEED))) as s:
        yield s


def test_nothing_personal_leaves_in_clear(
    service: Served,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    service.add_person("jmartin", "Jeanne Martin", Role.BIOLOGIST, ["L01"])
    service.add_person("aleroux", "Anne Le Roux", Role.DPO, ["*"])
    service.as_person("jmartin")
    people = list(generate(SynthConfig(patients=80, labs=2, seed=SEED)).patients())
    mine = [p for p in people if p.lab_id == "L01" and p.nir and p.phones]
    other = next(p for p in people if p.lab_id == "L02" and p.nir)

    printed: list[str] = []
    for patient in mine[:5]:
        for argv in (
            ("find", "--nir", patient.nir or ""),
            ("find", "--phone", patient.phones[0], "--json"),
            ("show", patient.id),
            ("show", patient.id, "--json", "--no-clinical"),
        ):
            code, out, err = run(capsys, *argv)
            assert code == 0, err
            printed += [out, err]
    # mistakes: another lab's patient, a bad NIR, a wrong date, an erased record
    for argv in (
        ("show", other.id),
        ("find", "--nir", (other.nir or "")[:-2] + "00"),
        ("find", "--name", other.birth_name, "--first-name", "X", "--birth-date", "31/12/1990"),
    ):
        code, out, err = run(capsys, *argv)
        printed += [out, err]
    assert run(capsys, "erase", mine[0].id, "--yes")[0] == 0
    code, out, err = run(capsys, "show", mine[0].id)
    assert code == 4
    printed += [out, err]
    service.as_person("aleroux")
    for argv in (
        ("alerts", "list", "--all", "--json"),
        ("audit", "show", "--json"),
        ("alerts", "rules", "--json"),
        ("decoys", "count"),
        ("audit", "head"),
        ("audit", "prove", "3"),
        ("audit", "export-key", str(tmp_path / "key.pem")),
        ("audit", "verify", "--public-key", str(tmp_path / "key.pem"), "--json"),
    ):
        code, out, err = run(capsys, *argv)
        assert code == 0, err
        printed += [out, err]
    # Duplicate linkage decrypts every identity in the service (80 records are too few
    # to train on: a clear refusal, exit 2), then the queue is read.
    for argv, expected in ((("identity", "link"), (0, 2)), (("identity", "pairs", "--json"), (0,))):
        code, out, err = run(capsys, *argv)
        assert code in expected, err
        printed += [out, err]

    with sqlite3.connect(service.directory / "vault.sqlite") as conn:
        bodies = [bytes(r[0]).decode() for r in conn.execute("SELECT body FROM audit_events")]
        summaries = [r[0] for r in conn.execute("SELECT summary FROM alerts")]
    logs = [r.getMessage() for r in caplog.records]
    assert len(bodies) > 20  # the scenario really was audited
    haystack = "\n".join(printed + bodies + summaries + logs)
    assert leaked_ids(people, haystack) == []


def test_the_scan_would_see_a_revealed_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check can fail: --reveal output does hold the values it looks for."""
    network = generate(SynthConfig(patients=20, labs=1, seed=SEED))
    with served(tmp_path, monkeypatch, network) as service:
        service.add_person("jmartin", "Jeanne Martin", Role.BIOLOGIST, ["L01"])
        service.as_person("jmartin")
        patient = next(p for p in generate(SynthConfig(patients=20, labs=1, seed=SEED)).patients())
        code, out, _ = run(capsys, "show", patient.id, "--json", "--reveal")
    assert code == 0
    assert any(value in out for value in personal_values(patient))
    assert leaked_ids([patient], out) == [patient.id]
