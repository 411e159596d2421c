"""Faulty duplicates and children on a parent's NIR, with the truth kept apart."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from etanche.errors import UsageError
from etanche.synth import (
    CHILD_ON_PARENT_NIR,
    DUPLICATE,
    ORIGINAL,
    SynthConfig,
    generate,
    read_truth,
    true_pairs,
    write_truth,
)

N = 6_000
DIRTY = SynthConfig(patients=N, seed=5, duplicates=0.06, child_on_parent_nir=0.05)


@pytest.fixture(scope="module")
def records():  # type: ignore[no-untyped-def]
    net = generate(DIRTY)
    patients = {p.id: p for p in net.patients()}
    return net, patients, list(net.truth())


def test_the_new_knobs_at_zero_change_nothing() -> None:
    base = SynthConfig(patients=2_000, seed=5, duplicates_across_labs=0.1, typos=0.05)
    again = SynthConfig(
        patients=2_000,
        seed=5,
        duplicates_across_labs=0.1,
        typos=0.05,
        duplicates=0.0,
        child_on_parent_nir=0.0,
    )
    assert list(generate(base).patients()) == list(generate(again).patients())


def test_the_truth_names_every_record_once_and_counts_match_the_knobs(records) -> None:  # type: ignore[no-untyped-def]
    _, patients, truth = records
    assert [t.record for t in truth] == list(patients)
    kinds = Counter(t.kind for t in truth)
    assert 0.045 * N <= kinds[DUPLICATE] <= 0.075 * N
    assert kinds[CHILD_ON_PARENT_NIR] > 20
    assert kinds[ORIGINAL] == N - kinds[DUPLICATE] - kinds[CHILD_ON_PARENT_NIR]
    persons = {t.person for t in truth}
    assert all(patients[p] for p in persons)  # a person is the id of its first record


def test_duplicates_carry_the_desk_faults(records) -> None:  # type: ignore[no-untyped-def]
    _, patients, truth = records
    seen: Counter[str] = Counter()
    for t in truth:
        if t.kind != DUPLICATE:
            continue
        a, b = patients[t.person], patients[t.record]
        assert a.sex == b.sex and a.birth_date.year == b.birth_date.year
        if a.lab_id == b.lab_id:
            seen["same lab"] += 1
        if a.birth_name != b.birth_name:
            seen["surname"] += 1
        if a.first_names != b.first_names and set(a.first_names) == set(b.first_names):
            seen["swapped first names"] += 1
        if a.used_name and b.birth_name == a.used_name:
            seen["used name as birth name"] += 1
        swapped = (a.birth_date.month, a.birth_date.day) == (b.birth_date.day, b.birth_date.month)
        if swapped and a.birth_date != b.birth_date:
            seen["day and month swapped"] += 1
        if a.nir and not b.nir:
            seen["NIR missing"] += 1
    for fault in (
        "same lab",
        "surname",
        "swapped first names",
        "used name as birth name",
        "day and month swapped",
        "NIR missing",
    ):
        assert seen[fault] >= 3, (fault, seen)


def test_a_child_on_a_parents_nir_is_another_person(records) -> None:  # type: ignore[no-untyped-def]
    _, patients, truth = records
    by_nir: dict[str, list[str]] = {}
    for p in patients.values():
        if p.nir:
            by_nir.setdefault(p.nir, []).append(p.id)
    person = {t.record: t.person for t in truth}
    children = [t.record for t in truth if t.kind == CHILD_ON_PARENT_NIR]
    for child in children:
        holders = by_nir[patients[child].nir]  # type: ignore[index]
        assert len(holders) >= 2
        assert len({person[h] for h in holders}) >= 2  # the NIR is shared by two people


def test_the_truth_file_round_trips_and_holds_no_identity(records, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, patients, truth = records
    path = tmp_path / "truth.csv"
    assert write_truth(truth, path) == N
    assert read_truth(path) == truth
    text = path.read_text(encoding="ascii")
    some = next(iter(patients.values()))
    assert some.birth_name not in text
    pairs = true_pairs(truth)
    assert len(pairs) == sum(t.kind == DUPLICATE for t in truth)
    assert all(a < b for a, b in pairs)


def test_a_bad_truth_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("record_id,person_id,kind\na,b,original\nbroken\n", encoding="ascii")
    with pytest.raises(UsageError, match="line 3"):
        read_truth(path)
    with pytest.raises(UsageError, match="duplicates"):
        SynthConfig(duplicates=2.0)


def test_the_cli_writes_the_truth_apart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from _cli import run

    truth = tmp_path / "truth.csv"
    code, out, err = run(
        capsys,
        "synth",
        "--patients",
        "400",
        "--faulty-duplicates",
        "0.1",
        "--child-on-parent-nir",
        "0.05",
        "--legacy-csv",
        str(tmp_path / "leak.csv"),
        "--truth",
        str(truth),
    )
    assert code == 0, err
    assert "Wrote the truth of 400 records" in out
    kinds = Counter(t.kind for t in read_truth(truth))
    assert kinds[DUPLICATE] > 10 and kinds[ORIGINAL] > 300
    code, _, err = run(capsys, "synth", "--patients", "5", "--truth", str(tmp_path / "no/t.csv"))
    assert code == 2 and "--truth" in err and "Traceback" not in err
