"""The art. 34 letters as a patient reads them: each tells that patient what concerns them.

Letters are written straight from synthetic patients (no vault): what each one's
rows held is given as the matching step keeps it, and the PDF text is read back
as a person would read it.
"""

from __future__ import annotations

import json
import re
import stat
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _pdftext import pages

from etanche.domain import Patient, Sex
from etanche.leak.incident import INDEX, parse_circumstances
from etanche.leak.incident._letters import (
    UNREACHABLE,
    LetterText,
    dpo_role,
    fr_date,
    letter_text,
    write_letters,
)
from etanche.leak.incident._model import Entry, Incident
from etanche.synth import SynthNetwork

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
CONTACT = "Anne Le Roux, DPO, dpo@labos-iroise.example, 02 98 00 00 00"
IDENTITY = frozenset({"name", "birth_date", "address", "nir"})


def incident(*, filed: bool = False) -> Incident:
    report = {
        "rows": 40,
        "persons": 40,
        "special_category": True,
        "categories": {
            c: {"count": 40, "columns": [c], "confidence": 0.9, "samples": []}
            for c in ("nir", "name", "birth_date", "address", "health", "credential")
        },
    }
    return Incident(
        id="INC-20261130-abcdef",
        state="open",
        title="Fichier retrouvé",
        discovered_at=T0,
        opened_at=T0 + timedelta(hours=1),
        opened_by="aleroux",
        circumstances=parse_circumstances(["published", "malicious"]),
        timeline=(
            Entry(T0, "aleroux", "measure", "Journaux conservés comme preuves sur le serveur S3."),
        ),
        report=report,
        notified_at=T0 + timedelta(hours=20) if filed else None,
    )


def text(*, filed: bool = False, dpo_sex: Sex | None = None) -> LetterText:
    return letter_text(
        incident(filed=filed), dpo_name="Anne Le Roux", dpo_contact=CONTACT, dpo_sex=dpo_sex
    )


def of_sex(network: SynthNetwork, sex: Sex, n: int = 1) -> list[Patient]:
    return [p for p in network.patients() if p.sex is sex and p.addresses][:n]


def written(
    tmp_path: Path,
    patients: list[Patient],
    exposures: dict[str, frozenset[str]],
    network: SynthNetwork,
    letters: LetterText | None = None,
) -> dict[str, str]:
    """Patient id -> the text of that patient's page."""
    out = tmp_path / "lettres"
    labs = {lab.id: lab for lab in network.labs}
    run = write_letters(
        patients, out, letters or text(), labs=labs, exposures=exposures, batch=3, now=NOW
    )
    index = json.loads((out / INDEX).read_text())
    ids = [x["patient"] for f in index["files"] for x in f["letters"]]
    texts = [" ".join(page.split()) for name in run.files for page in pages(out / name)]
    return dict(zip(ids, texts, strict=True))


def test_a_mans_letter_never_mentions_pregnancy(
    small_network: SynthNetwork, tmp_path: Path
) -> None:
    (man,) = of_sex(small_network, Sex.MALE)
    (woman,) = of_sex(small_network, Sex.FEMALE)
    held = IDENTITY | {"health", "health:pregnancy"}
    pages_ = written(tmp_path, [man, woman], {man.id: held, woman.id: held}, small_network)
    for page in pages_.values():
        assert not re.search(r"grossesse|enceinte|pregnan", page, re.I)
    assert "Monsieur," in pages_[man.id] and "Madame," in pages_[woman.id]
    assert "informations relatives à votre santé" in pages_[man.id]


def test_a_patient_without_credentials_is_not_told_to_change_a_portal_password(
    small_network: SynthNetwork, tmp_path: Path
) -> None:
    without, with_ = of_sex(small_network, Sex.FEMALE, 2)
    exposures = {without.id: IDENTITY, with_.id: IDENTITY | {"credential"}}
    pages_ = written(tmp_path, [without, with_], exposures, small_network)
    assert "mot de passe de votre espace" not in pages_[without.id]
    assert "identifiants de connexion" not in pages_[without.id]
    assert "Changez le mot de passe de votre espace de résultats" in pages_[with_.id]


def test_an_hiv_patient_is_told_of_a_serious_condition_without_its_name(
    small_network: SynthNetwork, tmp_path: Path
) -> None:
    hiv, other = of_sex(small_network, Sex.MALE, 2)
    exposures = {hiv.id: IDENTITY | {"health", "health:hiv"}, other.id: IDENTITY}
    pages_ = written(tmp_path, [hiv, other], exposures, small_network)
    page = pages_[hiv.id]
    for word in ("VIH", "HIV", "séropositi", "seropositi", "sida"):
        assert word.lower() not in page.lower()
    assert "données de santé relatives à une affection grave vous concernant" in page
    assert "affection grave" not in pages_[other.id]
    assert "santé" not in pages_[other.id].split("Les conséquences possibles")[0]


def test_unreachable_patients_are_listed_apart_with_the_reason(
    small_network: SynthNetwork, tmp_path: Path
) -> None:
    patients = of_sex(small_network, Sex.FEMALE, 5)
    homeless = {patients[1].id, patients[3].id}
    patients = [replace(p, addresses=()) if p.id in homeless else p for p in patients]
    out = tmp_path / "lettres"
    labs = {lab.id: lab for lab in small_network.labs}
    run = write_letters(patients, out, text(), labs=labs, exposures={}, now=NOW)
    assert run.letters == 3 and run.without_address == 2
    listed = json.loads((out / UNREACHABLE).read_text())
    assert {x["patient"] for x in listed["patients"]} == homeless and listed["count"] == 2
    assert all(x["reason"] == "aucune adresse postale enregistrée" for x in listed["patients"])
    index = json.loads((out / INDEX).read_text())
    lettered = {x["patient"] for f in index["files"] for x in f["letters"]}
    assert lettered == {p.id for p in patients} - homeless
    assert index["without_address"] == 2
    assert stat.S_IMODE((out / UNREACHABLE).stat().st_mode) == 0o600
    assert stat.S_IMODE(out.stat().st_mode) == 0o700


def test_date_in_words_closing_formula_sender_and_dpo(
    small_network: SynthNetwork, tmp_path: Path
) -> None:
    (woman,) = of_sex(small_network, Sex.FEMALE)
    (man,) = of_sex(small_network, Sex.MALE)
    letters = text(dpo_sex=Sex.FEMALE)
    pages_ = written(
        tmp_path, [woman, man], {woman.id: IDENTITY, man.id: IDENTITY}, small_network, letters
    )
    lab = next(lab for lab in small_network.labs if lab.id == woman.lab_id)
    page = pages_[woman.id]
    assert f"{lab.city}, le 2 décembre 2026" in page
    assert "Le 30 novembre 2026, nous avons découvert" in page
    assert not re.search(r"\d{2}/\d{2}/\d{4}", page)
    assert "Nous vous prions d'agréer, Madame, l'expression de nos salutations distinguées." in page
    assert (
        "Nous vous prions d'agréer, Monsieur, l'expression de nos salutations distinguées."
        in pages_[man.id]
    )
    assert lab.street and lab.street in page and f"{lab.postcode} {lab.city.upper()}" in page
    assert "Déléguée à la protection des données" in page
    assert "Anne Le Roux (Anne Le Roux" not in page and page.count("Anne Le Roux") == 2
    assert "dpo@labos-iroise.example, 02 98 00 00 00" in page


def test_the_cnil_is_named_only_once_filed_and_dpo_notes_stay_out(
    small_network: SynthNetwork, tmp_path: Path
) -> None:
    (patient,) = of_sex(small_network, Sex.FEMALE)
    draft = written(tmp_path / "a", [patient], {patient.id: IDENTITY}, small_network)
    filed = written(
        tmp_path / "b", [patient], {patient.id: IDENTITY}, small_network, text(filed=True)
    )
    assert "signalé cette violation" not in draft[patient.id]
    assert "Nous avons signalé cette violation à la Commission nationale" in filed[patient.id]
    assert "le 1 décembre 2026" not in filed[patient.id]
    for page in (draft[patient.id], filed[patient.id]):
        assert "Journaux conservés" not in page and "S3" not in page


@pytest.mark.parametrize(
    ("sex", "role"),
    [
        (Sex.FEMALE, "Déléguée à la protection des données"),
        (Sex.MALE, "Délégué à la protection des données"),
        (None, "Délégué(e) à la protection des données"),
    ],
)
def test_the_dpos_title_agrees_with_what_is_known(sex: Sex | None, role: str) -> None:
    assert dpo_role(sex) == role


def test_french_dates_in_words() -> None:
    assert fr_date(datetime(2026, 12, 2, 10, tzinfo=UTC)) == "2 décembre 2026"
    assert fr_date(datetime(2026, 3, 1, 10, tzinfo=UTC)) == "1er mars 2026"
    # Paris time: 23:30 UTC on 31 July is already 1 August there
    assert fr_date(datetime(2026, 7, 31, 23, 30, tzinfo=UTC)) == "1er août 2026"


def test_the_scan_keeps_what_each_rows_identifiers_held(tmp_path: Path) -> None:
    from etanche.leak.scan import scan_paths
    from etanche.leak.scan._vault_match import IdentifierSet

    found = tmp_path / "found.csv"
    found.write_text(
        "nom;prenom;ddn;email;mot de passe;commentaire\n"
        "DUPONT;Jean;12/03/1980;jean.dupont@example.org;;RAS\n"
        "MARTIN;Claire;01/02/1975;claire.martin@example.org;Secret123!;patiente VIH positive\n"
    )
    ids = IdentifierSet()
    scan_paths([found], identifiers=ids)
    by_email = {row[3]: set(e.split()) for row, e in zip(ids.rows, ids.exposures(), strict=True)}
    assert "credential" not in by_email["jean.dupont@example.org"]
    assert not any(t.startswith("health") for t in by_email["jean.dupont@example.org"])
    assert {"credential", "health", "health:hiv"} <= by_email["claire.martin@example.org"]
    # tokens only: no value of the row travels with them
    assert not any("Secret" in t or "martin" in t for t in by_email["claire.martin@example.org"])


def test_what_was_done_is_told_in_words_for_patients_never_the_dpos_notes(
    small_network: SynthNetwork, tmp_path: Path
) -> None:
    (patient,) = of_sex(small_network, Sex.MALE)
    note = "Reset MDP via script SQL sur la base prod (ticket 4412)."
    done = replace(
        incident(),
        timeline=(
            Entry(T0, "aleroux", "measure", note, "passwords"),
            Entry(T0, "aleroux", "planned", "Plainte à déposer lundi.", "complaint"),
        ),
    )
    letters = letter_text(done, dpo_name="Anne Le Roux", dpo_contact=CONTACT)
    page = written(tmp_path, [patient], {patient.id: IDENTITY}, small_network, letters)[patient.id]
    assert "Les mots de passe du portail de résultats d'analyses ont été réinitialisés" in page
    assert "Nous recherchons l'origine de la copie" in page
    for words in ("script SQL", "ticket", "Plainte à déposer", "Nous avons déposé plainte"):
        assert words not in page  # neither the note nor a plan not yet carried out
