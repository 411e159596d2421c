"""Precision and recall of the scan on a labelled synthetic leak, in every format.

Unit: the cell. A structured cell is positive for a category when it holds a
value of that category (a NIR with a valid key, a phone number, a name...); a
free-text cell (a comment, a line of a text file) is positive for every category
it mentions at least once; a negated health mention ("pas de grossesse") is not
a mention. Predictions are the union of the scan's per-cell masks; counts are
pooled over all files (CSV ; cp1252, CSV , UTF-8, TSV, XLSX, JSON, NDJSON, SQL
dump, plain text, a zip with a nested member).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from _leak_corpus import Corpus, Labelled

from etanche.exchange.found import read_tables
from etanche.leak.scan import HealthCache, detect_frame, plan_table

STRICT = ("nir", "phone", "email", "birth_date", "credential")  # >= 0.99
LOOSE = ("name", "address", "health")  # >= 0.95
EVALUATED = (*STRICT, *LOOSE, "drug", "blood_group")


def _labelled_for(corpus: Corpus, table_name: str) -> Labelled:
    base = table_name.split(":")[0]
    return corpus.files[Path(base)]


def _predictions(corpus: Corpus) -> Counter[tuple[str, str]]:
    cache = HealthCache()
    tally: Counter[tuple[str, str]] = Counter()
    roots = {p for p in corpus.files if p.exists()} | {
        Path(str(p).split(".zip/")[0] + ".zip") for p in corpus.files if ".zip/" in str(p)
    }
    for root in sorted(roots):
        for table in read_tables(root):
            labelled = _labelled_for(corpus, table.name)
            predicted: list[list[set[str]]] = []
            plan = None
            for frame in table.frames():
                plan = plan or plan_table(frame.head(5000))
                found = detect_frame(frame, plan, cache)
                cells = [[set() for _ in table.columns] for _ in range(frame.height)]
                for category, column, source, mask in found.masks:
                    if source == "ins_row":
                        continue
                    index = table.columns.index(column)
                    for row in mask.arg_true():
                        cells[row][index].add(category)
                predicted.extend(cells)
            assert len(predicted) == len(labelled.rows), table.name
            for got_row, want_row in zip(predicted, labelled.truth, strict=True):
                for got, want in zip(got_row, want_row, strict=True):
                    for category in EVALUATED:
                        g, w = category in got, category in want
                        if g and w:
                            tally[(category, "tp")] += 1
                        elif g:
                            tally[(category, "fp")] += 1
                        elif w:
                            tally[(category, "fn")] += 1
    return tally


@pytest.fixture(scope="module")
def scores(corpus: Corpus) -> dict[str, tuple[float, float, int]]:
    tally = _predictions(corpus)
    out: dict[str, tuple[float, float, int]] = {}
    for category in EVALUATED:
        tp, fp, fn = (tally[(category, k)] for k in ("tp", "fp", "fn"))
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        out[category] = (precision, recall, tp + fn)
    return out


@pytest.mark.parametrize("category", STRICT)
def test_identifiers_precision_and_recall_at_least_99(
    scores: dict[str, tuple[float, float, int]], category: str
) -> None:
    precision, recall, positives = scores[category]
    assert positives >= 50, "the corpus must hold enough positives to measure"
    assert precision >= 0.99, (category, precision)
    assert recall >= 0.99, (category, recall)


@pytest.mark.parametrize("category", LOOSE)
def test_names_addresses_health_at_least_95(
    scores: dict[str, tuple[float, float, int]], category: str
) -> None:
    precision, recall, positives = scores[category]
    assert positives >= 50
    assert precision >= 0.95, (category, precision)
    assert recall >= 0.95, (category, recall)


def test_drugs_and_blood_groups_found(scores: dict[str, tuple[float, float, int]]) -> None:
    for category in ("drug", "blood_group"):
        precision, recall, positives = scores[category]
        assert positives >= 20
        assert precision >= 0.95 and recall >= 0.9, (category, precision, recall)
