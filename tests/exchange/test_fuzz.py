"""Every reader, on any bytes, raises only Étanche errors (property tests).

The long run (100,000 inputs per reader, atheris) is bench/fuzz_readers.py.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etanche.errors import EtancheError
from etanche.exchange import SourceRecord, build_patient, open_source
from etanche.exchange._fuzz import SEEDS, mutate

FORMATS = ("legacy-csv", "csv", "hprim", "hl7v2", "fhir")


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder) / "input"


def _read(fmt: str, path: Path, data: bytes) -> int:
    path.write_bytes(data)
    count = 0
    try:
        for item in open_source(fmt, path):
            count += 1
            if isinstance(item, SourceRecord):
                with contextlib.suppress(EtancheError):
                    build_patient(item, patient_id="p", lab_id="L01")
    except EtancheError:
        pass
    return count


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=3000))
def test_arbitrary_bytes_raise_only_etanche_errors(fmt: str, data: bytes, scratch: Path) -> None:
    _read(fmt, scratch, data)


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_mutated_valid_files_raise_only_etanche_errors(fmt: str, seed: int, scratch: Path) -> None:
    _read(fmt, scratch, mutate(SEEDS[fmt], seed))


@pytest.mark.parametrize("fmt", FORMATS)
def test_valid_seeds_read_without_issue(fmt: str, scratch: Path) -> None:
    assert _read(fmt, scratch, SEEDS[fmt]) >= 2
