"""The register of processing (art. 30): built from the labs, the retention rules, the rules."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from etanche.audit._rules import load_rules
from etanche.domain import Lab, load_retention
from etanche.errors import ConfigError
from etanche.migrate import PlanRecord
from etanche.service import Core
from etanche.service._register import TITLE, build_register
from etanche.synth import SynthConfig, generate
from etanche.vault import parse_location

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


def _pdftext() -> ModuleType:
    """The PDF text reader of the incident tests (fpdf2's glyph runs back to text)."""
    path = Path(__file__).parents[1] / "leak" / "incident" / "_pdftext.py"
    spec = importlib.util.spec_from_file_location("_register_pdftext", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _plan() -> PlanRecord:
    return PlanRecord(
        id="PLAN-7",
        sha256="0" * 64,
        state="approved",
        registered_by="jmorvan",
        registered_at="2026-12-01T10:00:00+00:00",
        approvals=(),
        expires_at=None,
        purpose="bascule vers le nouveau SIL",
        recipients=("Éditeur SIL Nova",),
        labs=("L01",),
    )


@pytest.fixture(scope="module")
def labs() -> tuple[Lab, ...]:
    return generate(SynthConfig(patients=4, labs=3, seed=5)).labs


def test_lists_every_legal_entity_and_every_retention_category(labs: tuple[Lab, ...]) -> None:
    retention = load_retention()
    register = build_register(
        labs=labs, retention=retention, alert_rules=load_rules(), plans=[_plan()], now=NOW
    )
    text = register.to_markdown()
    assert text.startswith(f"# {TITLE}\n")
    assert "Réseau de 3 laboratoires" in text
    for lab in labs:
        assert lab.legal_name and f"{lab.legal_name} (SIREN {lab.siren})" in text
        assert lab.legal_address in text and lab.finess in text
    for rule in retention:
        assert f"{rule.label} : {rule.duration_fr} {rule.start_fr}. Source : {rule.source}." in text
    assert "Éditeur SIL Nova : migration PLAN-7 (bascule vers le nouveau SIL)" in text
    assert "Aucun transfert de données vers un pays tiers" in text
    assert "Règles d'alerte actives : Accès d'urgence (bris de glace) ; " in text
    rules = text.split("Règles d'alerte actives : ", 1)[1].split("\n", 1)[0]
    for rule in load_rules():  # the rule codes stay in the configuration, not the document
        assert rule.name not in rules


def test_a_site_retention_file_shows_in_the_register(tmp_path: Path, labs: tuple[Lab, ...]) -> None:
    site = tmp_path / "retention.yaml"
    site.write_text(
        "categories:\n  specimens:\n    duration: 6mo\n    source: Procédure PR-12\n"
        "    confirmed: true\n",
        "utf-8",
    )
    register = build_register(
        labs=labs, retention=load_retention(site), alert_rules=load_rules(), plans=[], now=NOW
    )
    text = register.to_markdown()
    assert "6 mois à compter de la date du prélèvement. Source : Procédure PR-12. Vérifiée" in text
    assert f"règles de conservation : {site}" in text
    assert "Aucun destinataire de migration enregistré." in text


def test_the_pdf_renders_the_same_text(tmp_path: Path, labs: tuple[Lab, ...]) -> None:
    register = build_register(
        labs=labs, retention=load_retention(), alert_rules=load_rules(), plans=[], now=NOW
    )
    data = register.to_pdf()
    assert data.startswith(b"%PDF")
    path = tmp_path / "registre.pdf"
    path.write_bytes(data)
    text = " ".join(_pdftext().pages(path)).replace("\n", " ")
    assert "Registre des activités de traitement" in text
    assert "Durées de conservation" in text
    assert labs[0].legal_name in text


def test_a_bad_retention_file_stops_the_service_at_start(tmp_path: Path) -> None:
    site = tmp_path / "retention.yaml"
    site.write_text("categories:\n  tissues:\n    duration: 1y\n", "utf-8")
    with pytest.raises(ConfigError, match=r"line 2: categories.tissues: unknown category"):
        Core(parse_location(str(tmp_path / "v")), custody=None, retention=site)  # type: ignore[arg-type]
