"""Name and street pools, built once per seed from Faker fr_FR plus regional lists.

Faker is far too slow to call per patient (half a million of them), so it only
seeds pools; patients then draw from "urns" (tuples where frequent values repeat)
with a plain ``random.Random``, which costs one multiplication per draw.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache


def _csv(text: str) -> tuple[str, ...]:
    """Names as comma-separated text: compact, stable under the formatter, wraps freely."""
    return tuple(" ".join(name.split()) for name in text.split(",") if name.strip())


# Surnames frequent in the west of France (Breton, Norman, Vendéen), to tint Faker's
# national list; most frequent first.
WESTERN_SURNAMES: tuple[str, ...] = _csv(
    """
    Le Gall, Le Goff, Le Roux, Tanguy, Guillou, Le Bihan, Le Floch, Morvan, Hamon, Le Corre,
    Le Meur, Le Bras, Le Berre, Le Guen, Le Brun, Prigent, Jégou, Guéguen, Le Gac, Riou,
    Cloarec, Quéré, Kerbrat, Le Moal, Salaün, Jaouen, Le Borgne, Le Cam, Le Du, Le Hir, Le
    Lay, Nédélec, Kervella, Caradec, Bescond, Pennec, Cadiou, Kergoat, Kermarrec, Le Coz, Le
    Men, Le Roy, Le Naour, Le Tallec, Le Bot, Le Foll, Le Gallo, Le Bris, Le Calvez, Le
    Pape, Le Bars, Guivarc'h, Madec, Abgrall, Calvez, Gourmelen, Gloaguen, Goasguen, Inizan,
    Lagadec, Marrec, Mével, Olier, Paugam, Quéméner, Sévellec, Yvinec, Derrien, Evenou,
    Guézennec, Jézéquel, Kerdoncuff, Le Scouarnec, Le Bourhis, Le Dantec, Le Goaziou,
    Héliès, Corre, Bihan, Hervé, Rolland, Péron, Raoul, Lemonnier, Lecoq, Lebrun, Leroux,
    Lemaître, Lecomte, Letellier, Lemarchand, Levasseur, Duval, Hébert, Marie, Lecanu,
    Lepetit, Lesueur, Leblond, Hamel, Anquetil, Quesnel, Osmont, Delamare, Legros,
    Lefrançois, Lepage, Lebas, Chauvet, Brochard, Pineau, Chiron, Coutant, Bossard, Gaborit,
    Rabiller, Ménard, Boisseau, Ripoche, Besnier, Gallard, Jamet, Landais, Jouan, Baudry,
    Chevalier, Guérin, Rousseau, Gautier, Bouvier, Blanchard, Drouet, Piau, Rondeau
    """
)

ORIGIN_SURNAMES: dict[str, tuple[str, ...]] = {
    "maghreb": _csv(
        """
        Benali, Haddad, Mansouri, Belkacem, Bouazza, Cherif, Hamdi, Mebarki, Boukhris,
        Ziani, El Amrani, Benmoussa, Chaoui, Brahimi, Saidi, Amrani
        """
    ),
    "iberia": _csv(
        """
        Pereira, Ferreira, Rodrigues, Fernandes, Gonçalves, Lopes, Oliveira, Santos,
        Teixeira, Carvalho, Costa, Garcia, Martinez, Lopez, Sanchez
        """
    ),
    "italy": _csv(
        """
        Rossi, Russo, Bianchi, Ferrari, Romano, Colombo, Ricci
        """
    ),
    "eastern": _csv(
        """
        Nowak, Kowalski, Wiśniewski, Popescu, Ionescu, Lewandowski
        """
    ),
    "turkey": _csv(
        """
        Yilmaz, Kaya, Demir, Şahin, Çelik, Yildiz, Öztürk
        """
    ),
    "westafrica": _csv(
        """
        Diallo, Traoré, N'Diaye, Diop, Sow, Camara, Cissé, Koné
        """
    ),
    "vietnam": _csv(
        """
        Nguyen, Tran, Pham, Le, Hoang, Vu, Dang
        """
    ),
}

ORIGIN_FIRST_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # (male, female)
    "maghreb": (
        _csv("Mohamed, Ahmed, Karim, Rachid, Youssef, Mehdi, Samir, Nabil, Omar"),
        _csv("Fatima, Khadija, Samira, Nadia, Leïla, Yasmina, Malika, Amina"),
    ),
    "iberia": (
        _csv("José, Manuel, Antonio, João, Carlos, Miguel, Paulo, Francisco"),
        _csv("Maria, Ana, Isabel, Carmen, Rosa, Fernanda, Lucia, Teresa"),
    ),
    "italy": (_csv("Giuseppe, Marco, Luca, Paolo"), _csv("Giulia, Francesca, Chiara, Anna")),
    "eastern": (_csv("Piotr, Andrzej, Ion, Mihai"), _csv("Katarzyna, Anna, Elena, Ioana")),
    "turkey": (_csv("Mehmet, Mustafa, Ali, Hüseyin"), _csv("Ayşe, Fatma, Emine, Zeynep")),
    "westafrica": (
        _csv("Mamadou, Moussa, Ibrahima, Ousmane, Abdoulaye"),
        _csv("Aminata, Fatoumata, Awa, Mariama, Aïssatou"),
    ),
    "vietnam": (_csv("Minh, Tuan, Duc, Van"), _csv("Thi, Lan, Mai, Huong")),
}

# First names by birth generation (upper birth year, male, female; most frequent first),
# with a Breton tint.
GENERATION_FIRST_NAMES: tuple[tuple[int, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        1945,
        _csv(
            """
            Jean, Pierre, Yves, Joseph, Louis, André, Marcel, René, François, Roger, Henri,
            Bernard, Raymond, Georges, Jacques, Hervé, Paul, Robert, Albert, Guy, Marcel,
            Francis, Jean-Claude, Jean-Pierre
            """
        ),
        _csv(
            """
            Marie, Jeanne, Yvonne, Anne, Germaine, Simone, Madeleine, Marguerite, Odette,
            Suzanne, Denise, Paulette, Renée, Louise, Marie-Thérèse, Josiane, Jacqueline,
            Monique, Thérèse, Anne-Marie, Colette, Lucienne
            """
        ),
    ),
    (
        1975,
        _csv(
            """
            Philippe, Patrick, Michel, Alain, Daniel, Jean-Luc, Christian, Gérard, Pascal,
            Thierry, Éric, Laurent, Dominique, Didier, Frédéric, Olivier, Christophe, Bruno,
            Hervé, Yannick, Loïc, Joël, Jean-Yves, Gilles
            """
        ),
        _csv(
            """
            Nathalie, Isabelle, Sylvie, Catherine, Christine, Martine, Françoise, Valérie,
            Sandrine, Véronique, Brigitte, Patricia, Nicole, Chantal, Corinne, Pascale,
            Annick, Maryvonne, Karine, Anne, Marie-Claude, Dominique, Nadine, Florence
            """
        ),
    ),
    (
        2000,
        _csv(
            """
            Nicolas, Julien, Sébastien, Guillaume, Maxime, Thomas, Romain, Kevin, Anthony,
            Alexandre, Jérôme, Mickaël, Yann, Erwan, Ronan, Gwenaël, Florian, Benjamin,
            Damien, Jonathan, Mathieu, Vincent, Arnaud
            """
        ),
        _csv(
            """
            Céline, Aurélie, Émilie, Julie, Stéphanie, Élodie, Marion, Laura, Camille,
            Mélanie, Anaïs, Morgane, Nolwenn, Gaëlle, Sophie, Audrey, Pauline, Sarah,
            Laëtitia, Claire, Marine, Charlotte, Virginie
            """
        ),
    ),
    (
        9999,
        _csv(
            """
            Lucas, Hugo, Louis, Enzo, Nathan, Gabriel, Jules, Maël, Arthur, Raphaël, Tom,
            Léo, Timéo, Noah, Evan, Mathis, Paul, Sacha, Malo, Titouan, Clément, Baptiste
            """
        ),
        _csv(
            """
            Léa, Emma, Chloé, Manon, Jade, Inès, Louise, Alice, Lina, Zoé, Lola, Camille,
            Clara, Juliette, Lou, Rose, Maïwenn, Romane, Anna, Léna, Ambre, Lilou
            """
        ),
    ),
)

EXTRA_STREETS: tuple[str, ...] = _csv(
    """
    rue de la République, avenue Jean Jaurès, rue Victor Hugo, boulevard de la Liberté, rue
    de Brest, place du Marché, impasse des Lilas, allée des Chênes, rue du Général de
    Gaulle, rue Pasteur, rue de la Gare, chemin de Kerlann, rue des Écoles, rue de l'Église,
    avenue de la Mer, rue du Port, rue des Hortensias, rue de Verdun, boulevard Clemenceau,
    rue Saint-Michel, rue des Ajoncs, lieu-dit Kermaria, rue du Stade, résidence les
    Tilleuls
    """
)

_FAKER_ODDITIES = frozenset({"Nath", "Susan", "Alexandria", "Alex", "Arnaude", "Olivie"})


def urn(items: Sequence[str], size: int) -> tuple[str, ...]:
    """A Zipf-weighted urn: item k (0-based) appears about size / (k + 2) times."""
    weights = [1.0 / (k + 2) for k in range(len(items))]
    total = sum(weights)
    out: list[str] = []
    for item, w in zip(items, weights, strict=True):
        out.extend([item] * max(1, round(size * w / total)))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class NamePools:
    """Urns to draw names and streets from; built once per seed."""

    surnames: tuple[str, ...]
    origin_surnames: dict[str, tuple[str, ...]]
    # (upper birth year, male urn, female urn), ascending.
    first_names: tuple[tuple[int, tuple[str, ...], tuple[str, ...]], ...]
    origin_first_names: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
    streets: tuple[str, ...]


@lru_cache(maxsize=8)
def name_pools(seed: int) -> NamePools:
    """Build the pools from Faker fr_FR seeded with ``seed`` (a few thousand entries)."""
    from faker import Faker  # imported lazily: a second of start-up nobody else needs

    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    rng = random.Random(f"etanche-names:{seed}")

    national = sorted({fake.last_name() for _ in range(6_000)})
    rng.shuffle(national)
    # Western names dominate the top of the distribution, national ones fill the tail.
    surname_order = [*WESTERN_SURNAMES[:20], *national[:40], *WESTERN_SURNAMES[20:]]
    surname_order += [n for n in national[40:] if n not in surname_order]
    surnames = urn(surname_order, 20_000)

    male_faker = sorted({fake.first_name_male() for _ in range(3_000)} - _FAKER_ODDITIES)
    female_faker = sorted({fake.first_name_female() for _ in range(3_000)} - _FAKER_ODDITIES)
    rng.shuffle(male_faker)
    rng.shuffle(female_faker)
    first: list[tuple[int, tuple[str, ...], tuple[str, ...]]] = []
    for upper, males, females in GENERATION_FIRST_NAMES:
        # Three quarters generation-typical names, one quarter Faker's national list.
        m = urn(males, 3_000) + urn(male_faker, 1_000)
        f = urn(females, 3_000) + urn(female_faker, 1_000)
        first.append((upper, m, f))

    streets = sorted({fake.street_name() for _ in range(3_000)})
    rng.shuffle(streets)
    street_urn = urn(EXTRA_STREETS, 1_500) + tuple(streets)

    return NamePools(
        surnames=surnames,
        origin_surnames={k: urn(v, 200) for k, v in ORIGIN_SURNAMES.items()},
        first_names=tuple(first),
        origin_first_names={
            k: (urn(m, 200), urn(f, 200)) for k, (m, f) in ORIGIN_FIRST_NAMES.items()
        },
        streets=street_urn,
    )
