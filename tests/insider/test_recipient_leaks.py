"""A recipient of an export leaks it, and tries the ordinary moves to hide where from.

Five recipients receive exports of the same lab (same patients: only marks and
canaries tell them apart). One leaks its copy after re-ordering it, after
merging it behind an older unmarked file of the same patients, or after keeping
only the rows whose value in one column is common (to drop decoys). Each move
should fail: ``trace`` still names that recipient's export, and no other.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from etanche.crypto import AgeIdentity, age_decrypt
from etanche.leak.trace import DEFAULT_MARKS, Ledger, canonical_row, filter_survival
from etanche.leak.trace._export import ExportRequest, write_export
from etanche.leak.trace._files import trace_file
from etanche.vault import Vault

LAB = "L01"
Rows = list[dict[str, str]]


@pytest.fixture
def exported(loaded_vault: Vault, tmp_path: Path) -> tuple[str, Rows, list[str]]:
    """Five exports of L01; the rows and columns recipient 3 received, and its export id."""
    received: dict[str, tuple[str, Rows, list[str]]] = {}
    for number in range(5):
        identity = AgeIdentity.generate()
        out = tmp_path / f"export-{number}.csv.age"
        request = ExportRequest(
            lab_id=LAB, recipient=f"Recipient {number}", recipient_key=identity.public_text(),
            purpose="registry", fmt="csv", out=out, marks=DEFAULT_MARKS, canary_rate=0.05,
        )  # fmt: skip
        entry = write_export(loaded_vault, request, seed=100 + number)
        text = age_decrypt(out.read_bytes(), [identity], what="export").decode("utf-8")
        reader = csv.DictReader(io.StringIO(text))
        rows = list(reader)
        received[f"Recipient {number}"] = (entry.export_id, rows, list(reader.fieldnames or []))
    return received["Recipient 3"]


def leak(vault: Vault, path: Path, rows: Rows, columns: list[str]) -> list[str]:
    """Write the leaked CSV, trace it; the ids of the exports named."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    result = trace_file(path, Ledger(vault).entries(), vault=vault).result
    return [s.export_id for s in result.sources]


def test_re_ordering_the_rows_does_not_hide_the_source(
    loaded_vault: Vault, exported: tuple[str, Rows, list[str]], tmp_path: Path
) -> None:
    export_id, rows, columns = exported
    shuffled = sorted(rows, key=lambda r: (r["birth_name"], r["first_names"]))
    assert leak(loaded_vault, tmp_path / "sorted.csv", shuffled, columns) == [export_id]


def test_an_older_unmarked_copy_merged_first_does_not_hide_the_source(
    loaded_vault: Vault, exported: tuple[str, Rows, list[str]], tmp_path: Path
) -> None:
    export_id, rows, columns = exported
    planted = {c for e in Ledger(loaded_vault).entries() for c in e.canaries}
    before = [p for p in loaded_vault.patient_ids(LAB) if p not in planted]  # an older file
    old = [canonical_row(p) for p in loaded_vault.get_many(before)]
    named = leak(loaded_vault, tmp_path / "merged.csv", old + rows, columns)
    assert named == [export_id]


def test_keeping_only_common_values_of_a_column_keeps_the_canaries(
    loaded_vault: Vault, exported: tuple[str, Rows, list[str]], tmp_path: Path
) -> None:
    export_id, rows, columns = exported
    entry = next(e for e in Ledger(loaded_vault).entries() if e.export_id == export_id)
    canaries = {p.nir for p in loaded_vault.get_many(list(entry.canaries))}
    is_canary = [r.get("nir", "").replace(" ", "") in canaries for r in rows]
    real = [r for r, c in zip(rows, is_canary, strict=True) if not c]
    decoys = [r for r, c in zip(rows, is_canary, strict=True) if c]
    assert len(decoys) == len(entry.canaries) >= 3
    # the leaker's best single-column filter, chosen knowing which rows are canaries
    best = filter_survival(real, decoys, columns)
    assert best.canaries_kept >= 0.5, best
    kept = [r for r in rows if best.keeps(r)]
    assert len(kept) < len(rows)
    assert leak(loaded_vault, tmp_path / "filtered.csv", kept, columns) == [export_id]
