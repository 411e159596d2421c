"""The seam every outgoing row passes (contract E): a keyed choice of renderings.

For each row and each markable value, a PRF keyed by the export's key picks one
of the family's writings; the input is (family, row key, canonical value), so
the pick does not depend on column names, field order or which other values a
row carries, and trace can recompute it from a found value alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from etanche.crypto import KeyedPrf, new_key
from etanche.errors import UsageError
from etanche.leak.trace._renderings import FAMILIES, FIELD_FAMILY, MARKS, ORDER

__all__ = [
    "DEFAULT_MARKS",
    "ExportMark",
    "keyed_order",
    "new_export_mark",
    "parse_marks",
    "render_row",
    "unmark_row",
]

DEFAULT_MARKS: frozenset[str] = frozenset(MARKS)
_SEP = "\x1f"


@dataclass(frozen=True)
class ExportMark:
    """An export's key and the marks its recipient tolerates (contract E)."""

    export_id: str
    key: bytes = field(repr=False)
    marks: frozenset[str] = DEFAULT_MARKS
    _choices: KeyedPrf = field(init=False, repr=False, compare=False)
    _order: KeyedPrf = field(init=False, repr=False, compare=False)
    fields: tuple[tuple[str, str], ...] = field(init=False, repr=False, compare=False)
    """(field, family) of every field this export marks."""

    def __post_init__(self) -> None:
        unknown = self.marks - DEFAULT_MARKS
        if unknown:
            raise UsageError(f"marks: unknown mark(s) {', '.join(sorted(unknown))}")
        object.__setattr__(self, "_choices", KeyedPrf(self.key, "export-marks"))
        object.__setattr__(self, "_order", KeyedPrf(self.key, "export-order"))
        marked = tuple((n, f) for n, f in FIELD_FAMILY.items() if f in self.marks)
        object.__setattr__(self, "fields", marked)

    def choose(self, family: str, row_key: str, canonical: str, k: int) -> int:
        """Index of the writing this export uses for ``canonical`` in that row."""
        return self._choices.below(k, f"{family}{_SEP}{row_key}{_SEP}{canonical}")

    def order_value(self, row_key: str) -> int:
        """Sort key of a row in this export's keyed order."""
        return self._order.value(row_key)


def parse_marks(text: str | None) -> frozenset[str]:
    """ "phone,case,nfd" -> the set; None or "all" -> every mark; "none" -> none."""
    if text is None or text.strip().lower() == "all":
        return DEFAULT_MARKS
    if text.strip().lower() == "none":
        return frozenset()
    marks = frozenset(part.strip().lower() for part in text.split(",") if part.strip())
    unknown = marks - DEFAULT_MARKS
    if unknown:
        raise UsageError(
            f"--marks: unknown mark(s) {', '.join(sorted(unknown))} (known: {', '.join(MARKS)})"
        )
    return marks


def new_export_mark(
    marks: Iterable[str] | None = None, *, export_id: str | None = None
) -> ExportMark:
    """A fresh random export key, with the marks the recipient tolerates (default all)."""
    chosen = DEFAULT_MARKS if marks is None else frozenset(marks)
    return ExportMark(export_id or uuid.uuid4().hex, new_key(), chosen)


def _render_value(mark: ExportMark, family_name: str, row_key: str, value: str) -> str:
    family = FAMILIES[family_name]
    options = family.variants(value)
    if options is None:
        return value
    return options[mark.choose(family_name, row_key, options[0], len(options))]


def render_row(row: Mapping[str, str], *, mark: ExportMark | None, row_key: str) -> dict[str, str]:
    """The row as this export writes it: same values, keyed choice of writings.

    Multi-valued fields (values joined by "\\n") are marked value by value.
    ``mark=None`` returns the row unchanged.
    """
    out = dict(row)
    if mark is None:
        return out
    for name, family in mark.fields:  # the markable fields only, not every column
        text = row.get(name)
        if not text:
            continue
        if "\n" in text:
            parts = text.split("\n")
            out[name] = "\n".join(_render_value(mark, family, row_key, p) for p in parts)
        else:
            out[name] = _render_value(mark, family, row_key, text)
    return out


def unmark_row(row: Mapping[str, str]) -> dict[str, str]:
    """Every markable value back to its canonical writing (what our importer stores)."""
    out = dict(row)
    for name, family in FIELD_FAMILY.items():  # the markable fields only, not every column
        text = row.get(name)
        if not text:
            continue
        canonical = FAMILIES[family].canonical
        if "\n" in text:
            out[name] = "\n".join(canonical(part) for part in text.split("\n"))
        else:
            out[name] = canonical(text)
    return out


def keyed_order(row_keys: Iterable[str], mark: ExportMark | None) -> list[str]:
    """Row keys in the export's keyed order (unchanged without an order mark)."""
    keys = list(row_keys)
    if mark is None or ORDER not in mark.marks:
        return keys
    return sorted(keys, key=mark.order_value)
