"""PDF plumbing shared by the notification draft and the letters (fpdf2).

French needs accents, so a TrueType font is embedded: DejaVu Sans from the
Debian package ``fonts-dejavu-core`` (or ETANCHE_PDF_FONT_DIR). Nothing is
downloaded at run time. Without it, the PDF falls back to the core Helvetica
font, whose Latin-1 covers French accents but not a few typographic signs,
which are replaced by their plain equivalents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fpdf import FPDF

from etanche import settings

__all__ = [
    "FONT_DIRS",
    "LineWriter",
    "Section",
    "font_files",
    "new_pdf",
    "sections_markdown",
    "sections_pdf",
]

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
)
FAMILY = "DejaVu"
_REGULAR, _BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"
_PLAIN = str.maketrans(
    {"’": "'", "‘": "'", "“": '"', "”": '"', "—": "-", "–": "-", "…": "...", "œ": "oe",
     "Œ": "OE", "€": "EUR", "×": "x", "\u202f": " "}
)  # fmt: skip


def font_files() -> tuple[Path, Path] | None:
    """The regular and bold DejaVu Sans files, if installed."""
    given = settings.current().pdf_font_dir
    dirs = ((Path(given),) if given else ()) + FONT_DIRS
    for folder in dirs:
        regular, bold = folder / _REGULAR, folder / _BOLD
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


class _Pdf(FPDF):
    unicode_font: bool = False

    def plain(self, text: str) -> str:
        """Text the current font can draw (Latin-1 only with the core font)."""
        if self.unicode_font:
            return text
        return text.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


def new_pdf(title: str) -> _Pdf:
    """An A4 document with the embedded font registered (or the core fallback)."""
    pdf = _Pdf(format="A4")
    pdf.set_title(title)
    pdf.set_creator("Étanche")
    pdf.set_margins(20, 20, 20)
    files = font_files()
    if files is not None:
        pdf.add_font(FAMILY, "", str(files[0]))
        pdf.add_font(FAMILY, "B", str(files[1]))
        pdf.unicode_font = True
    return pdf


def family(pdf: _Pdf) -> str:
    return FAMILY if pdf.unicode_font else "Helvetica"


@dataclass
class LineWriter:
    """Writes pre-broken lines with ``FPDF.text``: about 30x faster than multi_cell.

    Paragraphs that are the same on every letter are broken into lines once
    (``wrap``); per-letter lines are drawn as they are.
    """

    pdf: _Pdf
    left: float = 20.0
    width: float = 170.0
    leading: float = 5.0
    y: float = 20.0
    _widths: dict[tuple[str, str, float], dict[str, float]] = field(default_factory=dict)

    def font(self, size: float, bold: bool = False) -> None:
        self.pdf.set_font(family(self.pdf), "B" if bold else "", size)

    def wrap(self, text: str) -> list[str]:
        """Break ``text`` into lines of the current font and width.

        Word widths are measured once per font and size and added up (fpdf2 does
        not kern by default, so the sum is the line's width): long lists of
        similar lines, such as an access report, cost one measure per new word.
        """
        lines: list[str] = []
        measured = self._widths.setdefault((self.pdf.font_family, self.pdf.font_style,
                                            self.pdf.font_size_pt), {})  # fmt: skip

        def width(word: str) -> float:
            if word not in measured:
                measured[word] = self.pdf.get_string_width(word)
            return measured[word]

        space = width(" ")
        for paragraph in self.pdf.plain(text).split("\n"):
            line, used = "", 0.0
            for word in paragraph.split(" "):
                extra = width(word) + (space if line else 0.0)
                if line and used + extra > self.width:
                    lines.append(line)
                    line, used = word, width(word)
                else:
                    line, used = (f"{line} {word}" if line else word), used + extra
            lines.append(line)
        return lines

    def lines(self, lines: Sequence[str], *, x: float | None = None) -> None:
        for line in lines:
            if self.y > self.pdf.h - 18:
                self.pdf.add_page()
                self.y = 20.0
            if line:
                self.pdf.text(self.left if x is None else x, self.y, self.pdf.plain(line))
            self.y += self.leading

    def paragraph(self, text: str, *, after: float = 2.0) -> None:
        self.lines(self.wrap(text))
        self.y += after

    def bullet(self, text: str, *, indent: float = 5.0) -> None:
        """A list item: a bullet, then the text wrapped under itself."""
        self.width -= indent
        wrapped = self.wrap(text)
        self.width += indent
        self.lines(["-"])
        self.y -= self.leading
        self.lines(wrapped, x=self.left + indent)
        self.y += 1.0

    def gap(self, height: float) -> None:
        self.y += height


@dataclass(frozen=True, slots=True)
class Section:
    """One titled part of a document: paragraphs, then a list."""

    heading: str
    paragraphs: tuple[str, ...] = ()
    items: tuple[str, ...] = ()


def sections_markdown(title: str, subtitle: str, sections: Sequence[Section]) -> str:
    """A titled document as Markdown: the same text as ``sections_pdf`` draws."""
    lines = [f"# {title}", "", subtitle]
    for section in sections:
        lines += ["", f"## {section.heading}", ""]
        lines += [line for paragraph in section.paragraphs for line in (paragraph, "")]
        lines += [f"- {item}" for item in section.items]
        while lines[-1] == "":
            lines.pop()
    return "\n".join(lines).rstrip() + "\n"


def sections_pdf(title: str, subtitle: str, sections: Sequence[Section]) -> bytes:
    """A titled document as a PDF (A4): notification drafts, the register of processing."""
    pdf = new_pdf(title)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    out = LineWriter(pdf)
    out.font(15, bold=True)
    out.leading = 7
    out.paragraph(title, after=1)
    out.font(9)
    out.leading = 4.5
    out.paragraph(subtitle, after=4)
    for section in sections:
        out.font(12, bold=True)
        out.leading = 6
        out.gap(2)
        out.paragraph(section.heading, after=1)
        out.font(10)
        out.leading = 5
        for paragraph in section.paragraphs:
            out.paragraph(paragraph)
        for item in section.items:
            out.bullet(item)
        out.gap(1)
    return bytes(pdf.output())
