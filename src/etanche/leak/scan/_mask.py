"""Masked samples: enough of a value to recognise its kind, never enough to use it."""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["mask"]


def _nir(value: str) -> str:
    c = re.sub(r"[\s.\-]", "", value).upper()
    return f"{c[0]} {c[1:3]} ** ** *** *** {c[13:15]}" if len(c) == 15 else "*" * len(c)


def _phone(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return f"{digits[:2]} ** ** ** {digits[-2:]}" if len(digits) >= 4 else "** ** ** ** **"


def _email(value: str) -> str:
    local, _, domain = value.strip().partition("@")
    head, _, tld = domain.rpartition(".")
    return f"{local[:1]}***@{head[:1]}***.{tld}"


def _word(value: str) -> str:
    return " ".join(w[:1] + "*" * (len(w) - 1) for w in value.split())


def _date(value: str) -> str:
    return re.sub(r"\d", "*", value.strip())


def _street(value: str) -> str:
    words = value.split()
    out = []
    for w in words:
        if any(ch.isdigit() for ch in w):
            out.append("*" * len(w))
        elif w.lower().strip(".,") in _STREET_TYPES:
            out.append(w)
        else:
            out.append(w[:1] + "*" * (len(w) - 1))
    return " ".join(out)


_STREET_TYPES = frozenset(
    [
        "rue",
        "avenue",
        "av",
        "bd",
        "boulevard",
        "chemin",
        "impasse",
        "allée",
        "allee",
        "place",
        "route",
        "quai",
        "cours",
        "square",
        "résidence",
        "residence",
        "lotissement",
        "hameau",
        "faubourg",
        "passage",
        "voie",
        "cité",
        "cite",
        "de",
        "du",
        "des",
        "la",
        "le",
        "les",
        "l",
        "d",
    ]
)


def _iban(value: str) -> str:
    c = value.replace(" ", "").upper()
    return f"{c[:4]} **** **** **** {c[-2:]}"


def _secret(value: str) -> str:
    return f"******** ({len(value.strip())} characters)"


def mask(kind: str, value: str) -> str:
    """The masked form of ``value`` of role or category ``kind``."""
    handlers: dict[str, Callable[[str], str]] = {
        "nir": _nir,
        "phone": _phone,
        "email": _email,
        "iban": _iban,
        "birth_date": _date,
        "street": _street,
        "address": _street,
        "postcode": lambda x: x.strip()[:2] + "***",
        "login": _secret,
        "secret": _secret,
        "token": _secret,
        "credential": _secret,
        "blood_group": lambda x: x.strip(),
        "sex": lambda x: x.strip(),
        "birthplace": lambda x: x.strip()[:2] + "***",
        "health_flag": lambda x: x.strip().lower(),
        "last_visit": _date,
        "rpps": lambda x: x.strip()[:2] + "*" * max(len(x.strip()) - 2, 0),
        "file_number": _date,
        "member_number": _date,
    }
    return handlers.get(kind, _word)(value)
