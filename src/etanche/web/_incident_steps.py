"""What the incident pages show of the workflow: each step with its Paris date, and
the CNIL deadline as a French sentence (« échéance CNIL : 5 décembre 2026 à 14:30,
dans 41 h »).

Pure formatting over the ``Incident`` the service returned; nothing decided here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from etanche.leak.incident import CIRCUMSTANCES, Incident, countdown
from etanche.web._pages_common import PARIS, fr_long_date

# the assessment form: one choice per criterion, then the flags (tokens of CIRCUMSTANCES)
CRITERIA = (
    ("confidentialite", "Confidentialité", ("exposed", "copied", "published")),
    ("integrite", "Intégrité", ("altered", "altered-lost")),
    ("disponibilite", "Disponibilité", ("unavailable", "lost")),
)
FLAGS = ("malicious", "public", "vulnerable")


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the workflow: its French name and when it was done (None: to do)."""

    name: str
    at: datetime | None
    detail: str = ""

    @property
    def when(self) -> str:
        return fr_moment(self.at) if self.at else "à faire"


def fr_moment(moment: datetime) -> str:
    """« 5 décembre 2026 à 14:30 », Paris time."""
    local = moment.astimezone(PARIS)
    return f"{fr_long_date(local)} à {local:%H:%M}"


def _hours(seconds: float) -> str:
    minutes = int(abs(seconds)) // 60
    return f"{minutes // 60} h" if minutes >= 60 else f"{minutes} min"


def deadline_sentence(incident: Incident, now: datetime | None = None) -> str:
    """The CNIL deadline and where the DPO stands against it, in French."""
    head = f"échéance CNIL : {fr_moment(incident.deadline)}"
    if incident.notified_at is not None:
        late = incident.notified_at > incident.deadline
        return f"{head}, notifiée le {fr_moment(incident.notified_at)}" + (
            " (hors délai)" if late else " (dans le délai)"
        )
    left = countdown(incident.deadline, now or datetime.now(UTC)).left.total_seconds()
    if left < 0:
        return f"{head}, dépassée de {_hours(left)}"
    return f"{head}, dans {_hours(left)}"


def _last(incident: Incident, kind: str) -> datetime | None:
    found = [e.at for e in incident.timeline if e.kind == kind]
    return found[-1] if found else None


def steps(incident: Incident) -> list[Step]:
    """Opening, assessment, draft, filing with the CNIL, letters, closing."""
    filing = incident.filings[-1] if incident.filings else None
    reference = f"référence {filing.reference}" if filing and filing.reference else ""
    letters = f"{incident.letters} lettres" if incident.letters else ""
    return [
        Step("Ouverture", incident.opened_at),
        Step("Évaluation de la gravité", _last(incident, "assessed")),
        Step("Projet de notification à la CNIL", incident.reported_at),
        Step("Notification déposée auprès de la CNIL", incident.notified_at, reference),
        Step("Lettres aux patients (article 34)", _last(incident, "notify"), letters),
        Step("Clôture", _last(incident, "closed")),
    ]


def assessment_choices(incident: Incident) -> dict[str, object]:
    """The assessment form's groups, labels and current choices."""
    chosen = set(incident.circumstances.tokens())
    groups = [
        (
            name,
            legend,
            [(t, CIRCUMSTANCES[t][2][0].upper() + CIRCUMSTANCES[t][2][1:]) for t in tokens],
            next((t for t in tokens if t in chosen), ""),
        )
        for name, legend, tokens in CRITERIA
    ]
    flags = [
        (t, CIRCUMSTANCES[t][2][0].upper() + CIRCUMSTANCES[t][2][1:], t in chosen) for t in FLAGS
    ]
    return {"groups": groups, "flags": flags}
