"""The README's first command, small: a demo that builds, tours, verifies and tells."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from etanche.access import Sessions, current_code
from etanche.cli import main
from etanche.cli._demo import DEMO_PASSPHRASE
from etanche.cli._demo_people import DEMO_PASSWORD
from etanche.vault import Vault, parse_location


def test_demo_builds_tours_and_verifies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ETANCHE_PASSPHRASE", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    where = tmp_path / "demo"
    try:
        main(["demo", "--patients", "300", "--vault", str(where), "--no-serve"])
    except SystemExit as exc:
        assert not exc.code
    out = capsys.readouterr().out
    assert "verified with the public key only: OK" in out
    assert "0 of " in out and "sample values found in clear" in out
    assert "refused" in out  # the DPO cannot open a patient
    assert "clinical data present: False" in out  # reception
    assert "counts match the manifest: True" in out and "certificate signed" in out
    assert not (where / "migration" / "legacy-export.csv").exists()
    assert not (where / "migration" / "package").exists()
    secrets = {
        line.split()[0]: line.split()[-1] for line in out.splitlines() if "TOTP secret" in line
    }
    assert set(secrets) == {"ylegoff", "mkerbrat", "jmartin", "aleroux", "tguivarch", "lpriol"}
    # a printed login works at once with the current code
    with Vault.open(parse_location(str(where)), DEMO_PASSPHRASE, compartments=()) as store:
        code = current_code(secrets["jmartin"], datetime.now(UTC))
        session, _ = Sessions(store).authenticate("jmartin", DEMO_PASSWORD, code)
    assert session.role.value == "biologist"
    # rerunning replaces the demo vault, and refuses a folder that is not one
    other = tmp_path / "precious"
    other.mkdir()
    (other / "notes.txt").write_text("not a demo")
    with pytest.raises(SystemExit) as info:
        main(["demo", "--patients", "50", "--vault", str(other), "--no-serve"])
    assert info.value.code == 2
