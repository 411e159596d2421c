"""Real places used by the synthetic network: communes, birthplaces, countries.

Hard-coded because Faker's fr_FR addresses pair random cities with random
postcodes, and a NIR must carry the real INSEE code of the birthplace.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Commune:
    """A commune with its INSEE (COG) code, main postcode and a rough size weight."""

    name: str
    insee: str
    postcode: str
    weight: int

    @property
    def dept(self) -> str:
        """Département code, from the INSEE code (2 characters in metropolitan France)."""
        return self.insee[:2]


# North-west France: Bretagne, Pays de la Loire, Normandie. Weights ~ population / 5,000.
NW_COMMUNES: tuple[Commune, ...] = (
    # Ille-et-Vilaine (35)
    Commune("Rennes", "35238", "35000", 44),
    Commune("Saint-Malo", "35288", "35400", 9),
    Commune("Fougères", "35115", "35300", 4),
    Commune("Vitré", "35360", "35500", 4),
    Commune("Redon", "35236", "35600", 2),
    Commune("Cesson-Sévigné", "35051", "35510", 3),
    Commune("Bruz", "35047", "35170", 3),
    # Finistère (29)
    Commune("Brest", "29019", "29200", 28),
    Commune("Quimper", "29232", "29000", 13),
    Commune("Morlaix", "29151", "29600", 3),
    Commune("Concarneau", "29039", "29900", 4),
    Commune("Landerneau", "29103", "29800", 3),
    Commune("Douarnenez", "29046", "29100", 3),
    Commune("Quimperlé", "29233", "29300", 2),
    # Morbihan (56)
    Commune("Vannes", "56260", "56000", 11),
    Commune("Lorient", "56121", "56100", 11),
    Commune("Lanester", "56098", "56600", 4),
    Commune("Pontivy", "56178", "56300", 3),
    Commune("Auray", "56007", "56400", 3),
    Commune("Ploërmel", "56165", "56800", 2),
    # Côtes-d'Armor (22)
    Commune("Saint-Brieuc", "22278", "22000", 9),
    Commune("Lannion", "22113", "22300", 4),
    Commune("Dinan", "22050", "22100", 3),
    Commune("Guingamp", "22070", "22200", 2),
    Commune("Loudéac", "22136", "22600", 2),
    Commune("Lamballe-Armor", "22093", "22400", 3),
    # Loire-Atlantique (44)
    Commune("Nantes", "44109", "44000", 62),
    Commune("Saint-Nazaire", "44184", "44600", 14),
    Commune("Rezé", "44143", "44400", 8),
    Commune("Saint-Herblain", "44162", "44800", 9),
    Commune("La Baule-Escoublac", "44055", "44500", 3),
    # Maine-et-Loire (49)
    Commune("Angers", "49007", "49000", 31),
    Commune("Cholet", "49099", "49300", 11),
    Commune("Saumur", "49328", "49400", 5),
    # Sarthe (72)
    Commune("Le Mans", "72181", "72000", 29),
    Commune("La Flèche", "72154", "72200", 3),
    # Mayenne (53)
    Commune("Laval", "53130", "53000", 10),
    Commune("Mayenne", "53147", "53100", 3),
    # Vendée (85)
    Commune("La Roche-sur-Yon", "85191", "85000", 11),
    Commune("Les Sables-d'Olonne", "85194", "85100", 9),
    # Calvados (14)
    Commune("Caen", "14118", "14000", 21),
    Commune("Lisieux", "14366", "14100", 4),
    Commune("Bayeux", "14047", "14400", 3),
    Commune("Hérouville-Saint-Clair", "14327", "14200", 4),
    # Seine-Maritime (76)
    Commune("Rouen", "76540", "76000", 22),
    Commune("Le Havre", "76351", "76600", 34),
    Commune("Dieppe", "76217", "76200", 6),
    Commune("Fécamp", "76259", "76400", 4),
    # Manche (50)
    Commune("Cherbourg-en-Cotentin", "50129", "50100", 16),
    Commune("Saint-Lô", "50502", "50000", 4),
    Commune("Granville", "50218", "50400", 3),
    Commune("Avranches", "50025", "50300", 2),
    # Eure (27)
    Commune("Évreux", "27229", "27000", 10),
    Commune("Vernon", "27681", "27200", 5),
    # Orne (61)
    Commune("Alençon", "61001", "61000", 5),
    Commune("Argentan", "61006", "61200", 3),
    Commune("Flers", "61169", "61100", 3),
)

COMMUNES_BY_NAME: dict[str, Commune] = {c.name: c for c in NW_COMMUNES}

REGION_OF_DEPT: dict[str, str] = {
    **dict.fromkeys(("35", "29", "56", "22"), "Bretagne"),
    **dict.fromkeys(("44", "49", "72", "53", "85"), "Pays de la Loire"),
    **dict.fromkeys(("14", "76", "50", "27", "61"), "Normandie"),
}

# Births elsewhere in France: Paris/Lyon/Marseille by arrondissement (as in a NIR),
# other big cities, and overseas départements (3-digit département, 2-digit commune).
OTHER_FRENCH_BIRTHPLACES: tuple[str, ...] = (
    *(f"751{n:02d}" for n in range(1, 21)),
    *(f"6938{n}" for n in range(1, 10)),
    *(f"132{n:02d}" for n in range(1, 17)),
    "59350",  # Lille
    "33063",  # Bordeaux
    "31555",  # Toulouse
    "67482",  # Strasbourg
    "37261",  # Tours
    "45234",  # Orléans
    "87085",  # Limoges
    "86194",  # Poitiers
    "54395",  # Nancy
    "21231",  # Dijon
    "63113",  # Clermont-Ferrand
    "34172",  # Montpellier
    "38185",  # Grenoble
    "51454",  # Reims
    "80021",  # Amiens
    "92012",  # Boulogne-Billancourt
    "93066",  # Saint-Denis
    "94028",  # Créteil
    "97209",  # Fort-de-France
    "97120",  # Pointe-à-Pitre
    "97411",  # Saint-Denis (La Réunion)
)

CORSICAN_BIRTHPLACES: tuple[str, ...] = (
    "2A004",  # Ajaccio
    "2A247",  # Porto-Vecchio
    "2A272",  # Sartène
    "2B033",  # Bastia
    "2B096",  # Corte
    "2B050",  # Calvi
)

# INSEE country codes (99 + 3 digits) with a rough weight among foreign-born patients
# and the name origin used for their identities.
FOREIGN_BIRTHPLACES: tuple[tuple[str, int, str], ...] = (
    ("99350", 20, "maghreb"),  # Maroc
    ("99352", 18, "maghreb"),  # Algérie
    ("99351", 8, "maghreb"),  # Tunisie
    ("99139", 14, "iberia"),  # Portugal
    ("99134", 6, "iberia"),  # Espagne
    ("99127", 4, "italy"),  # Italie
    ("99109", 4, "general"),  # Allemagne
    ("99131", 3, "general"),  # Belgique
    ("99132", 4, "general"),  # Royaume-Uni
    ("99122", 3, "eastern"),  # Pologne
    ("99114", 3, "eastern"),  # Roumanie
    ("99208", 4, "turkey"),  # Turquie
    ("99341", 5, "westafrica"),  # Sénégal
    ("99335", 3, "westafrica"),  # Mali
    ("99243", 3, "vietnam"),  # Viet Nam
)

# Landline prefixes (after the leading 0) by département, as assigned in the 02 zone.
LANDLINE_PREFIXES: dict[str, tuple[str, ...]] = {
    "35": ("299", "223"),
    "29": ("298",),
    "56": ("297",),
    "22": ("296",),
    "44": ("240", "251", "228"),
    "49": ("241",),
    "72": ("243",),
    "53": ("243",),
    "85": ("251",),
    "14": ("231",),
    "76": ("235", "232"),
    "50": ("233",),
    "27": ("232",),
    "61": ("233",),
}

# Mobile prefixes valid for libphonenumber (06 xx, 07 3x-07 9x).
MOBILE_PREFIXES: tuple[str, ...] = (
    *(f"6{n:02d}" for n in range(100) if n // 10 not in (3, 9)),
    *(f"7{n:02d}" for n in range(30, 100)),
)
