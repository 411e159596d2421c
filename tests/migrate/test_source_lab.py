"""A plan may assign one lab to a whole source file; rows naming another lab are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from etanche.crypto import AgeIdentity
from etanche.errors import ConfigError
from etanche.exchange import SourceRecord, open_source
from etanche.migrate import check_plan, load_plan
from etanche.migrate._select import outbound, select

SAMPLE = Path(__file__).parents[1] / "exchange" / "samples" / "ihe_pam_fr_a28.hl7"


def _plan(folder: Path, **source: Any) -> Path:
    data = {
        "plan": "pam-fr-2026-01",
        "controller": {"name": "Groupe BioNord", "labs": ["L01", "L02"]},
        "processor": {"name": "LabSoft SAS", "contact": "dpo@labsoft.example"},
        "purpose": "Move one lab's HL7 feed to the new lab system",
        "source": {"format": "hl7v2", "path": "feed.hl7", **source},
        "scope": {"labs": ["L01"]},
        "fields": {"admin": ["lab", "birth_name", "first_names", "sex", "birth_date", "nir"]},
        "recipients": [{"name": "NewLIS SAS", "age": AgeIdentity.generate().public_text()}],
        "retention": {"expires": "2099-12-31"},
        "approvers": [
            {"username": "cbernard", "role": "lab_admin"},
            {"username": "alefevre", "role": "dpo"},
        ],
    }
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    text = SAMPLE.read_text(encoding="utf-8")
    # Message 3 names another sending lab in its PI authority.
    third = text.index("IPP-0419^^^LABO_NORD")
    text = text[:third] + text[third:].replace("LABO_NORD&", "LABO_SUD&", 1)
    (tmp_path / "feed.hl7").write_text(text, encoding="utf-8")
    return tmp_path


def test_without_a_source_lab_the_file_codes_are_out_of_scope(folder: Path) -> None:
    report = check_plan(load_plan(_plan(folder))).to_dict()
    assert report["in_scope"] == 0 and report["out_of_scope"] == 5
    assert set(report["per_lab"]) == {"LABO_NORD", "LABO_SUD"}


def test_source_lab_assigns_the_whole_file_and_refuses_disagreeing_rows(folder: Path) -> None:
    plan = load_plan(_plan(folder, lab="L01", lab_in_file=["LABO_NORD"]))
    assert plan.source_lab == "L01" and plan.lab_in_file == ("LABO_NORD",)
    report = check_plan(plan).to_dict()
    assert report["records"] == 5 and report["in_scope"] == 5 and report["valid"] == 4
    assert set(report["per_lab"]) == {"L01"}
    (problem,) = report["problems"]["lab_disagrees"]
    assert problem["location"] == "message 3" and problem["field"] == "lab"
    assert "L01" in problem["reason"] and "LABO_SUD" not in problem["reason"]

    records = [r for r in open_source("hl7v2", folder / "feed.hl7") if isinstance(r, SourceRecord)]
    first = select(plan, records[0])
    assert first.valid and first.lab == "L01"
    assert outbound(plan, records[0], first)["fields"]["lab"] == "L01"


def test_rows_without_a_lab_take_the_source_lab(folder: Path) -> None:
    text = (folder / "feed.hl7").read_text(encoding="utf-8")
    text = text.replace("^^^LABO_NORD&1.2.250.1.71.4.2.2&ISO^PI", "")
    (folder / "feed.hl7").write_text(text.replace("|SIL_LABO|LABO_NORD|", "|SIL_LABO||"))
    report = check_plan(load_plan(_plan(folder, lab="L01"))).to_dict()
    assert report["valid"] == 4 and len(report["problems"]["lab_disagrees"]) == 1


def test_source_lab_must_be_in_scope_and_well_formed(folder: Path) -> None:
    with pytest.raises(ConfigError, match=r"source.*lab.*L02 not among scope\.labs"):
        load_plan(_plan(folder, lab="L02"))
    with pytest.raises(ConfigError, match="lab code"):
        load_plan(_plan(folder, lab="L 01"))
    with pytest.raises(ConfigError, match=r"lab_in_file.*only with source\.lab"):
        load_plan(_plan(folder, lab_in_file=["LABO_NORD"]))
