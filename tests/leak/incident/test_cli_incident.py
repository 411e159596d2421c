"""``etanche incident`` as a DPO uses it: open from a found file, report, letters.

The found file is the legacy flat export (the 2020 leak's shape) of some of the
vault's patients plus strangers from another synthetic network; the scan
(contract B) recognises ours by blind index, and only they get a letter.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _pdftext import pages

from _cli import run
from _service import Served, served
from conftest import mode_of
from etanche.access import Role
from etanche.audit import AuditLog, Outcome
from etanche.domain import Patient
from etanche.exchange.legacy_csv import DELIMITER, ENCODING, LEGACY_COLUMNS, legacy_row
from etanche.leak.incident import HEADINGS
from etanche.synth import SynthConfig, generate

SEED = 11
CONTACT = "dpo@labos-iroise.example"


def ours() -> list[Patient]:
    return list(generate(SynthConfig(patients=80, labs=2, seed=SEED)).patients())


@pytest.fixture
def dpo_vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """Our network served; a DPO (network-wide) and a receptionist of L01."""
    network = generate(SynthConfig(patients=80, labs=2, seed=SEED))
    with served(tmp_path, monkeypatch, network) as service:
        monkeypatch.setenv("COLUMNS", "250")
        service.add_person("aleroux", "Anne Le Roux", Role.DPO, ["*"])
        service.add_person("mquere", "Morgane Quéré", Role.RECEPTION, ["L01"])
        service.as_person("aleroux")
        yield service


def addressee(patient: Patient) -> str:
    """First name and NAME, as the letter's address block writes them."""
    return f"{patient.first_first_name} {(patient.used_name or patient.birth_name).upper()}"


def found_file(path: Path, leaked: list[Patient], strangers: list[Patient]) -> Path:
    with path.open("w", encoding=ENCODING, errors="replace", newline="") as handle:
        writer = csv.writer(handle, delimiter=DELIMITER, lineterminator="\r\n")
        writer.writerow(LEGACY_COLUMNS)
        for n, patient in enumerate(leaked + strangers):
            writer.writerow(legacy_row(patient, f"D{n:06d}", ("", "")))
    return path


def events(site: Served, action: str) -> list[tuple[int, object]]:
    with site.open() as store, AuditLog.for_vault(store) as log:
        return list(log.events(action=action, limit=10_000))


def test_open_from_a_found_file_then_report_and_letters(
    umask_022: None, dpo_vault: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    patients = ours()
    leaked = [p for p in patients if p.nir][:12]
    strangers = list(generate(SynthConfig(patients=8, labs=1, seed=99)).patients())
    found = found_file(tmp_path / "export_patients.csv", leaked, strangers)
    code, out, err = run(
        capsys,
        "incident",
        "open",
        "--title",
        "Export retrouvé sur un canal Telegram",
        "--found",
        str(found),
        "--circumstances",
        "published,malicious",
        "--dpo-contact",
        CONTACT,
        "--json",
    )
    assert code == 0, err
    opened = json.loads(out)
    assert opened["severity"] == "very high" and opened["seconds_left"] > 71 * 3600
    assert 0 < opened["matched"] <= len(leaked)
    incident = opened["id"]
    for patient in leaked:  # nothing of the patients on any output
        assert patient.birth_name not in out + err and patient.id not in out + err

    code, out, _ = run(capsys, "incident", "show", incident)
    assert code == 0
    assert "Severity (ENISA): very high" in out and "DPC = 4" in out and "EI = 1" in out
    assert "Timeline:" in out and "Analyse des fichiers trouvés" in out

    code, out, _ = run(capsys, "incident", "note", incident, "Canal signalé.", "--measure")
    assert code == 0 and "4 timeline entries" in out

    md, pdf = tmp_path / "cnil" / "cnil.md", tmp_path / "cnil" / "cnil.pdf"
    code, out, err = run(capsys, "incident", "report", incident, "--md", str(md), "--pdf", str(pdf))
    assert code == 0, err
    assert mode_of(md.parent) == 0o700 and mode_of(md) == mode_of(pdf) == 0o600
    markdown = md.read_text(encoding="utf-8")
    text = " ".join(pages(pdf)).replace("\n", " ")
    for heading in HEADINGS:
        assert heading in markdown and heading in text, heading
    assert "Canal signalé." in markdown and "Anne Le Roux" in markdown

    letters = tmp_path / "lettres"
    code, out, err = run(capsys, "incident", "notify", incident, "--out", str(letters))
    assert code == 0, err
    index = json.loads((letters / "index.json").read_text())
    assert mode_of(letters) == 0o700 and {mode_of(p) for p in letters.iterdir()} == {0o600}
    written = [x["patient"] for f in index["files"] for x in f["letters"]]
    assert len(written) == index["letters"] == opened["matched"]
    assert set(written) <= {p.id for p in leaked}
    body = "\n".join(page for f in index["files"] for page in pages(letters / f["file"]))
    assert len(pages(letters / "lettres-0001.pdf")) == len(written)
    named = {addressee(p) for p in leaked}
    for patient in patients:
        if patient.id in written:
            assert addressee(patient) in body
        elif addressee(patient) not in named:
            assert addressee(patient) not in body, "a letter went to a patient not in the file"
    for patient in strangers:
        assert addressee(patient) not in body
    assert f"{len(written)} letters" in out
    for patient in leaked:
        assert patient.birth_name not in out + err

    (notify,) = [e for _, e in events(dpo_vault, "incident.notify")]
    assert notify.outcome is Outcome.OK and set(written) <= set(notify.object_ids)
    scans = [e for _, e in events(dpo_vault, "leak.scan")]
    assert scans and scans[-1].details["matched"] == opened["matched"]

    code, out, _ = run(capsys, "incident", "list", "--json")
    (listed,) = json.loads(out)["incidents"]
    assert listed["letters"] == len(written) and listed["reported_at"]
    assert run(capsys, "incident", "close", incident)[0] == 0


def test_open_without_files_and_a_late_report(
    dpo_vault: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys,
        "incident",
        "open",
        "--title",
        "Ordinateur portable volé",
        "--discovered-at",
        "2024-03-01T08:00",
        "--circumstances",
        "copied",
    )
    assert code == 0, err
    assert "Incident INC-20240301-" in out and "overdue by" in out
    incident = out.split()[1]
    md = tmp_path / "late.md"
    code, _, err = run(capsys, "incident", "report", incident, "--md", str(md))
    assert code == 0 and "past the 72-hour deadline" in err and "--delay-reason" in err
    assert "Motifs du retard : À COMPLÉTER" in md.read_text(encoding="utf-8")
    assert run(capsys, "incident", "report", incident)[0] == 2  # no output named


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["incident", "open", "--title", "x", "--circumstances", "leaked"], "unknown 'leaked'"),
        (["incident", "open", "--title", "x", "--discovered-at", "hier"], "ISO date"),
        (["incident", "show", "INC-20240101-000000"], "no such record"),
    ],
)
def test_mistakes_give_one_clear_line(
    dpo_vault: Served, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, *argv)
    assert code in (2, 4) and message in err and "Traceback" not in err


def test_a_receptionist_is_refused_and_the_refusal_logged(
    dpo_vault: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    dpo_vault.as_person("mquere")
    code, _, err = run(capsys, "incident", "open", "--title", "x")
    assert code == 7 and "not allowed to the reception role" in err
    code, _, err = run(capsys, "incident", "list")
    assert code == 7
    denied = [e for _, e in events(dpo_vault, "incident.manage") if e.outcome is Outcome.DENIED]
    assert [e.actor for e in denied] == ["mquere", "mquere"]


def test_describe_note_a_covered_measure_and_record_the_filing(
    dpo_vault: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "incident", "open", "--title", "Fichier sur un forum", "--found-on", "forum"
    )
    assert code == 0, err
    incident = out.split()[1]
    shown = json.loads(run(capsys, "incident", "show", incident, "--json")[1])
    assert shown["circumstances"] == ["published", "malicious"]
    code, _, err = run(
        capsys,
        "incident",
        "describe",
        incident,
        "--started-at",
        "2020-06-01T10:00",
        "--cause",
        "external-malicious",
        "--exit-path",
        "serveur FTP du prestataire",
        "--dpo-sex",
        "F",
    )
    assert code == 0, err
    code, _, err = run(
        capsys, "incident", "note", incident, "Forum contacté.", "--measure", "--covers", "takedown"
    )
    assert code == 0, err
    code, out, err = run(capsys, "incident", "filed", incident, "--reference", "NOTIF-2026-001")
    assert code == 0 and "initial notification recorded as filed." in out, err
    code, out, _ = run(capsys, "incident", "filed", incident)
    assert "supplementary notification recorded as filed" in out
    md = tmp_path / "cnil.md"
    assert run(capsys, "incident", "report", incident, "--md", str(md))[0] == 0
    text = md.read_text(encoding="utf-8")
    assert "Notification complémentaire n° 2" in text and "référence NOTIF-2026-001" in text
    assert "Début de la violation : le 1er juin 2020 à 10 h 00" in text
    assert "Déléguée à la protection des données : Anne Le Roux" in text
    assert "demander le retrait du fichier" not in text and "Forum contacté." in text
    listed = json.loads(run(capsys, "incident", "list", "--json")[1])["incidents"][0]
    assert listed["notified_at"] and listed["late"] is False
    code, _, err = run(capsys, "incident", "describe", incident, "--cause", "aliens")
    assert code == 2 and "cause: unknown 'aliens'" in err
