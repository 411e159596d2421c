"""Vectorised value tests: the NIR key (Corsica too), French phones, dates, header hints."""

from __future__ import annotations

import polars as pl
import pytest
from stdnum.fr import nir as stdnum_nir

from etanche.leak.scan import _values as v
from etanche.leak.scan._hints import hint_for
from etanche.leak.scan._mask import mask


def _nir(body: str) -> str:
    return body + stdnum_nir.calc_check_digits(body)


def _eval(expr: pl.Expr, values: list[str | None]) -> list[object]:
    frame = pl.DataFrame({"x": values}, schema={"x": pl.String})
    return frame.select(expr.alias("out"))["out"].to_list()


def test_nir_key_checked_with_integer_arithmetic_including_corsica() -> None:
    good = [_nir("1850578006084"), _nir("292022A123456"), _nir("185052B123456")]
    spaced = " ".join(
        [
            good[0][0],
            good[0][1:3],
            good[0][3:5],
            good[0][5:7],
            good[0][7:10],
            good[0][10:13],
            good[0][13:],
        ]
    )
    wrong = good[0][:13] + f"{(int(good[0][13:]) % 96) + 1:02d}"
    got = _eval(
        v.nir_valid(v.compact_nir(pl.col("x"))), [*good, spaced, wrong, "985057800608436", None]
    )
    assert got == [True, True, True, True, False, False, False]


@pytest.mark.parametrize(
    "value",
    [
        "06 12 34 56 78",
        "0612345678",
        "06.12.34.56.78",
        "+33 6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "0033612345678",
    ],
)
def test_french_phone_writings_normalise_to_e164(value: str) -> None:
    assert _eval(v.phone_e164(pl.col("x")), [value]) == ["+33612345678"]


@pytest.mark.parametrize(
    "value", ["123,45", "CMD-000123", "00 12 34 56 78", "06 12 34 56", "2021-03-12"]
)
def test_not_phones(value: str) -> None:
    assert _eval(v.phone(pl.col("x")), [value]) == [False]


def test_birth_dates_parse_usual_writings_and_reject_impossible_ones() -> None:
    got = _eval(
        v.birth_date(pl.col("x")).dt.to_string(),
        ["07/05/1985", "1985-05-07", "31/02/1985", "07/05/2199", "lundi"],
    )
    assert got == ["1985-05-07", "1985-05-07", None, None, None]


def test_iban_checksum() -> None:
    assert v.iban_valid("FR76 3000 6000 0112 3456 7890 189")
    assert not v.iban_valid("FR76 3000 6000 0112 3456 7890 188")


@pytest.mark.parametrize(
    ("header", "role"),
    [
        ("NIR", "nir"),
        ("n° sécu", "nir"),
        ("SSN", "nir"),
        ("tel", "phone"),
        ("Téléphone", "phone"),
        ("mail", "email"),
        ("Adresse e-mail", "email"),
        ("nom", "birth_name"),
        ("Nom de naissance", "birth_name"),
        ("prenom", "first_names"),
        ("first_name", "first_names"),
        ("ddn", "birth_date"),
        ("Date de naissance", "birth_date"),
        ("dob", "birth_date"),
        ("Lieu de naissance", "birthplace"),
        ("adresse", "street"),
        ("cp", "postcode"),
        ("mot de passe", "secret"),
        ("password", "secret"),
        ("Identifiant portail", "login"),
        ("groupe sanguin", "blood_group"),
        ("Commentaire 1", "free_text"),
        ("N° commande", None),
        ("Date dernière visite", "last_visit"),
        ("RPPS médecin", "rpps"),
        ("Médecin traitant", "physician"),
        ("Régime", "regime"),
        ("Caisse", "caisse"),
        ("Mutuelle", "mutuelle"),
        ("N° adhérent", "member_number"),
        ("N° dossier", "file_number"),
        ("Code labo", None),
        ("Statut identité", None),
    ],
)
def test_header_hints_in_french_and_english(header: str, role: str | None) -> None:
    assert hint_for(header) == role


def test_masks_keep_the_kind_not_the_value() -> None:
    nir = _nir("1850578006084")
    assert mask("nir", nir) == f"1 85 ** ** *** *** {nir[13:]}"
    assert mask("phone", "06 12 34 56 78") == "06 ** ** ** 78"
    assert mask("email", "jeanne.martin@orange.fr") == "j***@o***.fr"
    assert mask("secret", "Tr0ub4dor&3") == "******** (11 characters)"
    assert mask("birth_name", "Lefèvre") == "L******"
    assert "12" not in mask("street", "12 rue de la Paix")
