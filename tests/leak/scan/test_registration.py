"""The 2020 leak's shape: registration data found, counted per person and per record.

The legacy flat export holds, beside identity and comments, the insurance, the
lab's file number, the date of the last visit and the treating physician with
their RPPS: health data under GDPR recital 35. A person counts once per category
however many cells they fill (an address is three cells, one person).
"""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import polars as pl
import pytest

from etanche.exchange import write_legacy_csv
from etanche.leak.scan import (
    CATEGORY_LABELS,
    CONCEPT_LABELS,
    ScanReport,
    plan_table,
    render_html,
    role_mask,
    scan_paths,
)
from etanche.synth import SynthConfig, generate

NETWORK = generate(SynthConfig(patients=200, labs=2, seed=8))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ScanReport:
    path = tmp_path_factory.mktemp("legacy") / "export.csv"
    write_legacy_csv(NETWORK, path)
    return scan_paths([path])


def test_registration_columns_are_categories_of_their_own(report: ScanReport) -> None:
    found = report.to_dict()["categories"]
    assert found["insurance"]["columns"] == ["Régime", "Caisse", "Mutuelle", "N° adhérent"]
    assert found["file_number"]["columns"] == ["N° dossier"]
    assert found["last_visit"]["columns"] == ["Date dernière visite"]
    assert found["rpps"]["columns"] == ["RPPS médecin"]
    assert "Date dernière visite" not in found["birth_date"]["columns"]
    patients = list(NETWORK.patients())
    assert found["file_number"]["persons"] == len(patients)
    with_rpps = {p.physician.rpps for p in patients if p.physician}
    assert report.physicians == len(with_rpps) and report.physicians_rpps


def test_persons_and_records_are_counted_apart_from_cells(report: ScanReport) -> None:
    address = report.categories["address"]
    housed = sum(1 for p in NETWORK.patients() if p.addresses)
    assert address.persons == address.rows == housed
    assert address.count > 2 * housed  # street, postcode, city: cells, not persons
    for finding in report.categories.values():
        assert finding.persons <= finding.rows <= finding.count or finding.category == "ins_traits"


def test_health_is_broken_down_by_concept(report: ScanReport) -> None:
    concepts = report.to_dict()["health_concepts"]
    assert set(concepts) <= {"hiv", "pregnancy", "hepatitis", "cancer", "other"}
    assert concepts and all(c["persons"] <= c["rows"] for c in concepts.values())
    assert sum(c["rows"] for c in concepts.values()) >= report.categories["health"].rows


def test_the_dpos_html_report_is_french_with_a_chart_and_no_codes(report: ScanReport) -> None:
    page = render_html(report)
    assert '<html lang="fr">' in page and "<svg" in page and "<rect" in page
    assert "<script" not in page and "http" not in page
    assert "personnes distinctes dans le fichier" in page
    assert "médecins traitants nommés" in page
    text = unescape(re.sub(r"<[^>]+>", " ", page))
    for name in report.categories:
        assert CATEGORY_LABELS[name] in text
    for concept in report.concepts:
        assert CONCEPT_LABELS[concept] in text
    for code in ("other_condition", "file_number", "last_visit", "blood_group", "free text"):
        assert code not in text


def test_the_html_report_totals_our_recognised_patients(report: ScanReport) -> None:
    matched = ScanReport(
        files=report.files,
        rows=report.rows,
        persons=report.persons,
        categories=report.categories,
        vault_matches={"L01": 30, "L02": 12},
    )
    page = render_html(matched)
    assert "<b>42</b>patients reconnus parmi les nôtres" in page
    assert f"<b>{report.persons - 42}</b>personnes" in page


def test_a_column_of_order_dates_is_not_a_last_visit(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("N° commande;date commande\n" + "CMD-1;12/03/2021\n" * 20, encoding="utf-8")
    assert not {"last_visit", "file_number"} & set(scan_paths([path]).categories)


def test_visit_dates_are_parsed_in_the_writings_the_sample_shows() -> None:
    """Like birth dates: a column of dd/mm/yyyy visits is tested in that writing only."""
    sample = pl.DataFrame({"Date dernière visite": ["12/03/2021", "03/08/2015", ""] * 10})
    [role] = [r for r in plan_table(sample).roles if r.role == "last_visit"]
    assert role.formats == ("%d/%m/%Y",)
    mixed = pl.DataFrame({"Date dernière visite": ["12/03/2021", "2015-08-03"] * 10})
    [role] = [r for r in plan_table(mixed).roles if r.role == "last_visit"]
    assert role.formats == ("%d/%m/%Y", "%Y-%m-%d")
    found = pl.DataFrame({"Date dernière visite": ["01/02/2022", "2022-02-01", "31/02/2022"]})
    cells = found.select(role_mask("last_visit", "Date dernière visite", role.formats))
    assert cells.to_series().to_list() == [True, True, False]
