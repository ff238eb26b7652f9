"""Blocks of the report drawn by the kind of question: a Likert grid, a ranking, a choice question, a grid of choices,
numbers; and a section of whatever questions a page holds, each drawn as its kind asks."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from analysis import figures
from analysis.items import choice_codes
from analysis.suppression import DASH, LOW_BASE_BELOW, MIN_CELL, SuppressionRecord, suppress
from surveys.definition import Grid, SurveyDefinition
from surveys.definition import Section as FormSection

from .context import ReportContext, claim, unique_labels
from .model import Block, Column, Section, Table, _


def question_rows(b: ReportContext, summary: pd.DataFrame, name: str) -> tuple[pd.DataFrame, int]:
    """A question's rows in a per-question summary, and its base: how many respondents answered it."""
    table = summary[summary["question"] == name] if b.n else pd.DataFrame()
    return table, int(table["n"].iloc[0]) if len(table) else 0


def withheld(b: ReportContext, key: str, heading: str, columns: list[Column], answered: bool = False) -> Block:
    """The block of a question too few answered: no rows, the threshold's message, and (if any did) a log line."""
    if answered:
        b.log.append(SuppressionRecord(key, heading, _("all"), f"n < {b.threshold}"))
    return Block(Table(key, heading, columns, []), heading=heading, message=b.not_enough())


def likert_block(b: ReportContext, key: str, names: list[str], heading: str) -> Block:
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
        return withheld(b, key, heading, columns)
    labels = unique_labels([b.question_label(n) for n in names])
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
            suppressed_label=f"{DASH} (n < {b.threshold})", percent_text=lambda v: b.number(v, "pct"))
    else:
        block.message = b.not_enough()
    return block


def ranking_block(b: ReportContext, name: str) -> Block:
    key = f"ranking-{name}"
    heading = b.question_label(name)
    columns = [Column("option", _("Option")), Column("points_mean", _("Mean points"), "mean"),
               Column("first_pct", _("Ranked first"), "pct"), Column("top3_pct", _("In the top 3"), "pct")]
    table, base = question_rows(b, b.rankings, name)
    if base < b.threshold:
        return withheld(b, key, heading, columns, answered=len(table) > 0)
    table = table.sort_values("points_mean", ascending=False)
    labels = unique_labels([b.option_label(name, o) for o in table["option"]])
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
                                     "first."), percent=False, maximum=3, **b.chart_numbers("mean"))
    return block


def choice_block(b: ReportContext, name: str) -> Block:
    """A single or multiple choice question: share of respondents per option, counts below the threshold hidden."""
    key = f"choice-{name}"
    heading = b.question_label(name)
    question = b.definition.question(name)
    columns = [Column("option", _("Option")), Column("count", _("Respondents"), "int"),
               Column("pct", _("Share"), "pct"), Column("pct_low", _("95% CI low"), "pct"),
               Column("pct_high", _("95% CI high"), "pct")]
    table, base = question_rows(b, b.choices, name)
    if base < b.threshold:
        return withheld(b, key, heading, columns, answered=len(table) > 0)
    multiple = question is not None and question.type == "select_multiple"
    if multiple:
        table = table.sort_values("count", ascending=False, kind="stable")
    labels = unique_labels([b.option_label(name, o) for o in table["option"]])
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
                                     "marks a suppressed option.", n=base), **b.chart_numbers("pct"))
    return block


def choice_grid_block(b: ReportContext, grid: Grid, names: list[str]) -> Block:
    """A grid of single-choice questions sharing a list (e.g. the future of each Action Group): shares per row."""
    key = f"grid-{grid.name}"
    heading = b.grid_label(grid)
    codes = choice_codes(b.definition.question(names[0]))
    code_labels = [b.option_label(names[0], c) for c in codes]
    columns = [Column("item", _("Item")), Column("n", "n", "int")] + [
        Column(f"o{j}", label, "pct") for j, label in enumerate(code_labels)]
    table = b.choices[b.choices["question"].isin(names)] if b.n else pd.DataFrame()
    if table.empty:
        return withheld(b, key, heading, columns)
    counts = table.pivot(index="question", columns="option", values="count").reindex(index=names, columns=codes)
    shares = table.pivot(index="question", columns="option", values="pct").reindex(index=names, columns=codes)
    bases = table.groupby("question", observed=True)["n"].first().reindex(names).fillna(0)
    labels = unique_labels([b.question_label(n) for n in names])
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


def numeric_block(b: ReportContext, names: list[str]) -> Block:
    key = "numeric-" + "-".join(names[:1])
    columns = [Column("item", _("Question")), Column("n", "n", "int"), Column("mean", _("Mean"), "mean"),
               Column("median", _("Median"), "mean"), Column("min", _("Lowest"), "mean"),
               Column("max", _("Highest"), "mean")]
    a = b.answers[b.answers["question"].isin(names)]
    values = pd.to_numeric(a["value"], errors="coerce")
    grouped = values.groupby(a["question"].astype(str)).agg(["count", "mean", "median", "min", "max"])
    grouped = grouped.reindex(names)
    labels = unique_labels([b.question_label(n) for n in names])
    hide = b.hide_rows(key, labels, grouped["count"].fillna(0), complementary=False)
    rows = [{"item": labels[i], "n": int(0 if pd.isna(r["count"]) else r["count"]), "mean": r["mean"],
             "median": r["median"], "min": r["min"], "max": r["max"]} for i, (_n, r) in enumerate(grouped.iterrows())]
    hidden = [{"mean", "median", "min", "max"} if hide[i] else set() for i in range(len(rows))]
    low = [bool(MIN_CELL <= r["n"] < LOW_BASE_BELOW) for r in rows]
    return Block(Table(key, _("Numbers"), columns, rows, hidden, low), heading=_("Numbers"))


def page_section(b: ReportContext, key: str, title: str, names: Iterable[str], claimed: set[str],
                 intro: str = "") -> Section | None:
    """A section of the questions named (those not claimed yet, free text aside), each drawn as its kind asks."""
    wanted = claim((n for n in names if n not in b.items.free_text and n not in b.items.service_use_names()),
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
