"""Names of birthplaces from their INSEE (COG) codes, as a French reader expects them.

A record stores the birthplace as its INSEE code (the NIR carries it); pages show
the place's name. This table covers the communes and countries of the synthetic
network (every code ``etanche synth`` draws: north-west France, Paris, Lyon and
Marseille by arrondissement, big cities, Corsica, overseas départements and the
countries of birth). A code outside it is shown as the code with its
département or "pays étranger", never guessed: the full COG (about 35,000
communes) is a yearly INSEE file a site loads, not a table to ship here.
"""

from __future__ import annotations

__all__ = ["place_name"]

_COMMUNES: dict[str, str] = {
    "35238": "Rennes",
    "35288": "Saint-Malo",
    "35115": "Fougères",
    "35360": "Vitré",
    "35236": "Redon",
    "35051": "Cesson-Sévigné",
    "35047": "Bruz",
    "29019": "Brest",
    "29232": "Quimper",
    "29151": "Morlaix",
    "29039": "Concarneau",
    "29103": "Landerneau",
    "29046": "Douarnenez",
    "29233": "Quimperlé",
    "56260": "Vannes",
    "56121": "Lorient",
    "56098": "Lanester",
    "56178": "Pontivy",
    "56007": "Auray",
    "56165": "Ploërmel",
    "22278": "Saint-Brieuc",
    "22113": "Lannion",
    "22050": "Dinan",
    "22070": "Guingamp",
    "22136": "Loudéac",
    "22093": "Lamballe-Armor",
    "44109": "Nantes",
    "44184": "Saint-Nazaire",
    "44143": "Rezé",
    "44162": "Saint-Herblain",
    "44055": "La Baule-Escoublac",
    "49007": "Angers",
    "49099": "Cholet",
    "49328": "Saumur",
    "72181": "Le Mans",
    "72154": "La Flèche",
    "53130": "Laval",
    "53147": "Mayenne",
    "85191": "La Roche-sur-Yon",
    "85194": "Les Sables-d'Olonne",
    "14118": "Caen",
    "14366": "Lisieux",
    "14047": "Bayeux",
    "14327": "Hérouville-Saint-Clair",
    "76540": "Rouen",
    "76351": "Le Havre",
    "76217": "Dieppe",
    "76259": "Fécamp",
    "50129": "Cherbourg-en-Cotentin",
    "50502": "Saint-Lô",
    "50218": "Granville",
    "50025": "Avranches",
    "27229": "Évreux",
    "27681": "Vernon",
    "61001": "Alençon",
    "61006": "Argentan",
    "61169": "Flers",
    "59350": "Lille",
    "33063": "Bordeaux",
    "31555": "Toulouse",
    "67482": "Strasbourg",
    "37261": "Tours",
    "45234": "Orléans",
    "87085": "Limoges",
    "86194": "Poitiers",
    "54395": "Nancy",
    "21231": "Dijon",
    "63113": "Clermont-Ferrand",
    "34172": "Montpellier",
    "38185": "Grenoble",
    "51454": "Reims",
    "80021": "Amiens",
    "92012": "Boulogne-Billancourt",
    "93066": "Saint-Denis",
    "94028": "Créteil",
    "97209": "Fort-de-France",
    "97120": "Pointe-à-Pitre",
    "97411": "Saint-Denis (La Réunion)",
    "2A004": "Ajaccio",
    "2A247": "Porto-Vecchio",
    "2A272": "Sartène",
    "2B033": "Bastia",
    "2B096": "Corte",
    "2B050": "Calvi",
}

_COUNTRIES: dict[str, str] = {
    "99350": "Maroc",
    "99352": "Algérie",
    "99351": "Tunisie",
    "99139": "Portugal",
    "99134": "Espagne",
    "99127": "Italie",
    "99109": "Allemagne",
    "99131": "Belgique",
    "99132": "Royaume-Uni",
    "99122": "Pologne",
    "99114": "Roumanie",
    "99208": "Turquie",
    "99341": "Sénégal",
    "99335": "Mali",
    "99243": "Viêt Nam",
}

_SPLIT_CITIES = {"751": "Paris", "6938": "Lyon", "132": "Marseille"}  # by arrondissement


def _arrondissement(code: str) -> str | None:
    for prefix, city in _SPLIT_CITIES.items():
        if code.startswith(prefix) and code[len(prefix) :].isdigit():
            number = int(code[len(prefix) :])
            if number:
                rank = "1er" if number == 1 else f"{number}e"
                return f"{city} {rank} arrondissement"
    return None


def place_name(code: str | None) -> str | None:
    """The name of a birthplace code, or None when the table does not know it."""
    if not code:
        return None
    known = _COMMUNES.get(code) or _COUNTRIES.get(code)
    if known is not None:
        return known
    if code.startswith("99"):
        return None
    return _arrondissement(code)
