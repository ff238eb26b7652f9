"""What every section of the report reads: the analysed responses and their answers, labels in the report's
language, the suppression threshold and log, and the summaries computed once for all the sections."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from analysis.frames import RoundData
from analysis.items import SurveyItems, discover_items
from analysis.rates import partial_responses
from analysis.summaries import choice_frequencies, likert_summary, ranking_summary
from analysis.suppression import SuppressionRecord, suppress
from surveys.definition import OTHER, Grid, SurveyDefinition

from .model import Filters, Numbers, _, format_value


class ReportContext:
    """Holds what every section needs: the analysed answers, labels, the threshold and the suppression log."""

    def __init__(self, data: RoundData, filters: Filters, threshold: int, language: str,
                 group_labels: dict[str, dict[str, str]], numbers: Numbers | None = None):
        self.data = data
        self.numbers = numbers or Numbers()
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

    # numbers in the report's language

    def number(self, value, kind: str) -> str:
        """A figure written as a table cell of that kind writes it ("3,58", "45 %" in French)."""
        return format_value(value, kind, self.numbers)

    def chart_numbers(self, kind: str) -> dict:
        """What a bar chart needs to write its values and ticks in the report's language: shares ("pct") as "45 %",
        means ("mean") as "2,35", scores ("nps") as "+12"; ticks as short numbers."""
        if kind == "pct":
            return {"value_text": lambda v: self.number(v, "pct"), "tick_text": lambda t: self.numbers.percent(round(t, 6) / 100, whole=False)}
        return {"value_text": lambda v: self.number(v, kind),
                "tick_text": lambda t: self.numbers.number(t, "+0.##;-0.##" if kind == "nps" and t else "0.##")}

    # suppression

    def hide_rows(self, table_key: str, labels: Sequence[str], counts: Sequence[float], *,
                  complementary: bool, column: str = "n") -> np.ndarray:
        """Rows whose count is below the threshold (and their complements), logged; a boolean per row."""
        if not len(labels):
            return np.zeros(0, dtype=bool)
        index = pd.Index(unique_labels(labels))
        counts_frame = pd.DataFrame({column: np.asarray(counts, dtype=float)}, index=index)
        result = suppress(counts_frame, counts_frame, name=table_key, threshold=self.threshold,
                          complementary=complementary)
        self.log += result.log
        return result.hidden[column].to_numpy()

    def not_enough(self) -> str:
        return _("Not enough responses to show this (fewer than %(n)s).", n=self.threshold)


def unique_labels(labels: Sequence[str]) -> list[str]:
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


def claim(names: Iterable[str], claimed: set[str]) -> list[str]:
    """The names no earlier section has drawn, now claimed by the caller's section (each question is drawn once)."""
    fresh = [n for n in names if n not in claimed]
    claimed.update(fresh)
    return fresh


def _prepare(b: ReportContext) -> None:
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
