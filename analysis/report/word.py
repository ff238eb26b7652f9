"""The report as a Word document: Heading styles (navigation pane, table of contents), real tables, charts with
alternative text, page numbers in the footer. Reads the same Report as the page, so filters and suppression match."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from .documents import chart_image, summary_lines, table_body
from .model import Report, _


def _field(paragraph, instruction: str, placeholder: str = "") -> None:
    """A Word field (PAGE, TOC): Word and LibreOffice fill it in when the document opens or is updated."""
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, instruction), ("separate", None), ("text", placeholder),
                       ("end", None)):
        if kind in ("begin", "separate", "end"):
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
            if kind == "begin":
                element.set(qn("w:dirty"), "true")
        elif kind == "text":
            element = OxmlElement("w:t")
            element.text = placeholder
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)


USABLE_WIDTH_CM = 29.7 - 2 * 1.8  # landscape A4 less the margins


def _widths(table, cells, columns: int) -> None:
    """The label column a third of the page, the figures sharing the rest: equal columns broke labels mid-word."""
    if columns < 2:
        return
    table.autofit = False
    share = 1 / 3 if columns <= 8 else 1 / 4
    first = Cm(USABLE_WIDTH_CM * share)
    other = Cm(USABLE_WIDTH_CM * (1 - share) / (columns - 1))
    for column, size in zip(table.columns, [first] + [other] * (columns - 1)):
        column.width = size
    small = Pt(8) if columns > 8 else None  # wide tables (the rating scores): smaller type, so headers fit
    for index, cell in enumerate(cells):
        cell.width = first if index % columns == 0 else other
        if small is not None:
            for run in cell.paragraphs[0].runs:
                run.font.size = small


def _table(document, header: list[str], rows: list[list[str]], caption: str) -> None:
    if caption:
        document.add_paragraph(caption, style="Caption")
    table = document.add_table(rows=1 + len(rows), cols=len(header))
    table.style = "Table Grid"
    cells = table._cells  # every cell in row order: one pass, not a lookup per cell
    width = len(header)
    for index, text in enumerate(header):
        cells[index].text = text
        cells[index].paragraphs[0].runs[0].bold = True
    for r, row in enumerate(rows, start=1):
        for c, text in enumerate(row):
            cells[r * width + c].text = text
    _widths(table, cells, width)
    for row in table.rows:  # a row stays on one page: a label cut in two read as two rows
        keep = OxmlElement("w:cantSplit")
        keep.set(qn("w:val"), "true")
        row._tr.get_or_add_trPr().append(keep)
    heading_row = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    heading_row.append(repeat)


def report_docx(report: Report, scope: str, findings: list[str] | None = None) -> bytes:
    """The whole report as .docx bytes; `findings` replaces the automatic key findings (an analyst's edit)."""
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.8))
    document.styles["Normal"].font.size = Pt(10)
    document.core_properties.title = report.round_name
    document.core_properties.language = report.language
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run(_("Page") + " ")
    _field(footer, "PAGE", "1")

    document.add_paragraph(_("Alliance 8.7 – collective analysis of partner engagement and of the Alliance's "
                             "services"), style="Subtitle")
    document.add_heading(report.round_name, level=0)
    document.add_paragraph(report.survey_title)
    facts, findings = summary_lines(report, scope, findings)
    for fact in facts:
        document.add_paragraph(fact, style="List Bullet")
    document.add_heading(_("Contents"), level=1)
    _field(document.add_paragraph(), 'TOC \\o "1-2" \\h \\z \\u',
           _("Update this field to see the table of contents (right-click, Update field)."))
    document.add_heading(_("Key findings"), level=1)
    for text in findings or [_("Not enough responses for key findings yet.")]:
        document.add_paragraph(text, style="List Bullet")
    for part in report.sections:
        document.add_heading(part.title, level=1)
        for paragraph in part.paragraphs:
            document.add_paragraph(paragraph)
        if part.message:
            document.add_paragraph(part.message, style="Intense Quote")
        for block in part.blocks:
            if block.heading and block.heading != part.title:
                document.add_heading(block.heading, level=2)
            chart = chart_image(block)
            if chart is not None:
                document.add_picture(io.BytesIO(chart.png), width=Cm(16))
                picture = document.inline_shapes[-1]
                properties = picture._inline.docPr
                properties.set("descr", chart.alt)
                properties.set("title", chart.title)
            if block.message:
                document.add_paragraph(block.message, style="Intense Quote")
            header, rows = table_body(block.table)
            if rows:
                _table(document, header, rows, "" if block.table.caption == block.heading else block.table.caption)
            for note in block.table.notes:
                document.add_paragraph(note, style="Quote")
        for note in part.notes:
            document.add_paragraph(note, style="Quote")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
