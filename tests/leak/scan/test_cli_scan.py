"""``etanche scan`` as a DPO uses it: a clear report, masked samples, audited vault match."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from _cli import run
from _service import Served, served
from etanche.access import Role
from etanche.audit import AuditLog
from etanche.exchange import write_legacy_csv
from etanche.synth import SynthConfig, generate

CONFIG = SynthConfig(patients=60, labs=3, seed=5)


@pytest.fixture(scope="module")
def leaked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("found") / "export.csv"
    write_legacy_csv(generate(CONFIG), path)
    return path


def _personal_values(path: Path) -> list[str]:
    """NIRs, e-mails and phones of the leaked file: none may reach the terminal."""
    network = generate(CONFIG)
    values: list[str] = []
    for patient in network.patients():
        values += [v for v in (patient.nir, *patient.emails) if v]
        values += [p[3:] for p in patient.phones]
    return values


def test_scan_without_vault_needs_no_login(
    leaked: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ETANCHE_VAULT", raising=False)
    monkeypatch.delenv("ETANCHE_TOKEN", raising=False)
    monkeypatch.setenv("ETANCHE_SESSION_FILE", "/nonexistent/session")
    monkeypatch.setenv("ETANCHE_SERVICE", "unix:/nonexistent/service.sock")  # never reached
    monkeypatch.setenv("COLUMNS", "250")
    code, out, err = run(capsys, "scan", str(leaked))
    assert code == 0, err
    for category in ("nir", "phone", "email", "birth_date", "credential", "health"):
        assert category in out
    assert "Special-category data" in out
    assert "Our patients" not in out
    for value in _personal_values(leaked):
        assert value not in out
    # matching needs a person: refused before any file is read
    code, out, err = run(capsys, "scan", str(leaked), "--vault")
    assert code == 7 and out == "" and "etanche login" in err


def test_scan_json_follows_the_contract_and_html_is_self_contained(
    leaked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "report.html"
    code, out, err = run(capsys, "scan", str(leaked), "--json", "--html", str(page))
    assert code == 0, err
    report = json.loads(out)
    assert {"files", "bytes", "rows", "persons", "special_category", "categories"} <= set(report)
    assert report["vault_matches"] is None and report["rows"] == CONFIG.patients
    assert report["persons"] == CONFIG.patients
    nir = report["categories"]["nir"]
    assert set(nir) == {"count", "rows", "persons", "columns", "confidence", "samples"}
    assert nir["persons"] <= nir["rows"] <= nir["count"]
    assert nir["columns"] == ["NIR"] and 0 < nir["confidence"] <= 1
    assert all("**" in s for s in nir["samples"])
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html and "<table>" in html and "http" not in html
    for value in _personal_values(leaked):
        assert value not in html and value not in out


def test_missing_path_is_one_line_and_exit_6(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "scan", "/nonexistent/leak.csv")
    assert code == 6
    assert "no such file" in err and "Traceback" not in err


@pytest.fixture
def dpo_vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """The leaked network served; a DPO (network-wide) and a biologist of L01."""
    with served(tmp_path, monkeypatch, generate(CONFIG)) as service:
        monkeypatch.setenv("COLUMNS", "250")
        service.add_person("aleroux", "Anne Le Roux", Role.DPO, ["*"])
        service.add_person("jmartin", "Jeanne Martin", Role.BIOLOGIST, ["L01"])
        service.as_person("aleroux")
        yield service


def _scan_events(site: Served) -> list[tuple[str, str, int | None]]:
    with site.open() as store, AuditLog.for_vault(store) as log:
        events = log.events(action="leak.scan")
    return [(e.actor or "", e.outcome.value, e.details.get("matched")) for _, e in events]


def test_vault_match_counts_our_patients_per_lab_and_is_audited(
    dpo_vault: Served, leaked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dpo_vault.as_person("jmartin")
    code, out, _ = run(capsys, "scan", str(leaked), "--vault")
    assert code == 7 and out == ""
    dpo_vault.as_person("aleroux")
    code, out, err = run(capsys, "scan", str(leaked), "--json", "--vault")
    assert code == 0, err
    matches = json.loads(out)["vault_matches"]
    assert sum(matches.values()) == CONFIG.patients
    assert set(matches) == {lab.id for lab in generate(CONFIG).labs}
    assert re.search(r"[0-9a-f]{32}", out) is None  # no pseudonymous patient id leaves
    code, out, err = run(capsys, "scan", str(leaked), "--vault")
    assert code == 0, err
    assert "Our patients in these files, per lab" in out and "etanche trace" in out
    events = _scan_events(dpo_vault)
    assert [(a, o) for a, o, _ in events] == [
        ("jmartin", "denied"),
        ("aleroux", "ok"),
        ("aleroux", "ok"),
    ]
    assert events[1][2] == CONFIG.patients
