"""Small-cell suppression: primary cells, complementary cells, low bases, free text and the log."""

import numpy as np
import pandas as pd
import pytest

from analysis.suppression import (
    DASH,
    SuppressionRecord,
    free_text,
    is_low_base,
    suppress,
    suppress_pivot,
    suppression_log,
)


def counts(rows, index=("r0", "r1", "r2"), columns=("a", "b", "c")) -> pd.DataFrame:
    return pd.DataFrame(rows, index=list(index)[: len(rows)], columns=list(columns)[: len(rows[0])])


def hidden_cells(result) -> set[tuple[str, str]]:
    return {(r, c) for r in result.hidden.index for c in result.hidden.columns if result.hidden.loc[r, c]}


def test_one_small_cell_brings_complementary_cells_until_stable():
    table = counts([[10, 3, 12], [8, 9, 20]])
    result = suppress(table, name="uses")
    # (r0, b) = 3 < 5. Row r0 then has one hidden cell: hide its smallest other cell, (r0, a) = 10 (not 12).
    # Columns a and b now have one hidden cell each: hide (r1, a) = 8 and (r1, b) = 9. Every row and column now has
    # 0 or 2 hidden cells: stable.
    assert hidden_cells(result) == {("r0", "a"), ("r0", "b"), ("r1", "a"), ("r1", "b")}
    assert result.log == [
        SuppressionRecord("uses", "r0", "b", "n < 5"),
        SuppressionRecord("uses", "r0", "a", "complementary"),
        SuppressionRecord("uses", "r1", "a", "complementary"),
        SuppressionRecord("uses", "r1", "b", "complementary"),
    ]
    assert result.values.isna().equals(result.hidden)
    assert result.values.loc["r1", "c"] == 20


def test_without_complementary_only_the_small_cell_is_hidden():
    result = suppress(counts([[10, 3, 12], [8, 9, 20]]), complementary=False)
    assert hidden_cells(result) == {("r0", "b")}
    assert [r.reason for r in result.log] == ["n < 5"]


def test_no_complementary_cell_when_small_cells_already_protect_each_other():
    # hidden (r0,a), (r0,b), (r1,a), (r1,b): two per row and per column, nothing can be derived from a total
    result = suppress(counts([[3, 2, 40], [4, 1, 50], [30, 30, 60]]))
    assert hidden_cells(result) == {("r0", "a"), ("r0", "b"), ("r1", "a"), ("r1", "b")}
    assert {r.reason for r in result.log} == {"n < 5"}


def test_a_complementary_cell_can_cascade_into_another_line():
    # (r0,a) = 2 is small. Row r0: hide (r0,b) = 6 (smaller than 7). Column a: hide (r2,a) = 5 (smaller than 9);
    # column b: hide (r1,b) = 8 (smaller than 40). Second pass: row r1 has one, (r1,b): hide (r1,a) = 9 (not 30);
    # row r2 has one, (r2,a): hide (r2,c) = 10 (not 40); then column c has one, (r2,c): hide (r0,c) = 7 (not 30).
    table = counts([[2, 6, 7], [9, 8, 30], [5, 40, 10]])
    result = suppress(table)
    hidden = result.hidden.to_numpy()
    assert not any(line.sum() == 1 for line in hidden) and not any(line.sum() == 1 for line in hidden.T)
    assert hidden_cells(result) == {("r0", "a"), ("r0", "b"), ("r2", "a"), ("r1", "b"), ("r1", "a"), ("r2", "c"),
                                    ("r0", "c")}  # fmt: skip
    assert [r.reason for r in result.log].count("n < 5") == 1


def test_threshold_is_configurable_and_counts_can_differ_from_the_values():
    # values are T2B shares; the counts are their bases n
    values = pd.DataFrame({"un": [0.5, 0.8], "igo": [0.9, 0.4]}, index=["website", "events"])
    n = pd.DataFrame({"un": [12, 40], "igo": [8, 50]}, index=["website", "events"])
    result = suppress(values, n, name="t2b by category", threshold=10)
    # (website, igo) n = 8 < 10; row website: hide (website, un); then column un has one hidden cell: hide
    # (events, un), and column igo: hide (events, igo)
    assert result.hidden.to_numpy().all()
    assert result.log[0] == SuppressionRecord("t2b by category", "website", "igo", "n < 10")
    assert suppress(values, n).hidden.to_numpy().sum() == 0


def test_low_base_flags_visible_cells_from_5_to_29():
    result = suppress(counts([[5, 29, 30], [100, 4, 6]]), complementary=False)
    assert result.low_base.to_numpy().tolist() == [[True, True, False], [False, False, True]]
    assert list(is_low_base(pd.Series([4, 5, 29, 30]))) == [False, True, True, False]


def test_display_shows_a_dash_for_hidden_cells():
    result = suppress(counts([[10, 3, 12], [8, 9, 20]]), complementary=False)
    shown = result.display(lambda v: f"{v:.0f}")
    assert shown.to_numpy().tolist() == [["10", DASH, "12"], ["8", "9", "20"]]


def test_cells_without_any_answer_are_hidden():
    values = pd.DataFrame({"a": [0.5, np.nan], "b": [0.7, 0.6]}, index=["x", "y"])
    n = pd.DataFrame({"a": [20, np.nan], "b": [30, 40]}, index=["x", "y"])
    result = suppress(values, n)
    assert result.hidden.loc["y", "a"]
    assert result.log[0].reason == "n < 5"


def test_suppress_pivot_from_a_tidy_summary():
    tidy = pd.DataFrame(
        {
            "question": ["sat_a", "sat_a", "sat_b", "sat_b"],
            "category": ["un", "igo", "un", "igo"],
            "t2b": [0.5, 1.0, 0.25, 0.75],
            "n": [20, 3, 16, 12],
        }
    )
    result = suppress_pivot(tidy, "question", "category", "t2b", name="heat map")
    # (sat_a, igo) n = 3; complementary (sat_a, un), (sat_b, igo), then (sat_b, un)
    assert result.hidden.to_numpy().all()
    assert result.values.columns.tolist() == ["igo", "un"]
    assert suppress_pivot(tidy, "question", "category", "t2b", threshold=3).values.loc["sat_a", "igo"] == 1.0


def test_suppression_log_as_a_table():
    result = suppress(counts([[10, 3, 12], [8, 9, 20]]), name="uses")
    log = suppression_log(result.log)
    assert log.columns.tolist() == ["table", "row", "column", "reason"]
    assert log.iloc[0].tolist() == ["uses", "r0", "b", "n < 5"]
    assert len(log) == 4


# -- free text -------------------------------------------------------------------------------------------------------


@pytest.fixture
def respondents():
    # 12 UN respondents (ids 1-12), 3 from academia (ids 13-15)
    return pd.DataFrame(
        {"response_id": range(1, 16), "category": ["un"] * 12 + ["academia"] * 3, "region": "Global"}
    )


@pytest.fixture
def texts():
    return pd.DataFrame(
        [
            (1, "why", "Useful meetings"),
            (2, "why", "  "),
            (13, "why", "Our small network says so"),
            (14, "missing_service", "Funding news"),
            (3, "recommend", "9"),
        ],
        columns=["response_id", "question", "value"],
    )


def test_free_text_only_for_groups_of_ten_or_more(respondents, texts):
    shown, log = free_text(texts, ["why", "missing_service"], respondents, "category")
    # UN has 12 respondents: shown (the blank answer is no answer); academia has 3 < 10: withheld, once per question
    assert shown.to_dict("records") == [{"question": "why", "category": "un", "value": "Useful meetings"}]
    assert log == [
        SuppressionRecord("why", "academia", "category", "free text group < 10"),
        SuppressionRecord("missing_service", "academia", "category", "free text group < 10"),
    ]


def test_free_text_overall_needs_ten_respondents(respondents, texts):
    shown, log = free_text(texts, ["why"], respondents)
    # 15 respondents in all: both answers shown, without response ids
    assert shown.columns.tolist() == ["question", "value"]
    assert shown["value"].tolist() == ["Useful meetings", "Our small network says so"]
    assert log == []
    few = respondents[respondents["response_id"] <= 9]
    shown, log = free_text(texts, ["why"], few)
    assert shown.empty
    assert log == [SuppressionRecord("why", "all", "", "free text group < 10")]
    shown, log = free_text(texts, ["why"], respondents, min_n=20)
    assert shown.empty and log[0].reason == "free text group < 20"
