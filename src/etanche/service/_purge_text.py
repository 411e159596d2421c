"""The purge report in French for the DPO: rules, counts per category and lab, what was kept.

A short Markdown summary of the signed report (which stays the proof): dates in
Paris time and French formats, ids left to the JSON.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from etanche.domain import CATEGORIES, RetentionRules
from etanche.leak.incident import Section, fr_datetime, sections_markdown

__all__ = ["purge_summary"]


def _fr_day(day: str) -> str:
    """« 3 décembre 2016 » from an ISO calendar day (noon UTC is the same day in Paris)."""
    value = date.fromisoformat(day)
    noon = datetime(value.year, value.month, value.day, 12, tzinfo=UTC)
    return str(fr_datetime(noon)).rsplit(" à ", 1)[0]


def purge_summary(signed: dict[str, Any], rules: RetentionRules) -> str:
    """The French summary of a signed purge report, as Markdown."""
    body = signed["report"]
    at = datetime.fromisoformat(body["at"]).astimezone(UTC)
    dry = bool(body["dry_run"])
    title = "Simulation de purge (rien n'a été effacé)" if dry else "Rapport de purge"
    subtitle = (
        f"{'Simulation' if dry else 'Purge'} du {fr_datetime(at)} (heure de Paris), "
        f"par {body['by']} ; événement n° {signed['event']['seq']} du journal d'audit."
    )
    applied = []
    for name, rule in body["rules"].items():
        kept = rules.get(name)
        status = "confirmée par le DPO" if rule["confirmed"] else "à confirmer par le DPO"
        applied.append(
            f"{CATEGORIES[name]} : {kept.duration_fr} {kept.start_fr}, soit avant le "
            f"{_fr_day(rule['cutoff'])} ; source : {rule['source']} ({status})."
        )
    verb = "à effacer" if dry else "effacés"
    counts = [
        f"{CATEGORIES[name]}, laboratoire {lab} : {n} {verb}"
        for name, labs in body["counts"].items()
        for lab, n in labs.items()
    ]
    kept = body["kept"]
    sections = [
        Section(
            "Règles appliquées",
            (
                f"Fichier des durées de conservation : {body['retention']['file']}, "
                f"SHA-256 {body['retention']['sha256']}.",
            ),
            tuple(applied) or ("Aucune donnée arrivée à échéance.",),
        ),
        Section("Enregistrements par catégorie et laboratoire", (), tuple(counts) or ("Aucun.",)),
        Section(
            "Enregistrements conservés",
            (),
            (
                f"Sous gel juridique : {kept['held']}.",
                f"Refusés (date en clair différente de la date chiffrée, à vérifier avec "
                f"« etanche vault verify ») : {kept['refused']}.",
                f"Gels non écrits par le service (conservés par prudence) : "
                f"{kept['unsealed_holds']}.",
            ),
        ),
        Section(
            "Vérification",
            (
                "La liste des enregistrements (identifiants pseudonymes, laboratoire, catégorie, "
                "échéance) est dans le rapport signé (JSON), signé avec la clé du journal d'audit "
                f"(clé {signed['signature']['key_id']}). Le vérifier hors ligne : "
                "« etanche retention verify-report RAPPORT --log-key CLÉ » ; puis "
                f"« etanche audit prove {signed['event']['seq']} ».",
            ),
        ),
    ]
    return sections_markdown(title, subtitle, sections)
