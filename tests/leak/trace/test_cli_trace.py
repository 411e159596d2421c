"""``etanche export`` then ``etanche trace`` as an operator and a DPO use them.

Each export runs on its own export plan, registered by the operator and
approved by the lab admin and the DPO; the file is age-encrypted to the plan's
recipient, and what leaks is the recipient's decrypted copy.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from _cli import run
from _service import Served, served
from conftest import mode_of
from etanche.access import Role
from etanche.audit import AuditLog, Outcome
from etanche.audit._decoys import is_decoy
from etanche.crypto import AgeIdentity, age_decrypt
from etanche.leak.trace import Ledger
from etanche.synth import SynthConfig, generate


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """A served vault of 120 patients in 2 labs; an operator, a DPO and a receptionist."""
    network = generate(SynthConfig(patients=120, labs=2, seed=11))
    with served(tmp_path, monkeypatch, network) as service:
        service.add_person("kmorvan", "Katell Morvan", Role.MIGRATION_OPERATOR, ["*"])
        service.add_person("aleroux", "Anne Le Roux", Role.DPO, ["*"])
        service.add_person("jmartin", "Jeanne Martin", Role.RECEPTION, ["L01"])
        yield service


PEOPLE = {"operator": "kmorvan", "dpo": "aleroux", "reception": "jmartin"}


def as_person(site: Served, name: str) -> None:
    site.as_person(PEOPLE[name])


def plan_file(site: Served, recipient: str, **changes: object) -> tuple[Path, AgeIdentity]:
    """A fresh export plan of L01 for ``recipient`` (a new plan id each time)."""
    identity = AgeIdentity.generate()
    plan_id = f"exp-{len(list(site.root.glob('exp-*.yaml'))):03d}"
    data: dict[str, object] = {
        "plan": plan_id,
        "kind": "export",
        "controller": {"name": "Groupe BioNord", "labs": ["L01", "L02"]},
        "processor": {"name": recipient},
        "purpose": "export",
        "scope": {"labs": ["L01"]},
        "fields": {"admin": ["birth_name", "first_names", "birth_date", "phone", "email", "nir"]},
        "recipients": [{"name": recipient, "age": identity.public_text()}],
        "retention": {"expires": "2099-12-31"},
        "approvers": [
            {"username": "ylegoff", "role": "lab_admin"},
            {"username": "aleroux", "role": "dpo"},
        ],
        "canary_rate": 0.001,
        **changes,
    }
    path = site.root / f"{plan_id}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path, identity


def approved_plan(
    site: Served, capsys: pytest.CaptureFixture[str], recipient: str, **changes: object
) -> tuple[Path, AgeIdentity]:
    """A fresh export plan, registered by the operator, approved by the lab admin and DPO."""
    path, identity = plan_file(site, recipient, **changes)
    as_person(site, "operator")
    assert run(capsys, "migrate", "plan", str(path))[0] == 0
    for approver in ("ylegoff", "aleroux"):
        site.as_person(approver)
        assert run(capsys, "migrate", "approve", str(path))[0] == 0
    as_person(site, "operator")
    return path, identity


def export(
    site: Served,
    capsys: pytest.CaptureFixture[str],
    out: Path,
    recipient: str,
    *extra: str,
    **changes: object,
) -> str:
    """Export on a fresh approved plan; ``out`` then holds the recipient's decrypted copy."""
    plan, identity = approved_plan(site, capsys, recipient, **changes)
    sealed = out.with_name(out.name + ".age")
    code, stdout, err = run(capsys, "export", "--plan", str(plan), "--out", str(sealed), *extra)
    assert code == 0, err
    assert "canaries written" in stdout
    out.write_bytes(age_decrypt(sealed.read_bytes(), [identity], what=sealed.name))
    return stdout.split()[1]  # "Export <id> for ..."


def test_export_then_trace_names_the_source(
    site: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    as_person(site, "operator")
    ids = [export(site, capsys, tmp_path / f"e{i}.csv", f"Lab system {i}") for i in range(3)]
    fhir_id = export(site, capsys, tmp_path / "e.ndjson", "FHIR hub", "--format", "fhir")
    with site.open() as store:
        entries = {e.export_id: e for e in Ledger(store).entries()}
        assert set(entries) == {*ids, fhir_id}
        canaries = [c for e in entries.values() for c in e.canaries]
        assert len(canaries) == 8 and all(is_decoy(store, c) for c in canaries)
        assert len(set(canaries)) == 8  # each export has its own
        with AuditLog.for_vault(store) as log:
            made = log.events(action="export.create")
        assert [e.outcome for _, e in made] == [Outcome.OK] * 4
        assert {e.details["export_id"] for _, e in made} == {*ids, fhir_id}
    # a leak: 25 rows of the second export, columns renamed, rows shuffled, as TSV
    with (tmp_path / "e1.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    random.Random(3).shuffle(rows)
    leak = tmp_path / "found.tsv"
    with leak.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["Nom", "Prénom", "Date de naissance", "Téléphone", "Mail", "NIR"])
        for r in rows[:25]:
            names = ("birth_name", "first_names", "birth_date", "phone", "email", "nir")
            writer.writerow([r[n] for n in names])
    as_person(site, "dpo")
    code, out, err = run(capsys, "trace", str(leak), "--json", "--html", str(tmp_path / "r.html"))
    assert code == 0, err
    report = json.loads(out)["files"][0]
    assert report["identified_rows"] == 25
    assert [s["export_id"] for s in report["sources"]] == [ids[1]]
    assert report["sources"][0]["recipient"] == "Lab system 1"
    ranking = report["rounds"][0]["ranking"]
    assert not any(s["accused"] for s in ranking[1:])
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert ids[1] in page and "ACCUSED" in page
    # the FHIR export traces back too, whole
    code, out, err = run(capsys, "trace", str(tmp_path / "e.ndjson"), "--json")
    assert code == 0, err
    assert [s["export_id"] for s in json.loads(out)["files"][0]["sources"]] == [fhir_id]
    # terminal report: the verdict line names the export
    code, out, _ = run(capsys, "trace", str(leak))
    assert code == 0 and f"source named: {ids[1]}" in out
    with site.open() as store, AuditLog.for_vault(store) as log:
        traced = log.events(action="leak.trace")
    assert len(traced) == 3 and traced[0][1].details["accused"] == ids[1]


def test_trace_of_a_file_with_none_of_our_rows(
    site: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export(site, capsys, tmp_path / "e.csv", "Lab system")
    other = tmp_path / "other.csv"
    other.write_text("nom;prenom;tel\nDurand;Paul;06 00 00 00 01\n", encoding="utf-8")
    as_person(site, "dpo")
    code, out, err = run(capsys, "trace", str(other))
    assert code == 0, err
    assert "none of the rows of this file belongs to a patient of this vault" in out


def test_who_may_export_and_trace(
    site: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan, _ = approved_plan(site, capsys, "X")
    as_person(site, "reception")
    code, _, err = run(capsys, "export", "--plan", str(plan), "--out", str(tmp_path / "x.csv"))
    assert code == 7 and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()
    as_person(site, "operator")
    code, _, err = run(capsys, "trace", str(tmp_path))
    assert code == 7
    bogus, _ = plan_file(site, "Y", marks=["phone", "bogus"])
    code, _, err = run(capsys, "migrate", "plan", str(bogus))
    assert code == 2 and "marks: unknown mark(s) bogus" in err


def test_expired_ledger_entries_are_deleted(
    site: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export(site, capsys, tmp_path / "e.csv", "Lab system", ledger_retention_days=1)
    with site.open() as store:
        ledger = Ledger(store)
        assert len(ledger.entries()) == 1
        assert ledger.purge_expired(datetime.now(UTC) + timedelta(days=2)) == 1
        assert ledger.entries() == []


def test_exports_and_trace_reports_are_private_whatever_the_umask(
    umask_022: None,
    site: Served,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert mode_of(site.directory) == 0o700 and mode_of(site.directory / "vault.sqlite") == 0o600
    folder = tmp_path / "exports"
    folder.mkdir()  # export wants an existing folder, and leaves its mode alone
    export(site, capsys, folder / "e.csv", "Lab system")
    export(site, capsys, folder / "e.ndjson", "FHIR hub", "--format", "fhir")
    assert mode_of(folder) == 0o755
    assert mode_of(folder / "e.csv.age") == mode_of(folder / "e.ndjson.age") == 0o600
    as_person(site, "dpo")
    report = tmp_path / "reports" / "r.html"
    code, _, err = run(capsys, "trace", str(folder / "e.csv"), "--html", str(report))
    assert code == 0, err
    assert mode_of(report.parent) == 0o700 and mode_of(report) == 0o600
