"""Whether the law lets a record be erased now (GDPR art. 17(3)(b) and (c)).

A lab must keep a patient's file and results for the durations of the retention
rules (``ETANCHE_RETENTION``, docs/retention.md). A record with no visit and no
specimen (created in error) carries no duty; otherwise each rule that applies
runs from its start (last visit, latest specimen) and the latest end wins. The
verdict names the rule, its French legal source and the date the duty ends, the
words the refusal sent to the requester uses. Reading the last visit opens the
admin compartment inside the service; nothing of it leaves but dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from etanche.domain import Retention, RetentionRules, end_of_duty, fr_long_date, paris_day
from etanche.vault import Vault

__all__ = ["Duty", "ErasureVerdict", "assess_erasure"]


@dataclass(frozen=True, slots=True)
class Duty:
    """A retention duty still running: which rule, from when, until when."""

    rule: Retention
    start: date
    end: date

    @property
    def category(self) -> str:
        return self.rule.category


@dataclass(frozen=True, slots=True)
class ErasureVerdict:
    """None: the record may be erased now; else the duty that forbids it."""

    duty: Duty | None

    def reason_fr(self) -> str:
        """The refusal as the requester reads it (art. 12(4): the reason, and the remedies)."""
        if self.duty is None:
            return "Aucune obligation de conservation ne s'applique : le dossier peut être effacé."
        rule = self.duty.rule
        return (
            "Effacement refusé (RGPD art. 17(3)(b) et (c)) : obligation de conservation "
            f"« {rule.label} », {rule.duration_fr} {rule.start_fr} "
            f"(le {self.duty.start:%d/%m/%Y}), jusqu'au {fr_long_date(self.duty.end)}. "
            f"Source : {rule.source}. Vous pouvez saisir la CNIL ou un juge."
        )

    def to_dict(self) -> dict[str, str]:
        if self.duty is None:
            return {}
        return {
            "category": self.duty.category,
            "source": self.duty.rule.source,
            "start": self.duty.start.isoformat(),
            "end": self.duty.end.isoformat(),
        }


def _duty(rule: Retention, start: date | None, today: date) -> Duty | None:
    if start is None:
        return None
    end = end_of_duty(start, rule.amount, rule.unit)
    return Duty(rule, start, end) if end > today else None


def assess_erasure(
    vault: Vault, retention: RetentionRules, patient_id: str, now: datetime
) -> ErasureVerdict:
    """The duty that forbids erasing the record now, if any (the latest one to end)."""
    patient = vault.get(patient_id)
    collected = [paris_day(s.collected_at) for s in vault.specimens_of(patient_id)]
    latest_specimen = max(collected) if collected else None
    visits = [d for d in (patient.last_visit, latest_specimen) if d is not None]
    last_visit = max(visits) if visits else None
    today = paris_day(now)
    duties = [
        _duty(retention.get("patient_admin"), last_visit, today),
        _duty(retention.get("results"), latest_specimen, today),
        _duty(retention.get("specimens"), latest_specimen, today),
    ]
    running = [d for d in duties if d is not None]
    if not running:
        return ErasureVerdict(None)
    return ErasureVerdict(max(running, key=lambda d: d.end))
