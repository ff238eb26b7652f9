"""The collective analysis of a round as one report: ordered sections of suppressed tables, charts and method notes.

Pure: a RoundData (and optionally an earlier round's) plus filters and the suppression threshold give a Report;
nothing here touches Flask or the database, so the page, the CSV downloads, the self-contained HTML file and the
benchmark all build the same object. Sections follow DOMAIN.md's "Report contents"; each is left out when the survey
has nothing for it (a survey without importance/satisfaction pairs has no quadrant section), and questions no
section claims are shown by kind under "Other questions", so any survey gets a report.

User-visible text goes through ``_``, which calls the translation function given to ``build_report`` (Flask-Babel's
gettext from the routes; plain %-formatting elsewhere), so this module stays free of Flask and Babel's extractor
still finds every string.
"""

from __future__ import annotations

import contextvars
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from markupsafe import Markup

from analysis import figures
from analysis.frames import RoundData
from analysis.intervals import RESAMPLES, Z
from analysis.items import SATISFACTION, SurveyItems, choice_codes, discover_items, grids
from analysis.rates import partial_responses, response_rates
from analysis.summaries import (
    CONCENTRATE,
    KEEP_UP,
    LOW_PRIORITY,
    OVERKILL,
    choice_frequencies,
    compare_rounds,
    importance_satisfaction,
    likert_summary,
    nps_summary,
    ranking_summary,
    service_funnel,
)
from analysis.suppression import (
    DASH,
    LOW_BASE_BELOW,
    MIN_CELL,
    MIN_FREE_TEXT,
    SuppressionRecord,
    free_text,
    suppress,
)
from surveys.definition import OTHER, Grid, SurveyDefinition
from surveys.definition import Section as FormSection

FREE_TEXT_SHOWN = 100  # answers per question on the page; the CSV has them all
DIMENSIONS = ("category", "region")
ENGAGEMENT_PAGE = "engagement"
ACTION_GROUP_PAGE = "action_groups"
PATHFINDER_PAGE = "pathfinder"
BARRIER_QUESTIONS = ("barriers", "channels", "contribute")

_translate: contextvars.ContextVar[Callable[..., str] | None] = contextvars.ContextVar("translate", default=None)


def _(text: str, **values) -> str:
    """The text in the report's language (the gettext given to build_report), with %(name)s values filled in."""
    translate = _translate.get()
    if translate is not None:
        return translate(text, **values)
    return text % values if values else text


# -- the report's shape ----------------------------------------------------------------------------------------------


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

    def __post_init__(self):
        self.hidden = self.hidden or [set() for _row in self.rows]
        self.low_base = self.low_base or [False for _row in self.rows]

    def cell(self, index: int, column: Column) -> str:
        """One cell as the page shows it: '–' when suppressed, '' when there is nothing to show."""
        if column.key in self.hidden[index]:
            return DASH
        return format_value(self.rows[index].get(column.key), column.kind)

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

    def table(self, key: str) -> Table | None:
        for section in self.sections:
            for block in section.blocks:
                if block.table.key == key:
                    return block.table
        return None

    def section_keys(self) -> list[str]:
        return [s.key for s in self.sections]


def format_value(value, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if kind in ("signed", "pp", "nps", "pct") and round(float(value) * (100 if kind in ("pp", "pct") else 1),
                                                         2 if kind == "signed" else 0) == 0:
        value = 0.0  # no "-0" from a value that rounds to zero
    if kind == "int":
        return f"{int(value):,}"
    if kind == "pct":
        return f"{100 * value:.0f}%"
    if kind == "mean":
        return f"{value:.2f}"
    if kind == "signed":
        return f"{value:+.2f}"
    if kind == "pp":
        return f"{100 * value:+.0f} pp"
    if kind == "nps":
        return f"{value:+.0f}"
    return str(value)


def csv_value(value, kind: str):
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


# -- building ------------------------------------------------------------------------------------------------------


class _Builder:
    """Holds what every section needs: the analysed answers, labels, the threshold and the suppression log."""

    def __init__(self, data: RoundData, filters: Filters, threshold: int, language: str,
                 group_labels: dict[str, dict[str, str]]):
        self.data = data
        self.definition: SurveyDefinition = data.definition
        self.items: SurveyItems = discover_items(data.definition)
        self.filters = filters
        self.threshold = threshold
        self.language = language
        self.group_labels = group_labels
        self.log: list[SuppressionRecord] = []
        self.invitations = data.invitations[filters.keep(data.invitations)] if len(data.invitations) else \
            data.invitations
        self.partial = partial_responses(data.answers, data.definition) if len(data.answers) else \
            pd.Series(dtype=bool)
        self.respondents = analysed_respondents(data, filters, self.partial)
        ids = self.respondents["response_id"]
        self.answers = data.answers[data.answers["response_id"].isin(ids)]
        self.n = len(self.respondents)
        self.weights = "organisation" if filters.weighting == "organisation" else None
        _prepare(self)

    # labels

    def question_label(self, name: str) -> str:
        question = self.definition.question(name)
        if question is None:
            return name
        return self.definition.text(question.label, self.language) or name

    def option_label(self, name: str, code: str) -> str:
        question = self.definition.question(name)
        if code == OTHER and (question is None or OTHER not in question.choice_names()):
            return _("Other")
        if question is not None:
            for choice in question.choices:
                if choice.name == code:
                    return self.definition.text(choice.label, self.language) or code
        return code

    def group_label(self, dimension: str, code) -> str:
        if dimension == "pathfinder":
            return _("Pathfinder Countries") if code else _("Not Pathfinder")
        return str(self.group_labels.get(dimension, {}).get(code, code))

    def grid_label(self, grid: Grid) -> str:
        return self.definition.text(grid.label, self.language) or grid.name

    def chart_id(self, key: str) -> str:
        return f"chart-{key}"

    def scale_labels(self, name: str) -> list[str]:
        """The five scores with their labels ("1 Very dissatisfied"), for a chart's legend."""
        labels = []
        for score in ("1", "2", "3", "4", "5"):
            label = self.option_label(name, score)
            labels.append(score if label == score else f"{score} {label}")
        return labels

    # suppression

    def hide_rows(self, table_key: str, labels: Sequence[str], counts: Sequence[float], *,
                  complementary: bool, column: str = "n") -> np.ndarray:
        """Rows whose count is below the threshold (and their complements), logged; a boolean per row."""
        if not len(labels):
            return np.zeros(0, dtype=bool)
        index = pd.Index(_unique(labels))
        counts_frame = pd.DataFrame({column: np.asarray(counts, dtype=float)}, index=index)
        result = suppress(counts_frame, counts_frame, name=table_key, threshold=self.threshold,
                          complementary=complementary)
        self.log += result.log
        return result.hidden[column].to_numpy()

    def not_enough(self) -> str:
        return _("Not enough responses to show this (fewer than %(n)s).", n=self.threshold)


def _unique(labels: Sequence[str]) -> list[str]:
    """Row labels made unique (a suppression log names cells by row)."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        count = seen.get(label, 0)
        seen[label] = count + 1
        out.append(label if count == 0 else f"{label} ({count + 1})")
    return out


def analysed_respondents(data: RoundData, filters: Filters, partial: pd.Series) -> pd.DataFrame:
    """The responses the analysis covers: submitted, plus those in progress that count as partial; filtered."""
    respondents = data.respondents
    if respondents.empty:
        return respondents
    partial_ids = partial.index[partial.eq(True)] if len(partial) else []
    status = respondents["status"].astype(object)
    keep = (status == "submitted") | ((status == "in_progress") & respondents["response_id"].isin(partial_ids))
    return respondents[keep & filters.keep(respondents)].reset_index(drop=True)


def build_report(
    data: RoundData,
    *,
    filters: Filters | None = None,
    threshold: int = MIN_CELL,
    previous: RoundData | None = None,
    language: str | None = None,
    group_labels: dict[str, dict[str, str]] | None = None,
    gettext: Callable[..., str] | None = None,
    survey_title: str | None = None,
    generated_at: datetime | None = None,
) -> Report:
    """The whole collective analysis of a round, in DOMAIN.md's order, every published cell suppressed."""
    token = _translate.set(gettext)
    try:
        filters = filters or Filters()
        language = language or data.definition.default_language
        b = _Builder(data, filters, threshold, language, group_labels or {})
        claimed: set[str] = set()
        sections: list[Section | None] = [fieldwork_section(b)]
        page_claims = {page.name: [q.name for q in page.questions() if q.answerable] for page in b.definition.pages}
        action_groups = page_claims.get(ACTION_GROUP_PAGE, [])
        pathfinder = page_claims.get(PATHFINDER_PAGE, [])
        claimed.update(action_groups, pathfinder)
        funnel = funnel_section(b, claimed)
        satisfaction_grids = service_satisfaction_grids(b, claimed)
        satisfaction = satisfaction_section(b, satisfaction_grids, claimed)
        importance = importance_section(b, claimed)
        ranking = ranking_section(b, claimed)
        heat = heat_map_section(b, satisfaction_grids)
        first_page = b.definition.pages[0].name if len(b.definition.pages) > 1 else None
        profile = page_section(b, "profile", _("Respondent profile"), page_claims.get(first_page, []), claimed,
                               intro=_("As the respondents described their organisations (the registry prefills "
                                       "these answers; partners may correct them)."))
        engagement = page_section(b, "engagement", _("Engagement: reasons, frequency, expectations and level"),
                                  page_claims.get(ENGAGEMENT_PAGE, []), claimed)
        ag = page_section(b, "action-groups", _("Action Group health"), action_groups, set(),
                          intro=_("Statements on the group each member is most active in, and the future members "
                                  "see for each group: this feeds the decision on closing inactive groups."))
        pf = page_section(b, "pathfinder", _("Pathfinder Country support and obstacles"), pathfinder, set())
        barriers = page_section(b, "barriers", _("Barriers, channels and willingness to contribute"),
                                [n for n in BARRIER_QUESTIONS if b.definition.question(n)], claimed)
        nps = nps_section(b, claimed)
        texts = free_text_section(b)
        claimed.update(b.items.free_text)
        others = page_section(b, "other-questions", _("Other questions"),
                              [q.name for q in b.definition.questions() if q.answerable], claimed)
        sections += [profile, engagement, funnel, satisfaction, importance, ranking, heat, ag, pf, barriers,
                     others, nps, texts]
        if previous is not None:
            sections.append(change_section(b, previous))
        sections += annex_sections(b)
        return Report(
            round_id=data.round_id,
            round_name=data.round_name,
            survey_title=survey_title or b.definition.text(b.definition.title, language),
            filters=filters,
            threshold=threshold,
            language=language,
            respondents=b.n,
            previous_round=previous.round_name if previous is not None else None,
            generated_at=generated_at or datetime.now(UTC),
            sections=[s for s in sections if s is not None],
            suppression=b.log,
        )
    finally:
        _translate.reset(token)


# -- sections ------------------------------------------------------------------------------------------------------


def fieldwork_section(b: _Builder) -> Section:
    """Response rates overall and by category, region and Pathfinder status (DOMAIN.md's three rates)."""
    section = Section("fieldwork", _("Fieldwork and response"))
    columns = [
        Column("group", _("Partners")), Column("invited", _("Invited"), "int"),
        Column("ineligible", _("Ineligible"), "int"), Column("eligible", _("Eligible"), "int"),
        Column("complete", _("Complete"), "int"), Column("partial", _("Partial"), "int"),
        Column("completion_rate", _("Completion rate"), "pct"),
        Column("inclusive_rate", _("Inclusive rate"), "pct"),
        Column("organisational_rate", _("Organisational rate"), "pct"),
    ]  # fmt: skip
    if b.invitations.empty:
        section.message = _("No partner has been invited to this round yet.")
        return section
    stats = ("complete", "partial", "completion_rate", "inclusive_rate", "organisational_rate")
    overall = response_rates(b.invitations, b.partial).iloc[0].to_dict()
    for dimension, title in (("category", _("Response by partner category")), ("region", _("Response by region")),
                             ("pathfinder", _("Response of Pathfinder Countries and others"))):
        key = f"fieldwork-{dimension}"
        table = response_rates(b.invitations, b.partial, by=dimension)
        labels = [b.group_label(dimension, code) for code in table[dimension]]
        hide = b.hide_rows(key, labels, table["eligible"], complementary=True, column=_("Eligible"))
        rows = [dict(record, group=label) for record, label in zip(table.to_dict("records"), labels)]
        hidden = [set(stats) if is_hidden else set() for is_hidden in hide]
        low = [bool(MIN_CELL <= r["eligible"] < LOW_BASE_BELOW) and not h for r, h in zip(rows, hide)]
        rows.append(dict(overall, group=_("All partners")))
        hidden.append(set())
        low.append(False)
        section.blocks.append(Block(Table(key, title, columns, rows, hidden, low)))
    first = b.data.respondents["started_at"].min() if len(b.data.respondents) else None
    last = b.data.respondents["submitted_at"].max() if len(b.data.respondents) else None
    if first is not None and not pd.isna(first):
        section.paragraphs.append(_("Responses from %(first)s to %(last)s; %(n)s responses analysed (submitted, "
                                    "or partial as defined in the methods).", first=first.date().isoformat(),
                                    last=(last.date().isoformat() if not pd.isna(last) else "…"), n=b.n))
    else:
        section.paragraphs.append(_("No responses yet."))
    multiple = b.respondents["organisation_id"].duplicated(keep=False).sum() if b.n else 0
    if multiple and b.weights is None:
        section.notes.append(_("%(n)s responses come from organisations with more than one respondent; every "
                               "response counts once (no weighting).", n=int(multiple)))
    elif multiple:
        section.notes.append(_("%(n)s responses come from organisations with more than one respondent; each is "
                               "weighted 1/k so that every organisation counts once.", n=int(multiple)))
    return section


def service_satisfaction_grids(b: _Builder, claimed: set[str]) -> list[str]:
    """Satisfaction grids about the services: those with an importance pair or a use row, else every one."""
    grids_ = [g for g, role in b.items.grid_roles.items() if role == SATISFACTION
              and not set(b.items.likert_grids[g]) & claimed]
    services = {p.satisfaction for p in b.items.pairs}
    used = {b.items.services.get(n) for n in b.items.service_use_names()}
    linked = [g for g in grids_ if any(q in services or b.items.services.get(q) in used
                                       for q in b.items.likert_grids[g])]
    return linked or grids_


def _claim(names: Iterable[str], claimed: set[str]) -> list[str]:
    """The names no earlier section has drawn, now claimed by the caller's section (each question is drawn once)."""
    fresh = [n for n in names if n not in claimed]
    claimed.update(fresh)
    return fresh


def funnel_section(b: _Builder, claimed: set[str]) -> Section | None:
    names = _claim(b.items.service_use_names(), claimed)
    if not names:
        return None
    section = Section("funnel", _("Service funnel: aware, then used"))
    key = "funnel"
    columns = [Column("service", _("Service")), Column("shown", _("Answered"), "int"),
               Column("aware_pct", _("Aware"), "pct"), Column("used_pct", _("Used"), "pct"),
               Column("used_of_aware_pct", _("Used, of those aware"), "pct")]
    table = service_funnel(b.answers, b.definition, names, respondents=b.respondents, weights=b.weights)
    labels = [b.question_label(q) for q in table["question"]]
    result = suppress(table[["aware", "used"]].set_axis(_unique(labels)).astype(float),
                      table[["aware", "used"]].set_axis(_unique(labels)), name=key, threshold=b.threshold,
                      complementary=False)
    b.log += result.log
    rows, hidden = [], []
    for i, record in enumerate(table.to_dict("records")):
        hide = set()
        if result.hidden.iloc[i]["aware"]:
            hide |= {"aware_pct", "used_of_aware_pct"}
        if result.hidden.iloc[i]["used"]:
            hide |= {"used_pct", "used_of_aware_pct"}
        rows.append(dict(record, service=labels[i]))
        hidden.append(hide)
    low = [bool(MIN_CELL <= r["shown"] < LOW_BASE_BELOW) for r in rows]
    out = Table(key, _("Awareness and use of each service"), columns, rows, hidden, low,
                notes=[_("Aware: any answer but \"not aware\"; used: used occasionally or regularly; shares of "
                         "respondents who answered the row.")])
    chart_rows = [(labels[i], None if "used_pct" in hidden[i] else rows[i]["used_pct"]) for i in range(len(rows))]
    block = Block(out)
    if b.n and any(v is not None and not math.isnan(v) for _l, v in chart_rows):
        block.chart = figures.horizontal_bars(
            chart_rows, chart_id=b.chart_id(key), title=_("Share of respondents who used each service"),
            description=_("Bar per service: the percentage who used it in the last 12 months; the table beside "
                          "gives awareness too."))
    else:
        block.message = b.not_enough()
    section.blocks.append(block)
    return section


def satisfaction_section(b: _Builder, grid_names: list[str], claimed: set[str]) -> Section | None:
    if not grid_names:
        return None
    section = Section("satisfaction", _("Satisfaction with each service"))
    for grid_name in grid_names:
        names = b.items.likert_grids[grid_name]
        claimed.update(names)
        grid = _grid(b.definition, grid_name)
        section.blocks.append(likert_block(b, f"satisfaction-{grid_name}", names,
                                           b.grid_label(grid) if grid else grid_name))
    # gettext formats only when given values: "% {}" turns the text's "%%" into "%" in every language.
    section.notes.append(_("T2B: share answering 4 or 5 of those giving a score 1-5, with its Wilson 95%% "
                           "interval. NA%%: \"not applicable\" answers out of all answers to the row; above 50%% "
                           "the row is flagged as of low relevance.") % {})
    return section


def importance_section(b: _Builder, claimed: set[str]) -> Section | None:
    pairs = [p for p in b.items.pairs if p.importance not in claimed and p.satisfaction]
    if not pairs:
        return None
    for grid_name, role in b.items.grid_roles.items():
        if role != SATISFACTION and any(p.importance in b.items.likert_grids[grid_name] for p in pairs):
            claimed.update(b.items.likert_grids[grid_name])
    section = Section("importance", _("Importance and satisfaction"))
    key = "importance-satisfaction"
    table = importance_satisfaction(b.answers, b.definition, pairs, respondents=b.respondents, weights=b.weights)
    labels = [b.question_label(q) for q in table["satisfaction"]]
    base = np.minimum(table["importance_n"], table["satisfaction_n"])
    hide = b.hide_rows(key, labels, base, complementary=False, column=_("Rated both scales"))
    hide_gap = b.hide_rows(key, labels, table["n_paired"], complementary=False, column=_("Gap"))
    visible = ~hide & table["importance_mean"].notna().to_numpy() & table["satisfaction_mean"].notna().to_numpy()
    importance_cross = float(table.loc[visible, "importance_mean"].mean()) if visible.any() else math.nan
    satisfaction_cross = float(table.loc[visible, "satisfaction_mean"].mean()) if visible.any() else math.nan
    names = {CONCENTRATE: _("Concentrate here"), KEEP_UP: _("Keep up the good work"),
             LOW_PRIORITY: _("Low priority"), OVERKILL: _("Possible overkill")}
    rows, hidden = [], []
    for i, record in enumerate(table.to_dict("records")):
        quadrant = None
        if visible[i]:
            high_imp = record["importance_mean"] >= importance_cross
            high_sat = record["satisfaction_mean"] >= satisfaction_cross
            quadrant = (CONCENTRATE if high_imp and not high_sat else KEEP_UP if high_imp else
                        LOW_PRIORITY if not high_sat else OVERKILL)
        rows.append(dict(record, service=labels[i], quadrant=names[quadrant] if quadrant else ""))
        cells = {"importance_mean", "satisfaction_mean", "importance_t2b", "satisfaction_t2b", "t2b_gap",
                 "quadrant"} if hide[i] else set()
        hidden.append(cells | ({"gap"} if hide_gap[i] else set()))
    columns = [
        Column("service", _("Service")), Column("importance_n", _("n importance"), "int"),
        Column("importance_mean", _("Mean importance"), "mean"),
        Column("satisfaction_n", _("n satisfaction"), "int"),
        Column("satisfaction_mean", _("Mean satisfaction"), "mean"),
        Column("n_paired", _("n rated both"), "int"), Column("gap", _("Gap (importance - satisfaction)"), "signed"),
        Column("importance_t2b", _("T2B importance"), "pct"), Column("satisfaction_t2b", _("T2B satisfaction"), "pct"),
        Column("t2b_gap", _("T2B gap"), "pp"), Column("quadrant", _("Quadrant")),
    ]  # fmt: skip
    low = [bool(MIN_CELL <= base.iloc[i] < LOW_BASE_BELOW) and not hide[i] for i in range(len(rows))]
    out = Table(key, _("Importance and satisfaction by service"), columns, rows, hidden, low)
    block = Block(out)
    points = [(labels[i], rows[i]["importance_mean"], rows[i]["satisfaction_mean"]) for i in range(len(rows))
              if visible[i]]
    if len(points) >= 2:
        block.chart = figures.importance_scatter(
            points, importance_cross, satisfaction_cross,
            {"concentrate": names[CONCENTRATE], "keep_up": names[KEEP_UP], "low_priority": names[LOW_PRIORITY],
             "overkill": names[OVERKILL]},
            chart_id=b.chart_id(key), title=_("Importance against satisfaction, by service"),
            description=_("Each service placed by its mean satisfaction (across) and mean importance (up), with "
                          "dashed cross-hairs at the means across services (importance %(imp).2f, satisfaction "
                          "%(sat).2f).", imp=importance_cross, sat=satisfaction_cross),
            x_label=_("Mean satisfaction (1-5)"), y_label=_("Mean importance (1-5)"))
    else:
        block.message = b.not_enough()
    section.blocks.append(block)
    section.notes.append(_("Gap: mean of importance minus satisfaction over the respondents who rated both "
                           "(positive: under-performance). Quadrants after Martilla and James, cross-hairs at the "
                           "plain means across the services shown (a suppressed service is left out, so its mean "
                           "cannot be worked back from them); a service on a cross-hair counts as high."))
    return section


def ranking_section(b: _Builder, claimed: set[str]) -> Section | None:
    names = _claim(b.items.rankings, claimed)
    if not names:
        return None
    section = Section("ranking", _("Priority ranking"))
    for name in names:
        section.blocks.append(ranking_block(b, name))
    section.notes.append(_("Points: 3 for a service ranked first, 2 second, 1 third, 0 otherwise; mean over the "
                           "respondents who answered the ranking."))
    return section


def heat_map_section(b: _Builder, grid_names: list[str]) -> Section | None:
    names = [n for g in grid_names for n in b.items.likert_grids[g]]
    if not names:
        return None
    section = Section("heat-maps", _("Satisfaction by partner category and by region"))
    for dimension, title in (("category", _("Satisfaction (T2B) by partner category")),
                             ("region", _("Satisfaction (T2B) by region"))):
        key = f"heat-{dimension}"
        summary = likert_summary(b.answers, b.definition, names, respondents=b.respondents, weights=b.weights, by=dimension,
                                 mean_ci=False) if b.n else pd.DataFrame()
        if summary.empty:
            section.blocks.append(Block(Table(key, title, [Column("service", _("Service"))], []),
                                        message=b.not_enough()))
            continue
        codes = list(dict.fromkeys(summary[dimension].astype(object)))
        order = list(b.group_labels.get(dimension, {}))
        codes.sort(key=lambda c: (order.index(c) if c in order else len(order), str(c)))
        column_labels = [b.group_label(dimension, c) for c in codes]
        values = summary.pivot(index="question", columns=dimension, values="t2b").reindex(index=names,
                                                                                           columns=codes)
        counts = summary.pivot(index="question", columns=dimension, values="n").reindex(index=names,
                                                                                        columns=codes).fillna(0)
        row_labels = _unique([b.question_label(n) for n in names])
        values.index, counts.index = row_labels, row_labels
        values.columns, counts.columns = column_labels, column_labels
        result = suppress(values, counts, name=key, threshold=b.threshold, complementary=True)
        b.log += result.log
        columns = [Column("service", _("Service"))] + [Column(f"g{j}", label, "pct")
                                                       for j, label in enumerate(column_labels)]
        rows, hidden = [], []
        for i, label in enumerate(row_labels):
            row = {"service": label}
            hide = set()
            for j in range(len(codes)):
                row[f"g{j}"] = result.values.iat[i, j]
                if result.hidden.iat[i, j]:
                    hide.add(f"g{j}")
            rows.append(row)
            hidden.append(hide)
        table = Table(key, title, columns, rows, hidden,
                      notes=[_("Each cell: share answering 4 or 5 among the group's respondents who gave the "
                               "service a score; '–' marks a suppressed cell.")])
        block = Block(table)
        if (~result.hidden.to_numpy()).any():
            block.chart = figures.heat_map(row_labels, column_labels, result.values.to_numpy(),
                                           result.hidden.to_numpy(), chart_id=b.chart_id(key), title=title,
                                           description=_("Grid of services (rows) by group (columns); each cell "
                                                         "gives the T2B percentage, hatched with a dash where "
                                                         "suppressed."))
        else:
            block.message = b.not_enough()
        section.blocks.append(block)
    return section


def nps_section(b: _Builder, claimed: set[str]) -> Section | None:
    names = _claim(b.items.nps, claimed)
    if not names:
        return None
    section = Section("nps", _("Net Promoter Score"))
    for name in names:
        key = f"nps-{name}"
        overall = nps_summary(b.answers, b.definition, [name], respondents=b.respondents, weights=b.weights, min_n=b.threshold)
        by = nps_summary(b.answers, b.definition, [name], respondents=b.respondents, weights=b.weights, by="category",
                         min_n=b.threshold)
        columns = [Column("group", _("Partners")), Column("n", "n", "int"), Column("nps", "NPS", "nps"),
                   Column("nps_low", _("95% CI low"), "nps"), Column("nps_high", _("95% CI high"), "nps"),
                   Column("promoters_pct", _("Promoters (9-10)"), "pct"),
                   Column("passives_pct", _("Passives (7-8)"), "pct"),
                   Column("detractors_pct", _("Detractors (0-6)"), "pct")]
        stats = {"nps", "nps_low", "nps_high", "promoters_pct", "passives_pct", "detractors_pct"}
        first = overall.iloc[0].to_dict()
        labels = [b.group_label("category", c) for c in by["category"]]
        if first["n"] < b.threshold:
            b.hide_rows(key, [_("All partners")], [first["n"]], complementary=False)
        hide = [first["n"] < b.threshold, *b.hide_rows(key, labels, by["n"], complementary=True)]
        records = [first, *by.to_dict("records")]
        rows = [dict(r, group=label, **{f"{k}_pct": (r[k] / r["n"] if r["n"] else math.nan)
                                        for k in ("promoters", "passives", "detractors")})
                for r, label in zip(records, [_("All partners"), *labels])]
        hidden = [set(stats) if h else set() for h in hide]
        low = [bool(MIN_CELL <= r["n"] < LOW_BASE_BELOW) and not h for r, h in zip(records, hide)]
        table = Table(key, b.question_label(name), columns, rows, hidden, low)
        block = Block(table, heading=b.question_label(name))
        chart_rows = [(r["group"], None if "nps" in h else r["nps"]) for r, h in zip(rows, hidden)]
        if first["n"] >= b.threshold:
            block.chart = figures.horizontal_bars(
                chart_rows, chart_id=b.chart_id(key), title=_("NPS overall and by partner category"),
                description=_("Bar per group: NPS from -100 to +100; overall %(nps)+.0f.", nps=first["nps"]),
                percent=False, maximum=100, value_format="{:+.0f}")
        else:
            block.message = b.not_enough()
        section.blocks.append(block)
    section.notes.append(_("NPS = %% scoring 9-10 minus %% scoring 0-6, from -100 to +100; 95%% interval by "
                           "percentile bootstrap over respondents (%(r)s resamples, fixed seed).", r=RESAMPLES))
    return section


def free_text_section(b: _Builder) -> Section | None:
    names = b.items.free_text
    if not names:
        return None
    section = Section("free-text", _("Free-text answers"))
    section.paragraphs.append(_("Answers are shown only when at least %(n)s respondents are in the group, without "
                                "the organisation that wrote them; a respondent's own organisation name is "
                                "replaced by [organisation].", n=MIN_FREE_TEXT))
    if b.n == 0:
        section.message = b.not_enough()
        return section
    shown, log = free_text(b.answers, names, b.respondents, min_n=MIN_FREE_TEXT)
    b.log += [SuppressionRecord(f"free-text-{r.table}", b.question_label(r.table), "", r.reason) for r in log]
    answers = b.answers[b.answers["question"].isin(names)]
    answers = answers[answers["value"].fillna("").str.strip() != ""]
    own = answers["response_id"].map(b.respondents.set_index("response_id")["organisation"]).fillna("")
    texts = pd.DataFrame({"question": answers["question"].astype(str).to_numpy(),
                          "value": [_redact(v, o) for v, o in zip(answers["value"].tolist(), own.tolist())]})
    allowed = bool(len(shown))
    for name in names:
        key = f"free-text-{name}"
        values = texts.loc[texts["question"] == name, "value"].tolist() if allowed else []
        table = Table(key, b.question_label(name), [Column("answer", _("Answer"))],
                      [{"answer": v} for v in values], limit=FREE_TEXT_SHOWN)
        block = Block(table, heading=b.question_label(name))
        if not allowed:
            block.message = _("Fewer than %(n)s respondents: answers are not shown.", n=MIN_FREE_TEXT)
        elif not values:
            block.message = _("No answers.")
        elif len(values) > FREE_TEXT_SHOWN:
            block.message = _("The first %(shown)s of %(n)s answers; download the CSV for all of them.",
                              shown=FREE_TEXT_SHOWN, n=len(values))
        section.blocks.append(block)
    return section


def _redact(text: str, organisation: str) -> str:
    if organisation and len(organisation) >= 3:
        lowered = text.lower()
        needle = organisation.lower()
        start = lowered.find(needle)
        while start >= 0:
            text = text[:start] + "[organisation]" + text[start + len(needle):]
            lowered = text.lower()
            start = lowered.find(needle, start + len("[organisation]"))
    return text


def change_section(b: _Builder, previous: RoundData) -> Section:
    """T2B per Likert item now and in the earlier round, with Newcombe intervals; nothing for suppressed cells."""
    section = Section("change", _("Change since %(round)s", round=previous.round_name))
    key = "change"
    earlier = _Builder(previous, b.filters, b.threshold, b.language, b.group_labels)
    names = [n for n in b.items.likert_names() if n in set(earlier.items.likert_names())]
    if not names or not b.n or not earlier.n:
        section.message = b.not_enough() if names else _("The two rounds share no rating question.")
        return section
    now = likert_summary(b.answers, b.definition, names, respondents=b.respondents, weights=b.weights, mean_ci=False)
    before = likert_summary(earlier.answers, earlier.definition, names, respondents=earlier.respondents,
                            weights=b.weights, mean_ci=False)
    table = compare_rounds(now, before, threshold=b.threshold)
    labels = _unique([b.question_label(q) for q in table["question"]])
    for label, n_now, n_before, hidden in zip(labels, table["n_current"], table["n_previous"], table["suppressed"]):
        if hidden:
            b.log.append(SuppressionRecord(key, label, _("T2B change"),
                                           f"n < {b.threshold} ({_('now')} {n_now}, {_('before')} {n_before})"))
    rows, hidden = [], []
    for i, record in enumerate(table.to_dict("records")):
        rows.append(dict(record, item=labels[i]))
        cells = set()
        if record["n_previous"] < b.threshold:
            cells.add("t2b_previous")
        if record["n_current"] < b.threshold:
            cells.add("t2b_current")
        if record["suppressed"]:
            cells |= {"t2b_change", "t2b_change_low", "t2b_change_high"}
        hidden.append(cells)
    columns = [Column("item", _("Question")), Column("n_previous", _("n before"), "int"),
               Column("t2b_previous", _("T2B before"), "pct"), Column("n_current", _("n now"), "int"),
               Column("t2b_current", _("T2B now"), "pct"), Column("t2b_change", _("T2B change"), "pp"),
               Column("t2b_change_low", _("95% CI low"), "pp"), Column("t2b_change_high", _("95% CI high"), "pp")]
    low = [bool(min(r["n_previous"], r["n_current"]) < LOW_BASE_BELOW) and not r["suppressed"] for r in rows]
    section.blocks.append(Block(Table(key, _("Top-2-box now and in %(round)s", round=previous.round_name),
                                      columns, rows, hidden, low)))
    section.notes.append(_("Change in T2B (percentage points) with Newcombe's hybrid score interval (method 10) "
                           "for a difference of independent proportions: descriptive, not a test; no change is "
                           "given where either round's cell is suppressed. Same filters in both rounds."))
    return section


def annex_sections(b: _Builder) -> list[Section]:
    questionnaire = Section("questionnaire", _("Annex: the questionnaire"))
    rows = []
    for question in b.definition.questions():
        if not question.answerable:
            continue
        options = "; ".join(f"{c} = {b.option_label(question.name, c)}" for c in choice_codes(question)) \
            if question.choices else ""
        conditions = " and ".join(s for s in [question.relevant_source] if s)
        rows.append({"name": question.name, "type": question.type, "label": b.question_label(question.name),
                     "choices": options, "relevant": conditions})
    columns = [Column("name", _("Name")), Column("type", _("Type")), Column("label", _("Question")),
               Column("choices", _("Choices (code = label)")), Column("relevant", _("Shown when"))]
    questionnaire.blocks.append(Block(Table("questionnaire", _("Questions in form order"), columns, rows)))

    methods = Section("methods", _("Annex: methods"))
    methods.paragraphs += [
        _("Who is analysed: submitted responses, plus responses in progress that count as partial (answered the "
          "profile and at least half of the service items shown to them). Filters select partners by the "
          "registry's category, region and Pathfinder status. No weighting (a census of partners); each response "
          "counts once."),
        _("Response rates: eligible E = invited - known ineligible. Completion rate = complete / E; inclusive "
          "rate = (complete + partial) / E; organisational rate = organisations with at least one complete / "
          "organisations invited."),
        _("Not applicable, don't know and no opinion answers are left out of every base and reported as NA%% = "
          "NA / shown; NA%% above 50%% flags low relevance.") % {},  # "%%" to "%" (no values, so gettext leaves it)
        _("Likert summaries: n, mean, median, top-2-box T2B = n(4,5) / n(1..5), bottom-2-box B2B = n(1,2) / "
          "n(1..5), net = T2B - B2B."),
        _("Intervals: proportions by the Wilson score interval at 95%% (z = %(z)s): centre (x + z²/2) / (n + z²), "
          "half-width z·√(x(n-x)/n + z²/4) / (n + z²). Means and NPS: percentile bootstrap over respondents, "
          "%(r)s resamples, fixed seed.", z=Z, r=RESAMPLES),
        _("Gap per service = mean importance - mean satisfaction over respondents who rated both (positive = "
          "under-performance), and T2B(importance) - T2B(satisfaction). Quadrants (Martilla and James) with "
          "cross-hairs at the grand means across the services shown."),
        _("NPS = %% scoring 9-10 minus %% scoring 0-6. Ranking: 3/2/1 points for ranks 1/2/3; mean points, %% "
          "ranked first, %% in the top 3. Multiple choice: share of respondents who answered the question "
          "(respondents, not ticks).") % {},  # "%%" to "%", as above
        _("Small-cell suppression: a cell whose unweighted n is below %(t)s shows as '–'. For shares of "
          "respondents choosing an option the cell's n is the number who chose it; for means, T2B and NPS it is "
          "the number of valid answers. Complementary suppression hides one more cell wherever a row or column "
          "has a single hidden cell whose value could be worked out from the totals. Free-text answers only for "
          "groups of at least %(f)s. A base of %(t)s to %(l)s is flagged as low base.", t=b.threshold,
          f=MIN_FREE_TEXT, l=LOW_BASE_BELOW - 1),
        _("Differences between rounds: Newcombe interval for a difference of proportions, descriptive only, never "
          "for suppressed cells."),
    ]
    log = Section("suppression-log", _("Annex: suppression log"))
    rows = [{"table": r.table, "row": str(r.row), "column": str(r.column), "reason": r.reason} for r in b.log]
    columns = [Column("table", _("Table")), Column("row", _("Row")), Column("column", _("Column")),
               Column("reason", _("Reason"))]
    log.blocks.append(Block(Table("suppression-log", _("Cells hidden and why"), columns, rows)))
    if not rows:
        log.paragraphs.append(_("Nothing was suppressed."))
    return [questionnaire, methods, log]


# -- blocks used by several sections -------------------------------------------------------------------------------


def likert_block(b: _Builder, key: str, names: list[str], heading: str) -> Block:
    """A Likert grid or set of items: the summary table and its diverging bars."""
    columns = [
        Column("item", _("Item")), Column("n", "n", "int"), Column("mean", _("Mean"), "mean"),
        Column("mean_low", _("Mean 95% CI low"), "mean"), Column("mean_high", _("Mean 95% CI high"), "mean"),
        Column("median", _("Median"), "mean"), Column("t2b", "T2B", "pct"),
        Column("t2b_low", _("T2B 95% CI low"), "pct"), Column("t2b_high", _("T2B 95% CI high"), "pct"),
        Column("b2b", "B2B", "pct"), Column("net", _("Net"), "pp"), Column("na_pct", "NA%", "pct"),
        Column("flags", _("Flags")),
    ]  # fmt: skip
    summary = b.likert.loc[names] if b.n else None
    if summary is None or summary.empty:
        return Block(Table(key, heading, columns, []), heading=heading, message=b.not_enough())
    labels = _unique([b.question_label(n) for n in names])
    hide = b.hide_rows(key, labels, summary["n"], complementary=False)
    hide_na = b.hide_rows(key, labels, summary["shown"], complementary=False, column="NA%")
    rows, hidden = [], []
    for i, (name, record) in enumerate(summary.iterrows()):
        flags = []
        if record["low_relevance"] and not hide_na[i]:
            flags.append(_("low relevance"))
        rows.append(dict(record.to_dict(), item=labels[i], flags=", ".join(flags)))
        cells = {"mean", "mean_low", "mean_high", "median", "t2b", "t2b_low", "t2b_high", "b2b", "net"} if hide[i] else set()
        hidden.append(cells | ({"na_pct", "flags"} if hide_na[i] else set()))
    low = [bool(MIN_CELL <= r["n"] < LOW_BASE_BELOW) and not hide[i] for i, r in enumerate(rows)]
    block = Block(Table(key, heading, columns, rows, hidden, low), heading=heading)
    chart_rows = [(labels[i], None if hide[i] or not rows[i]["n"] else
                   [rows[i][f"n_{s}"] / rows[i]["n"] for s in range(1, 6)]) for i in range(len(rows))]
    if any(shares is not None for _l, shares in chart_rows):
        block.chart = figures.diverging_bars(
            chart_rows, b.scale_labels(names[0]), chart_id=b.chart_id(key), title=heading,
            description=_("Diverging bars, one per item: the shares answering 1 and 2 to the left of the centre "
                          "line, 3 straddling it, 4 and 5 to the right; not applicable answers are left out."),
            suppressed_label=f"{DASH} (n < {b.threshold})")
    else:
        block.message = b.not_enough()
    return block


def ranking_block(b: _Builder, name: str) -> Block:
    key = f"ranking-{name}"
    heading = b.question_label(name)
    columns = [Column("option", _("Option")), Column("points_mean", _("Mean points"), "mean"),
               Column("first_pct", _("Ranked first"), "pct"), Column("top3_pct", _("In the top 3"), "pct")]
    table = b.rankings[b.rankings["question"] == name] if b.n else pd.DataFrame()
    base = int(table["n"].iloc[0]) if len(table) else 0
    if base < b.threshold:
        if len(table):
            b.log.append(SuppressionRecord(key, heading, _("all"), f"n < {b.threshold}"))
        return Block(Table(key, heading, columns, []), heading=heading, message=b.not_enough())
    table = table.sort_values("points_mean", ascending=False)
    labels = _unique([b.option_label(name, o) for o in table["option"]])
    counts = table[["first", "top3"]].set_axis(labels).astype(float)
    result = suppress(counts, counts, name=key, threshold=b.threshold, complementary=True)
    b.log += result.log
    rows, hidden = [], []
    for i, record in enumerate(table.to_dict("records")):
        rows.append(dict(record, option=labels[i]))
        hidden.append({c for c, col in (("first_pct", "first"), ("top3_pct", "top3")) if result.hidden.iloc[i][col]})
    out = Table(key, heading, columns, rows, hidden, [MIN_CELL <= base < LOW_BASE_BELOW] * len(rows),
                notes=[_("n = %(n)s respondents ranked the options.", n=base)])
    block = Block(out, heading=heading)
    block.chart = figures.horizontal_bars(
        [(labels[i], rows[i]["points_mean"]) for i in range(len(rows))], chart_id=b.chart_id(key),
        title=heading, description=_("Bar per option: mean points (3 for first, 2 for second, 1 for third), highest "
                                     "first."), percent=False, maximum=3, value_format="{:.2f}")
    return block


def choice_block(b: _Builder, name: str) -> Block:
    """A single or multiple choice question: share of respondents per option, counts below the threshold hidden."""
    key = f"choice-{name}"
    heading = b.question_label(name)
    question = b.definition.question(name)
    columns = [Column("option", _("Option")), Column("count", _("Respondents"), "int"),
               Column("pct", _("Share"), "pct"), Column("pct_low", _("95% CI low"), "pct"),
               Column("pct_high", _("95% CI high"), "pct")]
    table = b.choices[b.choices["question"] == name] if b.n else pd.DataFrame()
    base = int(table["n"].iloc[0]) if len(table) else 0
    if base < b.threshold:
        if len(table):
            b.log.append(SuppressionRecord(key, heading, _("all"), f"n < {b.threshold}"))
        return Block(Table(key, heading, columns, []), heading=heading, message=b.not_enough())
    multiple = question is not None and question.type == "select_multiple"
    if multiple:
        table = table.sort_values("count", ascending=False, kind="stable")
    labels = _unique([b.option_label(name, o) for o in table["option"]])
    hide = b.hide_rows(key, labels, table["count"], complementary=not multiple, column=_("Respondents"))
    rows, hidden = [], []
    for i, record in enumerate(table.to_dict("records")):
        rows.append(dict(record, option=labels[i]))
        hidden.append({"count", "pct", "pct_low", "pct_high"} if hide[i] else set())
    note = _("n = %(n)s respondents answered; more than one answer allowed, so shares add up to more than "
             "100%%.", n=base) if multiple else _("n = %(n)s respondents answered.", n=base)
    out = Table(key, heading, columns, rows, hidden, [MIN_CELL <= base < LOW_BASE_BELOW] * len(rows), [note])
    block = Block(out, heading=heading)
    block.chart = figures.horizontal_bars(
        [(labels[i], None if hide[i] else rows[i]["pct"]) for i in range(len(rows))], chart_id=b.chart_id(key),
        title=heading, description=_("Bar per option: the percentage of the %(n)s respondents who answered; a dash "
                                     "marks a suppressed option.", n=base))
    return block


def choice_grid_block(b: _Builder, grid: Grid, names: list[str]) -> Block:
    """A grid of single-choice questions sharing a list (e.g. the future of each Action Group): shares per row."""
    key = f"grid-{grid.name}"
    heading = b.grid_label(grid)
    codes = choice_codes(b.definition.question(names[0]))
    code_labels = [b.option_label(names[0], c) for c in codes]
    columns = [Column("item", _("Item")), Column("n", "n", "int")] + [
        Column(f"o{j}", label, "pct") for j, label in enumerate(code_labels)]
    table = b.choices[b.choices["question"].isin(names)] if b.n else pd.DataFrame()
    if table.empty:
        return Block(Table(key, heading, columns, []), heading=heading, message=b.not_enough())
    counts = table.pivot(index="question", columns="option", values="count").reindex(index=names, columns=codes)
    shares = table.pivot(index="question", columns="option", values="pct").reindex(index=names, columns=codes)
    bases = table.groupby("question", observed=True)["n"].first().reindex(names).fillna(0)
    labels = _unique([b.question_label(n) for n in names])
    counts.index, counts.columns = labels, code_labels
    result = suppress(counts.fillna(0).astype(float), counts.fillna(0), name=key, threshold=b.threshold,
                      complementary=True)
    b.log += result.log
    rows, hidden = [], []
    for i, label in enumerate(labels):
        row = {"item": label, "n": int(bases.iloc[i])}
        hide = set()
        for j in range(len(codes)):
            row[f"o{j}"] = shares.iat[i, j]
            if result.hidden.iat[i, j] or bases.iloc[i] < b.threshold:
                hide.add(f"o{j}")
        rows.append(row)
        hidden.append(hide)
    low = [bool(MIN_CELL <= r["n"] < LOW_BASE_BELOW) for r in rows]
    return Block(Table(key, heading, columns, rows, hidden, low,
                       notes=[_("Share of the row's respondents choosing each answer.")]), heading=heading)


def numeric_block(b: _Builder, names: list[str]) -> Block:
    key = "numeric-" + "-".join(names[:1])
    columns = [Column("item", _("Question")), Column("n", "n", "int"), Column("mean", _("Mean"), "mean"),
               Column("median", _("Median"), "mean"), Column("min", _("Lowest"), "mean"),
               Column("max", _("Highest"), "mean")]
    a = b.answers[b.answers["question"].isin(names)]
    values = pd.to_numeric(a["value"], errors="coerce")
    grouped = values.groupby(a["question"].astype(str)).agg(["count", "mean", "median", "min", "max"])
    grouped = grouped.reindex(names)
    labels = _unique([b.question_label(n) for n in names])
    hide = b.hide_rows(key, labels, grouped["count"].fillna(0), complementary=False)
    rows = [{"item": labels[i], "n": int(0 if pd.isna(r["count"]) else r["count"]), "mean": r["mean"],
             "median": r["median"], "min": r["min"], "max": r["max"]} for i, (_n, r) in enumerate(grouped.iterrows())]
    hidden = [{"mean", "median", "min", "max"} if hide[i] else set() for i in range(len(rows))]
    low = [bool(MIN_CELL <= r["n"] < LOW_BASE_BELOW) for r in rows]
    return Block(Table(key, _("Numbers"), columns, rows, hidden, low), heading=_("Numbers"))


def page_section(b: _Builder, key: str, title: str, names: Iterable[str], claimed: set[str],
                 intro: str = "") -> Section | None:
    """A section of the questions named (those not claimed yet, free text aside), each drawn as its kind asks."""
    wanted = _claim((n for n in names if n not in b.items.free_text and n not in b.items.service_use_names()),
                    claimed)
    if not wanted:
        return None
    section = Section(key, title)
    if intro:
        section.paragraphs.append(intro)
    wanted_set = set(wanted)
    likert_names = set(b.items.likert_names())
    loose_likert: list[str] = []
    numeric: list[str] = []

    def flush_likert():
        if loose_likert:
            section.blocks.append(likert_block(b, f"likert-{loose_likert[0]}", list(loose_likert),
                                               _("Rating questions") if len(loose_likert) > 1
                                               else b.question_label(loose_likert[0])))
            loose_likert.clear()

    for item in _form_items(b.definition):
        if isinstance(item, Grid):
            names_in = [q.name for q in item.questions if q.answerable and q.name in wanted_set]
            if not names_in:
                continue
            flush_likert()
            if all(n in likert_names for n in names_in):
                section.blocks.append(likert_block(b, f"likert-{item.name}", names_in, b.grid_label(item)))
            elif all(b.definition.question(n).type == "select_one" for n in names_in):
                section.blocks.append(choice_grid_block(b, item, names_in))
            else:
                for n in names_in:
                    _single(b, section, n, loose_likert, numeric, likert_names, flush_likert)
            continue
        if item.name in wanted_set:
            _single(b, section, item.name, loose_likert, numeric, likert_names, flush_likert)
    flush_likert()
    if numeric:
        section.blocks.append(numeric_block(b, numeric))
    if not section.blocks:
        return None
    if b.n == 0:
        section.message = b.not_enough()
    return section


def _single(b, section, name, loose_likert, numeric, likert_names, flush_likert) -> None:
    question = b.definition.question(name)
    if name in likert_names:
        loose_likert.append(name)
        return
    flush_likert()
    if question.type in ("select_one", "select_multiple"):
        section.blocks.append(choice_block(b, name))
    elif question.type == "rank":
        section.blocks.append(ranking_block(b, name))
    elif name in b.items.nps or name in b.items.numeric:
        numeric.append(name)


def _form_items(definition: SurveyDefinition):
    """Grids and the questions outside grids, in form order."""
    def walk(items):
        for item in items:
            if isinstance(item, FormSection):
                yield from walk(item.items)
            else:
                yield item

    for page in definition.pages:
        yield from walk(page.items)


def _grid(definition: SurveyDefinition, name: str) -> Grid | None:
    return next((g for g in grids(definition) if g.name == name), None)


# -- the summaries every section reads, computed once ---------------------------------------------------------------


def _prepare(b: _Builder) -> None:
    """One call per statistic over all the questions of its kind (cheaper than one per section)."""
    items = b.items
    if b.n:
        b.likert = likert_summary(b.answers, b.definition, items.likert_names(), respondents=b.respondents, weights=b.weights,
                                  min_n=b.threshold).set_index("question")
        choice_names = items.single_choice + items.multiple_choice
        b.choices = choice_frequencies(b.answers, b.definition, choice_names, respondents=b.respondents, weights=b.weights)
        b.rankings = ranking_summary(b.answers, b.definition, items.rankings, respondents=b.respondents, weights=b.weights)
    else:
        b.likert = pd.DataFrame()
        b.choices = pd.DataFrame(columns=["question", "option", "n", "count", "pct", "pct_low", "pct_high"])
        b.rankings = pd.DataFrame(columns=["question", "option", "n", "points_mean", "first", "top3"])
