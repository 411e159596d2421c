"""Tests of the normalisers behind blind indexes (etanche.domain._normalize)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.fr import nir as stdnum_nir

from etanche.domain import (
    normalize_email,
    normalize_name,
    normalize_nir,
    normalize_phone_for_index,
    validate_nir,
)

FRENCH_LETTERS = "abcdefghijklmnopqrstuvwxyzàâäçéèêëîïôöùûüÿñœæß"
NAME_ALPHABET = FRENCH_LETTERS + FRENCH_LETTERS.upper() + " -'’."

# ----------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Lefèvre-Dupont", "LEFEVRE DUPONT"),
        ("LEFEVRE  DUPONT", "LEFEVRE DUPONT"),
        ("  lefevre dupont ", "LEFEVRE DUPONT"),
        ("Lefèvre.Dupont", "LEFEVRE DUPONT"),
        ("D'Artagnan", "D ARTAGNAN"),
        ("d’Artagnan", "D ARTAGNAN"),
        ("Œdipe", "OEDIPE"),
        ("Lætitia", "LAETITIA"),
        ("Strauß", "STRAUSS"),
        ("Noël Hélène Chloé", "NOEL HELENE CHLOE"),
        ("Jean–Pierre", "JEAN PIERRE"),
        ("ﬁfi", "FIFI"),
        ("Øster", "OSTER"),
        ("", ""),
        (" - ' . ", ""),
    ],
)
def test_normalize_name_examples(value: str, expected: str) -> None:
    assert normalize_name(value) == expected


def test_normalize_name_same_for_nfc_and_nfd() -> None:
    nfc = unicodedata.normalize("NFC", "Françoise Lefèvre")
    nfd = unicodedata.normalize("NFD", "Françoise Lefèvre")
    assert nfc != nfd
    assert normalize_name(nfc) == normalize_name(nfd) == "FRANCOISE LEFEVRE"


@settings(max_examples=200)
@given(st.text())
def test_normalize_name_idempotent_on_any_text(value: str) -> None:
    once = normalize_name(value)
    assert normalize_name(once) == once


@settings(max_examples=200)
@given(st.text(alphabet=NAME_ALPHABET, max_size=40))
def test_normalize_name_ignores_case_accents_and_form(value: str) -> None:
    expected = normalize_name(value)
    assert normalize_name(value.lower()) == expected
    assert normalize_name(value.upper()) == expected
    assert normalize_name(unicodedata.normalize("NFD", value)) == expected
    assert normalize_name(unicodedata.normalize("NFC", value)) == expected
    assert expected == expected.strip()
    assert "  " not in expected
    assert expected.isascii()


@settings(max_examples=100)
@given(st.text(alphabet=NAME_ALPHABET, max_size=40))
def test_normalize_name_separators_are_spaces(value: str) -> None:
    assert normalize_name(value.replace("-", " ")) == normalize_name(value.replace(" ", "-"))


# ------------------------------------------------------------------------ NIRs


def test_normalize_nir_examples() -> None:
    assert normalize_nir("2 95 10 99 126 111 93") == "295109912611193"
    assert normalize_nir("2.53.07.2b.073.004.70") == "253072B07300470"
    assert normalize_nir("2-53-07-2a-073-004-43") == "253072A07300443"
    assert normalize_nir("not a nir") == "NOTANIR"


@settings(max_examples=200)
@given(st.text())
def test_normalize_nir_idempotent(value: str) -> None:
    once = normalize_nir(value)
    assert normalize_nir(once) == once


@settings(max_examples=100)
@given(
    st.sampled_from("12"),
    st.integers(0, 99),
    st.integers(1, 12),
    st.sampled_from(["75", "2A", "2B", "99", "29"]),
    st.integers(1, 999),
    st.integers(1, 999),
)
def test_normalize_nir_agrees_with_validate_nir(
    sex: str, year: int, month: int, dept: str, commune: int, order: int
) -> None:
    body = f"{sex}{year:02d}{month:02d}{dept}{commune:03d}{order:03d}"
    value = body + stdnum_nir.calc_check_digits(body)
    for writing in (value, stdnum_nir.format(value), stdnum_nir.format(value, "-").lower()):
        assert normalize_nir(writing) == validate_nir(writing) == value


# ---------------------------------------------------------------------- emails


def test_normalize_email_examples() -> None:
    assert normalize_email("  Jean.Dupont@Example.COM ") == "jean.dupont@example.com"
    assert normalize_email("jean.dupont@EXAMPLE.com") == normalize_email("Jean.Dupont@example.COM")


@settings(max_examples=200)
@given(st.text())
def test_normalize_email_idempotent(value: str) -> None:
    once = normalize_email(value)
    assert normalize_email(once) == once


# ---------------------------------------------------------------------- phones


@pytest.mark.parametrize(
    "value",
    ["06 12 34 56 78", "0612345678", "+33 6 12 34 56 78", "0033612345678", "06.12.34.56.78"],
)
def test_normalize_phone_for_index_writings(value: str) -> None:
    assert normalize_phone_for_index(value) == "+33612345678"


def test_normalize_phone_for_index_fallback_is_digits() -> None:
    assert normalize_phone_for_index("12-34") == "1234"
    assert normalize_phone_for_index("+999 12") == "+99912"
    assert normalize_phone_for_index("no digits") == ""


@settings(max_examples=200)
@given(st.text(alphabet="0123456789 +-.()abx", max_size=20))
def test_normalize_phone_for_index_idempotent(value: str) -> None:
    once = normalize_phone_for_index(value)
    assert normalize_phone_for_index(once) == once


@settings(max_examples=100)
@given(st.text())
def test_normalize_phone_for_index_idempotent_any_text(value: str) -> None:
    once = normalize_phone_for_index(value)
    assert normalize_phone_for_index(once) == once


@given(st.from_regex(r"\+33[1-9][0-9]{8}", fullmatch=True))
def test_french_e164_fast_path_agrees_with_phonenumbers(value: str) -> None:
    from etanche.domain._normalize import _e164_if_valid, _phone_fallback

    slow = _e164_if_valid(value)
    if slow is None:
        fallback = _phone_fallback(value)
        slow = _e164_if_valid(fallback) or fallback
    assert normalize_phone_for_index(value) == slow


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30))
def test_ascii_name_fast_path_agrees_with_full_pass(value: str) -> None:
    from etanche.domain._normalize import _name_pass

    assert normalize_name(value) == _name_pass(_name_pass(value))
