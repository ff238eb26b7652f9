"""Key findings: the report's opening summary, written from its own tables by explicit rules, each sentence citing
the table it comes from. Never a finding from a suppressed cell nor from a change whose interval includes zero."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from analysis.summaries import CONCENTRATE

from .model import Report, Table, _, format_value, list_separator

UNDER_REPRESENTED = 0.15  # a category whose completion rate is this far below the overall rate gets a caveat
CHANGES_SHOWN = 3  # largest significant changes named, each way
THEMES_SHOWN = 3


@dataclass
class Finding:
    """One sentence of the summary and the table cells it reads: (row index, column key)."""

    key: str
    text: str
    table_key: str
    caption: str
    cells: list[tuple[int, str]] = field(default_factory=list)


def _shown(table: Table, index: int, column: str) -> bool:
    """A cell that may be quoted: present, a number, and not suppressed."""
    value = table.rows[index].get(column)
    return column not in table.hidden[index] and value is not None and not (
        isinstance(value, float) and math.isnan(value))


def _cell(table: Table, index: int, column: str) -> str:
    return table.cell(index, next(c for c in table.columns if c.key == column))


def response_finding(report: Report) -> Finding | None:
    table = report.table("fieldwork-category")
    if table is None or not table.rows:
        return None
    overall = len(table.rows) - 1
    if not all(_shown(table, overall, c) for c in ("complete", "eligible", "completion_rate", "inclusive_rate")):
        return None
    cells = [(overall, c) for c in ("complete", "eligible", "completion_rate", "inclusive_rate")]
    text = _("%(complete)s of %(eligible)s eligible partners completed the survey: a completion rate of %(rate)s "
             "(inclusive rate, counting partial responses, %(inclusive)s).",
             complete=_cell(table, overall, "complete"), eligible=_cell(table, overall, "eligible"),
             rate=_cell(table, overall, "completion_rate"), inclusive=_cell(table, overall, "inclusive_rate"))
    rate = table.rows[overall]["completion_rate"]
    low = [i for i in range(overall) if _shown(table, i, "completion_rate")
           and table.rows[i]["completion_rate"] < rate - UNDER_REPRESENTED]
    if low:
        cells += [(i, "completion_rate") for i in low]
        groups = ", ".join(f"{table.rows[i]['group']} ({_cell(table, i, 'completion_rate')})" for i in low)
        text += " " + _("Under-represented, so read their figures with care: %(groups)s.", groups=groups)
    return Finding("response", text, table.key, table.caption, cells)


def _service_rows(report: Report) -> list[tuple[Table, int]]:
    rows = []
    for section in report.sections:
        if section.key != "satisfaction":
            continue
        for block in section.blocks:
            table = block.table
            rows += [(table, i) for i in range(len(table.rows))
                     if all(_shown(table, i, c) for c in ("t2b", "t2b_low", "t2b_high", "n"))]
    return rows


def satisfaction_findings(report: Report) -> list[Finding]:
    rows = _service_rows(report)
    if len(rows) < 2:
        return []
    best = max(rows, key=lambda r: r[0].rows[r[1]]["t2b"])
    worst = min(rows, key=lambda r: r[0].rows[r[1]]["t2b"])
    if best[0].rows[best[1]]["t2b"] == worst[0].rows[worst[1]]["t2b"]:
        return []
    found = []
    for key, (table, i), wording in (
            ("best", best, _("Best rated service: %(item)s, %(t2b)s satisfied (4 or 5; 95%% interval %(low)s to "
                             "%(high)s, n = %(n)s).")),
            ("worst", worst, _("Least well rated service: %(item)s, %(t2b)s satisfied (95%% interval %(low)s to "
                               "%(high)s, n = %(n)s)."))):
        values = {c: _cell(table, i, c) for c in ("t2b", "t2b_low", "t2b_high", "n")}
        text = wording % {"item": table.rows[i]["item"], "t2b": values["t2b"], "low": values["t2b_low"],
                          "high": values["t2b_high"], "n": values["n"]}
        found.append(Finding(key, text, table.key, table.caption,
                             [(i, c) for c in ("t2b", "t2b_low", "t2b_high", "n")]))
    return found


def concentrate_finding(report: Report) -> Finding | None:
    table = report.table("importance-satisfaction")
    if table is None:
        return None
    rows = [i for i, row in enumerate(table.rows) if row.get("quadrant_code") == CONCENTRATE
            and all(_shown(table, i, c) for c in ("importance_mean", "satisfaction_mean"))]
    if not rows:
        return None
    services = list_separator(report.numbers.locale).join(_("%(service)s (importance %(imp)s, satisfaction %(sat)s)",
                           service=table.rows[i]["service"], imp=_cell(table, i, "importance_mean"),
                           sat=_cell(table, i, "satisfaction_mean")) for i in rows)
    text = _("To concentrate on (more important than average, less satisfying than average): %(services)s.",
             services=services)
    return Finding("concentrate", text, table.key, table.caption,
                   [(i, c) for i in rows for c in ("importance_mean", "satisfaction_mean")])


def change_finding(report: Report) -> Finding | None:
    table = report.table("change")
    if table is None or not report.previous_round:
        return None
    columns = ("t2b_change", "t2b_change_low", "t2b_change_high")
    significant = [i for i in range(len(table.rows)) if all(_shown(table, i, c) for c in columns)
                   and (table.rows[i]["t2b_change_low"] > 0 or table.rows[i]["t2b_change_high"] < 0)]
    if not significant:
        return None
    ups = sorted((i for i in significant if table.rows[i]["t2b_change"] > 0),
                 key=lambda i: -table.rows[i]["t2b_change"])[:CHANGES_SHOWN]
    downs = sorted((i for i in significant if table.rows[i]["t2b_change"] < 0),
                   key=lambda i: table.rows[i]["t2b_change"])[:CHANGES_SHOWN]

    def listed(indexes):
        return list_separator(report.numbers.locale).join(_("%(item)s %(change)s (95%% interval %(low)s to %(high)s)", item=table.rows[i]["item"],
                           change=_cell(table, i, "t2b_change"), low=_cell(table, i, "t2b_change_low"),
                           high=_cell(table, i, "t2b_change_high")) for i in indexes)

    parts = []
    if ups:
        parts.append(_("Better than in %(round)s: %(items)s.", round=report.previous_round, items=listed(ups)))
    if downs:
        parts.append(_("Worse than in %(round)s: %(items)s.", round=report.previous_round, items=listed(downs)))
    return Finding("change", " ".join(parts), table.key, table.caption,
                   [(i, c) for i in ups + downs for c in columns])


def themes_finding(report: Report) -> Finding | None:
    themes = sorted(report.top_themes, key=lambda t: -t.commenters)[:THEMES_SHOWN]
    if not themes:
        return None
    listed = list_separator(report.numbers.locale).join(_("%(theme)s (%(question)s: %(n)s commenters, %(share)s)", theme=t.theme,
                         question=t.question_label, n=t.commenters, share=format_value(t.share, "pct", report.numbers)) for t in themes)
    return Finding("themes", _("Most frequent themes in the open answers: %(themes)s.", themes=listed),
                   themes[0].table_key, _("Themes of the open answers"))


def key_findings(report: Report) -> list[Finding]:
    """The summary's sentences in order: response, best and worst services, where to concentrate, change, themes."""
    found = [response_finding(report), *satisfaction_findings(report), concentrate_finding(report),
             change_finding(report), themes_finding(report)]
    return [f for f in found if f is not None]


def findings_text(findings: list[Finding]) -> str:
    """The summary as plain text, one sentence per paragraph: what an analyst starts editing from."""
    return "\n\n".join(f.text for f in findings)


def findings_fingerprint(findings: list[Finding]) -> str:
    """Changes when any figure of the summary changes: stored with an edit to tell when it went out of date."""
    return hashlib.sha256(findings_text(findings).encode()).hexdigest()[:32]
