"""Every rendering means the same value: property tests through our normalisers."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etanche.domain import (
    normalize_email,
    normalize_name,
    normalize_nir,
    normalize_phone_for_index,
    validate_blood_group,
)
from etanche.exchange import SourceRecord, build_patient
from etanche.leak.trace import FAMILIES, FIELD_FAMILY, new_export_mark, render_row, unmark_row
from etanche.leak.trace._renderings import canonical_street
from etanche.synth import SynthNetwork

phones = st.builds(
    lambda first, rest: f"+33{first}{rest:08d}",
    st.integers(1, 9),
    st.integers(0, 10**8 - 1),
)
nirs = st.builds(
    lambda sex, year, month, dept, rest, key: (
        f"{sex}{year:02d}{month:02d}{dept}{rest:06d}{key:02d}"
    ),
    st.sampled_from("12"),
    st.integers(0, 99),
    st.integers(1, 12),
    st.sampled_from(["29", "35", "2A", "2B", "56", "99"]),
    st.integers(0, 10**6 - 1),
    st.integers(1, 97),
)
_LETTERS = "abcdefghijklmnopqrstuvwxyzéèêëàâäçîïôöùûüÿœæ"
names = st.text(alphabet=_LETTERS + "ABCÉÈÇ -'", min_size=1, max_size=20).filter(
    lambda s: s.strip() != ""
)
emails = st.builds(
    lambda local, domain, tld: f"{local}@{domain}.{tld}",
    st.text(alphabet="abcdefghij.0123456789_", min_size=1, max_size=12),
    st.text(alphabet="abcdefghijklmnop-", min_size=1, max_size=12).filter(lambda d: d[0] != "-"),
    st.sampled_from(["fr", "com", "bzh", "net"]),
)
streets = st.builds(
    lambda number, suffix, kind, rest: f"{number}{suffix} {kind} {rest}",
    st.integers(1, 999),
    st.sampled_from(["", " bis", " ter"]),
    st.sampled_from(["rue", "avenue", "boulevard", "place", "chemin", "impasse", "allée", "route"]),
    names,
)


def _all(family: str, value: str) -> tuple[str, ...]:
    options = FAMILIES[family].variants(value)
    assert options is not None
    assert len(set(options)) == len(options) >= 2  # distinct writings
    return options


@given(phones)
def test_phone_writings_normalise_back(phone: str) -> None:
    if FAMILIES["phone"].variants(phone) is None:
        # not a valid number: its national writing would index as bare digits
        assert normalize_phone_for_index("0" + phone[3:]) != phone
        return
    for writing in _all("phone", phone):
        assert FAMILIES["phone"].canonical(writing) == phone
        assert normalize_phone_for_index(writing) == normalize_phone_for_index(phone)
        assert FAMILIES["phone"].choice_of(writing) is not None


def test_every_synthetic_phone_is_markable(small_network: SynthNetwork) -> None:
    phones = [p for patient in small_network.patients() for p in patient.phones]
    assert phones and all(FAMILIES["phone"].variants(p) for p in phones)


@given(nirs)
def test_nir_writings_normalise_back(nir: str) -> None:
    for writing in _all("nir", nir):
        assert FAMILIES["nir"].canonical(writing) == nir
        assert normalize_nir(writing) == normalize_nir(nir)


@given(names)
def test_name_writings_normalise_back(name: str) -> None:
    options = FAMILIES["nfd"].variants(name)
    if options is None:  # nothing to compose or decompose: left as it is
        assert unicodedata.normalize("NFD", name) == unicodedata.normalize("NFC", name)
        return
    for writing in options:
        assert FAMILIES["nfd"].canonical(writing) == unicodedata.normalize("NFC", name)
        assert normalize_name(writing) == normalize_name(name)


@given(emails)
def test_email_writings_normalise_back(email: str) -> None:
    options = FAMILIES["case"].variants(email)
    if options is None:
        return  # a domain with no letter to change
    for writing in options:
        assert FAMILIES["case"].canonical(writing) == email
        assert normalize_email(writing) == normalize_email(email)


@given(streets)
def test_street_writings_normalise_back(line: str) -> None:
    nfc = unicodedata.normalize("NFC", line)
    for writing in _all("street", line):
        assert canonical_street(writing) == nfc
        assert FAMILIES["street"].choice_of(writing) is not None


def test_street_abbreviations_read_like_la_poste() -> None:
    options = FAMILIES["street"].variants("12 boulevard de la Liberté")
    assert options == (
        "12 boulevard de la Liberté",
        "12 bd de la Liberté",
        "12 boul. de la Liberté",
    )
    assert FAMILIES["street"].variants("Lieu-dit Kermaria") is None
    assert FAMILIES["street"].variants("12 Rue de Brest") is None  # capitalised: left alone


@given(
    phone=st.sampled_from(["+33612345678", "+33298765432", "+33745000012"]),
    nir=nirs,
    email=emails,
    name=names,
    first=names,
    line=streets,
    city=names,
    key=st.text(alphabet="0123456789abcdef", min_size=8, max_size=32),
)
def test_rendered_rows_import_as_the_same_patient(
    phone: str, nir: str, email: str, name: str, first: str, line: str, city: str, key: str
) -> None:
    row = {
        "birth_name": unicodedata.normalize("NFC", name),
        "first_names": unicodedata.normalize("NFC", first),
        "sex": "F",
        "birth_date": "1980-02-29",
        "nir": nir,
        "phone": f"{phone}\n+33299000000",
        "email": email,
        "address_line": unicodedata.normalize("NFC", line),
        "city": unicodedata.normalize("NFC", city),
    }
    rendered = render_row(row, mark=new_export_mark(), row_key=key)
    assert set(rendered) == set(row)
    # our importer: unmark, then build the patient as from any source
    back = unmark_row(rendered)
    expected = unmark_row(row)
    assert back == expected
    original, _ = build_patient(SourceRecord("row 1", expected), patient_id="p", lab_id="L01")
    again, _ = build_patient(SourceRecord("row 1", back), patient_id="p", lab_id="L01")
    assert again == original
    # and without unmarking, through the blind-index normalisers alone
    for field, family in FIELD_FAMILY.items():
        if field not in row:
            continue
        for a, b in zip(rendered[field].split("\n"), row[field].split("\n"), strict=True):
            assert FAMILIES[family].canonical(a) == FAMILIES[family].canonical(b)


@pytest.mark.parametrize("group", ["A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-"])
def test_blood_group_writings_mean_the_same_group(group: str) -> None:
    options = _all("blood", group)
    for writing in options:
        assert FAMILIES["blood"].canonical(writing) == group
        assert FAMILIES["blood"].choice_of(writing) is not None
        # our importer's validator reads the canonical form back to the same group
        assert str(validate_blood_group(FAMILIES["blood"].canonical(writing))) == group
    assert FAMILIES["blood"].variants("inconnu") is None
    row = {"blood_group": group, "birth_name": "Le Goff"}
    rendered = render_row(row, mark=new_export_mark(["blood"]), row_key="k1")
    assert rendered["blood_group"] in options and unmark_row(rendered) == row
