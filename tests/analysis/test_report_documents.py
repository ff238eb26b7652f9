"""The report as Word and PDF: headings, real tables, charts with alternative text, page numbers, annexes, in the
user's language, with the page's filters and suppression; both files open (python-docx, pypdf)."""

import io
import re

from docx import Document
from pypdf import PdfReader

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def download(client, round_id, kind, query="", language="en"):
    response = client.get(f"/secretariat/rounds/{round_id}/report.{kind}{query}",
                          headers={"Accept-Language": language})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert f"round-{round_id}-report.{kind}" in response.headers["Content-Disposition"]
    return response


def test_word_has_headings_tables_charts_with_alt_text_and_page_numbers(rounds, analyst):
    this, last = rounds
    response = download(analyst, this, "docx", f"?compare={last}")
    assert response.mimetype == DOCX
    document = Document(io.BytesIO(response.data))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings[:3] == ["Contents", "Key findings", "Fieldwork and response"]
    assert {"Annex: methods", "Annex: suppression log", "Satisfaction with each service"} <= set(headings)
    assert any(h.startswith("Change since 2025") for h in headings)
    assert len(document.tables) > 20
    first = document.tables[0]
    assert first.rows[0].cells[0].text == "Partners" and first.rows[-1].cells[0].text == "All partners"
    pictures = document.inline_shapes
    assert len(pictures) > 10
    assert all(p._inline.docPr.get("descr") for p in pictures)
    xml = document.sections[0].footer._element.xml
    assert "PAGE" in xml
    body = document.element.body.xml
    assert "TOC \\o" in body
    findings = [p.text for p in document.paragraphs if "completion rate" in p.text]
    assert findings and "(table: Response by partner category)" in findings[0]


def test_pdf_opens_with_bookmarks_page_numbers_and_french_accents(rounds, analyst):
    this, _last = rounds
    response = download(analyst, this, "pdf", language="fr")
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) > 10
    first = reader.pages[0].extract_text()
    assert "Principaux constats" in first and "éligibles" in first
    outline = [item.title for item in reader.outline if not isinstance(item, list)]
    assert "Principaux constats" in outline and "Collecte et participation" in outline
    assert sum(title.startswith("Annexe") for title in outline) == 3
    assert "Page 2" in reader.pages[1].extract_text()
    assert any("/Image" in str(page.get("/Resources", {}).get("/XObject", {}).values()) or page.images
               for page in reader.pages)


def test_documents_follow_the_page_filters_and_suppression(rounds, analyst):
    this, _last = rounds
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(
        download(analyst, this, "pdf", "?category=survivor").data)).pages)
    assert "Survivor-led organisation or network" in text
    assert "–" in text  # suppressed cells show as a dash, as on the page
    document = Document(io.BytesIO(download(analyst, this, "docx", "?category=survivor").data))
    assert any("Survivor-led organisation or network" in p.text for p in document.paragraphs)


def test_an_edited_summary_goes_into_the_documents(rounds, analyst):
    this, _last = rounds
    analyst.get(f"/secretariat/rounds/{this}/report/key-findings")
    analyst.post(f"/secretariat/rounds/{this}/report/key-findings", {"text": "Financing comes first.", "save": "1"})
    document = Document(io.BytesIO(download(analyst, this, "docx").data))
    assert any(p.text == "Financing comes first." for p in document.paragraphs)


def test_the_page_links_both_downloads_with_its_filters(rounds, analyst):
    this, _last = rounds
    page = analyst.get(f"/secretariat/rounds/{this}/report?region=africa").get_data(as_text=True)
    assert f"/secretariat/rounds/{this}/report.docx?region=africa" in page
    assert f"/secretariat/rounds/{this}/report.pdf?region=africa" in page
    assert analyst.get(f"/secretariat/rounds/{this}/report.odt").status_code == 404


FRENCH_LONG_DATE = r"\d{1,2} (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre) \d{4}"


def test_dates_are_written_out_in_the_reports_language(rounds, analyst):
    """The period of the fieldwork and the day the file was produced read as dates in French, never 2026-12-04."""
    this, _last = rounds
    document = Document(io.BytesIO(download(analyst, this, "docx", language="fr").data))
    text = "\n".join(p.text for p in document.paragraphs)
    assert re.search(rf"Produit le\s:\s{FRENCH_LONG_DATE}, \d\d:\d\d UTC", text)
    assert re.search(rf"Réponses du {FRENCH_LONG_DATE} au {FRENCH_LONG_DATE}", text)
    assert not re.search(r"\d{4}-\d\d-\d\d", text)
    page = analyst.get(f"/secretariat/rounds/{this}/report", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert re.search(rf"Réponses du {FRENCH_LONG_DATE} au {FRENCH_LONG_DATE}", page)
    pdf = PdfReader(io.BytesIO(download(analyst, this, "pdf", language="fr").data))
    pdf = "\n".join(p.extract_text() for p in pdf.pages[:3])
    assert re.search(rf"Produit le\s:\s{FRENCH_LONG_DATE}", pdf)


def test_word_tables_give_the_label_column_room_and_fit_the_page(rounds, analyst):
    this, last = rounds
    document = Document(io.BytesIO(download(analyst, this, "docx", f"?compare={last}").data))
    section = document.sections[0]
    usable = section.page_width - section.left_margin - section.right_margin
    table = document.tables[0]
    widths = [cell.width for cell in table.rows[1].cells]
    assert widths[0] > 2 * widths[1]
    assert abs(sum(widths) - usable) < usable / 100


def test_word_wide_tables_use_smaller_type(rounds, analyst):
    this, last = rounds
    document = Document(io.BytesIO(download(analyst, this, "docx", f"?compare={last}").data))
    wide = [t for t in document.tables if len(t.columns) > 8]
    assert wide
    assert all(run.font.size.pt == 8 for t in wide for run in t.rows[0].cells[1].paragraphs[0].runs)


def test_word_table_rows_are_not_split_across_pages(rounds, analyst):
    this, last = rounds
    document = Document(io.BytesIO(download(analyst, this, "docx", f"?compare={last}").data))
    rows = [row for table in document.tables for row in table.rows]
    assert rows and all("w:cantSplit" in row._tr.xml for row in rows)
