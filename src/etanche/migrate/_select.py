"""What of a source record may leave, and whether it is a valid patient.

The one place the plan's scope and allow-list are applied, shared by the dry
run and the package builder so that what ``check`` reports is exactly what
``run`` does. A field is copied only if the plan allows it: the package is
minimal by construction, not by a filter applied afterwards.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from etanche.domain import validate_patient
from etanche.errors import ValidationError, ValidationErrors
from etanche.exchange import FIELDS, SourceRecord, build_patient
from etanche.migrate._plan import MigrationPlan

__all__ = ["Selected", "compartment_values", "outbound", "restrict", "select"]


@dataclass(frozen=True, slots=True)
class Selected:
    """The verdict on one source record."""

    lab: str | None
    in_scope: bool
    valid: bool  # in scope and a valid patient: it may leave
    problems: tuple[ValidationError, ...]
    specimens_total: int
    specimens_in_range: tuple[int, ...]  # indexes of the record's specimens the plan keeps


def _collected_day(specimen: Mapping[str, str]) -> date | None:
    text = specimen.get("specimen.collected_at", "")
    try:
        return datetime.fromisoformat(text).date() if text else None
    except ValueError:
        return None


def select(plan: MigrationPlan, record: SourceRecord, *, today: date | None = None) -> Selected:
    """Scope, parse and validate one record (problems name fields, never values)."""
    lab = record.fields.get("lab") or None
    total = len(record.specimens)
    if plan.source_lab is not None:
        if not plan.source_lab_agrees(lab):
            reason = f"the record names another lab than the plan's source lab {plan.source_lab}"
            problem = ValidationError("lab", reason, record.location)
            return Selected(plan.source_lab, True, False, (problem,), total, ())
        lab = plan.source_lab
    if not plan.in_scope(lab):
        return Selected(lab, False, False, (), total, ())
    assert lab is not None
    kept = tuple(
        i
        for i, s in enumerate(record.specimens)
        if (day := _collected_day(s)) is None or plan.specimen_in_range(day)
    )
    try:
        patient, _ = build_patient(record, patient_id=record.location, lab_id=lab)
        validate_patient(patient, today=today)
    except ValidationErrors as many:
        return Selected(lab, True, False, tuple(many.errors), total, kept)
    except ValidationError as one:
        return Selected(lab, True, False, (one,), total, kept)
    return Selected(lab, True, True, (), total, kept)


def outbound(plan: MigrationPlan, record: SourceRecord, selected: Selected) -> dict[str, Any]:
    """The package row of an in-scope, valid record: allowed fields only.

    ``lab`` is always carried (the recipient must know whose patient it is);
    specimens keep only allowed ``specimen.*`` fields and the plan's date range.
    """
    kept = [record.specimens[i] for i in selected.specimens_in_range]
    fields = {**record.fields, "lab": selected.lab}  # the plan's source lab, when it has one
    return restrict(plan, {"lab": selected.lab, "fields": fields, "specimens": kept})


def restrict(plan: MigrationPlan, row: Mapping[str, Any]) -> dict[str, Any]:
    """A package row cut to the plan: allowed fields, allowed specimen fields in range.

    The one cut for records and canaries alike: canaries must carry what real
    rows carry, no more (the package stays within its plan) and no less (they
    must not stand out).
    """
    record_fields, specimen_fields = _cut(plan)
    fields = {
        str(name): str(value)
        for name, value in dict(row.get("fields", {})).items()
        if name in record_fields
    }
    specimens = []
    if specimen_fields:
        for specimen in row.get("specimens", ()):
            day = _collected_day(specimen)
            if day is not None and not plan.specimen_in_range(day):
                continue
            kept = {str(k): str(v) for k, v in specimen.items() if k in specimen_fields}
            if kept:
                specimens.append(kept)
    return {"lab": row["lab"], "fields": fields, "specimens": specimens}


_CUTS: dict[int, tuple[object, tuple[frozenset[str], frozenset[str]]]] = {}


def _cut(plan: MigrationPlan) -> tuple[frozenset[str], frozenset[str]]:
    """(record fields, specimen fields) a plan lets out, worked out once per plan
    rather than once per row (keyed by its field lists, which the entry holds on to)."""
    entry = _CUTS.get(id(plan.fields))
    if entry is None or entry[0] is not plan.fields:
        allowed = plan.allowed
        specimen = frozenset(n for n in allowed if n.startswith("specimen."))
        record = frozenset(n for n in allowed if n in FIELDS) - specimen
        if len(_CUTS) > 64:
            _CUTS.clear()
        entry = _CUTS[id(plan.fields)] = (plan.fields, (record, specimen))
    return entry[1]


def compartment_values(
    fields: Iterable[str], specimens: Sequence[Mapping[str, str]]
) -> Counter[str]:
    """Values a package row carries per compartment: what manifests announce and
    recipients reconcile, counted by this one function on both sides."""
    counts: Counter[str] = Counter(map(_COMPARTMENT.__getitem__, fields))
    in_specimens = sum(map(len, specimens))
    if in_specimens:
        counts["admin"] += in_specimens  # specimen fields are administrative
    return counts


_COMPARTMENT = {name: spec.compartment for name, spec in FIELDS.items()}
