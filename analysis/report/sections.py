"""The report's sections (DOMAIN.md's "Report contents"): fieldwork and response, the service funnel, satisfaction,
importance against satisfaction, rankings, heat maps, NPS, free text, the change since an earlier round, annexes.
Each returns None when the survey has nothing for it."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis import figures
from analysis.frames import RoundData
from analysis.intervals import RESAMPLES, Z
from analysis.items import SATISFACTION, choice_codes, grids
from analysis.rates import response_rates
from analysis.summaries import (
    CONCENTRATE,
    KEEP_UP,
    LOW_PRIORITY,
    OVERKILL,
    compare_rounds,
    importance_satisfaction,
    likert_summary,
    nps_summary,
    service_funnel,
)
from analysis.suppression import (
    LOW_BASE_BELOW,
    MIN_CELL,
    MIN_FREE_TEXT,
    SuppressionRecord,
    free_text,
    suppress,
)
from surveys.definition import Grid, SurveyDefinition

from .blocks import likert_block, ranking_block
from .context import ReportContext, claim, unique_labels
from .model import Block, Column, Section, Table, _, long_date

FREE_TEXT_SHOWN = 100  # answers per question on the page; the CSV has them all


def fieldwork_section(b: ReportContext) -> Section:
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
                                    "or partial as defined in the methods).", first=long_date(first.date(), b.language),
                                    last=(long_date(last.date(), b.language) if not pd.isna(last) else "…"), n=b.n))
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


def service_satisfaction_grids(b: ReportContext, claimed: set[str]) -> list[str]:
    """Satisfaction grids about the services: those with an importance pair or a use row, else every one."""
    grids_ = [g for g, role in b.items.grid_roles.items() if role == SATISFACTION
              and not set(b.items.likert_grids[g]) & claimed]
    services = {p.satisfaction for p in b.items.pairs}
    used = {b.items.services.get(n) for n in b.items.service_use_names()}
    linked = [g for g in grids_ if any(q in services or b.items.services.get(q) in used
                                       for q in b.items.likert_grids[g])]
    return linked or grids_


def funnel_section(b: ReportContext, claimed: set[str]) -> Section | None:
    names = claim(b.items.service_use_names(), claimed)
    if not names:
        return None
    section = Section("funnel", _("Service funnel: aware, then used"))
    key = "funnel"
    columns = [Column("service", _("Service")), Column("shown", _("Answered"), "int"),
               Column("aware_pct", _("Aware"), "pct"), Column("used_pct", _("Used"), "pct"),
               Column("used_of_aware_pct", _("Used, of those aware"), "pct")]
    table = service_funnel(b.answers, b.definition, names, respondents=b.respondents, weights=b.weights)
    labels = [b.question_label(q) for q in table["question"]]
    result = suppress(table[["aware", "used"]].set_axis(unique_labels(labels)).astype(float),
                      table[["aware", "used"]].set_axis(unique_labels(labels)), name=key, threshold=b.threshold,
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
                          "gives awareness too."), **b.chart_numbers("pct"))
    else:
        block.message = b.not_enough()
    section.blocks.append(block)
    return section


def satisfaction_section(b: ReportContext, grid_names: list[str], claimed: set[str]) -> Section | None:
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


def importance_section(b: ReportContext, claimed: set[str]) -> Section | None:
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
        rows.append(dict(record, service=labels[i], quadrant=names[quadrant] if quadrant else "",
                         quadrant_code=quadrant or ""))
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
                          "dashed cross-hairs at the means across services (importance %(imp)s, satisfaction "
                          "%(sat)s).", imp=b.number(importance_cross, "mean"),
                          sat=b.number(satisfaction_cross, "mean")),
            x_label=_("Mean satisfaction (1-5)"), y_label=_("Mean importance (1-5)"),
            tick_text=lambda t: b.numbers.number(t, "0.##"))
    else:
        block.message = b.not_enough()
    section.blocks.append(block)
    section.notes.append(_("Gap: mean of importance minus satisfaction over the respondents who rated both "
                           "(positive: under-performance). Quadrants after Martilla and James, cross-hairs at the "
                           "plain means across the services shown (a suppressed service is left out, so its mean "
                           "cannot be worked back from them); a service on a cross-hair counts as high."))
    return section


def ranking_section(b: ReportContext, claimed: set[str]) -> Section | None:
    names = claim(b.items.rankings, claimed)
    if not names:
        return None
    section = Section("ranking", _("Priority ranking"))
    for name in names:
        section.blocks.append(ranking_block(b, name))
    section.notes.append(_("Points: 3 for a service ranked first, 2 second, 1 third, 0 otherwise; mean over the "
                           "respondents who answered the ranking."))
    return section


def heat_map_section(b: ReportContext, grid_names: list[str]) -> Section | None:
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
        row_labels = unique_labels([b.question_label(n) for n in names])
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


def nps_section(b: ReportContext, claimed: set[str]) -> Section | None:
    names = claim(b.items.nps, claimed)
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
                percent=False, maximum=100, **b.chart_numbers("nps"))
        else:
            block.message = b.not_enough()
        section.blocks.append(block)
    section.notes.append(_("NPS = %% scoring 9-10 minus %% scoring 0-6, from -100 to +100; 95%% interval by "
                           "percentile bootstrap over respondents (%(r)s resamples, fixed seed).", r=RESAMPLES))
    return section


def free_text_section(b: ReportContext) -> Section | None:
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


def change_section(b: ReportContext, previous: RoundData) -> Section:
    """T2B per Likert item now and in the earlier round, with Newcombe intervals; nothing for suppressed cells."""
    section = Section("change", _("Change since %(round)s", round=previous.name_in(b.language)))
    key = "change"
    earlier = ReportContext(previous, b.filters, b.threshold, b.language, b.group_labels)
    names = [n for n in b.items.likert_names() if n in set(earlier.items.likert_names())]
    if not names or not b.n or not earlier.n:
        section.message = b.not_enough() if names else _("The two rounds share no rating question.")
        return section
    now = likert_summary(b.answers, b.definition, names, respondents=b.respondents, weights=b.weights, mean_ci=False)
    before = likert_summary(earlier.answers, earlier.definition, names, respondents=earlier.respondents,
                            weights=b.weights, mean_ci=False)
    table = compare_rounds(now, before, threshold=b.threshold)
    labels = unique_labels([b.question_label(q) for q in table["question"]])
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
    section.blocks.append(Block(Table(key, _("Top-2-box now and in %(round)s", round=previous.name_in(b.language)),
                                      columns, rows, hidden, low)))
    section.notes.append(_("Change in T2B (percentage points) with Newcombe's hybrid score interval (method 10) "
                           "for a difference of independent proportions: descriptive, not a test; no change is "
                           "given where either round's cell is suppressed. Same filters in both rounds."))
    return section


def annex_sections(b: ReportContext) -> list[Section]:
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
          "%(r)s resamples, fixed seed.", z=b.numbers.number(Z, "0.00"), r=b.number(RESAMPLES, "int")),
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


def _grid(definition: SurveyDefinition, name: str) -> Grid | None:
    return next((g for g in grids(definition) if g.name == name), None)
