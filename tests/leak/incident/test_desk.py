"""The incident desk on a loaded vault: open, note, draft, letters, audit, refusals.

The scan is stood in for by a hand-built report (contract B ``to_dict``) and the
matched patient ids, as ``etanche.leak.scan`` would hand them over.
"""

from __future__ import annotations

import json
import stat
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _pdftext import pages

from _staff import Staff
from conftest import Backend
from etanche.access import Actor, Role
from etanche.audit import AuditEvent, AuditLog, Outcome
from etanche.audit._decoys import plant_decoys
from etanche.domain import Patient
from etanche.errors import PermissionDenied, RecordNotFound, UsageError
from etanche.leak.incident import HEADINGS, INDEX, Level, parse_circumstances
from etanche.service import IncidentService, Trail
from etanche.synth import SynthNetwork
from etanche.vault import Documents, Vault

T0 = datetime(2025, 11, 3, 8, 30, tzinfo=UTC)
# storage-independent checks run on SQLite only; the sealed store is checked on both
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
CONTACT = "dpo@labos-iroise.example, 02 98 00 00 00"


def scan_report(persons: int, matches: dict[str, int]) -> dict[str, Any]:
    categories = ("nir", "name", "birth_date", "address", "phone", "health", "credential")
    return {
        "files": [{"path": "export.csv", "rows": persons}],
        "bytes": 123_456,
        "rows": persons,
        "persons": persons,
        "special_category": True,
        "categories": {
            c: {"count": persons, "columns": [c], "confidence": 0.9, "samples": []}
            for c in categories
        },
        "vault_matches": matches,
    }


def actor(staff: Staff, role: Role, username: str, labs: tuple[str, ...] = ("*",)) -> Actor:
    token = staff.add(username, f"Personne {username.title()}", role, labs)
    return staff.sessions.resume(token)


def events(vault: Vault, action: str) -> list[AuditEvent]:
    return [e for _, e in AuditLog.for_vault(vault).events(action=action, limit=100_000)]


@pytest.fixture
def world(loaded_vault: Vault, small_network: SynthNetwork) -> dict[str, Any]:
    patients = list(small_network.patients())
    affected = [p for p in patients if p.lab_id == "L01"][:6] + [
        p for p in patients if p.lab_id == "L02"
    ][:4]
    staff = Staff(loaded_vault)
    dpo = actor(staff, Role.DPO, "aleroux")
    # the DPO's session holds no compartment: the desk unlocks what the policy grants
    session = loaded_vault.session(())
    trail = Trail.for_vault(loaded_vault)
    return {
        "vault": loaded_vault,
        "staff": staff,
        "session": session,
        "trail": trail,
        "dpo": dpo,
        "desk": IncidentService(session, trail, dpo, client="test"),
        "affected": affected,
        "others": [p for p in patients if p not in affected],
    }


def open_incident(world: dict[str, Any], **kw: Any) -> Any:
    affected: list[Patient] = world["affected"]
    matched: dict[str, list[str]] = {}
    for p in affected:
        matched.setdefault(p.lab_id, []).append(p.id)
    desk: IncidentService = world["desk"]
    return desk.open(
        "Fichier de patients retrouvé sur un forum",
        discovered_at=kw.pop("discovered_at", T0),
        circumstances=parse_circumstances(["published", "malicious"]),
        dpo_contact=CONTACT,
        report=scan_report(40, {lab: len(ids) for lab, ids in matched.items()}),
        matched=matched,
        now=kw.pop("now", T0 + timedelta(hours=2)),
    )


def test_open_keeps_a_sealed_timeline_and_the_deadline(
    world: dict[str, Any], backend: Backend
) -> None:
    incident = open_incident(world)
    assert incident.deadline == T0 + timedelta(hours=72)
    assert incident.matched_count == 10
    assert incident.severity.level is Level.VERY_HIGH
    assert [e.kind for e in incident.timeline] == ["discovered", "opened", "scan"]
    desk: IncidentService = world["desk"]
    again = desk.get(incident.id)
    assert again == incident
    assert [i.id for i in desk.list()] == [incident.id]
    # the body (title, timeline, which patients were found) is sealed: only id and state show
    raw = backend.raw_bytes()
    assert incident.id.encode() in raw
    assert "retrouvé sur un forum".encode() not in raw and b"special_category" not in raw
    assert Documents(world["vault"]).get("incident", incident.id).state == "open"


def test_every_step_is_an_audit_event_with_ids_and_counts_only(world: dict[str, Any]) -> None:
    incident = open_incident(world)
    desk: IncidentService = world["desk"]
    desk.note(incident.id, "Hébergeur contacté pour retrait du fichier.", measure=True)
    desk.close(incident.id)
    logged = events(world["vault"], "incident.manage")
    operations = [e.details["operation"] for e in logged]
    assert operations == ["open", "measure", "close"]
    assert all(e.outcome is Outcome.OK and e.object_ids == (incident.id,) for e in logged)
    assert logged[0].details["matched"] == 10 and logged[0].details["level"] == "very high"
    text = json.dumps([e.details for e in logged], ensure_ascii=False)
    assert "Hébergeur" not in text and "forum" not in text  # no title, no note text


@SQLITE_ONLY
def test_notes_assessment_and_closing(world: dict[str, Any]) -> None:
    incident = open_incident(world)
    desk: IncidentService = world["desk"]
    with pytest.raises(UsageError, match="note: must not be empty"):
        desk.note(incident.id, "   ")
    lower = desk.assess(incident.id, ["copied"])
    assert lower.severity.score == 4.25 and lower.timeline[-1].kind == "assessed"
    closed = desk.close(incident.id)
    assert not closed.is_open and closed.timeline[-1].text == "Incident clos."
    with pytest.raises(UsageError, match="already closed"):
        desk.close(incident.id)
    with pytest.raises(RecordNotFound):
        desk.get("INC-20250101-000000")


@SQLITE_ONLY
def test_a_discovery_in_the_future_or_without_zone_is_refused(world: dict[str, Any]) -> None:
    desk: IncidentService = world["desk"]
    with pytest.raises(UsageError, match="future"):
        desk.open("x", discovered_at=T0 + timedelta(days=1), now=T0)
    with pytest.raises(UsageError, match="time zone"):
        desk.open("x", discovered_at=datetime(2025, 11, 3, 9, 0), now=T0)


def test_the_draft_has_every_art_33_field_in_markdown_and_pdf(
    world: dict[str, Any], tmp_path: Path
) -> None:
    incident = open_incident(world)
    desk: IncidentService = world["desk"]
    desk.note(incident.id, "Mots de passe du portail réinitialisés.", measure=True)
    draft = desk.draft(incident.id, now=T0 + timedelta(hours=30))
    assert not draft.late
    markdown = draft.to_markdown()
    for heading in HEADINGS:
        assert f"## {heading}" in markdown
    for words in (
        "Personne Aleroux",  # the DPO's name, from the account
        CONTACT,
        "environ 40 personnes distinctes dans le fichier",
        "dont 10 reconnues parmi nos patients et 30 non reconnues",
        "6 patients reconnus : Laboratoire de biologie médicale",
        "Usurpation d'identité",
        "Mots de passe du portail réinitialisés.",
        "Gravité très élevée",
        "À déposer avant l'échéance",
    ):
        assert words in markdown, words
    draft.write_pdf(tmp_path / "draft.pdf")
    text = "\n".join(pages(tmp_path / "draft.pdf"))
    for heading in HEADINGS:
        assert heading in text.replace("\n", " "), heading
    assert "Découverte : le" in text and "Délégué" in text  # accents survive the PDF
    for patient in world["affected"]:
        assert patient.id not in markdown and patient.birth_name not in markdown


@SQLITE_ONLY
def test_a_late_draft_asks_for_the_reasons_of_the_delay(world: dict[str, Any]) -> None:
    incident = open_incident(world)
    desk: IncidentService = world["desk"]
    late = desk.draft(incident.id, now=T0 + timedelta(hours=80))
    assert late.late and "Motifs du retard : À COMPLÉTER" in late.to_markdown()
    explained = desk.draft(
        incident.id,
        delay_reason="Étendue connue seulement après l'analyse du fichier.",
        now=T0 + timedelta(hours=81),
    )
    assert "Motifs du retard : Étendue connue seulement" in explained.to_markdown()
    stored = desk.get(incident.id)
    assert stored.reported_at == T0 + timedelta(hours=80)  # the first draft counts
    assert stored.late()


def test_letters_go_to_the_affected_patients_only(world: dict[str, Any], tmp_path: Path) -> None:
    incident = open_incident(world)
    desk: IncidentService = world["desk"]
    out = tmp_path / "lettres"
    seen: list[int] = []
    run = desk.letters(incident.id, out, batch=4, progress=seen.append, total=seen.append)
    affected: list[Patient] = world["affected"]
    assert run.letters == len(affected) == 10 and len(run.files) == 3
    assert seen[0] == 10 and sum(seen[1:]) == 10
    index = json.loads((out / INDEX).read_text())
    ids = [letter["patient"] for f in index["files"] for letter in f["letters"]]
    assert sorted(ids) == sorted(p.id for p in affected)
    texts = [page for name in run.files for page in pages(out / name)]
    assert len(texts) == 10  # one letter per page
    by_id = dict(zip(ids, texts, strict=True))
    for patient in affected:
        page = by_id[patient.id]
        assert (patient.used_name or patient.birth_name).upper() in page
        assert "Ce que vous pouvez faire" in page and CONTACT in page
        assert patient.nir is None or patient.nir not in page
    everything = "\n".join(texts)
    names = {(p.used_name or p.birth_name).upper() for p in affected}
    outsider = next(
        p for p in world["others"] if (p.used_name or p.birth_name).upper() not in names
    )
    assert (outsider.used_name or outsider.birth_name).upper() not in everything
    for path in [out / INDEX, *(out / name for name in run.files)]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.stat().st_mode) == 0o700


def test_letters_are_audited_with_ids_and_the_admin_compartment_only(
    world: dict[str, Any], tmp_path: Path
) -> None:
    incident = open_incident(world)
    world["desk"].letters(incident.id, tmp_path / "out")
    session: Vault = world["session"]
    from etanche.domain import Compartment

    assert session.holds(Compartment.ADMIN) and not session.holds(Compartment.CLINICAL)
    (event,) = events(world["vault"], "incident.notify")
    assert event.outcome is Outcome.OK
    assert set(event.object_ids) == {incident.id, *(p.id for p in world["affected"])}
    assert event.details["letters"] == 10 and event.details["compartments"] == "admin"
    assert world["desk"].get(incident.id).letters == 10


@SQLITE_ONLY
def test_a_second_run_needs_an_empty_folder(world: dict[str, Any], tmp_path: Path) -> None:
    incident = open_incident(world)
    world["desk"].letters(incident.id, tmp_path / "out")
    with pytest.raises(UsageError, match="already holds letters"):
        world["desk"].letters(incident.id, tmp_path / "out")


def test_decoys_and_erased_patients_get_no_letter(world: dict[str, Any], tmp_path: Path) -> None:
    vault: Vault = world["vault"]
    decoy = plant_decoys(vault, 1)[0]
    erased = world["others"][0]
    vault.erase(erased.id)
    matched = {"L01": [world["affected"][0].id, decoy, erased.id]}
    desk: IncidentService = world["desk"]
    incident = desk.open("Fichier", report=scan_report(3, {"L01": 3}), matched=matched)
    run = desk.letters(incident.id, tmp_path / "out", dpo_contact=CONTACT)
    assert run.letters == 1
    (event,) = events(vault, "incident.notify")
    assert event.details["decoys_skipped"] == 1 and event.details["erased_skipped"] == 1
    assert decoy not in event.object_ids


@SQLITE_ONLY
def test_letters_need_a_dpo_contact(world: dict[str, Any], tmp_path: Path) -> None:
    desk: IncidentService = world["desk"]
    incident = desk.open("Fichier", report=scan_report(1, {}), matched={})
    with pytest.raises(UsageError, match="dpo-contact"):
        desk.letters(incident.id, tmp_path / "out")


@SQLITE_ONLY
@pytest.mark.parametrize("role", [Role.RECEPTION, Role.LAB_ADMIN, Role.AUDITOR])
def test_other_roles_are_refused_and_the_refusal_logged(
    world: dict[str, Any], role: Role, tmp_path: Path
) -> None:
    incident = open_incident(world)
    labs = ("L01",) if role in (Role.RECEPTION, Role.BIOLOGIST) else ("*",)
    someone = actor(world["staff"], role, f"x{role.value.replace('_', '')}", labs)
    desk = IncidentService(world["vault"].session(()), world["trail"], someone)
    with pytest.raises(PermissionDenied):
        desk.list()
    with pytest.raises(PermissionDenied):
        desk.get(incident.id)
    with pytest.raises(PermissionDenied):
        desk.letters(incident.id, tmp_path / "out", dpo_contact=CONTACT)
    assert not (tmp_path / "out").exists()
    denied = [
        e
        for action in ("incident.manage", "incident.notify")
        for e in events(world["vault"], action)
        if e.outcome is Outcome.DENIED
    ]
    assert len(denied) == 3 and all(e.actor == someone.username for e in denied)


@SQLITE_ONLY
def test_without_dejavu_the_pdf_falls_back_to_a_core_font(
    world: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from etanche.leak.incident import _pdf

    monkeypatch.delenv("ETANCHE_PDF_FONT_DIR", raising=False)
    monkeypatch.setattr(_pdf, "FONT_DIRS", ())
    incident = open_incident(world)
    draft = world["desk"].draft(incident.id, now=T0 + timedelta(hours=3))
    draft.write_pdf(tmp_path / "core.pdf")
    text = " ".join(pages(tmp_path / "core.pdf")).replace("\n", " ")
    for heading in HEADINGS:  # Latin-1 keeps the French accents
        assert heading in text, heading
    run = world["desk"].letters(incident.id, tmp_path / "out")
    assert len(pages(tmp_path / "out" / run.files[0])) == run.letters == 10


def test_letters_follow_what_each_patients_own_rows_held(
    world: dict[str, Any], tmp_path: Path
) -> None:
    affected: list[Patient] = world["affected"]
    matched: dict[str, list[str]] = {}
    for p in affected:
        matched.setdefault(p.lab_id, []).append(p.id)
    exposed = {p.id: ["name", "address"] for p in affected}
    exposed[affected[0].id] = ["name", "address", "credential", "health", "health:hiv"]
    desk: IncidentService = world["desk"]
    incident = desk.open(
        "Fichier",
        report=scan_report(10, {lab: len(ids) for lab, ids in matched.items()}),
        matched=matched,
        exposed={**exposed, "not-matched": ["nir"]},
        dpo_contact=CONTACT,
    )
    assert set(desk.get(incident.id).exposed) == {p.id for p in affected}
    out = tmp_path / "out"
    run = desk.letters(incident.id, out)
    index = json.loads((out / INDEX).read_text())
    ids = [x["patient"] for f in index["files"] for x in f["letters"]]
    texts = [" ".join(t.split()) for name in run.files for t in pages(out / name)]
    by_id = dict(zip(ids, texts, strict=True))
    assert "Changez le mot de passe" in by_id[affected[0].id]
    assert "affection grave" in by_id[affected[0].id]
    for p in affected[1:]:
        assert "mot de passe de votre espace" not in by_id[p.id]
        assert "affection grave" not in by_id[p.id]


@SQLITE_ONLY
def test_a_file_found_online_defaults_to_published_with_malicious_intent(
    world: dict[str, Any],
) -> None:
    desk: IncidentService = world["desk"]
    online = desk.open("Fichier en vente", report=scan_report(5, {}), found_on="telegram")
    assert online.circumstances == parse_circumstances(["published", "malicious"])
    assert online.found_on == "telegram"
    elsewhere = desk.open("Clé USB perdue", report=scan_report(5, {}), found_on="device")
    assert elsewhere.circumstances == parse_circumstances(["copied"])
    with pytest.raises(UsageError, match="found on: unknown 'twitter'"):
        desk.open("x", found_on="twitter")


@SQLITE_ONLY
def test_notifys_contact_and_the_dpos_gender_are_carried_into_the_draft(
    world: dict[str, Any], tmp_path: Path
) -> None:
    desk: IncidentService = world["desk"]
    matched = {"L01": [world["affected"][0].id]}
    incident = desk.open("Fichier", report=scan_report(1, {"L01": 1}), matched=matched)
    assert "À COMPLÉTER" in desk.notification(incident).to_markdown().split("##")[1]
    desk.letters(incident.id, tmp_path / "out", dpo_contact=CONTACT, dpo_sex="F")
    controller = desk.draft(incident.id).to_markdown().split("##")[1]
    assert f"Déléguée à la protection des données : Personne Aleroux — {CONTACT}." in controller
    letter = " ".join(pages(tmp_path / "out" / "lettres-0001.pdf")[0].split())
    assert "Déléguée à la protection des données" in letter


@SQLITE_ONLY
def test_filings_drive_the_delay_the_supplements_and_the_letters(
    world: dict[str, Any], tmp_path: Path
) -> None:
    incident = open_incident(world)
    desk: IncidentService = world["desk"]
    desk.draft(incident.id, now=T0 + timedelta(hours=10))
    assert desk.get(incident.id).late(T0 + timedelta(hours=73))  # a draft stops no clock
    desk.filed(
        incident.id, T0 + timedelta(hours=70), reference="DPO-1", now=T0 + timedelta(hours=90)
    )
    filed = desk.filed(incident.id, T0 + timedelta(hours=100), now=T0 + timedelta(hours=100))
    assert filed.notified_at == T0 + timedelta(hours=70) and not filed.late()
    assert [f.reference for f in filed.filings] == ["DPO-1", None]
    assert [e.kind for e in filed.timeline].count("filed") == 2
    text = desk.draft(incident.id, now=T0 + timedelta(hours=120)).to_markdown()
    assert "Notification complémentaire n° 2" in text and "référence DPO-1" in text
    assert "dans le délai de 72 heures" in text and "Motifs du retard" not in text
    run = desk.letters(incident.id, tmp_path / "out")
    letter = " ".join(pages(tmp_path / "out" / run.files[0])[0].split())
    assert "Nous avons signalé cette violation à la Commission nationale" in letter
    assert "le 6 novembre 2025" in letter  # the initial filing, in words
    with pytest.raises(UsageError, match="filed at: must not be in the future"):
        desk.filed(incident.id, datetime.now(UTC) + timedelta(days=1))
    kinds = [e.details for e in events(world["vault"], "incident.manage") if "kind" in e.details]
    assert [(d["kind"], d["late"]) for d in kinds] == [("initial", False), ("supplementary", False)]
