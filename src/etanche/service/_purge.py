"""The retention purge: shred what the retention rules say has expired, signed and logged.

Expired records are selected on clear day columns; before anything goes, the
service opens the admin compartment of those records only and checks the clear
days against the sealed ones, so a date backdated in the database is refused,
not obeyed. Patients under a legal hold are kept. The report (ids, labs, rules
with their sources, expiry days, counts, the retention file's hash; no personal
value) is hashed into the ``retention.purge`` audit event, then carries that
event and is signed with the audit log's key (``etanche retention verify-report``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

from etanche.access import Action, Actor, Resource, can
from etanche.audit import DetailValue, Outcome, purge_report_digest, sign_purge_report
from etanche.crypto import content_hash
from etanche.domain import Compartment, Retention, RetentionRules
from etanche.errors import PermissionDenied, RecordNotFound
from etanche.service._purge_text import purge_summary
from etanche.service._trail import Trail
from etanche.vault import (
    ExpiredPatient,
    ExpiredSpecimen,
    RightsStore,
    Vault,
    delete_specimens,
    expired_patients,
    expired_specimens,
    fill_clocks,
    holds,
    release_hold,
    set_hold,
)

__all__ = ["RetentionService", "retention_file_hash"]

_CHECK_BATCH = 2_000
_SEARCH_BACK = 50  # events read back to find the purge's own (buffered trails)


def retention_file_hash(rules: RetentionRules) -> str:
    """SHA-256 of the retention file in force (the site file, or the packaged defaults)."""
    source = Path(rules.source)
    if source.is_file():
        return content_hash(source.read_bytes()).hexdigest()
    packaged = files("etanche.domain").joinpath("default_retention.yaml").read_bytes()
    return content_hash(packaged).hexdigest()


@dataclass
class _Found:
    """What one run would shred, what it keeps and why."""

    patients: list[tuple[ExpiredPatient, Retention]]
    specimens: list[tuple[ExpiredSpecimen, Retention]]
    held: int
    refused: list[dict[str, str]]
    unsealed_holds: int = 0


class RetentionService:
    """One purge, hold or release, by a person (the DPO) or by the schedule (``actor`` None)."""

    def __init__(
        self,
        vault: Vault,
        trail: Trail,
        actor: Actor | None,
        *,
        retention: RetentionRules,
        client: str | None = None,
    ) -> None:
        self.vault = vault
        self.trail = trail
        self.actor = actor
        self.retention = retention
        self.client = client

    # -- holds -------------------------------------------------------------------
    def hold(self, patient_id: str, reason: str) -> None:
        """Put a patient under a legal hold: the purge keeps it until the hold is lifted."""
        details: dict[str, DetailValue] = {"operation": "hold"}
        self._allow(Action.RETENTION_HOLD, details, self._lab(Action.RETENTION_HOLD, patient_id))
        by = self.actor.username if self.actor is not None else "system"
        set_hold(self.vault, patient_id, reason, by)
        self._record(Action.RETENTION_HOLD, Outcome.OK, details, objects=[patient_id])

    def release(self, patient_id: str) -> None:
        """Lift a legal hold."""
        details: dict[str, DetailValue] = {"operation": "release"}
        self._allow(Action.RETENTION_HOLD, details, self._lab(Action.RETENTION_HOLD, patient_id))
        release_hold(self.vault, patient_id)
        self._record(Action.RETENTION_HOLD, Outcome.OK, details, objects=[patient_id])

    # -- the purge ---------------------------------------------------------------
    def purge(self, *, dry_run: bool = False, today: date | None = None) -> dict[str, Any]:
        """Shred the expired records (or only list them), log the run, return the signed report."""
        self._allow(Action.RETENTION_PURGE, {"operation": "purge", "dry_run": dry_run}, None)
        self.vault.unlock([Compartment.ADMIN])  # the date check only; nothing leaves
        now = datetime.now(UTC)
        day = today or now.date()
        fill_clocks(self.vault)
        found = self._find(day)
        patient_ids = [p.id for p, _ in found.patients]
        specimen_ids = [s.id for s, _ in found.specimens]
        if not dry_run:
            shredded = set(self.vault.erase_many(patient_ids))
            found.patients = [(p, r) for p, r in found.patients if p.id in shredded]
            delete_specimens(self.vault, specimen_ids)
        body = self._body(found, day, now, dry_run)
        digest = purge_report_digest(body)
        details: dict[str, DetailValue] = {
            "operation": "purge",
            "dry_run": dry_run,
            "report": digest,
            "patients": len(found.patients),
            "specimens": len(found.specimens),
            "held": found.held,
            "refused": len(found.refused),
            "unsealed_holds": found.unsealed_holds,
            "retention": body["retention"]["sha256"],
        }
        self._record(Action.RETENTION_PURGE, Outcome.OK, details)
        seq, event_body = self._logged(digest)
        return sign_purge_report(body, seq, event_body, self.vault.audit_log_signer())

    def summary(self, signed: dict[str, Any]) -> str:
        """The French Markdown summary of a signed report, for the DPO's file."""
        return purge_summary(signed, self.retention)

    def _find(self, today: date) -> _Found:
        rules = self.retention
        # The patient goes with its clinical compartment: the longer of the two rules.
        admin, results = rules.get("patient_admin"), rules.get("results")
        patient_rule = admin if admin.cutoff(today) <= results.cutoff(today) else results
        specimen_rule = rules.get("specimens")
        held, forged = holds(self.vault)
        # a restriction of processing (GDPR art. 18) keeps the data as it is: no purge
        held = held | frozenset(RightsStore(self.vault).restricted())
        expired = expired_patients(self.vault, patient_rule.cutoff(today))
        kept = [p for p in expired if p.id not in held]
        held_count = len(expired) - len(kept)
        refused: list[dict[str, str]] = []
        bad = self._check_patients(kept, refused)
        going = {p.id for p in kept if p.id not in bad}
        specs = [
            s
            for s in expired_specimens(self.vault, specimen_rule.cutoff(today))
            if s.patient_id not in going
        ]
        spec_kept = [s for s in specs if s.patient_id not in held]
        held_count += len(specs) - len(spec_kept)
        bad_specs = self._check_specimens(spec_kept, refused)
        return _Found(
            patients=[(p, patient_rule) for p in kept if p.id in going],
            specimens=[(s, specimen_rule) for s in spec_kept if s.id not in bad_specs],
            held=held_count,
            refused=refused,
            unsealed_holds=len(forged),
        )

    def _check_patients(
        self, found: Sequence[ExpiredPatient], refused: list[dict[str, str]]
    ) -> set[str]:
        """Ids whose clear days differ from the sealed ones: refused, never shredded."""
        bad: set[str] = set()
        for start in range(0, len(found), _CHECK_BATCH):
            chunk = found[start : start + _CHECK_BATCH]
            visits, days = self.vault.sealed_dates([p.id for p in chunk])
            for patient in chunk:
                sealed = visits.get(patient.id)
                if sealed is not None and sealed != patient.last_visit_on:
                    bad.add(patient.id)
            bad.update(pid for _, pid, clear, sealed_day in days if clear != sealed_day)
        refused.extend(
            {"id": p.id, "lab": p.lab_id, "category": "patient_admin", "reason": _MISMATCH}
            for p in found
            if p.id in bad
        )
        return bad

    def _check_specimens(
        self, found: Sequence[ExpiredSpecimen], refused: list[dict[str, str]]
    ) -> set[str]:
        owners = sorted({s.patient_id for s in found})
        bad: set[str] = set()
        for start in range(0, len(owners), _CHECK_BATCH):
            _, days = self.vault.sealed_dates(owners[start : start + _CHECK_BATCH])
            bad.update(sid for sid, _, clear, sealed_day in days if clear != sealed_day)
        refused.extend(
            {"id": s.id, "lab": s.lab_id, "category": "specimens", "reason": _MISMATCH}
            for s in found
            if s.id in bad
        )
        return bad

    def _body(self, found: _Found, today: date, now: datetime, dry_run: bool) -> dict[str, Any]:
        records: list[dict[str, str]] = []
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        rules: dict[str, Retention] = {}
        for patient, rule in found.patients:
            records.append(
                {
                    "id": patient.id,
                    "lab": patient.lab_id,
                    "category": rule.category,
                    "expires": rule.expires(patient.started).isoformat(),
                }
            )
            counts[rule.category][patient.lab_id] += 1
            rules[rule.category] = rule
        for specimen, rule in found.specimens:
            records.append(
                {
                    "id": specimen.id,
                    "patient": specimen.patient_id,
                    "lab": specimen.lab_id,
                    "category": rule.category,
                    "expires": rule.expires(specimen.collected_on).isoformat(),
                }
            )
            counts[rule.category][specimen.lab_id] += 1
            rules[rule.category] = rule
        return {
            "dry_run": dry_run,
            "at": now.isoformat(),
            "today": today.isoformat(),
            "by": self.actor.username if self.actor is not None else "system",
            "retention": {
                "file": self.retention.source,
                "sha256": retention_file_hash(self.retention),
            },
            "rules": {
                name: {
                    "duration": rule.duration,
                    "start": rule.start,
                    "source": rule.source,
                    "confirmed": rule.confirmed,
                    "cutoff": rule.cutoff(today).isoformat(),
                }
                for name, rule in sorted(rules.items())
            },
            "records": records,
            "counts": {c: dict(sorted(labs.items())) for c, labs in sorted(counts.items())},
            "kept": {
                "held": found.held,
                "refused": len(found.refused),
                # holds not written by the service (no sealed reason): kept, and said
                "unsealed_holds": found.unsealed_holds,
            },
            "refused": found.refused,
        }

    def _logged(self, digest: str) -> tuple[int, bytes]:
        """The purge's own event as the log stores it: seq and canonical body."""
        self.trail.flush()
        for seq, event in self.trail.log.events(
            action=Action.RETENTION_PURGE.value, limit=_SEARCH_BACK, newest_first=True
        ):
            if event.details.get("report") == digest:
                return seq, event.canonical()
        raise RecordNotFound("purge report: its audit event was not found in the log")

    # -- decide and log ----------------------------------------------------------
    def _lab(self, action: Action, patient_id: str) -> str:
        try:
            return self.vault.lab_of(patient_id)
        except RecordNotFound:
            self._allow(action, {"operation": "hold"}, None)  # a DPO of every lab may hear why
            raise

    def _allow(self, action: Action, details: dict[str, DetailValue], lab: str | None) -> None:
        if self.actor is None:
            return  # the schedule: the service itself, under the rules it was started with
        decision = can(self.actor, action, Resource("retention", lab))
        if not decision.allowed:
            self._record(action, Outcome.DENIED, {**details, "reason": decision.reason})
            raise PermissionDenied(decision.reason)

    def _record(
        self,
        action: Action,
        outcome: Outcome,
        details: dict[str, DetailValue],
        objects: Sequence[str] = (),
    ) -> None:
        self.trail.record(
            self.actor, action, outcome, objects=objects, client=self.client, details=details
        )


_MISMATCH = "clear day differs from the sealed one: not shredded (run `etanche vault verify`)"
