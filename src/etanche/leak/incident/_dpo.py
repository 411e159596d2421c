"""The DPO as letters and the draft name them: title agreed with gender, contact once."""

from __future__ import annotations

import re

from etanche.domain import Sex

__all__ = ["contact_without_name", "dpo_role", "parse_sex"]


def dpo_role(sex: Sex | None) -> str:
    """The DPO's title agreed with the DPO's gender; neutral when it is not known."""
    if sex is Sex.FEMALE:
        return "Déléguée à la protection des données"
    if sex is Sex.MALE:
        return "Délégué à la protection des données"
    return "Délégué(e) à la protection des données"


def parse_sex(value: str | None) -> Sex | None:
    """ "F" or "M" as stored on the incident (anything else: not known)."""
    return {"F": Sex.FEMALE, "M": Sex.MALE}.get((value or "").strip().upper())


_TITLES = re.compile(r"^(dpo|d[ée]l[ée]gu[ée]\(?e?\)?( [àa] la protection des donn[ée]es)?)$", re.I)


def contact_without_name(contact: str, name: str) -> str:
    """The contact as given, less the DPO's name and title (already written beside it)."""
    rest = re.sub(re.escape(name), "", contact, flags=re.I) if name else contact
    parts = [p.strip(" ()") for p in re.split(r"[,;]", rest)]
    return ", ".join(p for p in parts if p and not _TITLES.match(p)) or contact
