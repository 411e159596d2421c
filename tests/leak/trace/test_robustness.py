"""Leaks made from one export the way leakers make them; files that came from no export.

Small sizes (bench/trace.py runs the full grid): 100 exports of 600 rows out of
1,500 patients, each to its own recipient.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable

import pytest
from _tracedrill import COLUMNS, Ground, table

from etanche.leak.trace import (
    TraceResult,
    attribute,
    identify_rows,
    new_export_mark,
    observe_rows,
    render_row,
)

Leaked = tuple[list[dict[str, str]], tuple[str, ...]]
Leak = Callable[[list[dict[str, str]], random.Random], Leaked]


def trace(ground: Ground, rows: list[dict[str, str]], columns: tuple[str, ...]) -> TraceResult:
    found = observe_rows(columns, table(rows, columns))
    return attribute(identify_rows(found, ground.identifier), ground.exports)


def _subset(n: int) -> Leak:
    def leak(rows: list[dict[str, str]], rng: random.Random) -> Leaked:
        keep = sorted(rng.sample(range(len(rows)), n))
        return [rows[i] for i in keep], COLUMNS

    return leak


def _shuffled(rows: list[dict[str, str]], rng: random.Random) -> Leaked:
    out = rng.sample(rows, 20)
    return out, COLUMNS


def _columns(rows: list[dict[str, str]], rng: random.Random) -> Leaked:
    """Identity and phone only, shuffled: no order, no NIR, no e-mail."""
    return rng.sample(rows, 30), ("birth_name", "first_names", "birth_date", "phone", "city")


def _few_marks(rows: list[dict[str, str]], rng: random.Random) -> Leaked:
    """E-mail and names only, shuffled: the weakest column set needs more rows."""
    return rng.sample(rows, 80), ("birth_name", "first_names", "birth_date", "email", "city")


def _renormalised_phones(rows: list[dict[str, str]], rng: random.Random) -> Leaked:
    out = []
    for row in rng.sample(rows, 20):
        row = dict(row)
        if "phone" in row:
            national = [
                "0" + p.replace(" ", "").replace(".", "").replace("-", "")[-9:]
                for p in row["phone"].split("\n")
            ]
            row["phone"] = "\n".join(national)
        out.append(row)
    return out, COLUMNS


def _trimmed_nfc(rows: list[dict[str, str]], rng: random.Random) -> Leaked:
    """Spaces trimmed and every text NFC: a leaker's spreadsheet tool."""
    out = []
    for row in sorted(rng.sample(range(len(rows)), 20)):
        out.append({k: unicodedata.normalize("NFC", v).strip() for k, v in rows[row].items()})
    return out, COLUMNS


@pytest.mark.parametrize(
    "leak",
    [_subset(20), _subset(200), _shuffled, _columns, _few_marks, _renormalised_phones,
     _trimmed_nfc],
    ids=[
        "20 rows", "200 rows", "shuffled 20", "5 columns", "e-mail and names",
        "phones renormalised", "trimmed NFC",
    ],
)  # fmt: skip
def test_the_source_is_named_and_no_innocent_is_accused(ground: Ground, leak: Leak) -> None:
    rng = random.Random(11)
    for trial in range(3):
        source = ground.exports[rng.randrange(len(ground.exports))]
        rows, columns = leak([r for _, r in ground.rendered(source)], rng)
        result = trace(ground, rows, columns)
        first = result.rounds[0].scores
        assert first[0].export_id == source.export_id, trial
        assert first[0].accused
        assert not any(s.accused for s in first[1:])
        assert [s.export_id for s in result.sources] == [source.export_id]


def test_two_merged_exports_are_both_named(ground: Ground) -> None:
    rng = random.Random(5)
    for _ in range(3):
        a, b = rng.sample(ground.exports, 2)
        rows = [r for _, r in ground.rendered(a)][:60] + [r for _, r in ground.rendered(b)][:60]
        result = trace(ground, rows, COLUMNS)
        assert {s.export_id for s in result.sources} == {a.export_id, b.export_id}


def test_files_from_no_export_accuse_nobody(ground: Ground) -> None:
    rng = random.Random(8)
    ids = sorted(ground.rows)
    worst = 0.0
    for trial in range(60):
        size = rng.choice([20, 50, 100])
        chosen = rng.sample(ids, size)
        kind = trial % 3
        if kind == 0:  # unmarked writer: every value canonical, in its own order
            rows = [ground.rows[p] for p in chosen]
        elif kind == 1:  # another key: an export that is not in the ledger
            other = new_export_mark()
            rows = [render_row(ground.rows[p], mark=other, row_key=p) for p in chosen]
        else:  # a fresh random writing for every row
            rows = [render_row(ground.rows[p], mark=new_export_mark(), row_key=p) for p in chosen]
        result = trace(ground, rows, COLUMNS)
        assert result.identified == size
        assert result.sources == []
        worst = min(worst, result.rounds[0].scores[0].log10_p_corrected)
    assert worst > -9


def test_a_file_of_strangers_says_so(ground: Ground) -> None:
    strangers = [
        {"birth_name": "Inconnu", "first_names": "Personne", "birth_date": "1901-01-01",
         "phone": "+33612345670", "email": "x@example.org"},
    ] * 5  # fmt: skip
    result = trace(ground, strangers, COLUMNS)
    assert result.identified == 0 and result.sources == [] and result.rounds == ()
