"""Themes of the open answers in the report: per coded question, commenters per theme overall and by partner
category (suppressed), up to three quotable comments per theme, uncoded comments last; the coders' agreement."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.coding import CodingData, agreement
from analysis.suppression import MIN_FREE_TEXT, SuppressionRecord, suppress

from .context import ReportContext
from .model import Block, Column, Section, Table, _
from .sections import _redact

QUOTES_PER_THEME = 3
UNCODED_SHOWN = 50  # uncoded comments listed on the page; the CSV has them all
UNCODED = "__uncoded__"


@dataclass(frozen=True)
class TopTheme:
    """A theme of the open answers and how many commenters raised it, for the key findings."""

    question: str
    question_label: str
    theme: str
    commenters: int
    share: float  # of the respondents who wrote an answer to the question
    table_key: str  # the report table that gives it, for the key finding's citation


def theme_blocks(b: ReportContext, section: Section | None, coding: CodingData | None) -> list[TopTheme]:
    """Replace, in the free-text section, the list of answers of each question with a codebook by its themes."""
    if section is None or coding is None or not len(coding.themes):
        return []
    top: list[TopTheme] = []
    if coding.round_open:
        section.paragraphs.append(_("This round is still open: the themes cover the comments received and coded "
                                    "so far."))
    blocks = []
    for block in section.blocks:
        name = block.table.key.removeprefix("free-text-")
        themes = coding.themes[coding.themes["question"].astype(str) == name]
        if not len(themes) or b.n == 0:
            blocks.append(block)
            continue
        counts, quotes, rows = _question_blocks(b, name, themes, coding)
        blocks += [counts, quotes]
        top += rows
    section.blocks = blocks
    return sorted(top, key=lambda t: (-t.commenters, t.question_label, t.theme))


def _question_blocks(b: ReportContext, name: str, themes: pd.DataFrame, coding: CodingData):
    label = b.question_label(name)
    key = f"themes-{name}"
    answers = b.answers[(b.answers["question"].astype(str) == name)
                        & (b.answers["value"].fillna("").str.strip() != "")]
    commenters = answers["response_id"].tolist()
    texts = dict(zip(commenters, answers["value"].tolist()))
    codes = coding.codes[(coding.codes["question"].astype(str) == name)
                         & coding.codes["response_id"].isin(commenters)]
    theme_of = dict(zip(themes["theme_id"], themes["name"].astype(str)))
    who = {theme_id: set(codes.loc[codes["theme_id"] == theme_id, "response_id"]) for theme_id in theme_of}
    coded = set(codes["response_id"])
    who[UNCODED] = set(commenters) - coded
    names = {**theme_of, UNCODED: _("Not yet coded")}
    order = sorted(theme_of, key=lambda t: (-len(who[t]), theme_of[t])) + [UNCODED]

    columns = [Column("theme", _("Theme")), Column("n", _("Commenters"), "int"), Column("share", _("Share"), "pct")]
    table = Table(key, _("Themes: %(question)s", question=label), columns, [])
    quotes = Table(f"quotes-{name}", _("Quotes: %(question)s", question=label),
                   [Column("theme", _("Theme")), Column("quote", _("Comment"))], [])
    block = Block(table, heading=label)
    quote_block = Block(quotes, heading=_("In their own words"))
    if b.n < MIN_FREE_TEXT:
        b.log.append(SuppressionRecord(key, label, "", f"free text group < {MIN_FREE_TEXT}"))
        block.message = _("Fewer than %(n)s respondents: themes are not shown.", n=MIN_FREE_TEXT)
        quote_block.message = block.message
        return block, quote_block, []
    total = len(commenters)
    table.rows = [{"theme": names[t], "n": len(who[t]), "share": len(who[t]) / total if total else None}
                  for t in order]
    _by_category(b, table, order, who, key)
    table.hidden = [set() for _row in table.rows] if not table.hidden else table.hidden
    table.low_base = [False for _row in table.rows]
    table.notes.append(_("%(coded)s of %(total)s comments coded; a comment may have several themes, so the shares "
                         "add up to more than 100%%.", coded=len(coded), total=total))

    own = b.respondents.set_index("response_id")["organisation"].to_dict()
    for theme_id in order[:-1]:
        chosen = distinct_quotes([r for r in sorted(who[theme_id]) if (r, name) in coding.quotable], texts)
        quotes.rows += [{"theme": names[theme_id], "quote": redact(texts[r], own.get(r) or "")} for r in chosen]
    uncoded = sorted(who[UNCODED])
    quotes.rows += [{"theme": names[UNCODED], "quote": redact(texts[r], own.get(r) or "")} for r in uncoded]
    quotes.hidden, quotes.low_base = [set() for _r in quotes.rows], [False for _r in quotes.rows]
    quotes.limit = sum(1 for row in quotes.rows if row["theme"] != names[UNCODED]) + UNCODED_SHOWN
    if not quotes.rows:
        quote_block.message = _("No comment is marked quotable yet.")
    top = [TopTheme(name, label, theme_of[t], len(who[t]), len(who[t]) / total, key) for t in order[:-1]
           if total and who[t]]
    return block, quote_block, top


def _by_category(b: ReportContext, table: Table, order: list, who: dict, key: str) -> None:
    """Commenters per theme in each partner category with enough respondents; small cells and complements hidden."""
    group = b.respondents.set_index("response_id")["category"].astype(object)
    sizes = group.value_counts()
    shown = [c for c in sizes.index if sizes[c] >= MIN_FREE_TEXT]
    for code in sizes.index:
        if sizes[code] < MIN_FREE_TEXT:
            b.log.append(SuppressionRecord(key, b.group_label("category", code), "category",
                                           f"free text group < {MIN_FREE_TEXT}"))
    if not shown or len(sizes) < 2:
        return
    counts = pd.DataFrame(
        [[sum(1 for r in who[t] if group.get(r) == code) for code in shown] for t in order],
        index=pd.Index(range(len(order))), columns=shown, dtype=float)
    result = suppress(counts, counts, name=key, threshold=b.threshold)
    labels = [row["theme"] for row in table.rows]
    b.log += [SuppressionRecord(r.table, labels[r.row], b.group_label("category", r.column), r.reason)
              for r in result.log]
    for code in shown:
        table.columns.append(Column(f"category-{code}", b.group_label("category", code), "int"))
    table.hidden = []
    for i, row in enumerate(table.rows):
        hidden = set()
        for code in shown:
            row[f"category-{code}"] = int(counts.loc[i, code])
            if result.hidden.loc[i, code]:
                hidden.add(f"category-{code}")
        table.hidden.append(hidden)


def agreement_block(coding: CodingData | None, question_label) -> Block | None:
    """Cohen's kappa per theme between the two coders, for the methods annex; None without a second coder."""
    rows = agreement(coding) if coding is not None else []
    if not rows:
        return None
    columns = [Column("question", _("Question")), Column("theme", _("Theme")),
               Column("comments", _("Comments coded by both"), "int"), Column("agreed", _("Agreed"), "int"),
               Column("kappa", _("Cohen's kappa"), "mean")]
    table = Table("coder-agreement", _("Agreement between two coders on a blind sample"), columns,
                  [{"question": question_label(r.question), "theme": r.theme, "comments": r.comments,
                    "agreed": r.agreed, "kappa": r.kappa} for r in rows])
    table.notes.append(_("Kappa is left empty where it is undefined (both coders gave the same answer to every "
                         "comment)."))
    return Block(table)


def redact(text: str, organisation: str) -> str:
    """The comment with its writer's own organisation name replaced by [organisation] (as the free-text list)."""
    return _redact(text, organisation)


def distinct_quotes(responses: list, texts: dict) -> list:
    """Up to QUOTES_PER_THEME quotable comments, each saying something different (two partners who wrote the same
    sentence are quoted once)."""
    chosen, seen = [], set()
    for response in responses:
        words = " ".join(texts[response].split()).casefold()
        if words not in seen:
            seen.add(words)
            chosen.append(response)
    return chosen[:QUOTES_PER_THEME]

