"""The command line as a person uses it: clear lines, exit codes, masks, no tracebacks."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from _cli import run
from _service import passphrase_provider, running_service
from _staff import Staff
from conftest import PASSPHRASE
from etanche.access import Role
from etanche.crypto import KdfCost
from etanche.synth import SynthConfig, generate
from etanche.vault import Vault, parse_location

SEED = 3


@pytest.fixture
def cli_vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A vault with a synthetic network, served; the CLI holds only a session token."""
    where = tmp_path / "v"
    location = parse_location(str(where))
    network = generate(SynthConfig(patients=120, labs=3, seed=SEED))
    with Vault.create(location, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests()) as store:
        for lab in network.labs:
            store.add_lab(lab)
        store.add_many((p, s) for batch in network.batches() for p, s in batch)
        staff = Staff(store)
        token = staff.add("jmartin", "Jeanne Martin", Role.BIOLOGIST, ["L01", "L02", "L03"])
    for name, value in (("session", token), ("admin-session", staff.root_token)):
        (tmp_path / name).write_text(value or "")
        (tmp_path / name).chmod(0o600)
    monkeypatch.setenv("ETANCHE_SESSION_FILE", str(tmp_path / "session"))
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("ETANCHE_VAULT", "ETANCHE_PASSPHRASE", "ETANCHE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    provider = passphrase_provider(location, PASSPHRASE)
    with running_service(location, provider, tmp_path / "run") as address:
        monkeypatch.setenv("ETANCHE_SERVICE", address)
        yield where


def network_patients():  # type: ignore[no-untyped-def]
    return list(generate(SynthConfig(patients=120, labs=3, seed=SEED)).patients())


def test_find_masks_by_default_and_reveals_on_request(cli_vault: Path, capsys) -> None:
    patient = next(p for p in network_patients() if p.nir)
    code, out, _ = run(capsys, "find", "--nir", patient.nir, "--json")
    assert code == 0
    result = json.loads(out)
    assert result["count"] == 1 and result["patients"][0]["id"] == patient.id
    assert patient.nir not in out and patient.birth_name not in out
    code, out, _ = run(capsys, "find", "--nir", patient.nir, "--json", "--reveal")
    assert json.loads(out)["patients"][0]["nir"] == patient.nir


def test_find_by_name_and_table_output(cli_vault: Path, capsys) -> None:
    patient = network_patients()[0]
    code, out, _ = run(
        capsys,
        "find",
        "--name",
        patient.birth_name,
        "--first-name",
        patient.first_first_name,
        "--birth-date",
        patient.birth_date.isoformat(),
    )
    assert code == 0 and patient.id in out and patient.birth_name not in out


def test_show_masked_then_revealed(cli_vault: Path, capsys) -> None:
    patient = next(p for p in network_patients() if p.phones and p.emails)
    code, out, _ = run(capsys, "show", patient.id, "--json")
    assert code == 0
    for value in (patient.birth_name, patient.phones[0], patient.emails[0]):
        assert value not in out
    code, out, _ = run(capsys, "show", patient.id, "--json", "--reveal")
    shown = json.loads(out)
    assert shown["birth_name"] == patient.birth_name and shown["phones"] == list(patient.phones)
    code, out, _ = run(capsys, "show", patient.id, "--json", "--reveal", "--no-clinical")
    assert json.loads(out)["clinical"] == "(not available in this session)"


def test_erase_then_show_fails_cleanly(cli_vault: Path, capsys) -> None:
    patient = network_patients()[1]
    assert run(capsys, "erase", patient.id, "--yes")[0] == 0
    code, out, err = run(capsys, "show", patient.id)
    assert code == 4 and "erased" in err and "Traceback" not in err + out


def test_key_rotations(cli_vault: Path, capsys, monkeypatch) -> None:
    code, _, err = run(capsys, "keys", "rotate-kek")
    assert code == 7 and "keys.rotate" in err  # a biologist does not rotate keys
    biologist_session = os.environ["ETANCHE_SESSION_FILE"]
    monkeypatch.setenv("ETANCHE_SESSION_FILE", str(cli_vault.parent / "admin-session"))
    code, out, _ = run(capsys, "keys", "rotate-kek")
    assert code == 0 and "rewrapped" in out
    code, out, err = run(capsys, "keys", "rotate-lab", "L01", "--batch-size", "7")
    assert code == 0 and "done" in out, err
    patient = next(p for p in network_patients() if p.lab_id == "L01")
    code, _, err = run(capsys, "show", patient.id, "--json")
    assert code == 7 and "patient.read" in err  # a lab admin reads no patient
    monkeypatch.setenv("ETANCHE_SESSION_FILE", biologist_session)
    code, out, _ = run(capsys, "show", patient.id, "--json", "--reveal")
    assert code == 0 and json.loads(out)["birth_name"] == patient.birth_name


@pytest.mark.parametrize(
    ("argv", "env", "code", "message"),
    [
        (["find", "--nir", "x"], {"ETANCHE_SERVICE": "unix:/nonexistent.sock"}, 9, "serve"),
        (["find", "--nir", "x"], {"ETANCHE_SERVICE": "ftp://x"}, 2, "ETANCHE_SERVICE"),
        (["whoami"], {"ETANCHE_SERVICE": "http://192.0.2.7:8000"}, 2, "https://"),
        (["find"], {}, 2, "exactly one"),
        (
            ["find", "--name", "X", "--first-name", "Y", "--birth-date", "31/13/1990"],
            {},
            2,
            "DD/MM/YYYY",
        ),
        (["show", "0" * 32], {}, 4, "not found"),
        (["keys", "rotate-lab", "L77"], {}, 7, "keys.rotate"),
        (["show", "0" * 32], {"ETANCHE_SESSION_FILE": "/nonexistent/session"}, 7, "etanche login"),
        (["synth", "--patients", "0"], {}, 2, "patients"),
        (["frobnicate"], {}, 2, "No such command"),
    ],
)
def test_errors_are_one_clear_line(
    cli_vault: Path,
    capsys,
    monkeypatch,
    argv: list[str],
    env: dict[str, str],
    code: int,
    message: str,
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    got, out, err = run(capsys, *argv)
    assert got == code
    assert message in err
    assert "Traceback" not in out + err


def test_legacy_csv_needs_no_vault(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("ETANCHE_VAULT", raising=False)
    out_file = tmp_path / "export.csv"
    code, _, err = run(
        capsys,
        "synth",
        "--patients",
        "50",
        "--legacy-csv",
        str(out_file),
        "--invalid-nir-key",
        "0.1",
    )
    assert code == 0, err
    assert out_file.read_bytes().count(b"\r\n") == 51


def test_legacy_csv_into_a_missing_folder_is_one_line(tmp_path: Path, capsys) -> None:
    target = tmp_path / "nowhere" / "export.csv"
    code, out, err = run(capsys, "synth", "--patients", "5", "--legacy-csv", str(target))
    assert code == 2 and "does not exist" in err and "Traceback" not in out + err


def test_find_by_prefix_and_birth_year_and_french_dates(cli_vault: Path, capsys) -> None:
    patient = next(p for p in network_patients() if p.lab_id == "L01")
    for born in (str(patient.birth_date.year), f"{patient.birth_date:%m/%Y}"):
        code, out, err = run(
            capsys, "find", "--prefix", patient.birth_name, "--born", born, "--json"
        )
        assert code == 0, err
        assert patient.id in [p["id"] for p in json.loads(out)["patients"]]
    for typed in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d%m%Y"):
        code, out, err = run(
            capsys,
            "find",
            "--name",
            patient.birth_name,
            "--first-name",
            patient.first_first_name,
            "--birth-date",
            patient.birth_date.strftime(typed),
            "--json",
        )
        assert code == 0 and patient.id in out, (typed, err)
    code, _, err = run(capsys, "find", "--prefix", "ma", "--born", "1959")
    assert code == 3 and "prefix" in err and "Traceback" not in err
    code, _, err = run(capsys, "find", "--prefix", "mar")
    assert code == 2 and "--born" in err


def test_link_a_patient_known_in_another_lab(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = tmp_path / "v"
    location = parse_location(str(where))
    network = generate(SynthConfig(patients=60, labs=2, seed=SEED))
    with Vault.create(location, PASSPHRASE, kdf_cost=KdfCost.fast_for_tests()) as store:
        for lab in network.labs:
            store.add_lab(lab)
        store.add_many((p, s) for batch in network.batches() for p, s in batch)
        token = Staff(store).add("ybihan", "Yann Bihan", Role.RECEPTION, ["L01"])
    (tmp_path / "session").write_text(token)
    (tmp_path / "session").chmod(0o600)
    monkeypatch.setenv("ETANCHE_SESSION_FILE", str(tmp_path / "session"))
    other = next(p for p in network.patients() if p.lab_id == "L02" and p.nir)
    assert other.nir is not None
    with running_service(location, passphrase_provider(location, PASSPHRASE), tmp_path / "r") as a:
        monkeypatch.setenv("ETANCHE_SERVICE", a)
        code, out, err = run(capsys, "link", "--lab", "L01", "--nir", other.nir)
        assert code == 0 and "linked to the network identity" in out, err
        assert other.birth_name not in out
        code, out, _ = run(capsys, "find", "--nir", other.nir, "--json")
        [mine] = json.loads(out)["patients"]
        assert mine["lab"] == "L01" and mine["id"] != other.id
        code, _, err = run(capsys, "link", "--lab", "L02", "--nir", other.nir)
        assert code == 7 and "patient.link" in err
