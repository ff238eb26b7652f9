"""The report as a PDF: bookmarks for every heading, real tables, charts with alternative text, page numbers, in a
Unicode font (DejaVu Sans from matplotlib) so French and Spanish accents and dashes print. fpdf2: pip alone."""

from __future__ import annotations

import io
import textwrap

from fpdf import FPDF

from .documents import chart_image, font_path, summary_lines, table_body
from .model import Report, _

FONT = "DejaVu"


class _Document(FPDF):
    def footer(self):
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.cell(0, 8, f"{self.page_label} {self.page_no()}", align="C")


def _heading(pdf: FPDF, text: str, level: int) -> None:
    if level == 1 and pdf.get_y() > pdf.h * 0.6:
        pdf.add_page()
    pdf.start_section(text, level=level - 1)
    pdf.set_font(FONT, "B", 15 if level == 1 else 12)
    pdf.multi_cell(0, 8 if level == 1 else 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_font(FONT, size=9)


def _paragraph(pdf: FPDF, text: str, size: float = 9, style: str = "") -> None:
    pdf.set_font(FONT, style, size)
    pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(1.5)
    pdf.set_font(FONT, size=9)


def _wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """Lines of at most `width` mm at font `size`, by an average character width (fpdf's exact line breaking
    measures every character and costs seconds on the annex tables)."""
    per_line = max(4, int(width / (size * 0.352 * (0.66 if bold else 0.56))))
    lines = []
    for paragraph in text.split("\n"):
        lines += textwrap.wrap(paragraph, per_line, break_long_words=True) or [""]
    return lines


def _table(pdf: FPDF, header: list[str], rows: list[list[str]], caption: str) -> None:
    """A ruled table whose header repeats on every page; cells wrap, numbers align right."""
    if caption:
        _paragraph(pdf, caption, 8.5, "B")
    size = 7 if len(header) > 6 else 8
    usable = pdf.w - pdf.l_margin - pdf.r_margin
    weights = [3.0] + [1.0] * (len(header) - 1) if len(header) > 2 else [1.0] * len(header)
    if len(header) == 5 and len(rows) and header[0] != header[-1]:
        weights = [1.2, 1.0, 3.0, 3.0, 1.6] if len(rows[0]) == 5 and len(rows) > 40 else weights
    widths = [usable * w / sum(weights) for w in weights]
    line = size * 0.352 * 1.35

    def draw(cells: list[str], bold: bool) -> None:
        wrapped = [_wrap(text, width - 2, size, bold) for text, width in zip(cells, widths)]
        height = line * max(len(w) for w in wrapped) + 1.2
        if pdf.get_y() + height > pdf.h - pdf.b_margin:
            pdf.add_page()
            if not bold:
                draw(header, True)
        x, y = pdf.l_margin, pdf.get_y()
        pdf.set_font(FONT, "B" if bold else "", size)
        if bold:
            pdf.set_fill_color(230, 236, 242)
            pdf.rect(x, y, usable, height, style="F")
        for index, (lines, width) in enumerate(zip(wrapped, widths)):
            pdf.rect(x, y, width, height)
            for number, text in enumerate(lines):
                pdf.set_xy(x + 1, y + 0.6 + number * line)
                pdf.cell(width - 2, line, text, align="R" if index and not bold and _numeric(text) else "L")
            x += width
        pdf.set_xy(pdf.l_margin, y + height)

    draw(header, True)
    for row in rows:
        draw(row, False)
    pdf.ln(2)
    pdf.set_font(FONT, size=9)


def _numeric(text: str) -> bool:
    return bool(text) and (text[0].isdigit() or text[0] in "+-–" or text.endswith("%"))  # "45 %", "+3 pts" too


def report_pdf(report: Report, scope: str, findings: list[str] | None = None) -> bytes:
    """The whole report as PDF bytes; `findings` replaces the automatic key findings (an analyst's edit)."""
    pdf = _Document(orientation="landscape", format="A4")
    pdf.page_label = _("Page")
    pdf.add_font(FONT, "", str(font_path()))
    pdf.add_font(FONT, "B", str(font_path(bold=True)))
    pdf.set_title(report.round_name)
    pdf.set_lang(report.language)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    _paragraph(pdf, _("Alliance 8.7 – collective analysis of partner engagement and of the Alliance's services"), 10)
    _heading(pdf, report.round_name, 1)
    _paragraph(pdf, report.survey_title, 11)
    facts, findings = summary_lines(report, scope, findings)
    for fact in facts:
        _paragraph(pdf, "• " + fact)
    _heading(pdf, _("Key findings"), 1)
    for text in findings or [_("Not enough responses for key findings yet.")]:
        _paragraph(pdf, "• " + text, 10)
    for part in report.sections:
        pdf.add_page()
        _heading(pdf, part.title, 1)
        for paragraph in part.paragraphs:
            _paragraph(pdf, paragraph)
        if part.message:
            _paragraph(pdf, part.message, style="B")
        for block in part.blocks:
            if block.heading and block.heading != part.title:
                _heading(pdf, block.heading, 2)
            chart = chart_image(block)
            if chart is not None:
                pdf.image(io.BytesIO(chart.png), w=170, alt_text=chart.alt, title=chart.title)
                pdf.ln(2)
            if block.message:
                _paragraph(pdf, block.message, style="B")
            header, rows = table_body(block.table)
            if rows:
                _table(pdf, header, rows, "" if block.table.caption == block.heading else block.table.caption)
            for note in block.table.notes:
                _paragraph(pdf, note, 8)
        for note in part.notes:
            _paragraph(pdf, note, 8)
    return bytes(pdf.output())
