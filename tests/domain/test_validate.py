"""Tests of the domain validators (etanche.domain._validate)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import email_validator
import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.fr import nir as stdnum_nir

from etanche.domain import (
    Address,
    BloodGroup,
    Clinical,
    Insurance,
    Patient,
    Physician,
    Sex,
    Specimen,
    Treatment,
    normalize_phone,
    validate_atc,
    validate_birth_date,
    validate_blood_group,
    validate_email,
    validate_finess,
    validate_insee_commune,
    validate_nir,
    validate_patient,
    validate_postcode,
    validate_rpps,
    validate_specimen,
)
from etanche.errors import ValidationError, ValidationErrors

TODAY = date(2024, 6, 15)

# --------------------------------------------------------------------- strategies

KNOWN_MONTHS = list(range(1, 13))
UNKNOWN_MONTHS = [20, *range(30, 43), *range(50, 100)]


@st.composite
def nir_places(draw: st.DrawFn) -> str:
    """5-character birthplace part: metropolitan, Corsica, overseas or abroad."""
    kind = draw(st.sampled_from(["metro", "corsica", "overseas", "abroad"]))
    if kind == "metro":
        dept = draw(st.integers(1, 95).filter(lambda d: d != 20))
        return f"{dept:02d}{draw(st.integers(1, 999)):03d}"
    if kind == "corsica":
        return draw(st.sampled_from(["2A", "2B", "20"])) + f"{draw(st.integers(1, 999)):03d}"
    if kind == "overseas":
        return f"97{draw(st.integers(1, 6))}{draw(st.integers(1, 99)):02d}"
    return f"99{draw(st.integers(100, 999)):03d}"


@st.composite
def valid_nirs(
    draw: st.DrawFn,
    sex_digits: str = "1278",
    months: list[int] | None = None,
) -> str:
    """A valid NIR whose key comes from python-stdnum."""
    sex = draw(st.sampled_from(sex_digits))
    year = draw(st.integers(0, 99))
    month = draw(st.sampled_from(months or KNOWN_MONTHS + UNKNOWN_MONTHS))
    order = draw(st.integers(1, 999))
    body = f"{sex}{year:02d}{month:02d}{draw(nir_places())}{order:03d}"
    return body + stdnum_nir.calc_check_digits(body)


def luhn_complete(digits: str) -> str:
    return digits + luhn.calc_check_digit(digits)


def reason_of(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return exc.value.reason


# ---------------------------------------------------------------------------- NIR

STDNUM_DOCTESTS = ["295109912611193", "253072B07300470", "253072A07300443"]


@pytest.mark.parametrize("value", STDNUM_DOCTESTS)
def test_nir_stdnum_doctest_examples(value: str) -> None:
    assert validate_nir(value) == value


def test_nir_is_compacted_and_upper_cased() -> None:
    assert validate_nir("2 95 10 99 126 111 93") == "295109912611193"
    assert validate_nir("2.53.07.2b.073.004.70") == "253072B07300470"
    assert validate_nir("2-53-07-2a-073-004-43") == "253072A07300443"


@settings(max_examples=200)
@given(valid_nirs())
def test_nir_accepts_every_stdnum_valid_number(value: str) -> None:
    assert validate_nir(value) == value
    assert validate_nir(stdnum_nir.format(value)) == value


@settings(max_examples=100)
@given(valid_nirs(), st.integers(0, 99))
def test_nir_rejects_wrong_key(value: str, key: int) -> None:
    wrong = value[:13] + f"{key:02d}"
    if wrong == value:
        return
    with pytest.raises(ValidationError) as exc:
        validate_nir(wrong)
    assert reason_of(exc) == "invalid NIR check key (expected 97 - N mod 97)"
    assert exc.value.field == "nir"


def test_nir_stdnum_invalid_check_digit_example() -> None:
    with pytest.raises(ValidationError, match="check key"):
        validate_nir("295109912611199")


@pytest.mark.parametrize("value", ["29510991261119", "2951099126111930", "6546546546546703"])
def test_nir_wrong_length(value: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_nir(value)
    assert reason_of(exc) == "invalid NIR length (expected 15 characters)"


@pytest.mark.parametrize("value", ["253072C07300443", "2950X99126111 93", "", "abc"])
def test_nir_wrong_format(value: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_nir(value)
    assert reason_of(exc).startswith("invalid NIR format")


def test_nir_key_format_and_length_reasons_are_distinct() -> None:
    reasons = set()
    for value in ["295109912611199", "253072C07300443", "6546546546546703"]:
        with pytest.raises(ValidationError) as exc:
            validate_nir(value)
        reasons.add(exc.value.reason)
    assert len(reasons) == 3


@settings(max_examples=50)
@given(valid_nirs(sex_digits="34569"))
def test_nir_rejects_first_digit_other_than_1_2_7_8(value: str) -> None:
    with pytest.raises(ValidationError, match="first digit"):
        validate_nir(value)


@pytest.mark.parametrize("month", [0, 13, 19, 21, 29, 43, 49])
def test_nir_rejects_impossible_month_code(month: int) -> None:
    body = f"185{month:02d}75056123"
    with pytest.raises(ValidationError, match="month code"):
        validate_nir(body + stdnum_nir.calc_check_digits(body))


def test_nir_matches_sex_and_birth_date() -> None:
    male = "185037505612356"  # 1 85 03 75 056 123 56
    assert validate_nir(male, sex=Sex.MALE, birth_date=date(1985, 3, 2)) == male
    female = "292069912304541"  # 2 92 06 99 123 045 41
    assert validate_nir(female, sex=Sex.FEMALE, birth_date=date(1992, 6, 30)) == female


def test_nir_sex_mismatch() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_nir("185037505612356", sex=Sex.FEMALE)
    assert reason_of(exc) == "NIR does not match sex"
    with pytest.raises(ValidationError, match="NIR does not match sex"):
        validate_nir("292069912304541", sex=Sex.MALE)


def test_nir_unknown_sex_is_not_checked() -> None:
    assert validate_nir("185037505612356", sex=Sex.UNKNOWN)


@settings(max_examples=50)
@given(valid_nirs(sex_digits="78"), st.sampled_from([Sex.MALE, Sex.FEMALE]))
def test_nir_temporary_numbers_skip_the_sex_check(value: str, sex: Sex) -> None:
    assert validate_nir(value, sex=sex) == value


def test_nir_year_mismatch() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_nir("185037505612356", birth_date=date(1986, 3, 2))
    assert reason_of(exc) == "NIR does not match birth year"


def test_nir_year_compares_two_digits_only() -> None:
    assert validate_nir("185037505612356", birth_date=date(1885, 3, 2))


def test_nir_month_mismatch() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_nir("185037505612356", birth_date=date(1985, 4, 2))
    assert reason_of(exc) == "NIR does not match birth month"


@settings(max_examples=100)
@given(valid_nirs(months=UNKNOWN_MONTHS), st.integers(1, 12))
def test_nir_unknown_month_codes_skip_the_month_check(value: str, month: int) -> None:
    year = 1900 + int(value[1:3])
    assert validate_nir(value, birth_date=date(year, month, 1)) == value


@settings(max_examples=100)
@given(valid_nirs(months=KNOWN_MONTHS))
def test_nir_consistent_traits_accepted(value: str) -> None:
    birth = date(2000 + int(value[1:3]), int(value[3:5]), 1)
    sex = {"1": Sex.MALE, "2": Sex.FEMALE}.get(value[0], Sex.UNKNOWN)
    assert validate_nir(value, sex=sex, birth_date=birth) == value


def test_nir_custom_field_name() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_nir("295109912611199", field="insured.nir")
    assert exc.value.field == "insured.nir"


# ------------------------------------------------------------------------- phones

MOBILE_WRITINGS = [
    "06 12 34 56 78",
    "0612345678",
    "06.12.34.56.78",
    "06-12-34-56-78",
    "+33 6 12 34 56 78",
    "+33612345678",
    "0033 6 12 34 56 78",
    "+33 (0)6 12 34 56 78",
]


@pytest.mark.parametrize("value", MOBILE_WRITINGS)
def test_phone_mobile_writings_give_one_e164(value: str) -> None:
    assert normalize_phone(value) == "+33612345678"


@pytest.mark.parametrize("value", ["01 42 34 56 78", "+33142345678", "01.42.34.56.78"])
def test_phone_landline(value: str) -> None:
    assert normalize_phone(value) == "+33142345678"


def test_phone_overseas_and_foreign() -> None:
    assert normalize_phone("+262 692 12 34 56") == "+262692123456"
    assert normalize_phone("020 7183 8750", region="GB") == "+442071838750"
    assert normalize_phone("+44 20 7183 8750") == "+442071838750"


@pytest.mark.parametrize("value", ["12", "06 12", "+33 1 23", "00 00 00 00 00", "+999 123 456"])
def test_phone_invalid_number(value: str) -> None:
    with pytest.raises(ValidationError) as exc:
        normalize_phone(value)
    assert exc.value.field == "phone"


@pytest.mark.parametrize("value", ["", "not a phone", "++33"])
def test_phone_unparsable(value: str) -> None:
    with pytest.raises(ValidationError, match="phone"):
        normalize_phone(value, field="phones[0]")


# ------------------------------------------------------------------------- emails


def test_email_normalised_domain() -> None:
    assert validate_email("Jean.Dupont@Example.COM") == "Jean.Dupont@example.com"
    assert validate_email("marie@labo-ouest.fr") == "marie@labo-ouest.fr"


def test_email_internationalised() -> None:
    assert validate_email("josé@exämple.fr") == "josé@exämple.fr"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("jean.dupont", "exactly one @"),
        ("a@@b.fr", "exactly one @"),
        ("jean dupont@labo.fr", "before the @"),
        ("jean@localhost", "domain"),
        ("jean@labo", "domain"),
        ("@labo.fr", "before the @"),
    ],
)
def test_email_invalid(value: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_email(value)
    assert fragment in exc.value.reason
    assert exc.value.field == "email"


# ----------------------------------------------------------------- RPPS and FINESS


@settings(max_examples=100)
@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_rpps_valid_luhn(prefix: str) -> None:
    value = luhn_complete(prefix)
    assert validate_rpps(value) == value
    assert validate_rpps(f" {value} ") == value


@settings(max_examples=100)
@given(st.text(alphabet="0123456789", min_size=10, max_size=10), st.integers(1, 9))
def test_rpps_invalid_luhn(prefix: str, delta: int) -> None:
    good = luhn_complete(prefix)
    bad = prefix + str((int(good[-1]) + delta) % 10)
    with pytest.raises(ValidationError) as exc:
        validate_rpps(bad)
    assert reason_of(exc) == "invalid RPPS check digit (Luhn)"


@pytest.mark.parametrize("value", ["1000345678", "100034567860", "1000345678A", "", "10003 456786"])
def test_rpps_format(value: str) -> None:
    with pytest.raises(ValidationError, match="11 digits"):
        validate_rpps(value)


def test_rpps_known_value() -> None:
    assert validate_rpps("10003456786") == "10003456786"


@pytest.mark.parametrize(
    "value",
    ["750712184", "350005179", "690781810", "130786049", "2A0000014", "2B0000020", "2a0000014"],
)
def test_finess_known_numbers(value: str) -> None:
    assert validate_finess(value) == value.upper()


@settings(max_examples=100)
@given(
    st.sampled_from([f"{d:02d}" for d in range(1, 96)] + ["2A", "2B", "97"]),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
)
def test_finess_generated(dept: str, serial: str) -> None:
    mapped = {"2A": "21", "2B": "22"}.get(dept, dept)
    key = luhn.calc_check_digit(mapped + serial)
    assert validate_finess(dept + serial + key) == dept + serial + key
    wrong = dept + serial + str((int(key) + 1) % 10)
    with pytest.raises(ValidationError, match="check digit"):
        validate_finess(wrong)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("75071218", "length"),
        ("7507121845", "length"),
        ("2C0000014", "format"),
        ("75A712184", "format"),
    ],
)
def test_finess_invalid(value: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        validate_finess(value)


# -------------------------------------------------------------------- blood group


@pytest.mark.parametrize(
    ("value", "abo", "rh"),
    [
        ("A+", "A", "+"),
        ("AB-", "AB", "-"),
        ("O+", "O", "+"),
        ("0+", "O", "+"),
        ("o-", "O", "-"),
        ("A Rh+", "A", "+"),
        ("AB Rh-", "AB", "-"),
        ("ab rh -", "AB", "-"),
        ("O positif", "O", "+"),
        ("B négatif", "B", "-"),
        ("B NEGATIF", "B", "-"),
        ("A RhD positive", "A", "+"),
        ("AB Rhésus négatif", "AB", "-"),
        ("Groupe O Rh(D)+", "O", "+"),
        ("A pos", "A", "+"),
        ("B neg", "B", "-"),
        ("A RH\u2212", "A", "-"),
        (" AB + ", "AB", "+"),
    ],
)
def test_blood_group_writings(value: str, abo: str, rh: str) -> None:
    assert validate_blood_group(value) == BloodGroup(abo, rh)


@pytest.mark.parametrize(
    "value", ["", "C+", "A", "AB", "ABO+", "A++", "Rh+", "A positif négatif", "A?"]
)
def test_blood_group_invalid(value: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_blood_group(value)
    assert exc.value.field == "blood_group"


@settings(max_examples=50)
@given(st.sampled_from(["A", "B", "AB", "O"]), st.sampled_from(["+", "-"]))
def test_blood_group_round_trip(abo: str, rh: str) -> None:
    group = BloodGroup(abo, rh)
    assert validate_blood_group(str(group)) == group


# ---------------------------------------------------------------------------- ATC


@pytest.mark.parametrize("value", ["B", "B01", "B01A", "B01AA", "B01AA03", "N02BE01", "J01CA04"])
def test_atc_levels(value: str) -> None:
    assert validate_atc(value) == value


def test_atc_upper_cased() -> None:
    assert validate_atc(" b01aa03 ") == "B01AA03"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "length"),
        ("B01AA0", "length"),
        ("B01AA033", "length"),
        ("E01AA03", "main group"),
        ("101AA03", "main group"),
        ("B0AAA03", "structure"),
        ("B01A103", "structure"),
        ("B01AAXX", "structure"),
        ("BA1", "structure"),
    ],
)
def test_atc_invalid(value: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        validate_atc(value)


# -------------------------------------------------------------- dates and places


def test_birth_date_bounds() -> None:
    assert validate_birth_date(TODAY, today=TODAY) == TODAY
    assert validate_birth_date(date(1900, 1, 1), today=TODAY) == date(1900, 1, 1)
    with pytest.raises(ValidationError, match="future"):
        validate_birth_date(TODAY + timedelta(days=1), today=TODAY)
    with pytest.raises(ValidationError, match="1900"):
        validate_birth_date(date(1899, 12, 31), today=TODAY)


def test_birth_date_default_today_and_datetime() -> None:
    assert validate_birth_date(date(1980, 1, 1)) == date(1980, 1, 1)
    with pytest.raises(ValidationError, match="future"):
        validate_birth_date(date.today() + timedelta(days=2))
    with pytest.raises(ValidationError, match="without time"):
        validate_birth_date(datetime(1980, 1, 1, 12, 0), today=TODAY)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("75056", "75056"),
        ("2A004", "2A004"),
        ("2b033", "2B033"),
        ("99100", "99100"),
        ("97105", "97105"),
        ("20004", "20004"),
    ],
)
def test_insee_commune_valid(value: str, expected: str) -> None:
    assert validate_insee_commune(value) == expected


@pytest.mark.parametrize("value", ["", "7505", "750560", "2C004", "A2004", "00123", "7505A"])
def test_insee_commune_invalid(value: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_insee_commune(value)
    assert exc.value.field == "birthplace_insee"


@pytest.mark.parametrize("value", ["75001", "20000", "97400", "01000"])
def test_postcode_valid(value: str) -> None:
    assert validate_postcode(value) == value


@pytest.mark.parametrize("value", ["", "7500", "750011", "00100", "ABCDE", "75 001"])
def test_postcode_invalid(value: str) -> None:
    with pytest.raises(ValidationError, match="postcode"):
        validate_postcode(value)


# -------------------------------------------------------------------------- records

GOOD_NIR = "185037505612356"
GOOD_RPPS = "10003456786"


def make_patient(**changes: object) -> Patient:
    patient = Patient(
        id="p-7f3a",
        lab_id="L07",
        birth_name="LEFEVRE",
        first_names=("Jean", "Marc"),
        sex=Sex.MALE,
        birth_date=date(1985, 3, 2),
        birthplace_insee="75056",
        nir=GOOD_NIR,
        addresses=(
            Address("3 rue de la Paix", "75002", "Paris"),
            Address("10 Downing Street", "SW1A 2AA", "London", country="GB"),
        ),
        phones=("+33612345678", "+33142345678"),
        emails=("jean.lefevre@example.com",),
        physician=Physician("Dr Martin", GOOD_RPPS),
        insurance=Insurance("01", "751", "Mutuelle Ouest", "123456"),
        clinical=Clinical(
            blood_group=BloodGroup("A", "+"),
            treatments=(Treatment("warfarine", "B01AA03"),),
        ),
        last_visit=date(2024, 1, 10),
    )
    return replace(patient, **changes)  # type: ignore[arg-type]


def test_valid_patient_returned_unchanged() -> None:
    patient = make_patient()
    assert validate_patient(patient, today=TODAY) is patient


def test_minimal_patient_is_valid() -> None:
    patient = Patient(
        id="p-1",
        lab_id="L01",
        birth_name="MARTIN",
        first_names=("Léa",),
        sex=Sex.UNKNOWN,
        birth_date=date(2001, 5, 4),
    )
    assert validate_patient(patient, today=TODAY) is patient


def test_patient_collects_every_problem() -> None:
    bad_phone = "+33 1 23"
    bad_email = "jean lefevre@example.com"
    patient = make_patient(
        birth_name="  ",
        first_names=(),
        sex=Sex.MALE,
        nir="285037505612306",  # valid key, but first digit says female
        birthplace_insee="2C004",
        addresses=(
            Address("3 rue de la Paix", "75002", "Paris"),
            Address("1 place X", "7500", "Paris"),
            Address("Abroad", "SW1A 2AA", "London", country="GB"),
        ),
        phones=("+33612345678", bad_phone),
        emails=(bad_email,),
        physician=Physician("Dr Martin", "10003456787"),
        insurance=Insurance("1", "75a"),
        clinical=Clinical(
            blood_group=BloodGroup("C", "positive"),
            pregnant=True,
            treatments=(Treatment("ok", "B01AA03"), Treatment("bad", "E01")),
        ),
    )
    with pytest.raises(ValidationErrors) as exc:
        validate_patient(patient, today=TODAY)
    errors = {e.field: e.reason for e in exc.value.errors}
    assert set(errors) == {
        "birth_name",
        "first_names",
        "nir",
        "birthplace_insee",
        "addresses[1].postcode",
        "phones[1]",
        "emails[0]",
        "physician.rpps",
        "insurance.amo_regime",
        "insurance.amo_caisse",
        "clinical.blood_group.abo",
        "clinical.blood_group.rh",
        "clinical.treatments[1].atc",
        "clinical.pregnant",
    }
    assert errors["nir"] == "NIR does not match sex"
    assert errors["clinical.pregnant"] == "pregnancy recorded for a patient whose sex is not F"
    assert all(e.record == "p-7f3a" for e in exc.value.errors)
    assert isinstance(exc.value, ValidationError)
    message = str(exc.value)
    for secret in ("285037505612306", bad_phone, bad_email, "10003456787", "7500"):
        assert secret not in message


def test_patient_nir_checked_against_birth_date() -> None:
    patient = make_patient(birth_date=date(1985, 4, 2))
    with pytest.raises(ValidationErrors) as exc:
        validate_patient(patient, today=TODAY)
    assert [(e.field, e.reason) for e in exc.value.errors] == [
        ("nir", "NIR does not match birth month")
    ]


def test_patient_stored_values_must_be_canonical() -> None:
    patient = make_patient(
        nir="1 85 03 75 056 123 56",
        phones=("06 12 34 56 78",),
        clinical=Clinical(treatments=(Treatment("warfarine", "b01aa03"),)),
    )
    with pytest.raises(ValidationErrors) as exc:
        validate_patient(patient, today=TODAY)
    fields = [e.field for e in exc.value.errors]
    assert fields == ["nir", "phones[0]", "clinical.treatments[0].atc"]


def test_patient_pregnancy_allowed_for_female() -> None:
    patient = make_patient(
        sex=Sex.FEMALE,
        nir="285037505612306",
        clinical=Clinical(pregnant=True),
    )
    assert validate_patient(patient, today=TODAY) is patient


@pytest.mark.parametrize("sex", [Sex.MALE, Sex.UNKNOWN])
def test_patient_pregnancy_rejected_unless_female(sex: Sex) -> None:
    patient = make_patient(sex=sex, clinical=Clinical(pregnant=True))
    with pytest.raises(ValidationErrors) as exc:
        validate_patient(patient, today=TODAY)
    assert [e.field for e in exc.value.errors] == ["clinical.pregnant"]


def test_patient_dates() -> None:
    patient = make_patient(
        birth_date=date(2030, 3, 1),
        nir=None,
        last_visit=date(2030, 1, 1),
        first_names=("Jean", " "),
    )
    with pytest.raises(ValidationErrors) as exc:
        validate_patient(patient, today=TODAY)
    errors = {e.field: e.reason for e in exc.value.errors}
    assert errors == {
        "first_names[1]": "must not be empty",
        "birth_date": "birth date is in the future",
        "last_visit": "last visit is in the future",
    }


def test_patient_last_visit_before_birth() -> None:
    patient = make_patient(last_visit=date(1980, 1, 1))
    with pytest.raises(ValidationErrors, match="last_visit"):
        validate_patient(patient, today=TODAY)


NOW = datetime(2024, 6, 15, 10, 30, tzinfo=UTC)


def make_specimen(**changes: object) -> Specimen:
    specimen = Specimen(
        id="s-19c",
        patient_id="p-7f3a",
        lab_id="L07",
        accession="24A0001234",
        collected_at=NOW - timedelta(hours=2),
        specimen_type="sang veineux",
        prescriber=Physician("Dr Martin", GOOD_RPPS),
    )
    return replace(specimen, **changes)  # type: ignore[arg-type]


def test_valid_specimen() -> None:
    specimen = make_specimen()
    assert validate_specimen(specimen, now=NOW) is specimen
    assert validate_specimen(specimen) is specimen
    naive = make_specimen(collected_at=datetime(2020, 1, 1, 8, 0), prescriber=None)
    assert validate_specimen(naive) is naive


def test_specimen_collects_every_problem() -> None:
    specimen = make_specimen(
        accession=" ",
        collected_at=NOW + timedelta(minutes=5),
        prescriber=Physician("Dr Martin", "1234"),
    )
    with pytest.raises(ValidationErrors) as exc:
        validate_specimen(specimen, now=NOW)
    errors = {e.field: e.reason for e in exc.value.errors}
    assert set(errors) == {"accession", "collected_at", "prescriber.rpps"}
    assert errors["collected_at"] == "collection time is in the future"
    assert all(e.record == "s-19c" for e in exc.value.errors)


def test_specimen_naive_and_aware_mix_is_reported() -> None:
    specimen = make_specimen(collected_at=datetime(2024, 6, 15, 8, 0))
    with pytest.raises(ValidationErrors, match="naive"):
        validate_specimen(specimen, now=NOW)


# ----------------------------------------------------------- no value in messages

BAD_VALUES = [
    (validate_nir, "295109912611199"),
    (validate_nir, "253072C07300443"),
    (validate_nir, "2951099126111934"),
    (lambda v: validate_nir(v, sex=Sex.MALE), "292069912304541"),
    (lambda v: validate_nir(v, birth_date=date(1990, 6, 1)), "292069912304541"),
    (lambda v: validate_nir(v, birth_date=date(1992, 7, 1)), "292069912304541"),
    (normalize_phone, "+33 6 12 34"),
    (normalize_phone, "zzz-secret-phone"),
    (validate_email, "jean.secret@@example.com"),
    (validate_email, "jean secret@example.com"),
    (validate_email, "jean.secret<x>@example.com"),
    (validate_email, "jean.secret@exa mple.com"),
    (validate_rpps, "10003456787"),
    (validate_rpps, "secret-rpps"),
    (validate_finess, "750712185"),
    (validate_blood_group, "Z-secret"),
    (validate_atc, "Z99ZZ99"),
    (validate_insee_commune, "7C056"),
    (validate_postcode, "75O01"),
]


@pytest.mark.parametrize(("validator", "value"), BAD_VALUES)
def test_error_messages_never_contain_the_value(validator: object, value: str) -> None:
    assert callable(validator)
    with pytest.raises(ValidationError) as exc:
        validator(value)
    assert value not in str(exc.value)
    assert value not in exc.value.reason
    assert "secret" not in str(exc.value)


@settings(max_examples=100)
@given(valid_nirs(), st.integers(0, 99))
def test_nir_errors_never_contain_the_digits(value: str, key: int) -> None:
    wrong = value[:13] + f"{key:02d}"
    for candidate, kwargs in (
        (wrong, {}),
        (value, {"birth_date": date(1901 + (int(value[1:3]) % 98), 1, 1)}),
    ):
        try:
            validate_nir(candidate, **kwargs)  # type: ignore[arg-type]
        except ValidationError as exc:
            assert candidate not in str(exc)
            assert candidate[:13] not in str(exc)


_ATEXT = "abcXYZ019!#$%&'*+/=?^_`{|}~-.é"


@settings(max_examples=400, deadline=None)
@given(
    local=st.text(alphabet=_ATEXT, min_size=1, max_size=70),
    domain=st.sampled_from(
        [
            "orange.fr",
            "GMAIL.com",
            "exemple.test",
            "localhost",
            "a..b.fr",
            "xn--bcher-kva.de",
            "bücher.de",
            "-bad.fr",
            "labo-" + "x" * 60 + ".fr",
            "free.fr",
        ]
    ),
)
def test_the_email_fast_path_answers_like_email_validator(local: str, domain: str) -> None:
    value = f"{local}@{domain}"
    try:
        expected: str | None = str(
            email_validator.validate_email(value, check_deliverability=False).normalized
        )
    except email_validator.EmailNotValidError:
        expected = None
    try:
        got: str | None = validate_email(value)
    except ValidationError:
        got = None
    assert got == expected


def _by_phonenumbers(value: str) -> str | None:
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


@settings(max_examples=600, deadline=None)
@given(
    prefix=st.sampled_from(["0", "+33", "0033", "+33 ", "00 33 ", "+330", "33", ""]),
    digits=st.text(alphabet="0123456789", min_size=8, max_size=10),
    separator=st.sampled_from(["", " ", ".", "-", "  "]),
)
def test_the_phone_fast_path_answers_like_phonenumbers(
    prefix: str, digits: str, separator: str
) -> None:
    value = prefix + separator.join(digits[i : i + 2] for i in range(0, len(digits), 2))
    try:
        got: str | None = normalize_phone(value)
    except ValidationError:
        got = None
    assert got == _by_phonenumbers(value)


@settings(max_examples=300, deadline=None)
@given(national=st.integers(100_000_000, 999_999_999).map(str))
def test_the_french_number_check_answers_like_phonenumbers(national: str) -> None:
    """Every 9-digit national number: our one-alternation check, phonenumbers' type by type."""
    value = "0" + national
    try:
        got: str | None = normalize_phone(value)
    except ValidationError:
        got = None
    assert got == _by_phonenumbers(value)


def _nir_candidates() -> st.SearchStrategy[str]:
    """Well-shaped NIRs with right and wrong keys, Corsica, case and separators, and noise."""
    digits = st.integers(0, 10**13 - 1).map(lambda n: f"{n:013d}")
    body = st.tuples(digits, st.sampled_from(["", "", "2A", "2B", "2a"])).map(
        lambda b: b[0] if not b[1] else b[0][:5] + b[1] + b[0][7:]
    )

    def keyed(b: tuple[str, int]) -> str:
        key = int(stdnum_nir.calc_check_digits(b[0].upper())) + b[1]
        return f"{b[0]}{key % 100:02d}"

    good = st.tuples(body, st.integers(-1, 1)).map(keyed)
    noise = st.text(alphabet="0123456789ABab .-", min_size=12, max_size=18)
    return st.one_of(good, noise, good.map(lambda v: f"{v[:1]} {v[1:3]}.{v[3:]}"))


@settings(max_examples=400, deadline=None)
@given(value=_nir_candidates())
def test_the_nir_key_check_answers_like_stdnum(value: str) -> None:
    compact = value.upper().replace(" ", "").replace(".", "").replace("-", "")
    try:
        stdnum_nir.validate(compact)
        expected = "ok"
    except stdnum_nir.InvalidChecksum:
        expected = "check key"
    except stdnum_nir.InvalidLength:
        expected = "length"
    except stdnum_nir.ValidationError:
        expected = "format"
    try:
        validate_nir(value)
        got = "ok"
    except ValidationError as refused:
        reason = refused.reason
        got = next((k for k in ("check key", "length", "format") if k in reason), "ok")
    assert got == expected


@settings(max_examples=500, deadline=None)
@given(digits=st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_the_luhn_check_answers_like_stdnum(digits: str) -> None:
    from etanche.domain._validate import luhn_valid

    assert luhn_valid(digits) == luhn.is_valid(digits)
    assert luhn_valid(luhn_complete(digits))
