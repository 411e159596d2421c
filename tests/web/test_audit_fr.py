"""The DPO reads the log and its alerts in French.

Alert summaries are raised by the real alert engine (one event sequence per
rule), then rendered by the pages' translation: each must be recognised (no
fallback to the English code) and read as French. Every action has a French
label, and event details read ``compartiments : administratif``, not
``compartments=admin``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from etanche.audit._alerts import Alert, AlertEngine
from etanche.audit._events import AuditEvent, DetailValue, Outcome
from etanche.audit._rules import load_rules
from etanche.audit._schema import metadata
from etanche.names import Action
from etanche.web._audit_fr import ACTIONS, action_fr, details_fr, duration_fr, summary_fr

T0 = datetime(2024, 4, 2, 9, 0, tzinfo=UTC)  # a Tuesday, 11:00 in Paris
ENGLISH = ("event", "seq", " ran ", "threshold", "within", "account ", "refused ", "decoy",
           "failed", "the ", " was ", "logged", " of ")  # fmt: skip


def _event(
    actor: str,
    action: str,
    *objects: str,
    at: datetime = T0,
    outcome: Outcome = Outcome.OK,
    client: str | None = None,
    details: dict[str, DetailValue] | None = None,
) -> AuditEvent:
    return AuditEvent(
        actor=actor,
        role="lab_admin",
        action=action,
        outcome=outcome,
        object_ids=tuple(objects),
        client=client,
        details=details or {},
        at=at,
    )


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[AlertEngine]:
    db: Engine = create_engine(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    metadata.create_all(db)
    yield AlertEngine(db, load_rules())
    db.dispose()


def _every_kind(engine: AlertEngine) -> dict[str, Alert]:
    fired: list[Alert] = []
    seq = iter(range(1, 10_000))
    for i in range(51):
        read = _event("alice", "patient.read", f"p{i:05d}", at=T0 + timedelta(seconds=i))
        fired += engine.observe(read, seq=next(seq))
    for i in range(6):
        at = T0 + timedelta(seconds=i)
        failed = _event("frank", "auth.login", outcome=Outcome.FAILED, client="203.0.113.7", at=at)
        fired += engine.observe(failed, seq=next(seq))
    locked = _event(
        "gael", "auth.login", outcome=Outcome.FAILED, details={"error": "AccountLocked"}
    )
    fired += engine.observe(locked, seq=next(seq))
    export = _event("kim", "migration.run", "p1", "p2", details={"rows": 1200, "lab": "L01"})
    fired += engine.observe(export, seq=next(seq))
    fired += engine.observe(_event("ines", "auth.break_glass"), seq=next(seq))
    glass = _event("ines", "patient.read", "p9", details={"break_glass": True})
    fired += engine.observe(glass, seq=next(seq))
    denied = _event("lea", "migration.approve", outcome=Outcome.DENIED)
    fired += engine.observe(denied, seq=next(seq))
    for n, role in enumerate(("biologist", "lab_admin", "dpo")):
        add = _event(
            "yann",
            "user.manage",
            details={"operation": "add", "account": f"jdoe{n}", "role": role, "pending": True,
                     "privileged": True},
        )  # fmt: skip
        fired += engine.observe(add, seq=next(seq))
    fired += engine.observe(_event("paul", "patient.read", "p3"), seq=next(seq), decoy_hit=True)
    night = datetime(2024, 4, 6, 19, 30, tzinfo=UTC)  # Saturday 21:30 in Paris
    fired += engine.observe(_event("hugo", "patient.read", "p4", at=night), seq=next(seq))
    checked = engine.report_verification_failure(["tree head 3: bad signature"])
    assert checked is not None
    fired.append(checked)
    return {alert.summary: alert for alert in fired}


def test_every_kind_of_alert_summary_reads_in_french(engine: AlertEngine) -> None:
    alerts = _every_kind(engine)
    rules = {a.rule for a in alerts.values()}
    assert rules == {
        "bulk_reads", "failed_logins", "account_locked", "export", "break_glass", "refused",
        "account_change", "account_burst", "decoy_touch", "off_hours",
        "audit_verification_failed",
    }  # fmt: skip
    for english in alerts:
        french = summary_fr(english)
        assert french is not None, english
        assert not any(word in french for word in ENGLISH), (english, french)
    export = next(s for s, a in alerts.items() if a.rule == "export")
    assert summary_fr(export) == (
        f"kim : exécution d'une migration (réussi, 2 objets, lignes : 1200, "
        f"événement n° {alerts[export].event_seq})."
    )
    night = next(s for s, a in alerts.items() if a.rule == "off_hours")
    assert "le samedi 6 avril 2024 à 21:30" in (summary_fr(night) or "")
    created = next(s for s, a in alerts.items() if a.rule == "account_change")
    assert "a créé le compte jdoe0 (biologiste)" in (summary_fr(created) or "")


def test_an_unknown_summary_is_not_passed_off_as_french() -> None:
    assert summary_fr("Something new happened (event seq 4).") is None


def test_every_action_has_a_french_label() -> None:
    assert set(ACTIONS) == {a.value for a in Action}
    assert action_fr("migration.approve") == "Approbation d'une migration"
    assert action_fr("not.an.action") == "not.an.action"


def test_details_read_in_french() -> None:
    shown = details_fr(
        {"compartments": "admin,clinical", "lab": "L01", "index": "name_dob", "break_glass": True},
        "break-glass: urgence vitale",
    )
    assert [(d.label, d.value, d.code, d.typed) for d in shown] == [
        ("compartiments", "administratif, clinique", False, False),
        ("laboratoire", "L01", False, False),
        ("index", "nom, prénom et date de naissance", False, False),
        ("bris de glace", "oui", False, False),
        ("motif (bris de glace)", "urgence vitale", False, True),
    ]
    unknown = details_fr({"brand_new": "x"})
    assert [(d.label, d.code) for d in unknown] == [("détail", True)]
    assert duration_fr("1h30m") == "1 h 30 min"
