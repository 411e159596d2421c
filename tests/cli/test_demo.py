"""The README's first command, small: a demo that builds, tours, verifies and tells."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from etanche.access import Sessions, current_code
from etanche.cli import main
from etanche.cli._demo_cast import DEMO_PASSWORD
from etanche.service.bootstrap import opened_provider
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
    captured = capsys.readouterr()
    out = captured.out
    assert "with the pinned log key and witness: OK, cosigned up to event" in out
    assert where.with_name("demo-witness").is_dir()  # the witness's own folder
    share = where.with_name("demo-share.txt")
    assert share.stat().st_mode & 0o777 == 0o600  # the demo's one share, said loudly
    assert "WARNING: demo custody" in captured.err
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
    provider = opened_provider(where.with_name("demo-custody"), [share.read_text()])
    with Vault.open_with(parse_location(str(where)), provider, compartments=()) as store:
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
