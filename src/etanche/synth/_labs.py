"""The labs of the network: 30 sites in Bretagne, Pays de la Loire and Normandie."""

from __future__ import annotations

import random

from stdnum import luhn

from etanche.domain import Lab
from etanche.synth._places import COMMUNES_BY_NAME

# (city, brand, relative activity). Regions interleaved so that a small network
# (``labs=3``) still spans the three regions.
LAB_SITES: tuple[tuple[str, str, int], ...] = (
    ("Rennes", "BioRennes", 16),
    ("Nantes", "BioNantes", 18),
    ("Caen", "BioCaen", 12),
    ("Brest", "Bio Ponant", 13),
    ("Angers", "BioAngers", 12),
    ("Rouen", "BioRouen", 12),
    ("Quimper", "BioQuimper", 9),
    ("Le Mans", "BioMaine", 11),
    ("Cherbourg-en-Cotentin", "BioCotentin", 8),
    ("Vannes", "BioVannes", 9),
    ("Saint-Nazaire", "BioEstuaire", 8),
    ("Le Havre", "BioOcéane", 11),
    ("Lorient", "BioLorient", 8),
    ("Laval", "BioLaval", 7),
    ("Saint-Lô", "BioSaint-Lô", 4),
    ("Saint-Brieuc", "BioArmor", 8),
    ("Cholet", "BioCholet", 6),
    ("Évreux", "BioÉvreux", 6),
    ("Saint-Malo", "BioÉmeraude", 6),
    ("La Roche-sur-Yon", "BioVendée", 7),
    ("Dieppe", "BioDieppe", 4),
    ("Rennes", "BioRennes Sud", 10),
    ("Nantes", "BioNantes Nord", 11),
    ("Alençon", "BioAlençon", 4),
    ("Morlaix", "BioMorlaix", 4),
    ("Saumur", "BioSaumur", 4),
    ("Lisieux", "BioLisieux", 4),
    ("Lannion", "BioTrégor", 4),
    ("Brest", "Bio Ponant Rive Droite", 7),
    ("Vitré", "BioVitré", 4),
)

_LAB_STREETS = (
    "rue de la République",
    "boulevard Gambetta",
    "avenue Jean Jaurès",
    "rue Pasteur",
    "place de la Mairie",
    "rue du Général de Gaulle",
)


# The legal entities (SELAS) that run the sites, one per region: the controllers.
# (départements, name, registered office street, office city)
_ENTITIES: tuple[tuple[frozenset[str], str, str, str], ...] = (
    (frozenset({"22", "29", "35", "56"}), "SELAS Biologie Armor Océan", "5 rue de Brest", "Rennes"),
    (
        frozenset({"44", "49", "53", "72", "85"}),
        "SELAS Bio Loire Atlantique",
        "12 quai de la Fosse",
        "Nantes",
    ),
    (
        frozenset({"14", "27", "50", "61", "76"}),
        "SELAS Normandie Biologie",
        "8 rue Saint-Jean",
        "Caen",
    ),
)
_OTHER = (frozenset[str](), "SELAS Réseau Étanche Biologie", "1 rue Pasteur", "Rennes")


def legal_entity(dept: str) -> tuple[str, str, str]:
    """(name, registered office, SIREN) of the entity running a site in ``dept``.

    Derived from the region, never drawn: the network's random stream stays as it was.
    """
    rank = next((k for k, e in enumerate(_ENTITIES) if dept in e[0]), len(_ENTITIES))
    _, name, street, city = _ENTITIES[rank] if rank < len(_ENTITIES) else _OTHER
    body = f"{81 + rank}{4404 + rank:04d}{rank:02d}"
    office = f"{street}, {COMMUNES_BY_NAME[city].postcode} {city}"
    return name, office, body + luhn.calc_check_digit(body)


def finess(dept: str, rng: random.Random) -> str:
    """A FINESS établissement number: département, 6 digits, Luhn key over the 8 first."""
    body = f"{dept}{rng.randrange(10**6):06d}"
    return body + luhn.calc_check_digit(body)


def build_labs(n: int, rng: random.Random) -> tuple[tuple[Lab, ...], tuple[int, ...]]:
    """``n`` labs with unique FINESS numbers, and their relative activity weights."""
    labs: list[Lab] = []
    weights: list[int] = []
    seen: set[str] = set()
    for k in range(n):
        city, brand, weight = LAB_SITES[k % len(LAB_SITES)]
        if k >= len(LAB_SITES):
            brand = f"{brand} {k // len(LAB_SITES) + 1}"
        dept = COMMUNES_BY_NAME[city].dept
        number = finess(dept, rng)
        while number in seen:
            number = finess(dept, rng)
        seen.add(number)
        name = f"Laboratoire de biologie médicale {brand}"
        # derived from the rank, not drawn: the network's random stream stays as it was
        street = f"{(k * 7) % 50 + 3} {_LAB_STREETS[k % len(_LAB_STREETS)]}"
        postcode = COMMUNES_BY_NAME[city].postcode
        legal_name, legal_address, siren = legal_entity(dept)
        labs.append(
            Lab(
                id=f"L{k + 1:02d}",
                name=name,
                finess=number,
                city=city,
                street=street,
                postcode=postcode,
                legal_name=legal_name,
                legal_address=legal_address,
                siren=siren,
            )
        )
        weights.append(weight)
    return tuple(labs), tuple(weights)
