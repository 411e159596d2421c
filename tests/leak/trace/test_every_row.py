"""Every row counts: twins before marked rows, marked rows diluted, many sources.

The ground (100 exports of 600 of 1,500 patients) is the robustness drills'.
"""

from __future__ import annotations

import random

from _tracedrill import COLUMNS, Ground, table

from etanche.leak.trace import (
    TraceResult,
    attribute,
    identify_rows,
    new_export_mark,
    observe_rows,
    render_row,
)


def trace(ground: Ground, rows: list[dict[str, str]]) -> TraceResult:
    found = observe_rows(COLUMNS, table(rows, COLUMNS))
    return attribute(identify_rows(found, ground.identifier), ground.exports)


def test_an_unmarked_twin_before_each_row_does_not_hide_the_marks(ground: Ground) -> None:
    rng = random.Random(3)
    for _ in range(3):
        source = rng.choice(ground.exports)
        chosen = rng.sample(ground.rendered(source), 20)
        rows = [r for pid, marked in chosen for r in (ground.rows[pid], marked)]
        result = trace(ground, rows)
        assert result.identified == 40
        assert [s.export_id for s in result.sources] == [source.export_id]
        assert result.rounds[0].scores[0].agreeing_rows >= 20


def test_marked_rows_diluted_among_unmarked_rows_of_the_same_patients(ground: Ground) -> None:
    rng = random.Random(4)
    for _ in range(3):
        source = rng.choice(ground.exports)
        rendered = ground.rendered(source)
        rng.shuffle(rendered)
        marked = [r for _, r in rendered[:20]]
        unmarked = [ground.rows[pid] for pid, _ in rendered[20:100]]
        rows = marked + unmarked
        rng.shuffle(rows)
        result = trace(ground, rows)
        first = result.rounds[0].scores
        assert first[0].export_id == source.export_id and first[0].accused
        assert not any(s.accused for s in first[1:])


def test_a_file_of_seven_exports_names_all_seven(ground: Ground) -> None:
    rng = random.Random(6)
    sources = rng.sample(ground.exports, 7)
    rows = [r for e in sources for _, r in rng.sample(ground.rendered(e), 40)]
    rng.shuffle(rows)
    result = trace(ground, rows)
    assert {s.export_id for s in result.sources} == {e.export_id for e in sources}
    assert len(result.rounds) >= 7


def test_twins_and_duplicates_of_no_export_accuse_nobody(ground: Ground) -> None:
    rng = random.Random(9)
    ids = sorted(ground.rows)
    for trial in range(20):
        chosen = rng.sample(ids, rng.choice([20, 50]))
        rows = []
        for pid in chosen:  # each patient two or three times, each in its own writing
            for _ in range(rng.choice([2, 3])):
                mark = new_export_mark() if trial % 2 else None
                rows.append(render_row(ground.rows[pid], mark=mark, row_key=pid))
        rng.shuffle(rows)
        result = trace(ground, rows)
        assert result.sources == [], trial
        assert result.rounds[0].scores[0].log10_p_corrected > -9
