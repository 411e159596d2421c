"""One rule for files at rest: 0600 files, 0700 folders, whatever the umask."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import etanche._files as files
from conftest import mode_of
from etanche._files import open_private, private_dir, write_private


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"], autouse=True)
def wide_umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def test_private_dir_creates_missing_parents_0700(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    made = private_dir(tmp_path / "a" / "b")
    assert made == tmp_path / "a" / "b" and made.is_dir()
    assert mode_of(tmp_path / "a") == mode_of(made) == 0o700
    assert mode_of(tmp_path) == 0o755  # an existing parent is not ours to change


def test_private_dir_tightens_an_existing_empty_folder(tmp_path: Path) -> None:
    folder = tmp_path / "vault"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    private_dir(folder)
    assert mode_of(folder) == 0o700


def test_private_dir_refuses_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(FileExistsError):
        private_dir(tmp_path / "f")


def test_write_private_is_0600_and_leaves_existing_parents_alone(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    write_private(tmp_path / "report.html", "<p>é</p>")
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == "<p>é</p>"
    assert mode_of(tmp_path / "report.html") == 0o600
    assert mode_of(tmp_path) == 0o755
    assert not list(tmp_path.glob("*.tmp"))


def test_write_private_creates_missing_folders_0700(tmp_path: Path) -> None:
    write_private(tmp_path / "out" / "deep" / "cert.json", b"{}")
    assert mode_of(tmp_path / "out") == mode_of(tmp_path / "out" / "deep") == 0o700
    assert mode_of(tmp_path / "out" / "deep" / "cert.json") == 0o600


def test_write_private_tightens_a_file_that_was_wider(tmp_path: Path) -> None:
    target = tmp_path / "cert.json"
    target.write_text("old")
    target.chmod(0o644)
    stale = tmp_path / "cert.json.tmp"  # left by a killed run, readable by all
    stale.write_text("half")
    stale.chmod(0o666)
    write_private(target, "new")
    assert target.read_text() == "new" and mode_of(target) == 0o600
    assert not stale.exists()


def test_the_temporary_file_is_0600_before_its_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, int]] = []
    rename = os.replace

    def spy(source: str | Path, target: str | Path) -> None:
        seen.append((Path(source).name, mode_of(Path(source))))
        rename(source, target)

    monkeypatch.setattr(files.os, "replace", spy)
    write_private(tmp_path / "part-0001.age", b"sealed")
    assert seen == [("part-0001.age.tmp", 0o600)]


@pytest.mark.parametrize("mode", ["w", "wb"])
def test_open_private_truncates_0600(tmp_path: Path, mode: str) -> None:
    target = tmp_path / "exports" / "e.csv"
    target.parent.mkdir()
    target.write_text("old, longer content")
    target.chmod(0o666)
    with open_private(target, mode) as handle:  # type: ignore[call-overload]
        handle.write("a,b\r\n" if mode == "w" else b"a,b\r\n")
    assert target.read_bytes() == b"a,b\r\n"
    assert mode_of(target) == 0o600


def test_open_private_appends_and_makes_folders(tmp_path: Path) -> None:
    target = tmp_path / "alerts" / "alerts.jsonl"
    for line in ("one\n", "two\n"):
        with open_private(target, "a") as handle:
            handle.write(line)
    assert target.read_text() == "one\ntwo\n"
    assert mode_of(target) == 0o600 and mode_of(target.parent) == 0o700


def test_open_private_passes_encoding_errors_and_newline(tmp_path: Path) -> None:
    target = tmp_path / "legacy.csv"
    with open_private(target, "w", encoding="cp1252", errors="replace", newline="") as handle:
        handle.write("Ça ✓\r\n")
    assert target.read_bytes() == "Ça ?\r\n".encode("cp1252")
