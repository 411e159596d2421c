"""The scan report as one self-contained HTML page (inline CSS, no script, escaped)."""

from __future__ import annotations

from jinja2 import Environment, select_autoescape

from etanche.leak.scan._report import ScanReport

__all__ = ["render_html"]

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Étanche scan report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1b1b;max-width:72rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f1f1f1}.num{text-align:right}.warn{color:#a00;font-weight:bold}
code{font-size:.9em}
</style></head><body>
<h1>Étanche scan report</h1>
<p>{{ r.files|length }} table(s), {{ "{:,}".format(r.rows) }} rows,
{{ "{:,}".format(r.bytes) }} bytes; about {{ "{:,}".format(r.persons) }} distinct persons.</p>
{% if r.special_category %}<p class="warn">Special-category data (GDPR art. 9): health
data present.</p>{% endif %}
<h2>Findings</h2>
{% if r.categories %}
<table><tr><th>category</th><th class="num">cells</th><th>columns</th>
<th class="num">confidence</th><th>masked samples</th></tr>
{% for name, c in r.categories.items() %}
<tr><td>{{ name }}</td><td class="num">{{ "{:,}".format(c.count) }}</td>
<td>{{ c.columns|join(", ") }}</td><td class="num">{{ c.confidence }}</td>
<td>{% for s in c.samples %}<code>{{ s }}</code>{% if not loop.last %}, {% endif %}{% endfor %}</td>
</tr>{% endfor %}</table>
{% else %}<p>No personal data found.</p>{% endif %}
{% if r.vault_matches is not none %}
<h2>Our patients in these files</h2>
<table><tr><th>lab</th><th class="num">patients</th></tr>
{% for lab, n in r.vault_matches.items() %}<tr><td>{{ lab }}</td>
<td class="num">{{ n }}</td></tr>{% endfor %}</table>
<p>Run <code>etanche trace FILE</code> to find which export the file came from.</p>
{% endif %}
<h2>Files</h2>
<table><tr><th>table</th><th>format</th><th class="num">rows</th><th>categories</th></tr>
{% for f in r.files %}<tr><td>{{ f.name }}</td><td>{{ f.format }}</td>
<td class="num">{{ f.rows }}</td><td>{% if f.error %}{{ f.error }}{% else %}
{% for name, c in f.categories.items() %}{{ name }} ({{ c.count }})
{%- if not loop.last %}, {% endif %}{% endfor %}
{% endif %}</td></tr>{% endfor %}</table>
{% for note in r.notes %}<p><em>{{ note }}</em></p>{% endfor %}
</body></html>
"""

_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))


def render_html(report: ScanReport) -> str:
    """The report page; every value shown is masked, every string escaped."""
    return _ENV.from_string(_TEMPLATE).render(r=report.to_dict())
