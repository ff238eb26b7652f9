"""The report's shape: ordered sections of blocks, each a published table and its chart, with how a cell reads on the
page and in the CSV download; and ``_``, the report's translation (the gettext given to build_report)."""

from __future__ import annotations

import contextvars
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd
from babel import UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from markupsafe import Markup

from analysis.suppression import DASH, LOW_BASE_BELOW, MIN_CELL, SuppressionRecord

_translate: contextvars.ContextVar[Callable[..., str] | None] = contextvars.ContextVar("translate", default=None)


def _(text: str, **values) -> str:
    """The text in the report's language (the gettext given to build_report), with %(name)s values filled in."""
    translate = _translate.get()
    if translate is not None:
        return translate(text, **values)
    return text % values if values else text


def long_date(value: date, language: str | None) -> str:
    """3 January 2027, 3 janvier 2027: Babel's long date in the report's language (English where Babel has none)."""
    try:
        return format_date(value, "long", locale=language or "en")
    except (UnknownLocaleError, ValueError):
        return format_date(value, "long", locale="en")


NARROW_NBSP = "\u202f"


@dataclass(frozen=True)
class Numbers:
    """How the report writes numbers: its language's decimal comma or point, grouping and "45 %" (Babel's CLDR
    patterns), and the unit of a change in percentage points in words (pp, pts, p. p.)."""

    locale: str = "en"
    points: str = "pp"

    def number(self, value: float, pattern: str) -> str:
        return format_decimal(value, pattern, locale=self.locale)

    def percent(self, value: float, whole: bool = True) -> str:
        """0.456 as "46%", "46 %" (fr, narrow no-break space) or "46 %" (es, no-break space); with whole=False,
        the decimals a value has (an axis tick of 2.5 %)."""
        text = format_percent(value, locale=self.locale, decimal_quantization=whole)
        # Babel's French percent takes a no-break space; French typography (and this report) wants the narrow one.
        return text.replace("\xa0%", NARROW_NBSP + "%") if self.locale.startswith("fr") else text


def numbers_for(language: str | None, points: str = "pp") -> Numbers:
    """The number style of a language Babel knows (English otherwise)."""
    try:
        format_decimal(1.5, locale=language or "en")
    except (UnknownLocaleError, ValueError):
        return Numbers("en", points)
    return Numbers(language or "en", points)


def list_separator(language: str | None) -> str:
    """"; " between the items of a sentence's list; French puts a narrow no-break space before the semicolon."""
    return NARROW_NBSP + "; " if (language or "").startswith("fr") else "; "


@contextmanager
def translation(gettext: Callable[..., str] | None) -> Iterator[None]:
    """Within the block, ``_`` translates with ``gettext`` (None: the English text, %-formatted)."""
    token = _translate.set(gettext)
    try:
        yield
    finally:
        _translate.reset(token)


@dataclass(frozen=True)
class Filters:
    """Which partners the report covers, from the registry's attributes; empty means everyone."""

    category: str = ""
    region: str = ""
    pathfinder: str = ""  # "yes", "no" or ""
    # "" counts every respondent once (a census of partners); "organisation" weights each 1/k, where k people
    # answered for the same organisation (DOMAIN.md), so every organisation counts once.
    weighting: str = ""

    def active(self) -> dict[str, str]:
        return {k: v for k, v in (("category", self.category), ("region", self.region),
                                  ("pathfinder", self.pathfinder)) if v}  # fmt: skip

    def keep(self, frame: pd.DataFrame) -> pd.Series:
        """Rows of a respondents or invitations frame that pass the filters."""
        keep = pd.Series(True, index=frame.index)
        if self.category:
            keep &= frame["category"].astype(object) == self.category
        if self.region:
            keep &= frame["region"].astype(object) == self.region
        if self.pathfinder:
            keep &= frame["pathfinder"].astype(bool) == (self.pathfinder == "yes")
        return keep


@dataclass
class Column:
    key: str
    label: str
    kind: str = "text"  # text, int, pct, mean, signed, pp, nps


@dataclass
class Table:
    """A published table: values by column, the cells hidden by suppression, the rows with a low base."""

    key: str
    caption: str
    columns: list[Column]
    rows: list[dict]
    hidden: list[set[str]] = field(default_factory=list)
    low_base: list[bool] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    limit: int | None = None  # rows shown on the page (the CSV has all)
    numbers: Numbers = field(default_factory=Numbers)  # set for the report's language by build_report

    def __post_init__(self):
        self.hidden = self.hidden or [set() for _row in self.rows]
        self.low_base = self.low_base or [False for _row in self.rows]

    def cell(self, index: int, column: Column) -> str:
        """One cell as the page shows it: '–' when suppressed, '' when there is nothing to show."""
        if column.key in self.hidden[index]:
            return DASH
        return format_value(self.rows[index].get(column.key), column.kind, self.numbers)

    def display(self) -> list[tuple[list[str], bool]]:
        """The rows shown on the page: (cells, low base)."""
        shown = range(len(self.rows) if self.limit is None else min(self.limit, len(self.rows)))
        return [([self.cell(i, c) for c in self.columns], self.low_base[i]) for i in shown]

    def csv_rows(self) -> list[list]:
        """Header and rows for the CSV download: numbers unformatted (percentages as 0-100), '–' when suppressed."""
        header = [c.label for c in self.columns] + [_("Low base (n %(low)s to %(high)s)", low=MIN_CELL,
                                                      high=LOW_BASE_BELOW - 1)]
        body = []
        for index, row in enumerate(self.rows):
            values = [DASH if c.key in self.hidden[index] else csv_value(row.get(c.key), c.kind)
                      for c in self.columns]
            body.append(values + [_("yes") if self.low_base[index] else ""])
        return [header, *body]

    @property
    def frame(self) -> pd.DataFrame:
        """The table as a frame of strings, suppressed cells as '–'."""
        header, *body = self.csv_rows()
        return pd.DataFrame(body, columns=header)


@dataclass
class Block:
    """A chart and the table that gives its numbers (its text alternative), or a table alone."""

    table: Table
    heading: str = ""
    chart: Markup | None = None
    message: str = ""  # shown instead of the chart, e.g. "not enough responses"


@dataclass
class Section:
    key: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    message: str = ""
    paragraphs: list[str] = field(default_factory=list)


@dataclass
class Report:
    round_id: int
    round_name: str
    survey_title: str
    filters: Filters
    threshold: int
    language: str
    respondents: int
    previous_round: str | None
    generated_at: datetime
    sections: list[Section]
    suppression: list[SuppressionRecord]
    # The themes of the open answers, most commenters first (analysis.report.themes.TopTheme), for key findings.
    top_themes: list = field(default_factory=list)
    findings: list = field(default_factory=list)  # the key findings (findings.Finding), written from the tables
    numbers: Numbers = field(default_factory=Numbers)  # how its pages, findings and documents write numbers

    def table(self, key: str) -> Table | None:
        for section in self.sections:
            for block in section.blocks:
                if block.table.key == key:
                    return block.table
        return None

    def section_keys(self) -> list[str]:
        return [s.key for s in self.sections]


CELL_FORMATS: dict[str, Callable[[float, Numbers], str]] = {
    "int": lambda v, f: f.number(int(v), "#,##0"),
    "pct": lambda v, f: f.percent(v),
    "mean": lambda v, f: f.number(v, "0.00"),
    "signed": lambda v, f: f.number(v, "+0.00;-0.00"),
    "pp": lambda v, f: f.number(100 * v, "+0;-0") + (" " if f.locale == "en" else "\u00a0") + f.points,
    "nps": lambda v, f: f.number(v, "+0;-0"),
}


def format_value(value, kind: str, numbers: Numbers | None = None) -> str:
    """A cell as the page prints it, by its column's kind, in the report's language ("3,58", "45 %" in French);
    a kind without a format prints as it is."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if kind in ("signed", "pp", "nps", "pct") and round(float(value) * (100 if kind in ("pp", "pct") else 1),
                                                         2 if kind == "signed" else 0) == 0:
        value = 0.0  # no "-0" from a value that rounds to zero
    if kind not in CELL_FORMATS:
        return str(value)
    return CELL_FORMATS[kind](value, numbers or Numbers())


def csv_value(value, kind: str):
    """A cell for the CSV download: machine-readable in every language (point decimal, percentages as 0-100, no %)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if kind == "int":
        return int(value)
    if kind in ("pct", "pp"):
        return round(100 * float(value), 1)
    if kind in ("mean", "signed"):
        return round(float(value), 3)
    if kind == "nps":
        return round(float(value), 1)
    return str(value)
