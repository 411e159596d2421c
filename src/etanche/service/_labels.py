"""Tube labels: a small PDF page with the accession number as a Code 128 barcode.

Sized for the 50 × 25 mm labels of lab tube printers. Labs print the birth name
in capitals, the first names, the birth date and sex, so the nurse checks the
identity against the patient before sticking it. The barcode's modules come
from python-barcode (a maintained Code 128 encoder, checksum included); the
bars are drawn as vector rectangles so the printer's resolution, not an image's,
sets their edges.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from barcode import Code128
from fpdf import FPDF

from etanche.domain import Patient, Sex, Specimen
from etanche.leak.incident import font_files

__all__ = ["LABEL_SIZE_MM", "tube_label_pdf"]

LABEL_SIZE_MM = (50.0, 25.0)
_MARGIN = 1.5
_QUIET = 2.5  # the blank zone a scanner needs on each side of the bars (10 modules or more)
_MODULE_MAX = 0.33
_BAR_HEIGHT = 9.0
_PARIS = ZoneInfo("Europe/Paris")


def _modules(accession: str) -> str:
    """The bars and spaces of the Code 128 symbol, one character per module."""
    return "".join(Code128(accession).build())


def _pdf() -> tuple[FPDF, str]:
    width, height = LABEL_SIZE_MM
    pdf = FPDF(orientation="L", unit="mm", format=(height, width))
    pdf.set_creator("Étanche")
    pdf.set_title("Étiquette de tube")
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    files = font_files()
    if files is None:
        return pdf, "Helvetica"  # Latin-1 covers French names
    pdf.add_font("DejaVu", "", str(files[0]))
    pdf.add_font("DejaVu", "B", str(files[1]))
    return pdf, "DejaVu"


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """The text shortened with an ellipsis point until it fits the label's width."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + ".") > width:
        text = text[:-1]
    return text + "."


def _born(patient: Patient) -> str:
    word = {Sex.FEMALE: "Née", Sex.MALE: "Né"}.get(patient.sex, "Né(e)")
    sex = {Sex.FEMALE: "F", Sex.MALE: "M"}.get(patient.sex, "I")
    return f"{word} le {patient.birth_date:%d/%m/%Y}  {sex}"


def _collected(when: datetime) -> str:
    local = when.astimezone(_PARIS) if when.tzinfo is not None else when
    return f"Prélevé le {local:%d/%m/%Y à %H:%M}"


def tube_label_pdf(patient: Patient, specimen: Specimen, lab_name: str) -> bytes:
    """One label page: identity, barcode of the accession number, its digits, the lab."""
    pdf, font = _pdf()
    pdf.add_page()
    width, _ = LABEL_SIZE_MM
    inner = width - 2 * _MARGIN
    y = _MARGIN
    pdf.set_font(font, "B", 7.5)
    name = f"{patient.birth_name.upper()} {' '.join(patient.first_names)}"
    pdf.text(_MARGIN, y + 2.6, _fit(pdf, name, inner))
    pdf.set_font(font, "", 6.5)
    pdf.text(_MARGIN, y + 5.4, _fit(pdf, _born(patient), inner))
    modules = _modules(specimen.accession)
    module = min(_MODULE_MAX, (width - 2 * _QUIET) / len(modules))
    x = (width - module * len(modules)) / 2
    top = y + 6.6
    pdf.set_fill_color(0, 0, 0)
    run = 0
    for index, bit in enumerate(modules + "0"):
        if bit == "1":
            run += 1
            continue
        if run:
            start = index - run
            pdf.rect(x + start * module, top, run * module, _BAR_HEIGHT, style="F")
            run = 0
    pdf.set_font(font, "B", 7)
    pdf.set_xy(_MARGIN, top + _BAR_HEIGHT + 0.3)
    pdf.cell(inner, 2.8, specimen.accession, align="C")
    pdf.set_font(font, "", 5.5)
    pdf.set_xy(_MARGIN, top + _BAR_HEIGHT + 3.2)
    line = f"{_collected(specimen.collected_at)} · {specimen.specimen_type}"
    room = inner - pdf.get_string_width(line + " · ")
    if room > pdf.get_string_width("Lab."):  # the lab's name, shortened, if it fits at all
        line = f"{line} · {_fit(pdf, lab_name, room)}"
    pdf.cell(inner, 2.4, _fit(pdf, line, inner), align="C")
    return bytes(pdf.output())
