"""Severity of a personal data breach with the ENISA 2013 method.

ENISA, "Recommendations for a methodology of the assessment of severity of
personal data breaches" (working document v1.0, December 2013):

    SE = DPC × EI + CB

- DPC (data processing context, 1..4): the most critical data type found
  (simple 1, behavioural 2, financial 3, sensitive 4), each adjusted by the
  context factors the method lists (volume of data per person, characteristics
  of the controller, vulnerable persons, data already public...), kept in 1..4;
- EI (ease of identification): 0.25 negligible, 0.5 limited, 0.75 significant,
  1 maximum;
- CB (circumstances of the breach), added: loss of confidentiality (0, +0.25,
  +0.5), of integrity (0, +0.25, +0.5), of availability (0, +0.25, +0.5),
  malicious intent (+0.5).

Levels: low < 2 <= medium < 3 <= high < 4 <= very high. Pure functions: every
factor comes with the plain French sentences that justify it, written from the
scan report alone (categories, counts, special category), never from a value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from etanche.errors import UsageError
from etanche.leak.scan import CATEGORY_LABELS

__all__ = [
    "CATEGORY_LABELS",
    "CIRCUMSTANCES",
    "REGISTRATION",
    "Circumstances",
    "Factor",
    "Level",
    "Severity",
    "assess",
    "circumstances_of_breach",
    "data_processing_context",
    "ease_of_identification",
    "found_categories",
    "level_of",
    "parse_circumstances",
]


class Level(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very high"

    @property
    def french(self) -> str:
        return _LEVEL_FR[self]

    @property
    def meaning(self) -> str:
        """What the level means for the persons, in the method's words (French)."""
        return _LEVEL_MEANING[self]

    @property
    def persons_to_be_told(self) -> bool:
        """High and very high read as the "high risk" of GDPR art. 34(1)."""
        return self in (Level.HIGH, Level.VERY_HIGH)


_LEVEL_FR = {
    Level.LOW: "faible",
    Level.MEDIUM: "moyenne",
    Level.HIGH: "élevée",
    Level.VERY_HIGH: "très élevée",
}
_LEVEL_MEANING = {
    Level.LOW: "les personnes ne seront pas affectées ou rencontreront quelques désagréments "
    "qu'elles surmonteront sans problème",
    Level.MEDIUM: "les personnes peuvent rencontrer des désagréments importants qu'elles "
    "pourront surmonter malgré quelques difficultés",
    Level.HIGH: "les personnes peuvent subir des conséquences importantes qu'elles devraient "
    "pouvoir surmonter, mais avec de sérieuses difficultés",
    Level.VERY_HIGH: "les personnes peuvent subir des conséquences importantes, voire "
    "irréversibles, qu'elles pourraient ne pas surmonter",
}

_SIMPLE = ("nir", "ins_traits", "name", "birth_date", "address", "phone", "email")
_CONTACT = ("address", "phone", "email")
_SENSITIVE = ("health", "blood_group", "drug", "credential")
REGISTRATION = ("insurance", "file_number", "last_visit", "rpps")
"""Registration data of a health service: health data under GDPR recital 35."""

EI_NEGLIGIBLE, EI_LIMITED, EI_SIGNIFICANT, EI_MAXIMUM = 0.25, 0.5, 0.75, 1.0


@dataclass(frozen=True, slots=True)
class Factor:
    """One criterion of the method: its score and why, in plain French."""

    name: str
    score: float
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "score": self.score, "reasons": list(self.reasons)}


@dataclass(frozen=True, slots=True)
class Severity:
    dpc: Factor
    ei: Factor
    cb: Factor

    @property
    def score(self) -> float:
        return self.dpc.score * self.ei.score + self.cb.score

    @property
    def level(self) -> Level:
        return level_of(self.score)

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "level": self.level.value,
            "formula": f"{self.dpc.score:g} × {self.ei.score:g} + {self.cb.score:g}",
            "dpc": self.dpc.to_dict(),
            "ei": self.ei.to_dict(),
            "cb": self.cb.to_dict(),
        }


def level_of(score: float) -> Level:
    """low < 2 <= medium < 3 <= high < 4 <= very high."""
    if score < 2:
        return Level.LOW
    if score < 3:
        return Level.MEDIUM
    if score < 4:
        return Level.HIGH
    return Level.VERY_HIGH


# -- circumstances ---------------------------------------------------------------
# token -> (criterion, score, French description); context tokens adjust the DPC.
CIRCUMSTANCES: dict[str, tuple[str, float, str]] = {
    "exposed": (
        "confidentiality",
        0.0,
        "données exposées sans preuve de traitement illicite",
    ),
    "copied": (
        "confidentiality",
        0.25,
        "données copiées et conservées en un lieu inconnu, ou communiquées à des "
        "destinataires connus",
    ),
    "published": (
        "confidentiality",
        0.5,
        "données publiées ou communiquées à un nombre inconnu de destinataires",
    ),
    "altered": (
        "integrity",
        0.25,
        "données modifiées, peut-être utilisées de façon incorrecte, mais récupérables",
    ),
    "altered-lost": (
        "integrity",
        0.5,
        "données modifiées et utilisées, sans possibilité de retrouver les données d'origine",
    ),
    "unavailable": ("availability", 0.25, "données temporairement indisponibles"),
    "lost": ("availability", 0.5, "données perdues : indisponibles sans retour possible"),
    "malicious": ("malicious", 0.5, "intention malveillante (vol, revente, publication)"),
    "public": ("context", -1.0, "données déjà publiques par ailleurs"),
    "vulnerable": ("context", 1.0, "personnes vulnérables (mineurs, patients fragiles)"),
}


@dataclass(frozen=True, slots=True)
class Circumstances:
    """What the DPO knows of how the breach happened (tokens of CIRCUMSTANCES)."""

    confidentiality: str | None = None  # exposed | copied | published
    integrity: str | None = None  # altered | altered-lost
    availability: str | None = None  # unavailable | lost
    malicious: bool = False
    public: bool = False  # DPC context: the data were already public
    vulnerable: bool = False  # DPC context: vulnerable persons

    def tokens(self) -> list[str]:
        found = [t for t in (self.confidentiality, self.integrity, self.availability) if t]
        found += [name for name in ("malicious", "public", "vulnerable") if getattr(self, name)]
        return found


def parse_circumstances(tokens: Iterable[str]) -> Circumstances:
    """Tokens (also comma-separated) to Circumstances; one value per criterion."""
    chosen: dict[str, str] = {}
    flags: set[str] = set()
    for raw in tokens:
        for token in (t.strip().lower() for t in raw.split(",")):
            if not token:
                continue
            if token not in CIRCUMSTANCES:
                known = ", ".join(CIRCUMSTANCES)
                raise UsageError(f"circumstances: unknown {token!r} (expected any of {known})")
            criterion = CIRCUMSTANCES[token][0]
            if criterion in ("malicious", "context"):
                flags.add(token)
            elif chosen.setdefault(criterion, token) != token:
                raise UsageError(f"circumstances: give one value for {criterion}")
    return Circumstances(
        confidentiality=chosen.get("confidentiality"),
        integrity=chosen.get("integrity"),
        availability=chosen.get("availability"),
        malicious="malicious" in flags,
        public="public" in flags,
        vulnerable="vulnerable" in flags,
    )


# -- the three criteria ------------------------------------------------------------
def found_categories(report: Mapping[str, Any] | None) -> dict[str, int]:
    """Categories of a scan report (contract B to_dict) with at least one finding."""
    if not report:
        return {}
    found: dict[str, int] = {}
    for name, finding in (report.get("categories") or {}).items():
        count = int(finding.get("count", 0)) if isinstance(finding, Mapping) else 0
        if count > 0:
            found[str(name)] = count
    return found


def _labels(names: Iterable[str]) -> str:
    return ", ".join(CATEGORY_LABELS.get(n, n) for n in names)


def data_processing_context(
    categories: Mapping[str, int],
    *,
    special_category: bool = False,
    public: bool = False,
    vulnerable: bool = False,
    patients: bool = False,
) -> Factor:
    """DPC: the highest of the data types found, each with the method's adjustments.

    ``patients``: the persons are known to be our patients (recognised in the vault),
    so even a bare identity list is a lab's registration data (recital 35).
    """
    reasons: list[str] = []
    scores: list[int] = []
    simple = [c for c in _SIMPLE if c in categories]
    if simple:
        score = 1
        reasons.append(f"Données simples (score de base 1) : {_labels(simple)}.")
        contacts = [c for c in _CONTACT if c in categories]
        if ("nir" in simple and contacts) or len(simple) >= 4:
            score += 1
            reasons.append(
                "+1 : le volume de données d'identité réunies par personne (identité complète, "
                "coordonnées, NIR) permet l'usurpation d'identité et le profilage."
            )
        scores.append(score)
    if "iban" in categories:
        scores.append(2)
        reasons.append(
            "Données financières (score de base 3) : coordonnées bancaires (IBAN). -1 : un numéro "
            "de compte sans solde ni opération ne donne pas de vue détaillée des finances, mais "
            "permet des prélèvements frauduleux."
        )
    registration = [c for c in REGISTRATION if c in categories]
    if registration or patients:
        scores.append(3)
        what = _labels(registration) if registration else "une liste de nos patients"
        reasons.append(
            "Données de santé au sens du considérant 35 du RGPD (score de base 4) : les "
            "données collectées lors de l'inscription d'une personne auprès d'un service de "
            f"santé ({what}) révèlent qu'elle est patiente d'un laboratoire de biologie "
            "médicale. -1 : sans commentaire médical, elles ne révèlent ni diagnostic ni "
            "résultat (3)."
        )
    sensitive = [c for c in _SENSITIVE if c in categories]
    if sensitive:
        scores.append(4)
        reasons.append(f"Données sensibles (art. 9 RGPD, score de base 4) : {_labels(sensitive)}.")
        if "credential" in sensitive:
            reasons.append(
                "Des identifiants de connexion valent les données qu'ils ouvrent : ici les "
                "résultats d'analyses, donc des données de santé."
            )
    elif special_category:
        scores.append(4)
        reasons.append(
            "Données sensibles (art. 9 RGPD, score de base 4) : l'analyse du fichier a reconnu "
            "des données de santé."
        )
    if not scores:
        reasons.append("Aucune catégorie de donnée personnelle reconnue : score minimal 1.")
        scores.append(1)
    score = max(scores)
    if len(scores) > 1:
        reasons.append(f"Plusieurs types de données : la méthode retient le plus élevé ({score}).")
    if vulnerable:
        reasons.append("+1 : personnes vulnérables concernées (mineurs, patients fragiles).")
        score += 1
    if public:
        reasons.append("-1 : les données étaient déjà publiques par ailleurs.")
        score -= 1
    bounded = min(4, max(1, score))
    if bounded != score:
        reasons.append(f"Le score est borné à l'intervalle 1 à 4 : {bounded}.")
    return Factor("DPC", float(bounded), tuple(reasons))


def ease_of_identification(categories: Mapping[str, int]) -> Factor:
    """EI: how easily a reader of the file can tell who each person is."""
    has = categories.__contains__
    if has("nir"):
        return Factor(
            "EI",
            EI_MAXIMUM,
            ("Maximale (1) : le NIR désigne une seule personne en France.",),
        )
    if has("ins_traits") or (has("name") and has("birth_date")):
        return Factor(
            "EI",
            EI_MAXIMUM,
            ("Maximale (1) : le nom complet et la date de naissance identifient la personne.",),
        )
    if has("name") and has("address"):
        return Factor(
            "EI",
            EI_MAXIMUM,
            ("Maximale (1) : le nom complet et l'adresse postale identifient la personne.",),
        )
    if has("name") and (has("phone") or has("email")):
        return Factor(
            "EI",
            EI_SIGNIFICANT,
            (
                "Importante (0,75) : le nom avec un téléphone ou une adresse électronique "
                "permet de retrouver la personne sans grand effort.",
            ),
        )
    if has("phone") or has("email"):
        return Factor(
            "EI",
            EI_SIGNIFICANT,
            (
                "Importante (0,75) : un téléphone ou une adresse électronique personnels "
                "mènent facilement à la personne.",
            ),
        )
    if has("name") or has("address") or has("birth_date"):
        return Factor(
            "EI",
            EI_LIMITED,
            (
                "Limitée (0,5) : un nom, une adresse ou une date de naissance seuls sont "
                "partagés par beaucoup de personnes.",
            ),
        )
    return Factor(
        "EI",
        EI_NEGLIGIBLE,
        ("Négligeable (0,25) : aucune donnée du fichier ne désigne directement une personne.",),
    )


def circumstances_of_breach(circumstances: Circumstances) -> Factor:
    """CB: the losses of confidentiality, integrity, availability, and intent, added."""
    reasons: list[str] = []
    total = 0.0
    picked = (
        ("confidentiality", circumstances.confidentiality, "Perte de confidentialité"),
        ("integrity", circumstances.integrity, "Perte d'intégrité"),
        ("availability", circumstances.availability, "Perte de disponibilité"),
    )
    for _, token, label in picked:
        if token is None:
            reasons.append(f"{label} : aucune constatée (+0).")
            continue
        _, points, text = CIRCUMSTANCES[token]
        total += points
        reasons.append(f"{label} : {text} (+{_fr(points)}).")
    if circumstances.malicious:
        total += 0.5
        reasons.append(f"Malveillance : {CIRCUMSTANCES['malicious'][2]} (+0,5).")
    else:
        reasons.append("Malveillance : non établie (+0).")
    return Factor("CB", total, tuple(reasons))


def assess(
    report: Mapping[str, Any] | None, circumstances: Circumstances, *, patients: int = 0
) -> Severity:
    """The whole assessment from a scan report (contract B to_dict) and the circumstances.

    ``patients``: how many of the file's persons the vault recognised, when the
    matching happened apart from the report (an incident's sealed matches).
    """
    categories = found_categories(report)
    in_report = sum(int(n) for n in ((report or {}).get("vault_matches") or {}).values())
    matched = max(patients, in_report)
    dpc = data_processing_context(
        categories,
        special_category=bool(report and report.get("special_category")),
        public=circumstances.public,
        vulnerable=circumstances.vulnerable,
        patients=matched > 0,
    )
    ei = ease_of_identification(categories)
    if matched:
        ei = Factor(
            ei.name,
            ei.score,
            (*ei.reasons, f"{matched} personnes du fichier ont été reconnues parmi nos patients."),
        )
    return Severity(dpc, ei, circumstances_of_breach(circumstances))


def _fr(value: float) -> str:
    """0.25 -> "0,25": French decimal comma."""
    return f"{value:g}".replace(".", ",")
