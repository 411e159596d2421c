"""render_row: a keyed, reproducible choice; nothing a recipient refuses; nothing without a mark."""

from __future__ import annotations

import pytest

from etanche.errors import UsageError
from etanche.leak.trace import (
    ExportMark,
    keyed_order,
    new_export_mark,
    parse_marks,
    render_row,
    unmark_row,
)

ROW = {
    "birth_name": "Lefèvre",
    "first_names": "Hélène Maïwenn",
    "birth_date": "1975-12-20",
    "nir": "275127218186809",
    "phone": "+33608216588\n+33298123456",
    "email": "helene.lefevre@orange.fr",
    "address_line": "82 rue de Verdun",
    "city": "Plérin",
    "blood_group": "A+",
}


def test_same_key_same_writing_other_key_other_writing() -> None:
    mark = new_export_mark()
    again = ExportMark(mark.export_id, mark.key, mark.marks)
    assert render_row(ROW, mark=mark, row_key="p1") == render_row(ROW, mark=again, row_key="p1")
    writings = {
        tuple(sorted(render_row(ROW, mark=new_export_mark(), row_key="p1").items()))
        for _ in range(20)
    }
    assert len(writings) > 10  # 6*6*3*2*2*2*2*2 combinations: keys spread over them
    per_row = {render_row(ROW, mark=mark, row_key=f"p{i}")["phone"] for i in range(40)}
    assert len(per_row) > 5  # the row key enters the choice too


def test_no_mark_and_refused_marks_leave_values_alone() -> None:
    assert render_row(ROW, mark=None, row_key="p1") == ROW
    none = new_export_mark(frozenset())
    assert render_row(ROW, mark=none, row_key="p1") == ROW
    only_phone = new_export_mark({"phone"})
    for i in range(20):
        out = render_row(ROW, mark=only_phone, row_key=f"p{i}")
        assert {k for k in ROW if out[k] != ROW[k]} <= {"phone"}
        assert out["blood_group"] == "A+"


def test_unmark_row_gives_the_canonical_row_back() -> None:
    for i in range(30):
        out = render_row(ROW, mark=new_export_mark(), row_key=f"p{i}")
        assert unmark_row(out) == ROW


def test_keyed_order_is_a_keyed_permutation() -> None:
    keys = sorted(f"p{i}" for i in range(50))
    mark = new_export_mark()
    order = keyed_order(keys, mark)
    assert sorted(order) == keys and order != keys
    assert keyed_order(keys, mark) == order
    assert keyed_order(keys, new_export_mark()) != order
    assert keyed_order(keys, new_export_mark({"phone"})) == keys  # no order mark
    assert keyed_order(keys, None) == keys


def test_marks_are_parsed_and_checked() -> None:
    assert parse_marks("phone, case") == {"phone", "case"}
    assert parse_marks(None) == parse_marks("all") == {
        "phone", "nfd", "case", "street", "nir", "blood", "order",
    }  # fmt: skip
    assert parse_marks("none") == frozenset()
    with pytest.raises(UsageError, match="dates"):
        parse_marks("phone,dates")
    with pytest.raises(UsageError):
        ExportMark("x", b"k" * 32, frozenset({"dates"}))
