"""Delimiters and escape sequences shared by HL7 v2 and HPRIM Santé.

Both formats declare their delimiters in the first segment (``MSH|^~\\&`` and
``H|~^\\&``: component, repetition, escape, subcomponent in that order, HPRIM
simply using ``~`` for components and ``^`` for repetitions) and escape them
in values as ``\\F\\ \\S\\ \\R\\ \\E\\ \\T\\``; line breaks are ``\\.br\\`` and any
character the file's charset cannot hold is written ``\\X<UTF-8 hex>\\``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HL7_DEFAULT", "HPRIM_DEFAULT", "Delimiters", "split_field"]


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The five special characters of a message."""

    field: str
    component: str
    repetition: str
    escape: str
    subcomponent: str

    @classmethod
    def parse(cls, field: str, encoding_chars: str, default: Delimiters) -> Delimiters:
        """From the separator and the declared characters (missing ones take defaults)."""
        chars = list(encoding_chars[:4])
        fallback = [default.component, default.repetition, default.escape, default.subcomponent]
        chars += fallback[len(chars) :]
        component, repetition, escape, subcomponent = chars
        found = cls(field, component, repetition, escape, subcomponent)
        if len({field, *chars}) != 5 or any(c in "\r\n" or c.isalnum() for c in (field, *chars)):
            raise ValueError("delimiters must be 5 distinct non-alphanumeric characters")
        return found

    @property
    def encoding_chars(self) -> str:
        return self.component + self.repetition + self.escape + self.subcomponent

    def escape_text(self, value: str, charset: str | None = None) -> str:
        """``value`` with delimiters, line breaks and unencodable characters escaped."""
        e = self.escape
        out: list[str] = []
        table = {
            self.field: f"{e}F{e}",
            self.component: f"{e}S{e}",
            self.repetition: f"{e}R{e}",
            self.subcomponent: f"{e}T{e}",
            e: f"{e}E{e}",
            "\n": f"{e}.br{e}",
            "\r": f"{e}X0D{e}",
        }
        for ch in value:
            code = table.get(ch)
            if code is not None:
                out.append(code)
            elif charset is not None and not _encodable(ch, charset):
                out.append(f"{e}X{ch.encode('utf-8').hex().upper()}{e}")
            else:
                out.append(ch)
        return "".join(out)

    def unescape(self, value: str) -> str:
        """The text of an escaped value; unknown or broken sequences stay as they are."""
        e = self.escape
        if e not in value:
            return value
        simple = {
            "F": self.field,
            "S": self.component,
            "R": self.repetition,
            "T": self.subcomponent,
            "E": e,
            ".br": "\n",
        }
        out: list[str] = []
        i = 0
        n = len(value)
        while i < n:
            j = value.find(e, i)
            if j < 0:
                out.append(value[i:])
                break
            k = value.find(e, j + 1)
            if k < 0:
                out.append(value[i:])
                break
            out.append(value[i:j])
            code = value[j + 1 : k]
            if code in simple:
                out.append(simple[code])
            elif code[:1] == "X" and len(code) > 1:
                out.append(_hex_text(code[1:]) or value[j : k + 1])
            else:
                out.append(value[j : k + 1])
            i = k + 1
        return "".join(out)


def _encodable(ch: str, charset: str) -> bool:
    if ch.isascii():
        return True
    try:
        ch.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


def _hex_text(digits: str) -> str | None:
    try:
        data = bytes.fromhex(digits)
    except ValueError:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def split_field(raw: str, d: Delimiters) -> list[list[str]]:
    """Repetitions -> components, unescaped (subcomponents stay joined, unescaped)."""
    return [[d.unescape(c) for c in rep.split(d.component)] for rep in raw.split(d.repetition)]


HL7_DEFAULT = Delimiters("|", "^", "~", "\\", "&")
HPRIM_DEFAULT = Delimiters("|", "~", "^", "\\", "&")
