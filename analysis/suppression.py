"""Small-cell suppression of published tables (DOMAIN.md, "Small-cell suppression").

- A cell whose unweighted n is below the threshold (5 unless configured) is hidden: NaN in the values, True in the
  mask, "–" on display; the log says "n < 5".
- Complementary suppression: the margins of a table (row and column totals, or the overall figure beside a
  breakdown) are taken as published, so a row or column with exactly one hidden cell would give that cell away. The
  visible cell with the smallest n in that row or column (the first one on a tie) is hidden too, logged as
  "complementary", and the check repeats over rows and columns until nothing changes. Pass ``complementary=False``
  only for a table whose cells neither add up to nor average into anything published.
- Free-text answers are shown only for groups of at least 10 respondents (``free_text``).
- A visible cell with 5 <= n < 30 is flagged as a low base.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_CELL = 5
MIN_FREE_TEXT = 10
LOW_BASE_BELOW = 30
DASH = "–"
COMPLEMENTARY = "complementary"


@dataclass(frozen=True)
class SuppressionRecord:
    """One hidden cell or withheld group, for the suppression log in the report's annex."""

    table: str
    row: object
    column: object
    reason: str


@dataclass
class SuppressedTable:
    """A table after suppression: values with NaN where hidden, the hidden mask, low-base flags and the log."""

    name: str
    values: pd.DataFrame
    hidden: pd.DataFrame
    low_base: pd.DataFrame
    log: list[SuppressionRecord]

    def display(self, formatter: Callable[[object], str] = str, dash: str = DASH) -> pd.DataFrame:
        """The table as text, hidden cells shown as a dash."""
        shown = self.values.astype(object).map(lambda v: "" if pd.isna(v) else formatter(v))
        return shown.mask(self.hidden, dash)


def is_low_base(n, threshold: int = MIN_CELL, below: int = LOW_BASE_BELOW):
    """True where threshold <= n < below (works on numbers, arrays and Series)."""
    return (n >= threshold) & (n < below)


def suppress(
    values: pd.DataFrame,
    counts: pd.DataFrame | None = None,
    *,
    name: str = "",
    threshold: int = MIN_CELL,
    complementary: bool = True,
    low_base_below: int = LOW_BASE_BELOW,
) -> SuppressedTable:
    """Hide the cells of ``values`` whose unweighted n (``counts``, else the values themselves) is below threshold."""
    counts = values if counts is None else counts.reindex(index=values.index, columns=values.columns)
    n = counts.fillna(0).to_numpy(dtype=float)
    hidden = n < threshold
    log = [
        SuppressionRecord(name, values.index[i], values.columns[j], f"n < {threshold}")
        for i, j in zip(*np.nonzero(hidden))
    ]
    if complementary:
        log += _complement(hidden, n, name, values.index, values.columns)
    mask = pd.DataFrame(hidden, index=values.index, columns=values.columns)
    low = pd.DataFrame(
        is_low_base(n, threshold, low_base_below) & ~hidden, index=values.index, columns=values.columns
    )
    return SuppressedTable(name, values.astype(float).mask(mask), mask, low, log)


def suppress_pivot(
    frame: pd.DataFrame,
    index: str,
    columns: str,
    values: str,
    n: str = "n",
    **options,
) -> SuppressedTable:
    """Pivot a tidy summary (one row per cell) into a table and suppress it, e.g. service T2B by category."""
    table = frame.pivot(index=index, columns=columns, values=values)
    counts = frame.pivot(index=index, columns=columns, values=n)
    return suppress(table, counts, **options)


def free_text(
    answers: pd.DataFrame,
    questions: Sequence[str],
    respondents: pd.DataFrame,
    by: str | None = None,
    *,
    min_n: int = MIN_FREE_TEXT,
) -> tuple[pd.DataFrame, list[SuppressionRecord]]:
    """Free-text answers of groups with at least ``min_n`` respondents, and a log record per group withheld.

    A group's n is its number of respondents in ``respondents`` (not only those who wrote something): that is the
    crowd an answer hides in. Respondents with no value for ``by`` form one group of their own. The answers come back
    without response ids: columns question, the ``by`` column if any, value.
    """
    if by is None:
        groups = pd.Series("all", index=respondents["response_id"].to_numpy(), dtype=object)
    else:
        groups = respondents.set_index("response_id")[by].astype(object)
    sizes = groups.value_counts(dropna=False)
    text = answers[answers["question"].isin(list(questions)) & answers["response_id"].isin(groups.index)]
    text = text[text["value"].fillna("").str.strip() != ""]
    group = text["response_id"].map(groups)
    small = (group.map(sizes) < min_n).to_numpy()
    withheld = pd.DataFrame({"question": text["question"], "group": group})[small].drop_duplicates()
    log = [
        SuppressionRecord(question, g, by or "", f"free text group < {min_n}")
        for question, g in withheld.itertuples(index=False)
    ]
    shown = text.assign(**({by: group} if by else {}))[~small]
    return shown[["question", *([by] if by else []), "value"]].reset_index(drop=True), log


def suppression_log(records: Sequence[SuppressionRecord]) -> pd.DataFrame:
    """The log as a table: table, row, column, reason."""
    return pd.DataFrame(
        [(r.table, r.row, r.column, r.reason) for r in records], columns=["table", "row", "column", "reason"]
    )


def _complement(hidden: np.ndarray, n: np.ndarray, name: str, rows, columns) -> list[SuppressionRecord]:
    """Hide more cells, in place, until no row or column has exactly one hidden cell."""
    log: list[SuppressionRecord] = []
    changed = True
    while changed:
        changed = False
        for axis in (0, 1):
            lines = hidden if axis == 0 else hidden.T
            sizes = n if axis == 0 else n.T
            for i in np.nonzero(lines.sum(axis=1) == 1)[0]:
                open_cells = np.nonzero(~lines[i])[0]
                if open_cells.size == 0:
                    continue
                j = open_cells[np.argmin(sizes[i, open_cells])]
                lines[i, j] = True
                r, c = (i, j) if axis == 0 else (j, i)
                log.append(SuppressionRecord(name, rows[r], columns[c], COMPLEMENTARY))
                changed = True
    return log
