"""The trace report: terminal, HTML and JSON renderings of the same evidence.

No patient value and no patient id ever appears: exports are named by id,
recipient and date; evidence is counts and probabilities.
"""

from __future__ import annotations

import html
import math
from typing import Any

from rich.table import Table

from etanche.leak.trace._files import FileTrace
from etanche.leak.trace._score import ExportScore

__all__ = ["format_p", "render_html", "render_table", "to_dict", "verdict"]

SHOWN = 10


def format_p(log10_p: float) -> str:
    """1e-39.6 -> "2.5e-40"; moderate values plainly."""
    if log10_p >= -3:
        return f"{10**log10_p:.3g}"
    exponent = math.floor(log10_p)
    mantissa = 10 ** (log10_p - exponent)
    if mantissa >= 9.95:
        mantissa, exponent = 1.0, exponent + 1
    return f"{mantissa:.1f}e{exponent}"


def verdict(trace: FileTrace) -> str:
    r = trace.result
    if r.identified == 0:
        return "none of the rows of this file belongs to a patient of this vault"
    sources = r.sources
    if not sources:
        return "no export is accused (no score beyond what innocent exports reach)"
    named = ", ".join(f"{s.export_id} ({s.recipient})" for s in sources)
    return f"source{'s' if len(sources) > 1 else ''} named: {named}"


def _score_dict(s: ExportScore) -> dict[str, Any]:
    return {
        "export_id": s.export_id,
        "recipient": s.recipient,
        "created_at": s.created_at.isoformat() if s.created_at else None,
        "rows_in_scope": s.in_scope,
        "scope_share": round(s.scope_share, 4),
        "canary_hits": s.canary_hits,
        "marks_seen": s.marks_seen,
        "agreements": s.agreements,
        "expected_agreements": round(s.expected_agreements, 2),
        "order_rows": s.order_rows,
        "order_concordance": round(s.order_concordance, 4),
        "agreeing_rows": s.agreeing_rows,
        "log10_p_rows": round(s.log10_p_rows, 3),
        "log10_p_fingerprint": round(s.log10_p_fingerprint, 3),
        "log10_p_order": round(s.log10_p_order, 3),
        "log10_p_canary": round(s.log10_p_canary, 3),
        "log10_p_corrected": round(s.log10_p_corrected, 3),
        "p_corrected": format_p(s.log10_p_corrected),
        "accused": s.accused,
    }


def to_dict(trace: FileTrace, shown: int = SHOWN) -> dict[str, Any]:
    r = trace.result
    return {
        "file": trace.path,
        "tables": list(trace.tables),
        "rows": r.found_rows,
        "identified_rows": r.identified,
        "exports_scored": r.exports,
        "verdict": verdict(trace),
        "sources": [_score_dict(s) for s in r.sources],
        "rounds": [
            {
                "rows": rnd.rows,
                "explained_by_top": rnd.explained,
                "ranking": [_score_dict(s) for s in rnd.scores[:shown]],
            }
            for rnd in r.rounds
        ],
    }


def _row(s: ExportScore) -> list[str]:
    return [
        s.export_id,
        s.recipient,
        f"{s.created_at:%Y-%m-%d}" if s.created_at else "-",
        f"{s.in_scope} ({s.scope_share:.0%})",
        str(s.canary_hits),
        f"{s.agreements}/{s.marks_seen} (chance {s.expected_agreements:.1f})",
        f"{s.order_concordance:+.2f} on {s.order_rows}",
        format_p(s.log10_p_corrected),
        "ACCUSED" if s.accused else "-",
    ]


_HEADERS = (
    "export",
    "recipient",
    "date",
    "rows in scope",
    "canaries",
    "marks agreeing",
    "order tau",
    "p (innocent, corrected)",
    "verdict",
)


def render_table(trace: FileTrace, shown: int = SHOWN) -> list[Table]:
    """One Rich table per round of the attribution."""
    tables = []
    for number, rnd in enumerate(trace.result.rounds, start=1):
        title = f"{trace.path}: round {number}, {rnd.rows} identified rows"
        table = Table(*_HEADERS, title=title)
        for s in rnd.scores[:shown]:
            table.add_row(*_row(s))
        tables.append(table)
    return tables


def render_html(traces: list[FileTrace], shown: int = SHOWN) -> str:
    """A self-contained HTML page (escaped; no script)."""
    parts = [
        "<!doctype html><html lang='en'><meta charset='utf-8'>",
        "<title>Étanche trace report</title>",
        "<style>body{font-family:sans-serif}td,th{border:1px solid #999;padding:2px 6px}"
        "table{border-collapse:collapse;margin-bottom:1em}.accused{background:#fdd}</style>",
        "<h1>Trace report</h1>",
    ]
    for trace in traces:
        r = trace.result
        parts.append(f"<h2>{html.escape(trace.path)}</h2>")
        parts.append(
            f"<p>{r.found_rows} rows read, {r.identified} recognised, "
            f"{r.exports} exports scored. <strong>{html.escape(verdict(trace))}</strong></p>"
        )
        for number, rnd in enumerate(r.rounds, start=1):
            parts.append(f"<h3>Round {number} ({rnd.rows} rows)</h3><table><tr>")
            parts.extend(f"<th>{html.escape(h)}</th>" for h in _HEADERS)
            parts.append("</tr>")
            for s in rnd.scores[:shown]:
                css = " class='accused'" if s.accused else ""
                cells = "".join(f"<td>{html.escape(c)}</td>" for c in _row(s))
                parts.append(f"<tr{css}>{cells}</tr>")
            parts.append("</table>")
    parts.append(
        "<p>p: probability that an export which is not the source scores at least as high "
        "(three lanes, Bonferroni-combined: writings per value and row order, "
        "Fisher-combined; rows agreeing on every writing; canaries; then Bonferroni "
        "over the exports scored). Accusation at p &le; 1e-9.</p></html>"
    )
    return "\n".join(parts)
