"""The synthetic network: deterministic, realistic, and dirty only when asked."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from datetime import date, datetime

import phonenumbers
import pytest
from stdnum import luhn
from stdnum.fr import nir as stdnum_nir

from etanche.domain import Patient, Sex, Specimen
from etanche.domain._validate import validate_patient, validate_specimen
from etanche.errors import UsageError
from etanche.synth import SynthConfig, SynthNetwork, generate

N = 3_000
NW_CITIES = {
    "Rennes", "Brest", "Quimper", "Vannes", "Lorient", "Saint-Brieuc", "Nantes", "Angers",
    "Le Mans", "Caen", "Rouen", "Cherbourg-en-Cotentin", "Saint-Nazaire", "Le Havre", "Laval",
    "Saint-Lô", "Cholet", "Évreux", "Saint-Malo", "La Roche-sur-Yon", "Dieppe", "Alençon",
    "Morlaix", "Saumur", "Lisieux", "Lannion", "Vitré",
}  # fmt: skip
NW_DEPTS = {"29", "35", "56", "22", "44", "49", "72", "53", "85", "14", "76", "50", "27", "61"}
ACCESSION = re.compile(r"(L\d{2})(\d{2})(\d{2})(\d{2})\d{5}")


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@pytest.fixture(scope="module")
def network() -> SynthNetwork:
    return generate(SynthConfig(patients=N, seed=11))


@pytest.fixture(scope="module")
def pairs(network: SynthNetwork) -> list[tuple[Patient, list[Specimen]]]:
    return [pair for batch in network.batches(size=1_000) for pair in batch]


@pytest.fixture(scope="module")
def patients(pairs: list[tuple[Patient, list[Specimen]]]) -> list[Patient]:
    return [p for p, _ in pairs]


def test_same_seed_gives_equal_patients_and_specimens(
    pairs: list[tuple[Patient, list[Specimen]]],
) -> None:
    again = generate(SynthConfig(patients=N, seed=11))
    assert list(again.patients()) == [p for p, _ in pairs]
    for patient, specimens in pairs[:200]:
        assert again.specimens(patient) == specimens


def test_different_seed_gives_other_patients(patients: list[Patient]) -> None:
    other = list(generate(SynthConfig(patients=200, seed=12)).patients())
    assert {p.id for p in other}.isdisjoint(p.id for p in patients)
    assert [p.birth_name for p in other] != [p.birth_name for p in patients[:200]]


def test_counts_and_batches(network: SynthNetwork, patients: list[Patient]) -> None:
    assert len(patients) == N
    sizes = [len(b) for b in network.batches(size=700)]
    assert sizes == [700, 700, 700, 700, 200]
    with pytest.raises(UsageError):
        next(network.batches(size=0))


def test_ids_are_random_looking_hex_and_unique(patients: list[Patient]) -> None:
    assert all(re.fullmatch(r"[0-9a-f]{32}", p.id) for p in patients)
    assert len({p.id for p in patients}) == N


def test_thirty_labs_in_the_north_west(network: SynthNetwork, patients: list[Patient]) -> None:
    labs = network.labs
    assert len(labs) == 30
    assert len({lab.id for lab in labs}) == 30
    assert len({lab.finess for lab in labs}) == 30
    for lab in labs:
        assert lab.city in NW_CITIES
        assert re.fullmatch(r"\d{9}", lab.finess)
        assert lab.finess[:2] in NW_DEPTS
        assert luhn.is_valid(lab.finess)
        assert lab.name.startswith("Laboratoire de biologie médicale ")
    assert {p.lab_id for p in patients} == {lab.id for lab in labs}


def test_clean_nirs_are_valid_and_match_sex_and_birth(patients: list[Patient]) -> None:
    with_nir = [p for p in patients if p.nir is not None]
    assert 0.86 <= len(with_nir) / N <= 0.94
    for p in with_nir:
        assert p.nir is not None
        assert stdnum_nir.is_valid(p.nir), p.id
        assert p.nir[0] == ("1" if p.sex is Sex.MALE else "2")
        assert p.nir[1:3] == f"{p.birth_date.year % 100:02d}"
        assert p.nir[3:5] == f"{p.birth_date.month:02d}"
        assert p.nir[5:10] == p.birthplace_insee
    statuses = Counter(p.identity_status.value for p in patients)
    assert statuses["QUAL"] + statuses["VALI"] > 0.7 * N
    assert statuses["PROV"] > 0 and statuses["RECUP"] > 0
    assert all(p.nir for p in patients if p.identity_status.value in ("QUAL", "RECUP"))


def test_clean_patients_and_specimens_pass_the_domain_validators(
    pairs: list[tuple[Patient, list[Specimen]]],
) -> None:
    for patient, specimens in pairs:
        validate_patient(patient, today=date(2020, 11, 1))
        for specimen in specimens:
            validate_specimen(specimen, now=datetime(2020, 11, 1))


def test_corsican_and_foreign_births(patients: list[Patient]) -> None:
    places = [p.birthplace_insee or "" for p in patients]
    corsican = [x for x in places if x[:2] in ("2A", "2B")]
    foreign = [x for x in places if x.startswith("99")]
    assert 0.003 * N <= len(corsican) <= 0.02 * N
    assert 0.025 * N <= len(foreign) <= 0.06 * N
    assert any(p.nir and p.nir[5:7] in ("2A", "2B") for p in patients)
    assert any(p.nir and p.nir[5:7] == "99" for p in patients)


def test_identities_look_french(patients: list[Patient]) -> None:
    sexes = Counter(p.sex for p in patients)
    assert 0.45 < sexes[Sex.FEMALE] / N < 0.56
    assert set(sexes) == {Sex.MALE, Sex.FEMALE}
    assert all(1 <= len(p.first_names) <= 3 for p in patients)
    assert all(date(1920, 1, 1) <= p.birth_date <= date(2020, 10, 31) for p in patients)
    women = [p for p in patients if p.sex is Sex.FEMALE and p.birth_date.year <= 1995]
    assert 0.25 < sum(p.used_name is not None for p in women) / len(women) < 0.45
    assert not any(p.used_name for p in patients if p.sex is Sex.MALE)


def test_contacts_are_valid_and_regional(patients: list[Patient]) -> None:
    providers = {"orange.fr", "gmail.com", "wanadoo.fr", "free.fr", "laposte.net", "sfr.fr",
                 "hotmail.fr"}  # fmt: skip
    for p in patients:
        for phone in p.phones:
            number = phonenumbers.parse(phone)
            assert phonenumbers.is_valid_number(number)
            assert phone.startswith(("+336", "+337", "+332"))
        for address in p.addresses:
            assert address.postcode[:2] in NW_DEPTS
        for email in p.emails:
            assert email.split("@")[1] in providers
        if p.physician:
            assert re.fullmatch(r"10\d{9}", p.physician.rpps) and luhn.is_valid(p.physician.rpps)
        if p.insurance:
            assert p.insurance.amo_regime in ("01", "02", "03")
            assert re.fullmatch(r"\d{3}", p.insurance.amo_caisse)
    assert 0.45 < sum(bool(p.emails) for p in patients) / N < 0.65
    assert 0.80 < sum(p.physician is not None for p in patients) / N < 0.90
    amc = sum(bool(p.insurance and p.insurance.amc_name) for p in patients)
    assert 0.6 < amc / N < 0.8


def test_blood_group_rate_is_about_forty_percent(patients: list[Patient]) -> None:
    groups = [p.clinical.blood_group for p in patients if p.clinical.blood_group]
    assert 0.37 <= len(groups) / N <= 0.43
    assert {str(g) for g in groups} <= {"O+", "A+", "B+", "AB+", "O-", "A-", "B-", "AB-"}


def test_pregnancy_only_for_women_aged_18_to_45(patients: list[Patient]) -> None:
    pregnant = [p for p in patients if p.clinical.pregnant]
    assert pregnant
    for p in pregnant:
        assert p.sex is Sex.FEMALE and p.last_visit is not None
        assert 18 <= age_on(p.birth_date, p.last_visit) <= 45


def test_clinical_data_is_consistent(patients: list[Patient]) -> None:
    for p in patients:
        c = p.clinical
        atc = {t.atc for t in c.treatments}
        text = " | ".join(c.comments)
        assert len(c.comments) <= 2
        if "A10BA02" in atc:  # metformin
            assert "diabète de type 2" in c.pathologies
        if atc & {"J05AR03", "J05AX12", "J05AR20"}:
            assert "infection VIH" in c.pathologies
        if "H03AA01" in atc:
            assert "hypothyroïdie" in c.pathologies
        if "VIH" in text:
            assert "infection VIH" in c.pathologies
        if "enceinte" in text or " SA" in text:
            assert c.pregnant
        if "Pas de grossesse" in text:
            assert c.pregnant is False
        if "AVK" in text or "Previscan" in text:
            assert atc & {"B01AA03", "B01AA07", "B01AA12"}
        if "Diabét" in text:
            assert any(x.startswith("diabète") for x in c.pathologies)
        if "appeler" in text:
            assert p.phones
    assert any(c for p in patients for c in p.clinical.comments)


def test_specimens_dates_labs_and_accessions(
    network: SynthNetwork, pairs: list[tuple[Patient, list[Specimen]]]
) -> None:
    accessions: list[str] = []
    multi_lab = 0
    start, end = network.config.specimens_start, network.config.specimens_end
    for patient, specimens in pairs:
        assert 1 <= len(specimens) <= 8
        days = [s.collected_at.date() for s in specimens]
        assert all(start <= d <= end and d >= patient.birth_date for d in days)
        assert max(days) == patient.last_visit
        labs = {s.lab_id for s in specimens}
        assert patient.lab_id in labs and len(labs) <= 3
        multi_lab += len(labs) > 1
        for s in specimens:
            assert s.patient_id == patient.id
            match = ACCESSION.fullmatch(s.accession)
            assert match and match[1] == s.lab_id
            assert match[2] + match[3] + match[4] == s.collected_at.strftime("%y%m%d")
            accessions.append(s.accession)
    assert len(set(accessions)) == len(accessions)
    assert 0.10 < multi_lab / N < 0.20


def test_specimens_of_a_stranger_are_refused(
    network: SynthNetwork, patients: list[Patient]
) -> None:
    with pytest.raises(ValueError, match="not a patient"):
        network.specimens(replace(patients[0], id="0" * 32))
    with pytest.raises(ValueError, match="lab_id"):
        network.specimens(replace(patients[0], lab_id="L99"))


def test_dossier_numbers_are_unique_per_lab(network: SynthNetwork, patients: list[Patient]) -> None:
    numbers = {(p.lab_id, network.dossier_number(p)) for p in patients}
    assert len(numbers) == N


def test_invalid_nir_key_knob(patients: list[Patient]) -> None:
    dirty = list(generate(SynthConfig(patients=N, seed=11, invalid_nir_key=0.2)).patients())
    with_nir = [p for p in dirty if p.nir]
    invalid = [p for p in with_nir if p.nir and not stdnum_nir.is_valid(p.nir)]
    assert 0.17 <= len(invalid) / len(with_nir) <= 0.23
    # Same people as the clean network: only the key changed.
    for clean, bad in zip(patients, dirty, strict=True):
        assert clean.id == bad.id
        assert (clean.nir or "")[:13] == (bad.nir or "")[:13]


def test_typos_knob(patients: list[Patient]) -> None:
    dirty = list(generate(SynthConfig(patients=N, seed=11, typos=0.1)).patients())
    changed = [
        (c, d)
        for c, d in zip(patients, dirty, strict=True)
        if (c.birth_name, c.first_names) != (d.birth_name, d.first_names)
    ]
    assert 0.08 <= len(changed) / N <= 0.12
    for clean, bad in changed:
        assert clean.birth_date == bad.birth_date and clean.nir == bad.nir


def test_missing_fields_knob(patients: list[Patient]) -> None:
    dirty = list(generate(SynthConfig(patients=N, seed=11, missing_fields=0.3)).patients())
    for attr in ("phones", "emails", "addresses", "physician", "insurance"):
        before = sum(bool(getattr(p, attr)) for p in patients)
        after = sum(bool(getattr(p, attr)) for p in dirty)
        assert 0.62 < after / before < 0.78, attr


def test_duplicates_knob_registers_people_again_nearby_in_another_lab() -> None:
    net = generate(SynthConfig(patients=N, seed=11, duplicates_across_labs=0.1))
    dirty = list(net.patients())
    assert len({p.id for p in dirty}) == N

    def person(p: Patient) -> tuple[object, ...]:
        return (p.sex, p.birth_date, p.birthplace_insee, p.addresses)

    duplicates = 0
    for i, p in enumerate(dirty):
        earlier = [q for q in dirty[max(0, i - 12) : i] if person(q) == person(p)]
        if earlier:
            duplicates += 1
            assert all(q.lab_id != p.lab_id for q in earlier)
            assert len(net.specimens(p)) >= 1
    assert 0.08 <= duplicates / N <= 0.12


def test_bad_config_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="typos"):
        SynthConfig(typos=1.5)
    with pytest.raises(UsageError, match="labs"):
        SynthConfig(labs=0)


def test_small_networks_and_empty_ones() -> None:
    small = generate(SynthConfig(patients=50, labs=3, seed=1))
    assert len(small.labs) == 3
    assert {lab.city for lab in small.labs} == {"Rennes", "Nantes", "Caen"}
    assert len(list(small.patients())) == 50
    assert list(generate(SynthConfig(patients=0)).patients()) == []
