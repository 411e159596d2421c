"""What a front desk types: birth dates as French people write them, name keys.

A secretary types "12/12/1959", "12.12.1959", "12121959", "12/1959" or just
"1959". ``parse_birth`` reads all of them into a ``BirthQuery`` (a year, maybe
a month, maybe a day) so the search can narrow by what was given. The name keys
feed the front-desk blind indexes (docs/blind-indexes.md): the first letters of
the normalised birth name, and its French phonetic key (phonetic-fr, a
Soundex-like algorithm made for French: "Lefèvre" and "Lefebvre" differ,
"Dupond" and "Dupont" agree).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from phonetic_fr import phonetic

from etanche.domain._normalize import normalize_name
from etanche.errors import ValidationError

PREFIX_LETTERS = 3  # letters of the birth name the prefix index hashes

_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})$")
_MONTH_YEAR = re.compile(r"^(\d{1,2})[/.\- ](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_COMPACT = re.compile(r"^(\d{2})(\d{2})(\d{4})$")
_YEAR = re.compile(r"^(\d{4})$")
_EXPECTED = "expected DD/MM/YYYY, DDMMYYYY, MM/YYYY or YYYY"


@dataclass(frozen=True, slots=True)
class BirthQuery:
    """A birth date as far as it is known: the year always, month and day maybe."""

    year: int
    month: int | None = None
    day: int | None = None

    @property
    def full(self) -> date | None:
        if self.month is None or self.day is None:
            return None
        return date(self.year, self.month, self.day)

    def matches(self, born: date) -> bool:
        return (
            born.year == self.year
            and (self.month is None or born.month == self.month)
            and (self.day is None or born.day == self.day)
        )


def parse_birth(text: str, field: str = "birth_date") -> BirthQuery:
    """Read a birth date typed the French way; a year alone or month/year too."""
    value = text.strip()
    day = month = None
    if match := _DAY_MONTH_YEAR.match(value) or _COMPACT.match(value):
        day, month, year = (int(g) for g in match.groups())
    elif match := _ISO.match(value):
        year, month, day = (int(g) for g in match.groups())
    elif match := _MONTH_YEAR.match(value):
        month, year = (int(g) for g in match.groups())
    elif match := _YEAR.match(value):
        year = int(match.group(1))
    else:
        raise ValidationError(field, _EXPECTED)
    if not 1850 <= year <= date.today().year:
        raise ValidationError(field, f"year {year} is not a plausible birth year")
    if month is not None and not 1 <= month <= 12:
        raise ValidationError(field, f"month {month} does not exist")
    query = BirthQuery(year, month, day)
    try:
        query.full  # noqa: B018 (a day that does not exist raises here)
    except ValueError:
        raise ValidationError(field, "this day does not exist") from None
    return query


def parse_french_date(text: str, field: str = "birth_date") -> date:
    """A full date typed the French way (or ISO): day, month and year all needed."""
    found = parse_birth(text, field).full
    if found is None:
        raise ValidationError(field, f"a full date is needed ({_EXPECTED.split(',')[0]})")
    return found


def _letters(name: str) -> str:
    return "".join(c for c in normalize_name(name) if c.isalpha())


def name_prefix(name: str) -> str:
    """The first letters of a normalised name ("Le Gall" → "LEG"), what the index hashes."""
    return _letters(name)[:PREFIX_LETTERS]


def starts_with(name: str, prefix: str) -> bool:
    """Whether a name begins with what was typed, accents, case and spaces aside."""
    return _letters(name).startswith(_letters(prefix))


def search_prefix(typed: str, field: str = "birth_name") -> str:
    """The typed prefix, checked: at least three letters (fewer would enumerate)."""
    letters = _letters(typed)
    if len(letters) < PREFIX_LETTERS:
        raise ValidationError(field, f"at least {PREFIX_LETTERS} letters are needed")
    return letters


def phonetic_key(name: str) -> str:
    """French phonetic key of a whole birth name ("Le Gall" and "Legal" agree)."""
    return str(phonetic(_letters(name)))
