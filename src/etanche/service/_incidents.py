"""The DPO's incidents as the service runs them: every step decided and audited here.

The CLI (over the JSON API) and the web pages call these operations and render
their answers; neither decides nor records anything on its own.

``incident.manage`` covers opening, reading, notes, assessment, the draft to
the CNIL and closing; ``leak.scan`` the scan of found files at opening;
``incident.notify`` the letters, decided per lab of the matched patients and
granting the admin compartment only (names and addresses, never clinical
data). Audit events carry the incident id, counts and pseudonymous patient
ids; never a title, a note or a value.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from etanche.access import Accounts, Action, Actor, Decision
from etanche.audit import DetailValue, Outcome, is_decoy
from etanche.domain import Compartment, Patient
from etanche.errors import EtancheError, RecordNotFound, UsageError
from etanche.leak.incident._dpo import parse_sex
from etanche.leak.incident._letters import LetterRun, letter_text, write_letters
from etanche.leak.incident._measures import MEASURES
from etanche.leak.incident._model import (
    CAUSES,
    CLOSED,
    FOUND_ON,
    KIND,
    ONLINE,
    OPEN,
    Entry,
    Filing,
    Incident,
    countdown,
)
from etanche.leak.incident._notification import Notification, build_notification
from etanche.leak.incident._severity import CIRCUMSTANCES, Circumstances, parse_circumstances
from etanche.service._audit_fr import alert_fr
from etanche.service._operations import Operations
from etanche.service._trail import Trail
from etanche.service._views import aware_iso
from etanche.vault import Documents, Vault

__all__ = ["IncidentService", "incident_detail", "incident_summary"]

INCIDENT = "incident"
MAX_TITLE = 200
MAX_NOTE = 2000
MAX_CONTACT = 200
MAX_REFERENCE = 64
_T = TypeVar("_T")


def _token(value: str | None, what: str, known: Mapping[str, object]) -> str | None:
    """A value of a closed list, checked; None stays None."""
    if value is None:
        return None
    token = value.strip().lower()
    if token not in known:
        raise UsageError(f"{what}: unknown {value!r} (expected any of {', '.join(known)})")
    return token


def _sex(value: str | None) -> str | None:
    """The DPO's gender as stored: "F", "M", or None when not given."""
    if value is None:
        return None
    sex = parse_sex(value)
    if sex is None:
        raise UsageError(f"DPO sex: expected F or M, not {value!r}")
    return sex.value


def _aware(moment: datetime | None, what: str, now: datetime) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise UsageError(f"{what}: give a time zone (e.g. 2025-11-03T09:30+01:00)")
    if moment > now:
        raise UsageError(f"{what}: must not be in the future")
    return moment


def _text(value: str, what: str, limit: int) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise UsageError(f"{what}: must not be empty")
    if len(cleaned) > limit:
        raise UsageError(f"{what}: at most {limit} characters")
    return cleaned


class IncidentService(Operations):
    """Incidents of one person (the DPO) on one vault session."""

    def __init__(
        self, vault: Vault, trail: Trail, actor: Actor, *, client: str | None = None
    ) -> None:
        super().__init__(vault, trail, actor, client=client)
        self.docs = Documents(vault)

    # -- opening -------------------------------------------------------------------
    def open(
        self,
        title: str,
        *,
        discovered_at: datetime | None = None,
        circumstances: Circumstances | None = None,
        dpo_contact: str | None = None,
        found: Sequence[Path] = (),
        report: Mapping[str, Any] | None = None,
        matched: Mapping[str, Sequence[str]] | None = None,
        exposed: Mapping[str, Iterable[str]] | None = None,
        identifiers: Sequence[Sequence[str | None]] | None = None,
        row_exposures: Sequence[str] | None = None,
        progress: Callable[[int], None] | None = None,
        now: datetime | None = None,
        found_on: str | None = None,
        dpo_sex: str | None = None,
    ) -> Incident:
        """Open an incident; with ``found`` files, scan them first (contract B).

        ``found_on`` (``FOUND_ON``) says where the file turned up: online places
        default the circumstances to published with malicious intent, not copied.

        ``report`` and ``matched`` give an already made scan (its ``to_dict()``
        and ``matched_patients``) instead of ``found``; ``exposed`` gives what each
        matched patient's own rows held (categories, ``health:<concept>``). ``report`` with
        ``identifiers`` is a scan made where the files are (the DPO's client):
        its rows' normalised identifiers are matched here, as ``leak.scan``.
        """
        details: dict[str, DetailValue] = {"operation": "open"}
        self._decide_incident(Action.INCIDENT_MANAGE, details)
        moment = now or datetime.now(UTC)
        discovered = discovered_at or moment
        if discovered.tzinfo is None:
            raise UsageError("discovered at: give a time zone (e.g. 2025-11-03T09:30+01:00)")
        if discovered > moment:
            raise UsageError("discovered at: must not be in the future")
        title = _text(title, "title", MAX_TITLE)
        contact = _text(dpo_contact, "DPO contact", MAX_CONTACT) if dpo_contact else None
        where = _token(found_on, "found on", FOUND_ON)
        sex = _sex(dpo_sex)
        if found and report is not None:
            raise UsageError("open: give found files or a scan report, not both")
        if found:
            report, matched, exposed = self._scan(found, progress)
        elif identifiers is not None:
            if report is None:
                raise UsageError("open: identifiers come with their scan report")
            matched, exposed = self._match(report, identifiers, row_exposures)
        if circumstances is None and where in ONLINE:
            circumstances = Circumstances(confidentiality="published", malicious=True)
        elif circumstances is None:
            circumstances = Circumstances(confidentiality="copied" if report else None)
        incident_id = f"INC-{discovered.astimezone(UTC):%Y%m%d}-{secrets.token_hex(3)}"
        who = self.actor.username
        timeline = [
            Entry(discovered, who, "discovered", "Découverte de la violation."),
            Entry(moment, who, "opened", f"Incident ouvert : {title}."),
        ]
        kept = {lab: tuple(ids) for lab, ids in (matched or {}).items() if ids}
        if report is not None:
            timeline.append(
                Entry(
                    moment,
                    who,
                    "scan",
                    f"Analyse des fichiers trouvés : {int(report.get('rows') or 0)} lignes, "
                    f"environ {int(report.get('persons') or 0)} personnes, "
                    f"{sum(len(v) for v in kept.values())} patients reconnus.",
                )
            )
        incident = Incident(
            id=incident_id,
            state=OPEN,
            title=title,
            discovered_at=discovered,
            opened_at=moment,
            opened_by=who,
            circumstances=circumstances,
            timeline=tuple(timeline),
            report=dict(report) if report is not None else None,
            matched=kept,
            dpo_contact=contact,
            exposed=_kept_exposures(exposed, kept),
            found_on=where,
            dpo_sex=sex,
        )
        details.update(
            {
                "incident": incident_id,
                "matched": incident.matched_count,
                "persons": int(report.get("persons") or 0) if report else 0,
                "level": incident.severity.level.value,
            }
        )
        self._run(Action.INCIDENT_MANAGE, details, lambda: self._save(incident))
        self._record(Action.INCIDENT_MANAGE, Outcome.OK, details, [incident_id])
        return incident

    def _scan(
        self, found: Sequence[Path], progress: Callable[[int], None] | None
    ) -> tuple[dict[str, Any], dict[str, list[str]], dict[str, frozenset[str]]]:
        details: dict[str, DetailValue] = {"operation": "scan", "files": len(found)}
        self._decide_incident(Action.LEAK_SCAN, details)
        from etanche.leak.scan import scan_paths

        result = self._run(
            Action.LEAK_SCAN,
            details,
            lambda: scan_paths(list(found), vault=self.vault, progress=progress),
        )
        report = result.to_dict()
        matched = {lab: list(ids) for lab, ids in result.matched_patients.items()}
        details.update(
            {
                "rows": int(report.get("rows") or 0),
                "persons": int(report.get("persons") or 0),
                "matched": sum(len(ids) for ids in matched.values()),
            }
        )
        self._record(Action.LEAK_SCAN, Outcome.OK, details)
        return report, matched, dict(result.matched_exposure)

    def _match(
        self,
        report: Mapping[str, Any],
        identifiers: Sequence[Sequence[str | None]],
        exposures: Sequence[str] | None = None,
    ) -> tuple[dict[str, list[str]], dict[str, frozenset[str]]]:
        details: dict[str, DetailValue] = {
            "operation": "scan",
            "files": len(report.get("files") or ()),
        }
        self._decide_incident(Action.LEAK_SCAN, details)
        from etanche.leak.scan import match_exposures, per_lab

        if exposures is not None and len(exposures) != len(identifiers):
            raise UsageError("open: one exposure per identifier row")
        tokens = exposures if exposures is not None else [""] * len(identifiers)
        found, exposed = self._run(
            Action.LEAK_SCAN, details, lambda: match_exposures(self.vault, identifiers, tokens)
        )
        matched = per_lab(found)
        details.update(
            {
                "rows": int(report.get("rows") or 0),
                "persons": int(report.get("persons") or 0),
                "matched": len(found),
            }
        )
        self._record(Action.LEAK_SCAN, Outcome.OK, details)
        return matched, exposed

    # -- reading -------------------------------------------------------------------
    def list(self, *, state: str | None = None) -> list[Incident]:
        details: dict[str, DetailValue] = {"operation": "list"}
        self._decide_incident(Action.INCIDENT_MANAGE, details)
        found = self._run(
            Action.INCIDENT_MANAGE,
            details,
            lambda: [self._incident(d.id, d.state, d.body) for d in self.docs.list(KIND)],
        )
        if state is not None:
            found = [i for i in found if i.state == state]
        details["count"] = len(found)
        self._record(Action.INCIDENT_MANAGE, Outcome.OK, details)
        return found

    def get(self, incident_id: str) -> Incident:
        details = self._about("show", incident_id)
        self._decide_incident(Action.INCIDENT_MANAGE, details)
        incident = self._run(Action.INCIDENT_MANAGE, details, lambda: self._load(incident_id))
        self._record(Action.INCIDENT_MANAGE, Outcome.OK, details, [incident_id])
        return incident

    # -- changing ------------------------------------------------------------------
    def note(
        self,
        incident_id: str,
        text: str,
        *,
        measure: bool = False,
        planned: bool = False,
        covers: str | None = None,
    ) -> Incident:
        """A timeline entry; ``measure``: a measure taken, ``planned``: one planned
        (art. 33(3)(d)); ``covers``: the catalogue measure it stands for (``MEASURES``)."""
        if measure and planned:
            raise UsageError("note: a measure is either taken (--measure) or planned (--planned)")
        kind = "measure" if measure else "planned" if planned else "note"
        details = self._about(kind, incident_id)
        self._decide_incident(Action.INCIDENT_MANAGE, details)
        body = _text(text, "note", MAX_NOTE)
        key = _token(covers, "covers", MEASURES)
        if key and kind == "note":
            raise UsageError("covers: only for a measure taken or planned")
        details["length"] = len(body)
        if key:
            details["covers"] = key
        return self._change(
            details, incident_id, lambda i: _with(i, kind, self.actor, body, covers=key)
        )

    def cite_alert(self, incident_id: str, alert_id: str) -> Incident:
        """Put an alert on the timeline (so in the art. 33 draft), in French: the rule, its
        severity and its summary rebuilt from the English sentence; audited with its id."""
        details = self._about("alert", incident_id)
        self._decide_incident(Action.INCIDENT_MANAGE, details)
        self._decide(Action.ALERT_READ, INCIDENT, None, details)
        wanted = alert_id.strip()[:64]
        alert = self._run(
            Action.INCIDENT_MANAGE, details, lambda: self.trail.alerts.get_alert(wanted)
        )
        details["alert"] = alert.id
        text = alert_fr(alert.rule, alert.severity.value, alert.summary, alert.event_seq)
        return self._change(
            details, incident_id, lambda i: _with(i, "alert", self.actor, text, at=alert.created_at)
        )

    def describe(
        self,
        incident_id: str,
        *,
        started_at: datetime | None = None,
        cause: str | None = None,
        exit_path: str | None = None,
        found_on: str | None = None,
        dpo_sex: str | None = None,
        now: datetime | None = None,
    ) -> Incident:
        """The facts the CNIL form asks beside the scan: start, cause, exit path, where found."""
        details = self._about("describe", incident_id)
        self._decide_incident(Action.INCIDENT_MANAGE, details)
        moment = now or datetime.now(UTC)
        started = _aware(started_at, "started at", moment)
        changes: dict[str, Any] = {
            "started_at": started,
            "cause": _token(cause, "cause", CAUSES),
            "exit_path": _text(exit_path, "exit path", MAX_NOTE) if exit_path else None,
            "found_on": _token(found_on, "found on", FOUND_ON),
            "dpo_sex": _sex(dpo_sex),
        }
        given = {k: v for k, v in changes.items() if v is not None}
        if not given:
            raise UsageError("describe: give at least one fact to record")
        details["fields"] = ",".join(sorted(given))

        def change(incident: Incident) -> Incident:
            text = "Faits précisés : " + ", ".join(_FACTS[k] for k in sorted(given)) + "."
            return _with(_replace(incident, **given), "described", self.actor, text)

        return self._change(details, incident_id, change)

    def assess(self, incident_id: str, tokens: Sequence[str]) -> Incident:
        """Replace the circumstances of the breach (the severity follows)."""
        details = self._about("assess", incident_id)
        self._decide_incident(Action.INCIDENT_MANAGE, details)
        circumstances = parse_circumstances(tokens)
        described = "; ".join(CIRCUMSTANCES[t][2] for t in circumstances.tokens()) or "aucune"
        details["circumstances"] = ",".join(circumstances.tokens())

        def change(incident: Incident) -> Incident:
            updated = _replace(incident, circumstances=circumstances)
            level = updated.severity.level
            text = f"Circonstances réévaluées : {described}. Gravité {level.french}."
            details["level"] = level.value
            return _with(updated, "assessed", self.actor, text)

        return self._change(details, incident_id, change)

    def filed(
        self,
        incident_id: str,
        at: datetime | None = None,
        *,
        reference: str | None = None,
        now: datetime | None = None,
    ) -> Incident:
        """Record a notification filed with the CNIL: the first is the initial one (letters
        then name the CNIL; the 72 hours are judged on it), the next ones supplements."""
        details = self._about("filed", incident_id)
        self._decide_incident(Action.INCIDENT_MANAGE, details)
        moment = _aware(at, "filed at", now or datetime.now(UTC)) or now or datetime.now(UTC)
        ref = _text(reference, "reference", MAX_REFERENCE) if reference else None

        def change(incident: Incident) -> Incident:
            if moment < incident.discovered_at:
                raise UsageError("filed at: before the discovery of the breach")
            initial = not incident.filings and incident.notified_at is None
            details["kind"] = "initial" if initial else "supplementary"
            details["late"] = initial and moment > incident.deadline
            filings = (*incident.filings, Filing(moment, ref))
            filed = _replace(incident, filings=filings, notified_at=incident.notified_at or moment)
            what = "initiale" if initial else "complémentaire"
            text = f"Notification {what} déposée auprès de la CNIL" + (
                f" (référence {ref})." if ref else "."
            )
            return _with(filed, "filed", self.actor, text, at=moment)

        return self._change(details, incident_id, change)

    def close(self, incident_id: str, *, conclusion: str | None = None) -> Incident:
        """Close the incident; ``conclusion`` (French, no patient data) ends the timeline."""
        details = self._about("close", incident_id)
        self._decide_incident(Action.INCIDENT_MANAGE, details)
        ending = _text(conclusion, "conclusion", MAX_NOTE) if conclusion else None
        if ending:
            details["length"] = len(ending)

        def change(incident: Incident) -> Incident:
            if not incident.is_open:
                raise UsageError(f"incident {incident_id}: already closed")
            closed = _replace(incident, state=CLOSED)
            text = f"Incident clos. Conclusion : {ending}" if ending else "Incident clos."
            return _with(closed, "closed", self.actor, text)

        return self._change(details, incident_id, change)

    # -- the CNIL draft ----------------------------------------------------------------
    def draft(
        self,
        incident_id: str,
        *,
        delay_reason: str | None = None,
        dpo_contact: str | None = None,
        dpo_sex: str | None = None,
        now: datetime | None = None,
    ) -> Notification:
        """The art. 33 draft; records the drafting (and a delay reason) on the timeline."""
        details = self._about("report", incident_id)
        self._decide_incident(Action.INCIDENT_MANAGE, details)
        moment = now or datetime.now(UTC)
        reason = _text(delay_reason, "delay reason", MAX_NOTE) if delay_reason else None
        contact = _text(dpo_contact, "DPO contact", MAX_CONTACT) if dpo_contact else None
        sex = _sex(dpo_sex)

        def change(incident: Incident) -> Incident:
            updated = _replace(
                incident,
                delay_reason=reason or incident.delay_reason,
                dpo_contact=contact or incident.dpo_contact,
                dpo_sex=sex or incident.dpo_sex,
                reported_at=incident.reported_at or moment,
            )
            late = (incident.notified_at or moment) > incident.deadline
            details["late"] = late
            text = "Projet de notification à la CNIL établi" + (
                " (après le délai)." if late else "."
            )
            return _with(updated, "report", self.actor, text, at=moment)

        incident = self._change(details, incident_id, change, record=False)
        notification = self._run(
            Action.INCIDENT_MANAGE,
            details,
            lambda: build_notification(
                incident,
                dpo_name=self.dpo_name(),
                dpo_contact=incident.dpo_contact,
                labs={lab.id: lab for lab in self.vault.labs()},
                now=moment,
            ),
        )
        self._record(Action.INCIDENT_MANAGE, Outcome.OK, details, [incident_id])
        return notification

    def notification(self, incident: Incident, *, now: datetime | None = None) -> Notification:
        """The draft as it would read now, for a page already allowed to read the incident."""
        return build_notification(
            incident,
            dpo_name=self.dpo_name(),
            dpo_contact=incident.dpo_contact,
            labs={lab.id: lab for lab in self.vault.labs()},
            now=now,
        )

    def dpo_name(self) -> str:
        try:
            return Accounts(self.vault).get(self.actor.username).full_name
        except EtancheError:
            return self.actor.username

    # -- the letters (art. 34) -------------------------------------------------------------
    def letters(
        self,
        incident_id: str,
        out: Path,
        *,
        dpo_contact: str | None = None,
        batch: int = 500,
        dpo_sex: str | None = None,
        total: Callable[[int], None] | None = None,
        progress: Callable[[int], None] | None = None,
        now: datetime | None = None,
    ) -> LetterRun:
        """Write the letters of the incident's matched patients into ``out``.

        ``total`` hears the number of patients to write to, once decided.
        """
        job, count = self.letters_job(
            incident_id, out, dpo_contact=dpo_contact, batch=batch, dpo_sex=dpo_sex, now=now
        )
        if total is not None:
            total(count)
        return job(progress)

    def letters_job(
        self,
        incident_id: str,
        out: Path,
        *,
        dpo_contact: str | None = None,
        batch: int = 500,
        dpo_sex: str | None = None,
        now: datetime | None = None,
    ) -> tuple[Callable[[Callable[[int], None] | None], LetterRun], int]:
        """Decide the letters now; the returned job writes them into ``out`` (a long run).

        Decided per lab of the matched patients; the session unwraps the admin
        compartment only. Decoys and erased patients get no letter (counted).
        Also answers how many patients the job will consider. The contact and
        gender given are kept on the incident: the CNIL draft names the DPO alike.

        Not behind an approved plan, on purpose: art. 34 asks for the letters
        without undue delay, each page goes to the one patient it names, pages
        hold a name and a postal address only (no NIR, no clinical field), the
        patients are only those the incident's scan matched, and the files are
        for printing and posting (folder 0700, files 0600). What stands in for a
        second person is visibility: every run is an ``incident.notify`` event
        that the ``export`` alert rule (bulk outputs) raises.
        """
        details = self._about("notify", incident_id)
        self._decide_incident(Action.INCIDENT_NOTIFY, details)
        incident = self._run(Action.INCIDENT_NOTIFY, details, lambda: self._load(incident_id))
        labs = sorted(incident.matched)
        details["labs"] = ",".join(labs)
        decisions = [
            self._decide_incident(Action.INCIDENT_NOTIFY, {**details, "lab": lab}, lab=lab)
            for lab in labs
        ]
        granted = frozenset().union(*(d.compartments for d in decisions)) & {Compartment.ADMIN}
        self.vault.unlock(granted)
        contact = (dpo_contact and _text(dpo_contact, "DPO contact", MAX_CONTACT)) or (
            incident.dpo_contact
        )
        if not contact:
            raise UsageError("notify: give the DPO's contact (--dpo-contact) for the letters")
        sex = _sex(dpo_sex) or incident.dpo_sex
        skipped = {"decoys": 0, "erased": 0}
        written: list[str] = []

        def patients() -> Iterator[Patient]:
            for lab in labs:
                for patient_id in incident.matched[lab]:
                    if is_decoy(self.vault, patient_id):
                        skipped["decoys"] += 1
                        continue
                    try:
                        patient = self.vault.get(patient_id)
                    except RecordNotFound:
                        skipped["erased"] += 1
                        continue
                    written.append(patient_id)
                    yield patient

        text = letter_text(
            incident, dpo_name=self.dpo_name(), dpo_contact=contact, dpo_sex=parse_sex(sex)
        )
        lab_rows = {lab.id: lab for lab in self.vault.labs()}

        def job(progress: Callable[[int], None] | None) -> LetterRun:
            run = self._run(
                Action.INCIDENT_NOTIFY,
                details,
                lambda: write_letters(
                    patients(),
                    out,
                    text,
                    labs=lab_rows,
                    exposures=incident.exposed if incident.exposed else None,
                    batch=batch,
                    progress=progress,
                    now=now,
                ),
            )
            details.update(
                {
                    "letters": run.letters,
                    "files": len(run.files),
                    "without_address": run.without_address,
                    "decoys_skipped": skipped["decoys"],
                    "erased_skipped": skipped["erased"],
                    "compartments": ",".join(sorted(c.value for c in granted)),
                }
            )
            self._record(Action.INCIDENT_NOTIFY, Outcome.OK, details, [incident_id, *written])
            moment = now or datetime.now(UTC)
            note = f"{run.letters} lettres d'information aux patients (art. 34) préparées."
            kept = _replace(
                self._load(incident_id), letters=run.letters, dpo_contact=contact, dpo_sex=sex
            )
            self._save(_with(kept, "notify", self.actor, note, at=moment))
            return run

        return job, incident.matched_count

    # -- internals -----------------------------------------------------------------------
    def _about(self, operation: str, incident_id: str) -> dict[str, DetailValue]:
        return {"operation": operation, "incident": incident_id[:64]}

    def _incident(self, doc_id: str, state: str, body: Mapping[str, Any]) -> Incident:
        return Incident.from_body(doc_id, state, body)

    def _load(self, incident_id: str) -> Incident:
        doc = self.docs.get(KIND, incident_id)
        return self._incident(doc.id, doc.state, doc.body)

    def _save(self, incident: Incident) -> None:
        self.docs.put(KIND, incident.id, incident.body(), state=incident.state)

    def _change(
        self,
        details: dict[str, DetailValue],
        incident_id: str,
        change: Callable[[Incident], Incident],
        *,
        record: bool = True,
    ) -> Incident:
        action = Action.INCIDENT_MANAGE

        def work() -> Incident:
            updated = change(self._load(incident_id))
            self._save(updated)
            return updated

        incident = self._run(action, details, work)
        if record:
            self._record(action, Outcome.OK, details, [incident_id])
        return incident

    def _decide_incident(
        self, action: Action, details: dict[str, DetailValue], *, lab: str | None = None
    ) -> Decision:
        return self._decide(action, INCIDENT, lab, details)


def _kept_exposures(
    exposed: Mapping[str, Iterable[str]] | None, kept: Mapping[str, Sequence[str]]
) -> dict[str, frozenset[str]]:
    """The exposures of the matched patients only (nothing kept about anyone else)."""
    ids = {pid for group in kept.values() for pid in group}
    return {pid: frozenset(t) for pid, t in (exposed or {}).items() if pid in ids}


def _replace(incident: Incident, **changes: Any) -> Incident:
    return replace(incident, **changes)


_FACTS = {
    "started_at": "début de la violation",
    "cause": "cause",
    "exit_path": "voie de sortie des données",
    "found_on": "lieu où le fichier a été trouvé",
    "dpo_sex": "titre du délégué à la protection des données",
}


def _with(
    incident: Incident,
    kind: str,
    actor: Actor,
    text: str,
    *,
    at: datetime | None = None,
    covers: str | None = None,
) -> Incident:
    entry = Entry(at or datetime.now(UTC), actor.username, kind, text, covers)
    return _replace(incident, timeline=(*incident.timeline, entry))


# -- what an answer holds: counts and texts, never a patient id ------------------------------
def incident_summary(incident: Incident, *, now: datetime | None = None) -> dict[str, Any]:
    """The list row of an incident: deadline, countdown, severity, counts."""
    severity = incident.severity
    left = countdown(incident.deadline, now)
    return {
        "id": incident.id,
        "state": incident.state,
        "title": incident.title,
        "discovered_at": aware_iso(incident.discovered_at),
        "deadline": aware_iso(incident.deadline),
        "seconds_left": int(left.left.total_seconds()),
        "countdown": left.english(),
        "reported_at": aware_iso(incident.reported_at) if incident.reported_at else None,
        "notified_at": aware_iso(incident.notified_at) if incident.notified_at else None,
        "late": incident.late(now),
        "severity": severity.level.value,
        "score": severity.score,
        "matched": incident.matched_count,
        "letters": incident.letters,
    }


def incident_detail(incident: Incident, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything but the patient ids."""
    return {
        **incident_summary(incident, now=now),
        "circumstances": incident.circumstances.tokens(),
        "matched_per_lab": {lab: len(ids) for lab, ids in sorted(incident.matched.items())},
        "assessment": incident.severity.to_dict(),
        "tell_persons": incident.severity.level.persons_to_be_told,
        "report": incident.report,
        "timeline": [e.to_dict() for e in incident.timeline],
        "filings": [f.to_dict() for f in incident.filings],
        "facts": {
            "started_at": aware_iso(incident.started_at) if incident.started_at else None,
            "cause": incident.cause,
            "exit_path": incident.exit_path,
            "found_on": incident.found_on,
            "dpo_sex": incident.dpo_sex,
        },
    }
