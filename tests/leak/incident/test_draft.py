"""The art. 33 draft read as the DPO copies it into the CNIL form, from a real scan.

The scanned file is the legacy flat export of a synthetic network (the 2020 leak's
shape: insurance, file numbers, last visits, physicians' RPPS, comments); the
draft is built from its report as the service would, without a vault.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from etanche.domain import Lab
from etanche.exchange import write_legacy_csv
from etanche.leak.incident import Entry, Incident, parse_circumstances
from etanche.leak.incident._model import Filing
from etanche.leak.incident._notification import build_notification
from etanche.leak.scan import CATEGORY_LABELS, CONCEPT_LABELS, scan_paths
from etanche.synth import SynthConfig, generate

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CONTACT = "Anne Le Roux, DPO, dpo@labos-iroise.example, 02 98 00 00 00"
NETWORK = generate(SynthConfig(patients=300, labs=3, seed=5))
LABS = {lab.id: lab for lab in NETWORK.labs}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    found = tmp_path_factory.mktemp("found") / "export.csv"
    write_legacy_csv(NETWORK, found)
    return scan_paths([found]).to_dict()


def incident(report: dict[str, Any] | None = None, **changes: Any) -> Incident:
    matched = {"L01": tuple(f"{n:032x}" for n in range(40)), "L02": ("f" * 32,)}
    base = Incident(
        id="INC-20261130-abcdef",
        state="open",
        title="Fichier de patients en vente sur Telegram",
        discovered_at=T0,
        opened_at=T0 + timedelta(hours=1),
        opened_by="aleroux",
        circumstances=parse_circumstances(["published", "malicious"]),
        timeline=(Entry(T0, "aleroux", "discovered", "Découverte de la violation."),),
        report=report,
        matched=matched,
        dpo_contact=CONTACT,
        dpo_sex="F",
    )
    return replace(base, **changes)


def draft(subject: Incident, hours: float = 30) -> str:
    return build_notification(
        subject,
        dpo_name="Anne Le Roux",
        dpo_contact=subject.dpo_contact,
        labs=LABS,
        now=T0 + timedelta(hours=hours),
    ).to_markdown()


def test_the_draft_lists_every_category_of_the_file_and_the_total_persons(
    report: dict[str, Any],
) -> None:
    text = draft(incident(report))
    found = report["categories"]
    assert {"insurance", "file_number", "last_visit", "rpps", "health", "nir"} <= set(found)
    for name, finding in found.items():
        line = f"{CATEGORY_LABELS[name]} : {finding['persons']} personnes, {finding['rows']} "
        assert line in text, name
    for concept in report["health_concepts"]:
        assert CONCEPT_LABELS[concept] in text
    persons, doctors = report["persons"], report["physicians"]["count"]
    assert persons == 300 and doctors > 0 and report["physicians"]["rpps"]
    assert f"dont 41 reconnues parmi nos patients et {persons - 41} non reconnues" in text
    assert f"Total : environ {persons + doctors} personnes" in text
    assert "patients des laboratoires et médecins traitants" in text
    assert "avec leur numéro RPPS" in text
    for code in ("other_condition", "file_number", "last_visit", "insurance", "rpps"):
        assert code not in text  # French labels only


def test_the_controllers_are_the_labs_legal_entities_and_the_dpo_is_named_once(
    report: dict[str, Any],
) -> None:
    text = draft(incident(report))
    entity = LABS["L01"]
    assert entity.legal_name and entity.legal_name in text
    siren = entity.siren
    assert f"SIREN {siren[:3]} {siren[3:6]} {siren[6:]}" in text and entity.legal_address in text
    assert "réseau Étanche" not in text and "laboratoire Laboratoire" not in text
    assert "Déléguée à la protection des données : Anne Le Roux — dpo@labos-iroise" in text
    assert text.count("Anne Le Roux") == 1 and "À COMPLÉTER" in text  # start of the breach
    unknown = {lab.id: Lab(lab.id, lab.name, lab.finess, lab.city) for lab in NETWORK.labs}
    bare = build_notification(
        incident(report), dpo_name="Anne Le Roux", dpo_contact=CONTACT, labs=unknown, now=T0
    ).to_markdown()
    assert "entité juridique (nom, SIREN, siège) À COMPLÉTER" in bare


def test_measures_taken_are_never_proposed_and_planned_ones_are_listed_apart() -> None:
    timeline = (
        Entry(T0, "aleroux", "measure", "Portail : mots de passe remis à zéro.", "passwords"),
        Entry(T0, "aleroux", "planned", "Plainte en cours de rédaction.", "complaint"),
        Entry(T0, "aleroux", "planned", "Audit du prestataire de maintenance."),
    )
    report = {
        "rows": 10,
        "persons": 10,
        "categories": {c: {"count": 10} for c in ("nir", "name", "credential")},
    }
    text = draft(incident(report, timeline=timeline))
    taken, planned = text.split("## Mesures prises")[1].split("## Mesures envisagées")
    planned = planned.split("## Information des personnes")[0]
    assert "mots de passe remis à zéro" in taken and "Audit" not in taken
    assert "réinitialiser les mots de passe" not in text  # done: not proposed again
    assert "déposer plainte" not in text and "Plainte en cours de rédaction (prévu" in planned
    assert "Audit du prestataire de maintenance (prévu, noté le 30 novembre 2026" in planned
    assert "Proposée : demander le retrait du fichier" in planned


def test_a_draft_after_the_deadline_carries_the_reasons_for_the_delay() -> None:
    reason = "Étendue connue seulement après l'analyse du fichier."
    late = draft(incident(delay_reason=reason), hours=80)
    assert f"Motifs du retard : {reason}" in late
    assert "Échéance dépassée : notification non encore déposée" in late
    # judged at filing, not at writing: filed in time, a later draft states no delay
    in_time = incident(
        notified_at=T0 + timedelta(hours=50), filings=(Filing(T0 + timedelta(hours=50), "CNIL-1"),)
    )
    supplement = draft(in_time, hours=200)
    assert "dans le délai de 72 heures" in supplement and "Motifs du retard" not in supplement
    assert "Notification complémentaire n° 1" in supplement
    assert (
        "Notification initiale déposée le 2 décembre 2026 à 12 h 00, référence CNIL-1" in supplement
    )
    filed_late = incident(
        notified_at=T0 + timedelta(hours=75), filings=(Filing(T0 + timedelta(hours=75)),)
    )
    assert "Motifs du retard : À COMPLÉTER" in draft(filed_late, hours=76)
    # written before the deadline but not yet filed: no claim of being in time
    early = draft(incident(), hours=10)
    assert "À déposer avant l'échéance" in early and "dans le délai de 72" not in early


def test_dates_are_french_words_in_paris_time() -> None:
    text = draft(incident(), hours=30)
    assert "Découverte : le 30 novembre 2026 à 10 h 00" in text
    assert not any(f"/{m:02d}/2026" in text for m in range(1, 13))


def test_where_the_file_was_found_and_the_facts_go_into_the_nature(tmp_path: Path) -> None:
    facts = incident(
        {"rows": 1, "persons": 1, "files": [{}], "bytes": 10, "categories": {}},
        found_on="telegram",
        cause="external-malicious",
        exit_path="serveur FTP du prestataire de maintenance",
        started_at=T0 - timedelta(days=200),
    )
    text = draft(facts)
    assert "trouvés hors de nos systèmes, sur une messagerie (Telegram)" in text
    assert "Cause : acte externe malveillant." in text
    assert "Voie de sortie des données : serveur FTP du prestataire de maintenance." in text
    assert "Début de la violation : le 14 mai 2026" in text
    pdf = build_notification(facts, dpo_name="A", dpo_contact=CONTACT, labs=LABS, now=T0)
    pdf.write_pdf(tmp_path / "draft.pdf")
    assert (tmp_path / "draft.pdf").read_bytes().startswith(b"%PDF")
