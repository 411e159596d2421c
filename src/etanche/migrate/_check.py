"""``migrate check``: a dry run over the whole source, nothing written.

It tells the controller and the vendor, before anything moves, what the source
holds and what is wrong with it: counts per lab, invalid NIR keys, NIRs that
contradict sex or birth date, probable duplicates, encoding problems, refused
columns, rows out of scope. Each problem names a line or segment and a field,
never a value, so the report can be mailed and archived.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from etanche.domain import normalize_name, normalize_nir
from etanche.exchange import FIELDS, SourceIssue, SourceReader, SourceRecord, open_source
from etanche.migrate._parallel import selections
from etanche.migrate._plan import MigrationPlan
from etanche.migrate._select import Selected

__all__ = ["CheckReport", "Problem", "check_plan", "read_source"]

PROBLEMS_LISTED = 2000  # per kind, in the report; the counts stay complete


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str
    location: str
    field: str | None
    reason: str


@dataclass
class CheckReport:
    """Counts and located problems of one dry run."""

    plan_id: str
    plan_sha256: str
    source_format: str
    source_name: str
    records: int = 0
    in_scope: int = 0
    valid: int = 0
    out_of_scope: int = 0
    specimens: int = 0
    specimens_in_range: int = 0
    per_lab: dict[str, Counter[str]] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    problems: dict[str, list[Problem]] = field(default_factory=dict)
    columns: tuple[str, ...] = ()
    refused_columns: tuple[str, ...] = ()
    unmapped_columns: tuple[str, ...] = ()
    free_text_fields: tuple[str, ...] = ()

    def add(self, problem: Problem) -> None:
        self.counts[problem.kind] += 1
        listed = self.problems.setdefault(problem.kind, [])
        if len(listed) < PROBLEMS_LISTED:
            listed.append(problem)

    @property
    def ready(self) -> bool:
        """Nothing blocks a run (invalid records are left out of a package, not fatal)."""
        return self.valid > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan_id,
            "plan_sha256": self.plan_sha256,
            "source": {"format": self.source_format, "name": self.source_name},
            "records": self.records,
            "in_scope": self.in_scope,
            "valid": self.valid,
            "rejected": self.in_scope - self.valid,
            "out_of_scope": self.out_of_scope,
            "specimens": self.specimens,
            "specimens_in_range": self.specimens_in_range,
            "per_lab": {lab: dict(c) for lab, c in sorted(self.per_lab.items())},
            "counts": dict(sorted(self.counts.items())),
            "columns": {
                "seen": list(self.columns),
                "refused_credentials": list(self.refused_columns),
                "unmapped": list(self.unmapped_columns),
                "free_text_for_review": list(self.free_text_fields),
            },
            "problems": {
                kind: [
                    {"location": p.location, "field": p.field, "reason": p.reason} for p in items
                ]
                for kind, items in sorted(self.problems.items())
            },
        }

    def to_html(self) -> str:
        return _html(self.to_dict())


def read_source(plan: MigrationPlan) -> SourceReader:
    return open_source(
        plan.source_format,
        plan.source_path,
        mapping=plan.source_mapping,
        encoding=plan.source_encoding,
    )


def _kind(field: str | None, reason: str) -> str:
    if field == "lab":
        return "lab_disagrees"  # with the plan's source lab
    if field == "nir":
        if "check key" in reason:
            return "invalid_nir_key"
        if "does not match" in reason:
            return "nir_inconsistent"
        return "invalid_nir"
    return "invalid_field"


def _duplicate_keys(record: SourceRecord) -> Iterator[str]:
    """Keys under which two records are probably the same person."""
    f = record.fields
    if nir := f.get("nir"):
        yield "nir:" + normalize_nir(nir)
    name, first, born = f.get("birth_name"), f.get("first_names"), f.get("birth_date")
    if name and first and born:
        yield f"traits:{normalize_name(name)}|{normalize_name(first.split()[0])}|{born}"


def _duplicate_hashes(position: int, record: SourceRecord, selected: Selected) -> list[int]:
    """The Python hashes of a record's duplicate keys, computed beside its validation
    (forked workers share the main process's hash seed)."""
    return [hash(key) for key in _duplicate_keys(record)] if selected.in_scope else []


class _Duplicates:
    """Remembers keys by Python hash only: no personal value kept, bounded memory."""

    def __init__(self) -> None:
        self._seen: dict[int, str] = {}

    def first_seen(self, record: SourceRecord, hashes: list[int]) -> str | None:
        earlier = None
        for digest in hashes:
            if digest in self._seen:
                earlier = earlier or self._seen[digest]
            else:
                self._seen[digest] = record.location
        return earlier


def check_plan(
    plan: MigrationPlan,
    *,
    progress: Callable[[int], None] | None = None,
    today: date | None = None,
    workers: int = 0,
) -> CheckReport:
    """Read the whole source as the plan says and report; write nothing.

    ``workers`` > 0 validates records in that many forked processes (CLI only).
    """
    reader = read_source(plan)
    report = CheckReport(
        plan_id=plan.id,
        plan_sha256=plan.sha256,
        source_format=reader.format,
        source_name=plan.source_path.name,
    )
    report.columns = reader.columns
    report.refused_columns = reader.refused
    report.unmapped_columns = reader.unmapped
    report.free_text_fields = tuple(name for name in sorted(plan.allowed) if FIELDS[name].free_text)
    for column in reader.refused:
        report.add(Problem("refused_column", "header", column, "credential column refused"))
    duplicates = _Duplicates()
    verdicts = selections(plan, reader, workers=workers, today=today, then=_duplicate_hashes)
    for verdict in verdicts:
        item, selected = verdict.item, verdict.selected
        if isinstance(item, SourceIssue) or selected is None:
            assert isinstance(item, SourceIssue)
            kind = "encoding" if "encod" in item.reason or "decod" in item.reason else "malformed"
            report.add(Problem(kind, item.location, item.field, item.reason))
            continue
        report.records += 1
        if progress is not None and report.records % 10_000 == 0:
            progress(report.records)
        _account(plan, report, item, selected, duplicates.first_seen(item, verdict.result or []))
    if progress is not None:
        progress(report.records)
    return report


def _account(
    plan: MigrationPlan,
    report: CheckReport,
    record: SourceRecord,
    selected: Selected,
    earlier: str | None,
) -> None:
    report.specimens += selected.specimens_total
    lab = selected.lab or "(none)"
    counts = report.per_lab.setdefault(lab, Counter())
    counts["records"] += 1
    if not selected.in_scope:
        report.out_of_scope += 1
        counts["out_of_scope"] += 1
        why = "lab missing" if selected.lab is None else f"lab {lab} not in the plan's scope"
        report.add(Problem("out_of_scope", record.location, "lab", why))
        return
    report.in_scope += 1
    report.specimens_in_range += len(selected.specimens_in_range)
    counts["specimens"] += len(selected.specimens_in_range)
    if earlier is not None:
        report.add(
            Problem("probable_duplicate", record.location, None, f"same person as {earlier}?")
        )
    if not selected.valid:
        counts["rejected"] += 1
        for problem in selected.problems:
            field_name = problem.field.split("[")[0]
            report.add(
                Problem(
                    _kind(field_name, problem.reason),
                    record.location,
                    problem.field,
                    problem.reason,
                )
            )
        return
    counts["valid"] += 1
    report.valid += 1


_STYLE = (
    "body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}th{background:#f3f3f3}"
)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _html(data: dict[str, Any]) -> str:
    """A self-contained page (no script, no external resource)."""
    parts = [
        f"<h1>Migration check — plan {html.escape(data['plan'])}</h1>",
        f"<p>Source: {html.escape(data['source']['format'])} "
        f"<code>{html.escape(data['source']['name'])}</code>; plan SHA-256 "
        f"<code>{data['plan_sha256']}</code></p>",
        _table(
            ["records", "in scope", "valid", "rejected", "out of scope", "specimens kept"],
            [
                [
                    data["records"],
                    data["in_scope"],
                    data["valid"],
                    data["rejected"],
                    data["out_of_scope"],
                    data["specimens_in_range"],
                ]
            ],
        ),
        "<h2>Per lab</h2>",
        _table(
            ["lab", "records", "valid", "rejected", "out of scope", "specimens"],
            [
                [
                    lab,
                    c.get("records", 0),
                    c.get("valid", 0),
                    c.get("rejected", 0),
                    c.get("out_of_scope", 0),
                    c.get("specimens", 0),
                ]
                for lab, c in data["per_lab"].items()
            ],
        ),
        "<h2>Problems</h2>",
        _table(["kind", "count"], [[k, v] for k, v in data["counts"].items()]),
        "<h2>Columns</h2>",
        _table(
            ["refused (credentials)", "unmapped", "free text for review"],
            [
                [
                    ", ".join(data["columns"]["refused_credentials"]) or "—",
                    ", ".join(data["columns"]["unmapped"]) or "—",
                    ", ".join(data["columns"]["free_text_for_review"]) or "—",
                ]
            ],
        ),
    ]
    for kind, items in data["problems"].items():
        parts.append(f"<h3>{html.escape(kind)} ({data['counts'][kind]})</h3>")
        parts.append(
            _table(
                ["where", "field", "reason"],
                [[p["location"], p["field"] or "", p["reason"]] for p in items],
            )
        )
    return (
        "<!doctype html><html lang='en'><meta charset='utf-8'>"
        f"<title>Migration check {html.escape(data['plan'])}</title><style>{_STYLE}</style>"
        + "".join(parts)
        + "</html>"
    )
