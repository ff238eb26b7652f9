"""The report as documents the Secretariat edits and sends: Word (.docx) and PDF, with the page's filters and
suppression (they read the same Report), headings the navigation pane and a table of contents use, real tables,
charts as images with their text alternative, page numbers, and the annexes. No Flask here.

Charts are drawn again from the tables with matplotlib (the page's SVG charts need a browser to become pictures);
the PDF uses the DejaVu Sans font that ships inside matplotlib, so accents and dashes render in every language.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

from .model import Block, Numbers, Report, Table, _, format_value, long_date

# The column a chart of each kind of table shows, in order of preference.
CHART_COLUMNS = ("t2b", "used_pct", "points_mean", "nps", "pct", "satisfaction_mean", "completion_rate", "mean")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.DOTALL)
_DESC = re.compile(r"<desc[^>]*>(.*?)</desc>", re.DOTALL)


@dataclass
class Chart:
    png: bytes
    title: str
    alt: str  # the text alternative: what the page's chart says it shows


def _unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&#39;", "'")
            .replace("&amp;", "&").strip())


def chart_image(block: Block) -> Chart | None:
    """The block's chart as a PNG bar chart of its main column (suppressed and empty cells left out), or None."""
    if block.chart is None:
        return None
    table = block.table
    keys = {c.key: c for c in table.columns}
    column = next((keys[k] for k in CHART_COLUMNS if k in keys), None)
    if column is None:
        return None
    label_key = table.columns[0].key
    bars = []
    for index, row in enumerate(table.rows[:25]):
        value = row.get(column.key)
        if column.key in table.hidden[index] or value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        bars.append((str(row.get(label_key, "")), float(value) * (100 if column.kind in ("pct", "pp") else 1)))
    if not bars:
        return None
    title = _unescape(_TITLE.search(block.chart).group(1)) if _TITLE.search(block.chart) else table.caption
    alt = _unescape(_DESC.search(block.chart).group(1)) if _DESC.search(block.chart) else title
    return Chart(_bar_png(bars, column.kind, column.label, table.numbers), title, alt)


def _bar_png(bars: list[tuple[str, float]], kind: str, axis_label: str, numbers: Numbers) -> bytes:
    """Horizontal bars drawn with Pillow (a few milliseconds a chart): label, bar, value; zero line; axis label."""
    from PIL import Image, ImageDraw, ImageFont

    scale = 2  # drawn at twice the size it prints, so it stays sharp
    font = ImageFont.truetype(str(font_path()), 11 * scale)
    small = ImageFont.truetype(str(font_path()), 10 * scale)
    labels = [label if len(label) <= 50 else label[:49] + "…" for label, _v in bars]
    values = [v for _l, v in bars]
    label_width = max(font.getlength(label) for label in labels) + 10 * scale
    row, width = 22 * scale, 720 * scale
    height = row * len(bars) + 40 * scale
    image = Image.new("RGB", (width, int(height)), "white")
    draw = ImageDraw.Draw(image)
    low = min(0.0, *values)
    high = max(100.0 if kind in ("pct", "pp") else 0.0, *values)
    span = (high - low) or 1.0
    plot = width - label_width - 60 * scale
    zero = label_width + plot * (0 - low) / span
    for index, (label, value) in enumerate(zip(labels, values)):
        top = 8 * scale + index * row
        draw.text((label_width - 8 * scale, top + row / 2), label, fill="#1b1f24", font=font, anchor="rm")
        end = label_width + plot * (value - low) / span
        draw.rectangle([min(zero, end), top + 4 * scale, max(zero, end), top + row - 4 * scale], fill="#0072B2")
        draw.text((max(zero, end) + 5 * scale, top + row / 2), _figure(value, kind, numbers), fill="#1b1f24", font=small,
                  anchor="lm")
    draw.line([zero, 4 * scale, zero, height - 30 * scale], fill="#8a8a8a", width=scale)
    draw.text((label_width + plot / 2, height - 14 * scale), axis_label, fill="#1b1f24", font=small, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _figure(value: float, kind: str, numbers: Numbers) -> str:
    """A bar's value in the report's language: a percentage (from 0-100), a signed score or a mean."""
    if kind in ("pct", "pp"):
        return format_value(value / 100, kind, numbers)
    return format_value(value, "nps" if kind == "nps" else "mean", numbers)


def font_path(bold: bool = False) -> Path:
    """DejaVu Sans as matplotlib installs it: a Unicode font we never have to ship ourselves."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")


def summary_lines(report: Report, scope: str, findings: list[str] | None) -> tuple[list[str], list[str]]:
    """The facts under the title, and the key findings (the analysts' text when given, else the automatic one)."""
    produced = f"{long_date(report.generated_at.date(), report.language)}, {report.generated_at:%H:%M}"
    facts = [_("Partners covered: %(scope)s", scope=scope), _("Responses analysed: %(n)s", n=report.respondents),
             _("Small cells hidden below n = %(n)s", n=report.threshold), _("Produced: %(when)s UTC", when=produced)]
    if report.previous_round:
        facts.insert(2, _("Compared with: %(round)s", round=report.previous_round))
    if findings is None:
        findings = [_("%(finding)s (table: %(caption)s)", finding=f.text, caption=f.caption) for f in report.findings]
    return facts, findings


def table_body(table: Table) -> tuple[list[str], list[list[str]]]:
    """Header and rows as the page shows them ('–' for a suppressed cell, low base marked)."""
    header = [c.label for c in table.columns]
    rows = []
    for cells, low in table.display():
        rows.append([cells[0] + (f" ({_('low base')})" if low else ""), *cells[1:]])
    return header, rows
