"""The scan report as one self-contained French HTML page for the DPO.

Inline CSS and an inline SVG bar chart: no script, no external asset, every
string escaped. Categories and health concepts carry their French labels, never
the internal codes (the CLI and the JSON keep those).
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import Environment, select_autoescape

from etanche.leak.scan._classify import NIR_NOTE
from etanche.leak.scan._french import CATEGORY_LABELS, CONCEPT_LABELS, SAMPLE_LABELS
from etanche.leak.scan._report import ScanReport

__all__ = ["render_html"]

_TEMPLATE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<title>Étanche — rapport d'analyse d'un fichier retrouvé</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1b1b;max-width:72rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f1f1f1}.num{text-align:right;white-space:nowrap}.warn{color:#a00;font-weight:bold}
.totals{display:flex;gap:1rem;flex-wrap:wrap}.total{border:1px solid #ccc;padding:.6rem 1rem}
.total b{display:block;font-size:1.4rem}code{font-size:.9em}
svg text{font-size:12px;font-family:system-ui,sans-serif}
</style></head><body>
<h1>Rapport d'analyse d'un fichier retrouvé</h1>
<p>{{ r.files|length }} table(s) analysée(s), {{ r.rows|n }} lignes,
{{ r.bytes|n }} octets.</p>
<div class="totals">
<div class="total"><b>{{ r.persons|n }}</b>personnes distinctes dans le fichier (estimation)</div>
{% if r.vault_matches is not none %}
<div class="total"><b>{{ recognised|n }}</b>patients reconnus parmi les nôtres</div>
<div class="total"><b>{{ ([r.persons - recognised, 0]|max)|n }}</b>personnes
non reconnues</div>
{% endif %}
{% if r.physicians and r.physicians.count %}
<div class="total"><b>{{ r.physicians.count|n }}</b>médecins traitants nommés
{%- if r.physicians.rpps %} (avec leur RPPS){% endif %}</div>
{% endif %}
</div>
{% if r.vault_matches is none %}<p>Patients reconnus : non recherché (relancer
<code>etanche scan --vault</code>).</p>{% endif %}
{% if r.special_category %}<p class="warn">Données de santé (art. 9 RGPD) présentes dans
le fichier.</p>{% endif %}
<h2>Catégories de données</h2>
{% if bars %}
<svg role="img" aria-label="Personnes concernées par catégorie" width="760"
height="{{ bars|length * 24 + 10 }}" viewBox="0 0 760 {{ bars|length * 24 + 10 }}">
{% for b in bars %}
<text x="330" y="{{ loop.index0 * 24 + 20 }}" text-anchor="end">{{ b.label }}</text>
<rect x="340" y="{{ loop.index0 * 24 + 7 }}" width="{{ b.width }}" height="16"
fill="{{ '#b3261e' if b.health else '#2a5db0' }}"></rect>
<text x="{{ 346 + b.width }}" y="{{ loop.index0 * 24 + 20 }}">{{ b.value|n }}</text>
{% endfor %}</svg>
<p>Barres : personnes distinctes dont les lignes contiennent la catégorie
(en rouge, les données de santé).</p>
<table><tr><th>catégorie</th><th class="num">personnes</th><th class="num">enregistrements</th>
<th class="num">cellules</th><th>colonnes</th><th class="num">confiance</th>
<th>échantillons masqués</th></tr>
{% for name, c in r.categories.items() %}
<tr><td>{{ labels.get(name, name) }}</td><td class="num">{{ c.persons|n }}</td>
<td class="num">{{ c.rows|n }}</td><td class="num">{{ c.count|n }}</td>
<td>{{ c.columns|map("column")|join(", ") }}</td>
<td class="num">{{ "%.2f"|format(c.confidence)|replace(".", ",") }}</td>
<td>{% for s in c.samples %}<code>{{ s|sample }}</code>{% if not loop.last %}, {% endif %}
{% endfor %}</td></tr>{% endfor %}</table>
{% else %}<p>Aucune donnée personnelle reconnue.</p>{% endif %}
{% if r.health_concepts %}
<h2>Données de santé par nature</h2>
<table><tr><th>nature</th><th class="num">personnes</th><th class="num">enregistrements</th></tr>
{% for name, c in r.health_concepts.items() %}<tr><td>{{ concepts.get(name, name) }}</td>
<td class="num">{{ c.persons|n }}</td><td class="num">{{ c.rows|n }}</td></tr>{% endfor %}
</table>{% endif %}
{% if r.vault_matches is not none %}
<h2>Nos patients dans ces fichiers</h2>
<table><tr><th>laboratoire</th><th class="num">patients</th></tr>
{% for lab, n in r.vault_matches.items() %}<tr><td>{{ lab }}</td>
<td class="num">{{ n|n }}</td></tr>{% endfor %}
<tr><th>total</th><th class="num">{{ recognised|n }}</th></tr></table>
<p>Pour trouver de quel export provient le fichier : <code>etanche trace FICHIER</code>.</p>
{% endif %}
<h2>Fichiers</h2>
<table><tr><th>table</th><th>format</th><th class="num">lignes</th><th>catégories</th></tr>
{% for f in r.files %}<tr><td>{{ f.name }}</td><td>{{ f.format }}</td>
<td class="num">{{ f.rows|n }}</td><td>{% if f.error %}illisible : {{ f.error }}{% else %}
{% for name, c in f.categories.items() %}{{ labels.get(name, name) }} ({{ c.count|n }})
{%- if not loop.last %}, {% endif %}{% endfor %}
{% endif %}</td></tr>{% endfor %}</table>
{% for note in notes %}<p><em>{{ note }}</em></p>{% endfor %}
</body></html>
"""

_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_ENV.filters["n"] = lambda value: f"{int(value):,}".replace(",", "\u202f")
_ENV.filters["column"] = lambda value: "texte libre" if value == "free text" else value


def _sample(value: str) -> str:
    """A masked sample in French: health concepts named, secrets' lengths in French."""
    return SAMPLE_LABELS.get(value, value).replace(" characters)", " caractères)")


_ENV.filters["sample"] = _sample
_HEALTH = frozenset({"health", "blood_group", "drug", "credential"})
_BAR = 360  # pixels of the longest bar


def _bars(categories: dict[str, Any]) -> list[dict[str, Any]]:
    """One bar per category: persons holding it (rows, then cells, when persons are unknown)."""
    values = {
        name: int(c.get("persons") or c.get("rows") or c.get("count") or 0)
        for name, c in categories.items()
    }
    top = max(values.values(), default=0) or 1
    return [
        {
            "label": CATEGORY_LABELS.get(name, name).split(" (")[0],
            "value": value,
            "width": max(1, round(_BAR * value / top)),
            "health": name in _HEALTH,
        }
        for name, value in values.items()
    ]


_NIR_NOTE = re.compile(
    re.escape(NIR_NOTE) + r': column "(.*)", (\d+) % of the rows with both; .* \(in (.*)\)$'
)


def _notes(notes: list[str]) -> list[str]:
    """The scan's notes in French (the known ones; others as they are)."""
    out = []
    for note in notes:
        disagree = _NIR_NOTE.match(note)
        if disagree:
            column, share, table = disagree.groups()
            out.append(
                f"Dates de naissance : dans {table}, la colonne « {column} » ne concorde pas "
                f"avec l'année et le mois du NIR sur {share} % des lignes qui ont les deux. Ces "
                "dates restent comptées comme dates de naissance : le NIR d'une fiche est "
                "souvent celui de l'assuré (un parent), pas celui du patient."
            )
        elif note.startswith("health terms:"):
            out.append(
                "Données de santé : une partie des commentaires n'a pas été analysée (au-delà de "
                "la limite de textes distincts) ; les nombres sont un minimum."
            )
        else:
            out.append(note)
    return out


def render_html(report: ScanReport) -> str:
    """The report page; every value shown is masked, every string escaped."""
    data = report.to_dict()
    return _ENV.from_string(_TEMPLATE).render(
        r=data,
        labels=CATEGORY_LABELS,
        concepts=CONCEPT_LABELS,
        bars=_bars(data["categories"]),
        recognised=sum((data["vault_matches"] or {}).values()),
        notes=_notes(data["notes"]),
    )
