"""The measures a breach calls for (art. 33(3)(d)), as the draft proposes them.

Each has a key the DPO gives when recording it (``incident note --measure
--covers KEY`` for done, ``--planned`` for planned), so the draft never proposes
again what the timeline records, and the letters tell patients what was done in
words written for them: the DPO's own notes are written for the CNIL and never
reach a letter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from etanche.leak.incident._model import Entry, Incident

__all__ = ["MEASURES", "Measure", "Measures", "measures_of", "patient_measures"]


@dataclass(frozen=True, slots=True)
class Measure:
    """``proposal``: for the CNIL draft; ``done``: what a patient reads once it is done."""

    key: str
    proposal: str
    done: str | None


MEASURES: dict[str, Measure] = {
    m.key: m
    for m in (
        Measure(
            "contain",
            "identifier et fermer la source de la copie ; conserver les preuves (fichier "
            "retrouvé, journaux d'audit)",
            "Nous avons fermé l'accès par lequel le fichier a été copié.",
        ),
        Measure(
            "takedown",
            "demander le retrait du fichier aux hébergeurs et plateformes où il circule",
            "Nous avons demandé le retrait du fichier aux sites et plateformes où il a été trouvé.",
        ),
        Measure(
            "trace",
            "rechercher l'origine de la copie par le marquage des exports (etanche trace)",
            "Nous avons recherché l'origine de la copie.",
        ),
        Measure("complaint", "déposer plainte", "Nous avons déposé plainte."),
        Measure(
            "passwords",
            "réinitialiser les mots de passe du portail de résultats des patients",
            "Les mots de passe du portail de résultats d'analyses ont été réinitialisés : "
            "l'ancien mot de passe ne permet plus de s'y connecter.",
        ),
        Measure(
            "inform",
            "informer individuellement chaque patient reconnu, avec des conseils de vigilance "
            "(art. 34)",
            None,
        ),
        Measure(
            "phishing",
            "avertir les patients des tentatives d'hameçonnage et leur rappeler que le "
            "laboratoire ne demande jamais de mot de passe ni de coordonnées bancaires",
            None,
        ),
    )
}
_INTENT = (
    "Nous recherchons l'origine de la copie et demandons le retrait du fichier partout où il "
    "est trouvé."
)


@dataclass(frozen=True, slots=True)
class Measures:
    """The incident's measures split as the CNIL form asks: taken, and planned."""

    done: tuple[Entry, ...]  # recorded as taken, with their dates
    planned: tuple[Entry, ...]  # recorded by the DPO as planned
    proposed: tuple[str, ...]  # from the catalogue, not yet covered by either


def _applicable(categories: Iterable[str], tell: bool) -> list[str]:
    found = set(categories)
    keys = ["contain", "takedown", "trace", "complaint"]
    if "credential" in found:
        keys.append("passwords")
    if tell:
        keys.append("inform")
    keys.append("phishing")
    return keys


def measures_of(incident: Incident, categories: Iterable[str], tell: bool) -> Measures:
    """Done and planned from the timeline; proposals only for what neither covers."""
    done = tuple(e for e in incident.timeline if e.kind in ("measure", "notify"))
    planned = tuple(e for e in incident.timeline if e.kind == "planned")
    covered = {e.covers for e in (*done, *planned) if e.covers}
    if incident.letters:
        covered.add("inform")
    proposed = tuple(
        MEASURES[key].proposal for key in _applicable(categories, tell) if key not in covered
    )
    return Measures(done, planned, proposed)


def patient_measures(incident: Incident) -> str:
    """What a letter says was done: fixed sentences for the covered measures, never notes."""
    covered = [e.covers for e in incident.timeline if e.kind == "measure" and e.covers]
    sentences = [
        text
        for key, measure in MEASURES.items()
        if key in covered and (text := measure.done) is not None
    ]
    if not {"trace", "takedown"} <= set(covered):
        sentences.append(_INTENT)
    return " ".join(sentences)
