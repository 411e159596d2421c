"""What health data looks like in French free text: the terms edsnlp is given.

Labels are concepts (pregnancy, HIV, cancer...); a finding reports the concept,
never the sentence. Terms are written normalised (lower case, no accents), as
edsnlp's NORM attribute compares them. Drug names come from edsnlp's own list
(names and ATC codes), minus short names that are ordinary words or first names.
"""

from __future__ import annotations

import importlib.util
import json
import unicodedata
from functools import cache
from pathlib import Path

__all__ = [
    "DRUG_EXTRA",
    "HEALTH_REGEX",
    "HEALTH_TERMS",
    "drug_terms",
    "prefilter_terms",
    "unaccent",
]

HEALTH_TERMS: dict[str, list[str]] = {
    "pregnancy": [
        "grossesse",
        "enceinte",
        "gestante",
        "parturiente",
        "semaines d'amenorrhee",
        "terme prevu",
        "fausse couche",
        "ivg",
        "interruption volontaire de grossesse",
    ],
    "hiv": ["vih", "hiv", "sida", "seropositif", "seropositive", "seropositivite", "vih+"],
    "hepatitis": ["hepatite", "vhb", "vhc", "vhc+", "vhb+", "aghbs", "aghbs+"],
    "cancer": [
        "cancer",
        "carcinome",
        "tumeur",
        "lymphome",
        "leucemie",
        "melanome",
        "metastase",
        "metastases",
        "chimio",
        "chimiotherapie",
        "radiotherapie",
        "hormonotherapie",
        "onco",
        "oncologie",
        "myelome",
        "sarcome",
    ],
    "diabetes": [
        "diabete",
        "diabetique",
        "dt1",
        "dt2",
        "insulino-dependant",
        "insulinodependant",
        "insulino dependant",
    ],
    "genetic": [
        "drepanocytose",
        "drepanocytaire",
        "mucoviscidose",
        "hemochromatose",
        "thalassemie",
        "hemophilie",
        "huntington",
        "myopathie",
        "trisomie",
        "maladie genetique",
    ],
    "renal": ["insuffisance renale", "irc", "dialyse", "dialysee", "hemodialyse"],
    "other_condition": [
        "hypothyroidie",
        "hyperthyroidie",
        "epilepsie",
        "epileptique",
        "sclerose en plaques",
        "alzheimer",
        "parkinson",
        "depression",
        "schizophrenie",
        "bipolaire",
        "tuberculose",
        "syphilis",
        "chlamydia",
        "malentendant",
        "malentendante",
        "malvoyant",
        "malvoyante",
        "handicap",
        "allergie",
        "asthme",
        "insuffisance cardiaque",
        "infarctus",
        "avc",
        "fibrillation atriale",
        "fibrillation auriculaire",
        "thromboembolique",
        "embolie pulmonaire",
        "phlebite",
        "thrombose",
        "hypertension",
        "cirrhose",
    ],
}

# Patterns the term list cannot write: "23 SA" (weeks of pregnancy), "K sein" (cancer),
# in lower case: they run on the normalised text.
HEALTH_REGEX: dict[str, list[str]] = {
    "pregnancy": [r"\b\d{1,2}\s?sa\b"],
    "cancer": [r"\bk\s(?:sein|prostate|colon|poumon|ovaire|vessie|pancreas|col)\b"],
}

# Drug classes written by secretaries and names edsnlp's list lacks, with their ATC code.
DRUG_EXTRA: dict[str, list[str]] = {
    "B01AA": ["avk", "antivitamine k", "anti-vitamine k"],
    "B01AA12": ["fluindione", "previscan"],
    "B03XA01": ["epoetine alfa", "epoetine"],
    "A10A": ["insuline"],
}

# Drug names of edsnlp's list that are ordinary words, first names or too short.
_DRUG_STOP = frozenset(
    {
        "acti", "alli", "alma", "artex", "cyclo", "daily", "decan", "diane", "drill", "edex",
        "elase", "ether", "femi", "fluor", "genac", "lenia", "lyso", "muse", "nirva", "nonan",
        "panos", "remex", "sirop", "thais", "toco", "topex", "xenon", "zinc", "a 313", "b.a.l",
        "evra", "omix", "moex", "jext", "icaz", "fonx", "itax", "ixel", "keal", "pilo",
        "serc", "orap", "tobi", "lhrh",
    }
)  # fmt: skip
MIN_DRUG_TERM = 4


@cache
def drug_terms() -> dict[str, list[str]]:
    """ATC code -> drug names, edsnlp's list filtered, plus the classes above.

    The list is read from edsnlp's resources without importing edsnlp (and spaCy):
    a scan whose texts mention no term never loads them.
    """
    spec = importlib.util.find_spec("edsnlp")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("edsnlp is not installed")  # a broken install, not bad input
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "drugs.json"
    patterns: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, list[str]] = {}
    for atc, names in patterns.items():
        kept = [n for n in names if len(n) >= MIN_DRUG_TERM and n.lower() not in _DRUG_STOP]
        if kept:
            out[atc] = kept
    for atc, names in DRUG_EXTRA.items():
        out.setdefault(atc, []).extend(names)
    return out


@cache
def prefilter_terms() -> tuple[str, ...]:
    """Lower-case, unaccented substrings: a cell holding none has no health mention."""
    terms = {t for ts in HEALTH_TERMS.values() for t in ts}
    terms |= {n for ns in drug_terms().values() for n in ns}
    terms |= {" sa", "k sein", "k prostate", "k colon", "k poumon", "k ovaire", "k vessie"}
    return tuple(sorted({unaccent(t) for t in terms}))


def unaccent(text: str) -> str:
    """Lower case without diacritics, as the prefilter compares."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))
