"""Numbers in the report's language: "3,58" and "45 %" (narrow no-break space) in French, "45 %" in Spanish, on the
page, in the key findings and in the Word and PDF files; the CSV downloads stay machine-readable in every language."""

import csv
import html
import io
import re

import pytest
from docx import Document
from pypdf import PdfReader

from analysis.report.model import csv_value, format_value, list_separator, numbers_for

NNBSP, NBSP = "\u202f", "\u00a0"
PERCENT = {"fr": NNBSP + "%", "es": NBSP + "%"}
# A decimal written with a point, or a percentage glued to its number: English habits a French or Spanish reader trips on.
ENGLISH_DECIMAL = re.compile(r"(?<![\w.])\d+\.\d\d(?![\d.])")
GLUED_PERCENT = re.compile(r"\d%")


@pytest.mark.parametrize("language, expected", [
    ("en", ["1,234", "46%", "3.58", "+0.12", "+12 pp", "-3"]),
    ("fr", ["1\u202f234", "46\u202f%", "3,58", "+0,12", "+12\u00a0pts", "-3"]),
    ("es", ["1.234", "46\u00a0%", "3,58", "+0,12", "+12\u00a0p.\u00a0p.", "-3"]),
])
def test_cells_are_written_in_the_reports_language(language, expected):
    numbers = numbers_for(language, {"en": "pp", "fr": "pts", "es": "p.\u00a0p."}[language])
    values = [(1234, "int"), (0.456, "pct"), (3.5812, "mean"), (0.12, "signed"), (0.123, "pp"), (-3.2, "nps")]
    assert [format_value(value, kind, numbers) for value, kind in values] == expected
    assert format_value(-0.004, "pp", numbers).startswith("+0")  # no "-0" in any language


def test_csv_values_stay_machine_readable():
    assert [csv_value(0.456, "pct"), csv_value(3.5812, "mean"), csv_value(0.123, "pp"), csv_value(1234, "int")] == [
        45.6, 3.581, 12.3, 1234]


def test_french_lists_put_a_narrow_space_before_the_semicolon():
    assert list_separator("fr") == "\u202f; " and list_separator("es") == list_separator("en") == "; "


def page(client, round_id, language, query=""):
    return html.unescape(client.get(f"/secretariat/rounds/{round_id}/report{query}",
                                    headers={"Accept-Language": language}).get_data(as_text=True))


def findings_of(text: str) -> str:
    start = text.index('id="key-findings"')
    return text[start:text.index("</section>", start)]


@pytest.mark.parametrize("language", ["fr", "es"])
def test_the_page_and_its_key_findings_write_numbers_in_the_language(rounds, analyst, language):
    this, last = rounds
    text = page(analyst, this, language, f"?compare={last}")
    findings = re.sub(r"<[^>]+>", " ", findings_of(text))
    assert re.search(rf"\d+{PERCENT[language]}", findings)
    assert re.search(r"\d,\d\d", findings)  # "importance 3,58"
    assert not ENGLISH_DECIMAL.search(findings) and not GLUED_PERCENT.search(findings)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", text)
    assert any(re.fullmatch(rf"\d+{PERCENT[language]}", c) for c in cells)
    assert any(re.fullmatch(r"\d,\d\d", c) for c in cells)
    assert not [c for c in cells if ENGLISH_DECIMAL.fullmatch(c.strip()) or GLUED_PERCENT.search(c)]
    charts = re.findall(r"<svg.*?</svg>", text, re.DOTALL)
    assert charts and any(f">100{PERCENT[language]}<" in chart for chart in charts)  # the axis of the bars
    assert not [chart for chart in charts if re.search(r">[+-]?\d+(\.\d+)?%<", chart)]
    if language == "fr":
        assert re.search(r"\)\u202f; ", findings) and not re.search(r"[^\u202f][;:?!] ", findings)


def download(client, round_id, kind, language, query=""):
    response = client.get(f"/secretariat/rounds/{round_id}/report.{kind}{query}",
                          headers={"Accept-Language": language})
    assert response.status_code == 200
    return response.data


@pytest.mark.parametrize("language", ["fr", "es"])
def test_word_writes_numbers_in_the_language(rounds, analyst, language):
    this, last = rounds
    document = Document(io.BytesIO(download(analyst, this, "docx", language, f"?compare={last}")))
    paragraphs = "\n".join(p.text for p in document.paragraphs)
    assert re.search(rf"\d+{PERCENT[language]}", paragraphs) and re.search(r"\d,\d\d", paragraphs)
    assert not ENGLISH_DECIMAL.search(paragraphs) and not GLUED_PERCENT.search(paragraphs)
    cells = [cell.text for table in document.tables for row in table.rows[1:] for cell in row.cells[1:]]
    assert any(re.fullmatch(rf"\d+{PERCENT[language]}", c) for c in cells)
    assert not [c for c in cells if ENGLISH_DECIMAL.fullmatch(c) or GLUED_PERCENT.search(c)]


@pytest.mark.parametrize("language", ["fr", "es"])
def test_pdf_writes_numbers_in_the_language(rounds, analyst, language):
    this, last = rounds
    reader = PdfReader(io.BytesIO(download(analyst, this, "pdf", language, f"?compare={last}")))
    text = "\n".join(page.extract_text() for page in reader.pages[:6])
    assert re.search(r"\d+[\u202f\u00a0 ]%", text) and re.search(r"\d,\d\d", text)
    assert not GLUED_PERCENT.search(text)


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_csv_downloads_keep_point_decimals_and_no_percent_sign(rounds, analyst, language):
    this, _last = rounds
    response = analyst.get(f"/secretariat/rounds/{this}/report/satisfaction-satisfaction.csv",
                           headers={"Accept-Language": language})
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    figures = [cell for row in rows[1:] for cell in row[1:] if cell and cell[0].isdigit()]
    assert figures and all(re.fullmatch(r"\d+(\.\d+)?", cell) for cell in figures)
    assert any("." in cell for cell in figures)
