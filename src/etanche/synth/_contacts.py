"""Contacts and administrative data: phones, emails, physicians, insurance."""

from __future__ import annotations

import hashlib
import random
import unicodedata
from functools import lru_cache

from stdnum import luhn

from etanche.domain import Physician
from etanche.synth._names import NamePools
from etanche.synth._places import LANDLINE_PREFIXES, MOBILE_PREFIXES

EMAIL_PROVIDERS: tuple[tuple[str, int], ...] = (
    ("gmail.com", 30),
    ("orange.fr", 25),
    ("hotmail.fr", 12),
    ("wanadoo.fr", 10),
    ("free.fr", 10),
    ("laposte.net", 7),
    ("sfr.fr", 6),
)
_PROVIDER_URN: tuple[str, ...] = tuple(d for d, w in EMAIL_PROVIDERS for _ in range(w))

MUTUELLES: tuple[tuple[str, int], ...] = (
    ("Harmonie Mutuelle", 16),
    ("MGEN", 14),
    ("Malakoff Humanis", 9),
    ("AG2R La Mondiale", 8),
    ("Groupama", 8),
    ("MACIF", 7),
    ("MAAF", 6),
    ("Mutuelle de Bretagne", 6),
    ("Mutuelle Générale", 5),
    ("MNT", 4),
    ("AXA", 4),
    ("Apivia", 3),
    ("Swiss Life", 2),
)
_MUTUELLE_URN: tuple[str, ...] = tuple(m for m, w in MUTUELLES for _ in range(w))

# Caisse primaire codes: département + a digit (Seine-Maritime has two CPAM).
_CAISSE: dict[str, tuple[str, ...]] = {"76": ("761", "762")}


@lru_cache(maxsize=8192)
def ascii_slug(name: str) -> str:
    """Lower-case ASCII form of a name for an email local part ("Le Gall" -> "legall")."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum() or ch == "-")


def mobile(rng: random.Random) -> str:
    """An E.164 French mobile number valid for libphonenumber."""
    prefix = MOBILE_PREFIXES[int(rng.random() * len(MOBILE_PREFIXES))]
    return f"+33{prefix}{rng.randrange(10**6):06d}"


def landline(rng: random.Random, dept: str) -> str:
    """An E.164 landline of the 02 zone, with the prefix of the département."""
    prefixes = LANDLINE_PREFIXES.get(dept, ("299",))
    prefix = prefixes[int(rng.random() * len(prefixes))]
    return f"+33{prefix}{rng.randrange(10**6):06d}"


def email(rng: random.Random, first: str, last: str, birth_year: int) -> str:
    """An address built from the names, the way people actually pick them."""
    f, name = ascii_slug(first), ascii_slug(last)
    domain = _PROVIDER_URN[int(rng.random() * len(_PROVIDER_URN))]
    x = rng.random()
    if x < 0.35:
        local = f"{f}.{name}"
    elif x < 0.5:
        local = f"{f}{name}"
    elif x < 0.65:
        local = f"{f[:1]}{name}"
    elif x < 0.8:
        local = f"{f}.{name}{birth_year % 100:02d}"
    elif x < 0.9:
        local = f"{name}.{f}"
    else:
        local = f"{f}{name}{rng.randrange(1, 100)}"
    return f"{local or 'contact'}@{domain}"


def rpps(rng: random.Random) -> str:
    """An 11-digit RPPS number: "10", 8 digits, Luhn check digit."""
    body = f"10{rng.randrange(10**8):08d}"
    return body + luhn.calc_check_digit(body)


def staff_rpps(username: str) -> str:
    """A synthetic RPPS number for a demo or test account, the same for the same name."""
    seed = int.from_bytes(hashlib.sha256(username.encode()).digest()[:8], "big")
    return rpps(random.Random(seed))


def physicians(
    rng: random.Random, pools: NamePools, n: int, seen: set[str]
) -> tuple[Physician, ...]:
    """``n`` physicians with unique RPPS numbers (``seen`` is shared across labs)."""
    out: list[Physician] = []
    generations = pools.first_names[1:3]  # practising doctors were born 1946-2000
    while len(out) < n:
        _, males, females = generations[int(rng.random() * len(generations))]
        urn = males if rng.random() < 0.5 else females
        first = urn[int(rng.random() * len(urn))]
        last = pools.surnames[int(rng.random() * len(pools.surnames))]
        number = rpps(rng)
        if number in seen:
            continue
        seen.add(number)
        out.append(Physician(name=f"Dr {first} {last}", rpps=number))
    return tuple(out)


def caisse(dept: str, rng: random.Random) -> str:
    """The 3-digit code of the CPAM of a département ("351" for Ille-et-Vilaine)."""
    options = _CAISSE.get(dept)
    if options:
        return options[int(rng.random() * len(options))]
    return f"{dept}1"


def mutuelle(rng: random.Random) -> tuple[str, str]:
    """A complementary insurer and a member number in a plausible shape."""
    name = _MUTUELLE_URN[int(rng.random() * len(_MUTUELLE_URN))]
    if name in ("MGEN", "MNT"):
        member = f"{rng.randrange(10**9):09d}"
    elif name == "Harmonie Mutuelle":
        member = f"HM{rng.randrange(10**8):08d}"
    else:
        member = f"{rng.randrange(10**7, 10**8)}"
    return name, member
