"""The linkage model on synthetic networks: it finds the duplicates, keeps values in memory."""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from splink import DuckDBAPI, Linker

from etanche.errors import UsageError
from etanche.linkage import (
    LEVELS,
    LinkageConfig,
    LinkageResult,
    link_in_memory,
    memory_connection,
    score,
    traits,
)
from etanche.linkage._model import settings
from etanche.synth import SynthConfig, generate, true_pairs

pytestmark = pytest.mark.slow  # queued first (tests/conftest.py)

FLOOR = 0.95  # precision and recall floor on this small network (the benchmark aims at 0.97)


@pytest.fixture(scope="module")
def network():  # type: ignore[no-untyped-def]
    net = generate(SynthConfig(patients=5_000, seed=7, duplicates=0.05, child_on_parent_nir=0.03))
    rows = [traits(p) for p in net.patients()]
    return rows, true_pairs(net.truth())


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")} if folder.is_dir() else set()


@dataclass(frozen=True)
class Linked:
    """One run of the model on the module's network, and what it left on disk."""

    result: LinkageResult
    new_files: dict[Path, set[Path]]
    home_before: set[Path]
    home_after: set[Path]
    spill_folder: bool


@pytest.fixture(scope="module")
def linked(network, tmp_path_factory: pytest.TempPathFactory) -> Linked:  # type: ignore[no-untyped-def]
    """The run both tests below read (one run of a few seconds instead of two)."""
    rows, _ = network
    # Watch the working folder (DuckDB's default spill folder is ./.tmp), a private
    # TMPDIR and the home folder (extensions, caches) for any new file.
    root = tmp_path_factory.mktemp("linked")
    work, temp = root / "work", root / "temp"
    work.mkdir()
    temp.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(work)
        patch.setenv("TMPDIR", str(temp))
        patch.setattr(tempfile, "tempdir", str(temp))
        before = {folder: _files(folder) for folder in (work, temp)}
        home_before = set(Path.home().iterdir())
        result = link_in_memory(rows, LinkageConfig(threshold=0.95))
        new_files = {folder: _files(folder) - files for folder, files in before.items()}
        home_after = set(Path.home().iterdir())
        spill_folder = Path(".tmp").exists()
    return Linked(result, new_files, home_before, home_after, spill_folder)


def test_the_model_finds_the_synthetic_duplicates(network, linked: Linked) -> None:  # type: ignore[no-untyped-def]
    rows, truth = network
    result = linked.result
    assert result.records == len(rows)
    found = score(((p.left, p.right) for p in result.pairs), truth)
    assert found.true > 200
    assert found.precision >= FLOOR, found
    assert found.recall >= FLOOR, found
    for folder, files in linked.new_files.items():
        assert files == set(), folder
    assert linked.home_after == linked.home_before
    assert not linked.spill_folder
    # Pairs carry codes from the model's table, never a value of the records.
    values = {str(v) for row in rows[:500] for k, v in row.items() if k != "unique_id" and v}
    for pair in result.pairs:
        assert set(pair.levels) == set(LEVELS)
        assert set(pair.levels.values()) <= {c for lv in LEVELS.values() for c in lv.values()}
        assert not set(pair.levels.values()) & values


def test_a_child_on_a_parents_nir_is_not_a_pair(network, linked: Linked) -> None:  # type: ignore[no-untyped-def]
    rows, truth = network
    assert LinkageConfig() == LinkageConfig(threshold=0.95)  # the shared run is the default one
    result = linked.result
    by_id = {r["unique_id"]: r for r in rows}
    shared_nir = [
        p
        for p in result.pairs
        if by_id[p.left]["nir"] and by_id[p.left]["nir"] == by_id[p.right]["nir"]
    ]
    wrong = [p for p in shared_nir if (p.left, p.right) not in truth]
    assert len(wrong) <= 2, [p.levels for p in wrong]


def test_level_codes_follow_splinks_numbering() -> None:
    con = memory_connection(LinkageConfig())
    api = DuckDBAPI(con)
    rows = [traits(p) for p in generate(SynthConfig(patients=20, labs=1, seed=1)).patients()]
    from etanche.linkage._run import _table

    linker = Linker(api.register(_table(rows)), settings(0.01), log_level=logging.WARNING)
    for comparison in linker._settings_obj.comparisons:
        for level in comparison.comparison_levels:
            expected = "null" if level.is_null_level else level.label_for_charts
            assert LEVELS[comparison.output_column_name][level.comparison_vector_value] == expected
    con.close()


def test_duckdb_cannot_spill_or_write_files(tmp_path: Path) -> None:
    con = memory_connection(LinkageConfig(memory_limit_mb=64))
    assert con.execute("SELECT current_setting('temp_directory')").fetchone() == ("",)
    con.execute("SET enable_external_access = false")
    with pytest.raises(duckdb.Error):
        con.execute(f"COPY (SELECT 1) TO '{tmp_path / 'out.csv'}'")
    # Past the memory limit a query fails instead of spilling to disk.
    with pytest.raises(duckdb.Error):
        con.execute("SELECT count(DISTINCT i::VARCHAR || 'x') FROM range(40000000) t(i)").fetchall()
    con.close()
    assert list(tmp_path.iterdir()) == []
    assert not any(name.startswith("duckdb") for name in os.listdir(tempfile.gettempdir()))


def test_a_network_too_small_to_learn_from_is_one_clear_error() -> None:
    rows = [traits(p) for p in generate(SynthConfig(patients=3, labs=1, seed=1)).patients()]
    try:
        result = link_in_memory(rows, LinkageConfig())
    except UsageError as exc:
        assert "identity link" in str(exc) and "records" in str(exc)
    else:
        assert result.records == 3
    assert link_in_memory(rows[:1], LinkageConfig()).pairs == []
