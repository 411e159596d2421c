"""Documents a person reads take their French words from the audit's one table.

The access report a patient receives lists every logged action on the record:
an action without a wording of its own reads as the audit's French noun, never as
the log's English code; the alert summaries the pages show come from the same
module (no second table), and the register names the alert rules in French.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from etanche.names import Action
from etanche.service import ACTION_NOUNS, ALERT_RULES, action_fr, summary_fr
from etanche.service._access_model import AccessEntry
from etanche.service._access_text import ACTIONS_FR, access_action_fr, entry_line


def test_every_action_has_one_french_noun() -> None:
    assert set(ACTION_NOUNS) == {a.value for a in Action}
    for action in Action:
        assert action_fr(action) != action.value


@pytest.mark.parametrize("action", sorted(a.value for a in Action))
def test_the_access_report_never_shows_an_action_code(action: str) -> None:
    shown = access_action_fr(action)
    assert shown == ACTIONS_FR.get(action, action_fr(action))
    assert action not in shown and "." not in shown


def test_an_access_line_of_a_link_reads_in_french() -> None:
    entry = AccessEntry(
        seq=42,
        at=datetime(2026, 12, 3, 13, 30, tzinfo=UTC),
        staff="Personne A",
        role="reception",
        lab=None,
        action=Action.PATIENT_LINK.value,
        outcome="denied",
        purpose=None,
        proof=None,  # type: ignore[arg-type]  # not read by the line
    )
    line = entry_line(entry, {})
    assert "Rattachement à l'identité réseau (refusé)" in line
    assert "patient.link" not in line and "denied" not in line


def test_an_alert_summary_and_a_rule_read_in_french_from_the_service() -> None:
    english = "tguivarch ran migration.run (ok, 3 objects, rows=12, event seq 5)."
    french = summary_fr(english)
    assert french == (
        "tguivarch : exécution d'une migration (réussi, 3 objets, lignes : 12, événement n° 5)."
    )
    assert " ran " not in french and "migration.run" not in french
    assert ALERT_RULES["decoy_touch"] == "Dossier leurre consulté"
