"""Masks for search results: enough to tell records apart, not enough to use them.

One set of rules for the command line and the web pages. A result list is what a shoulder-surfer
or a screenshot sees, so it shows initials and years; the full values appear
only on the patient sheet, whose opening is an audited read.
"""

from __future__ import annotations

_DIGITS_HIDDEN = str.maketrans("0123456789", "••••••••••")


def mask_text(value: str | None, keep: int = 1) -> str:
    """Keep the first ``keep`` characters; the length of the rest is hidden too."""
    if not value:
        return ""
    return value[:keep] + "•••"


def mask_nir(value: str | None) -> str:
    """Sex digit and birth year only."""
    if not value:
        return ""
    return f"{value[0]} {value[1:3]} ••••"


def mask_phone(value: str) -> str:
    """Last two digits only (the country prefix stays readable)."""
    return value[:-2].translate(_DIGITS_HIDDEN) + value[-2:]


def mask_email(value: str) -> str:
    """First letter and domain."""
    user, _, domain = value.partition("@")
    return f"{user[:1]}•••@{domain}"
