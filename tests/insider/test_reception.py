"""A receptionist with a real account and a shell: no clinical byte through any command.

Her session never unwraps a clinical key, whatever she asks the CLI: search,
reveal, the sheet in every form, and every other command she could try.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _cli import run
from _service import served
from etanche.access import Role
from etanche.synth import SynthConfig, generate

SEED = 5


def _clinical_values() -> tuple[list, list[str]]:  # type: ignore[type-arg]
    network = generate(SynthConfig(patients=80, labs=2, seed=SEED))
    mine = [p for p in network.patients() if p.lab_id == "L01"]
    values: list[str] = []
    for patient in mine:
        values += [c for c in patient.clinical.comments if len(c) >= 6]
        values += [t.name for t in patient.clinical.treatments if len(t.name) >= 6]
        values += [p for p in patient.clinical.pathologies if len(p) >= 6]
    return mine, values


def test_reception_gets_no_clinical_byte_through_any_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mine, clinical = _clinical_values()
    assert len(clinical) > 10  # the check has something to find
    network = generate(SynthConfig(patients=80, labs=2, seed=SEED))
    with served(tmp_path, monkeypatch, network) as site:
        site.add_person("mleguen", "Marie Le Guen", Role.RECEPTION, ["L01"])
        site.as_person("mleguen")
        printed: list[str] = []
        with_clinical = [p for p in mine if p.clinical.comments or p.clinical.treatments][:5]
        for patient in with_clinical:
            for argv in (
                ["show", patient.id, "--json", "--reveal"],
                ["show", patient.id, "--reveal"],
                ["show", patient.id, "--json", "--clinical"],
                ["find", "--nir", patient.nir or "0", "--json", "--reveal"],
            ):
                code, out, err = run(capsys, *argv)
                printed += [out, err]
            code, out, _ = run(capsys, "show", patient.id, "--json", "--reveal")
            assert code == 0 and json.loads(out)["clinical"] == "(not available in this session)"
        for argv in (
            ["whoami", "--json"],
            ["keys", "rotate-kek"],
            ["users", "list"],
            ["tokens", "create", "x", "--scope", "patient.read"],
            ["break-glass", "--reason", "Patient inconscient aux urgences, dossier requis"],
        ):
            code, out, err = run(capsys, *argv)
            printed += [out, err]
        # even with break-glass open, the clinical compartment stays shut for her role
        for patient in with_clinical:
            code, out, err = run(capsys, "show", patient.id, "--json", "--reveal")
            printed += [out, err]
    haystack = "\n".join(printed)
    assert [v for v in clinical if v in haystack] == []


def test_the_check_would_see_a_biologists_clinical_reveal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The scan can fail: a biologist's revealed sheet does hold clinical values."""
    mine, clinical = _clinical_values()
    network = generate(SynthConfig(patients=80, labs=2, seed=SEED))
    with served(tmp_path, monkeypatch, network) as site:
        site.add_person("jmartin", "Jeanne Martin", Role.BIOLOGIST, ["L01"])
        site.as_person("jmartin")
        patient = next(p for p in mine if p.clinical.comments)
        code, out, _ = run(capsys, "show", patient.id, "--json", "--reveal")
    assert code == 0 and any(v in out for v in clinical)
