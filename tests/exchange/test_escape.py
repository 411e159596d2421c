"""Escape sequences of HL7 v2 and HPRIM values."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from etanche.exchange import HL7_DEFAULT, HPRIM_DEFAULT, Delimiters


@given(st.text(max_size=200))
def test_escape_then_unescape_gives_the_value_back(value: str) -> None:
    for d in (HL7_DEFAULT, HPRIM_DEFAULT, Delimiters("#", "$", "*", "!", "%")):
        escaped = d.escape_text(value, "iso-8859-1")
        assert not set(escaped) & {d.field, d.component, d.repetition, d.subcomponent, "\n"}
        escaped.encode("iso-8859-1")  # raises if a character was left unescaped
        assert d.unescape(escaped) == value


def test_known_sequences() -> None:
    d = HL7_DEFAULT
    assert d.unescape("a\\F\\b\\S\\c\\R\\d\\T\\e\\E\\f\\.br\\g") == "a|b^c~d&e\\f\ng"
    assert d.unescape("\\XC3A9\\t\\XE9\\") == "été"
    assert d.unescape("open \\Zlocal\\ and \\X0\\ and \\") == "open \\Zlocal\\ and \\X0\\ and \\"


@given(st.text(max_size=100))
def test_unescape_never_fails(value: str) -> None:
    assert isinstance(HPRIM_DEFAULT.unescape(value), str)
