"""The statistics of the collective analysis, each checked against numbers worked out by hand in the comments."""

import math

import numpy as np
import pandas as pd
import pytest

from analysis.intervals import bootstrap_interval, newcombe_difference, wilson_interval
from analysis.rates import organisation_weights, partial_responses, response_rates
from analysis.summaries import (
    CONCENTRATE,
    KEEP_UP,
    LOW_PRIORITY,
    OVERKILL,
    breakdowns,
    choice_frequencies,
    compare_rounds,
    importance_satisfaction,
    likert_summary,
    nps_summary,
    ranking_summary,
    service_funnel,
)
from tests.analysis.builders import default_like_survey, grid, likert, page, question, survey

Z2 = 1.96**2  # 3.8416


def answers_frame(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["response_id", "question", "value"])


def respondents_frame(*rows) -> pd.DataFrame:
    """rows of (response_id, organisation_id, category, region, pathfinder)."""
    frame = pd.DataFrame(rows, columns=["response_id", "organisation_id", "category", "region", "pathfinder"])
    return frame.assign(status="submitted", language="en")


def one_row(frame: pd.DataFrame, **where) -> pd.Series:
    selected = frame
    for column, value in where.items():
        selected = selected[selected[column] == value]
    assert len(selected) == 1, selected
    return selected.iloc[0]


# -- Wilson --------------------------------------------------------------------------------------------------------


def test_wilson_at_zero_successes():
    # x=0, n=10: centre = (0 + 1.9208) / 13.8416 = 0.138770; half-width = 1.96 * sqrt(0 + 0.9604) / 13.8416
    # = 1.96 * 0.98 / 13.8416 = 0.138770, so low = 0 and high = 3.8416 / 13.8416 = 0.277540
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(0.2775402, abs=1e-7)


def test_wilson_at_all_successes():
    # x=n=10 mirrors x=0: low = 1 - 0.277540 = 0.722460, high = 1
    low, high = wilson_interval(10, 10)
    assert low == pytest.approx(1 - 0.2775402, abs=1e-7)
    assert high == 1.0


def test_wilson_in_the_middle():
    # x=5, n=10: centre = (5 + 1.9208) / 13.8416 = 0.5; half = 1.96 * sqrt(25/10 + 0.9604) / 13.8416
    # = 1.96 * sqrt(3.4604) / 13.8416 = 1.96 * 1.860215 / 13.8416 = 3.646021 / 13.8416 = 0.263410
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(0.5 - 0.263410, abs=1e-6)
    assert high == pytest.approx(0.5 + 0.263410, abs=1e-6)


def test_wilson_without_observations_is_undefined():
    low, high = wilson_interval(0, 0)
    assert math.isnan(low) and math.isnan(high)


def test_wilson_works_on_arrays():
    # x=3, n=4: centre = 4.9208 / 7.8416 = 0.627525; half = 1.96 * sqrt(0.75 + 0.9604) / 7.8416 = 0.326889
    low, high = wilson_interval(np.array([0, 3, 0]), np.array([10, 4, 0]))
    assert low[:2] == pytest.approx([0.0, 0.300636], abs=1e-6)
    assert high[:2] == pytest.approx([0.277540, 0.954414], abs=1e-6)
    assert np.isnan(low[2]) and np.isnan(high[2])


# -- Newcombe --------------------------------------------------------------------------------------------------------


def test_newcombe_reproduces_the_published_example():
    # Newcombe (1998), Statistics in Medicine 17:873-890, example (a): 56/70 - 48/80 = 0.2, method 10: 0.0524 to 0.3339
    difference, low, high = newcombe_difference(56, 70, 48, 80)
    assert difference == pytest.approx(0.2)
    assert low == pytest.approx(0.0524, abs=5e-5)
    assert high == pytest.approx(0.3339, abs=5e-5)


def test_newcombe_by_hand_from_the_two_wilson_intervals():
    # 5/10 - 0/10: Wilson 5/10 = (0.236590, 0.763410), Wilson 0/10 = (0, 0.277540)
    # low  = 0.5 - sqrt((0.5 - 0.236590)^2 + (0.277540 - 0)^2) = 0.5 - sqrt(0.069385 + 0.077028) = 0.5 - 0.382640
    # high = 0.5 + sqrt((0.763410 - 0.5)^2 + (0 - 0)^2) = 0.5 + 0.263410
    difference, low, high = newcombe_difference(5, 10, 0, 10)
    assert difference == 0.5
    assert low == pytest.approx(0.117360, abs=1e-5)
    assert high == pytest.approx(0.763410, abs=1e-6)


# -- bootstrap -------------------------------------------------------------------------------------------------------


def test_bootstrap_of_two_values_spans_both():
    # resample means of [0, 1] are 0, 0.5, 1 with chances 1/4, 1/2, 1/4: the 2.5th percentile is 0, the 97.5th is 1
    assert bootstrap_interval([0, 1]) == (0.0, 1.0)


def test_bootstrap_of_a_constant_is_that_constant():
    assert bootstrap_interval([3, 3, 3, 3]) == (3.0, 3.0)
    assert bootstrap_interval([10, 9, 10], statistic="nps") == (100.0, 100.0)


def test_bootstrap_is_reproducible_with_its_seed_and_ignores_missing_values():
    values = [1, 2, 2, 3, 5, 4, 4, 1, 5, 3]
    first = bootstrap_interval(values, seed=1)
    assert bootstrap_interval(values, seed=1) == first
    assert bootstrap_interval([*values, np.nan], seed=1) == first
    assert first[0] < np.mean(values) < first[1]
    assert all(math.isnan(v) for v in bootstrap_interval([]))


def test_bootstrap_matches_resampling_respondents_one_by_one():
    # the pooled multinomial draw has the same distribution as drawing respondent indices; with many resamples
    # the two percentile intervals agree closely
    rng = np.random.default_rng(0)
    values = rng.integers(1, 6, 60).astype(float)
    weights = rng.choice([1.0, 0.5], 60)
    indices = rng.integers(0, 60, (20000, 60))
    naive = (values[indices] * weights[indices]).sum(1) / weights[indices].sum(1)
    expected = np.quantile(naive, [0.025, 0.975])
    low, high = bootstrap_interval(values, weights=weights, resamples=20000)
    assert low == pytest.approx(expected[0], abs=0.02)
    assert high == pytest.approx(expected[1], abs=0.02)


# -- weights ---------------------------------------------------------------------------------------------------------


def test_organisation_weights_are_one_over_k():
    # organisation 1 answered twice (1/2 each), organisation 2 once (1), an unknown organisation counts alone (1)
    respondents = respondents_frame(
        (1, 1, "un", "Global", False), (2, 1, "un", "Global", False), (3, 2, "un", "Global", False),
        (4, None, "un", "Global", False),
    )  # fmt: skip
    weights = organisation_weights(respondents)
    assert weights.to_dict() == {1: 0.5, 2: 0.5, 3: 1.0, 4: 1.0}


# -- Likert ----------------------------------------------------------------------------------------------------------

SAT = survey(
    page("services", grid("satisfaction", *(likert(f"sat_{s}") for s in ("website", "events", "newsletter"))))
)

# sat_website: 5, 4, 4, 2, 1, na, na, 3; sat_events: na, na, na, 5; sat_newsletter: nobody
LIKERT_ANSWERS = answers_frame(
    *[(r, "sat_website", v) for r, v in zip(range(1, 9), ["5", "4", "4", "2", "1", "na", "na", "3"])],
    *[(r, "sat_events", v) for r, v in zip(range(1, 5), ["na", "na", "na", "5"])],
)
# respondents 1-4 government (Africa), 5-8 UN (Global); 1 and 2 share organisation 10
LIKERT_RESPONDENTS = respondents_frame(
    *[(r, 10 if r <= 2 else r, "government", "Africa", r <= 2) for r in range(1, 5)],
    *[(r, r, "un", "Global", False) for r in range(5, 9)],
)


def test_likert_summary_by_hand():
    table = likert_summary(LIKERT_ANSWERS, SAT).set_index("question")
    assert list(table.index) == ["sat_website", "sat_events", "sat_newsletter"]
    website = table.loc["sat_website"]
    # valid 5, 4, 4, 2, 1, 3: n = 6, mean = 19 / 6, sorted 1 2 3 4 4 5 -> median (3 + 4) / 2 = 3.5
    assert website["n"] == 6
    assert website["mean"] == pytest.approx(19 / 6)
    assert website["median"] == 3.5
    # T2B = #(4, 5) / 6 = 3 / 6; B2B = #(1, 2) / 6 = 2 / 6; net = 1 / 6
    assert website["t2b"] == 0.5
    assert website["b2b"] == pytest.approx(1 / 3)
    assert website["net"] == pytest.approx(1 / 6)
    # Wilson 3/6: centre 0.5, half = 1.96 * sqrt(1.5 + 0.9604) / 9.8416 = 1.96 * 1.568566 / 9.8416 = 0.312387
    assert website["t2b_low"] == pytest.approx(0.187613, abs=1e-6)
    assert website["t2b_high"] == pytest.approx(0.812387, abs=1e-6)
    # NA: 2 of the 8 who were shown the item: 25 %, not low relevance; 5 <= 6 < 30 is a low base
    assert (website["na"], website["shown"], website["na_pct"]) == (2, 8, 0.25)
    assert not website["low_relevance"] and website["low_base"]
    assert [website[f"n_{s}"] for s in range(1, 6)] == [1, 1, 1, 2, 1]
    assert website["mean_low"] < website["mean"] < website["mean_high"]


def test_likert_summary_flags_low_relevance_and_keeps_unanswered_items():
    table = likert_summary(LIKERT_ANSWERS, SAT).set_index("question")
    events = table.loc["sat_events"]
    # one valid 5 among 4 shown: NA% = 3/4 > 50 % -> low relevance; n = 1 is below 5, so not a "low base" but a
    # suppressed cell (the suppression module's job)
    assert (events["n"], events["mean"], events["median"], events["t2b"]) == (1, 5.0, 5.0, 1.0)
    assert (events["na"], events["shown"], events["na_pct"]) == (3, 4, 0.75)
    assert events["low_relevance"] and not events["low_base"]
    newsletter = table.loc["sat_newsletter"]
    assert (newsletter["n"], newsletter["shown"]) == (0, 0)
    assert (
        math.isnan(newsletter["mean"])
        and math.isnan(newsletter["t2b_low"])
        and math.isnan(newsletter["na_pct"])
    )
    assert not newsletter["low_relevance"]


@pytest.mark.parametrize(
    ("values", "median"),
    [
        (["2", "2", "4", "4"], 3.0),  # even n, the two middle values 2 and 4 -> 3
        (["1", "2", "3", "4", "5", "5"], 3.5),  # middle values 3 and 4 -> 3.5
        (["1", "1", "5"], 1.0),  # odd n: the middle value
        (["4", "4", "na", "2"], 4.0),  # NA left out: 2 4 4 -> 4
    ],
)
def test_likert_median_ties(values, median):
    answers = answers_frame(*[(r, "sat_website", v) for r, v in enumerate(values)])
    assert likert_summary(answers, SAT, ["sat_website"])["median"].iloc[0] == median


def test_likert_summary_by_group_and_boundary_of_low_relevance():
    table = likert_summary(
        LIKERT_ANSWERS, SAT, ["sat_website"], respondents=LIKERT_RESPONDENTS, by="category"
    )
    government = one_row(table, category="government")
    # government: 5 4 4 2 -> n 4, mean 15/4, median (4 + 4) / 2, T2B 3/4, B2B 1/4
    assert (government["n"], government["mean"], government["median"]) == (4, 3.75, 4.0)
    assert (government["t2b"], government["b2b"], government["net"]) == (0.75, 0.25, 0.5)
    assert government["mean_low"] < government["mean"] < government["mean_high"]
    un = one_row(table, category="un")
    # UN: 1 na na 3 -> n 2, mean 2, median (1 + 3) / 2 = 2; NA% = 2/4 = 50 %, which is not above 50 %
    assert (un["n"], un["mean"], un["median"], un["na_pct"]) == (2, 2.0, 2.0, 0.5)
    assert not un["low_relevance"]


def test_likert_summary_with_organisation_weights():
    # respondents 1 and 2 share organisation 10 (weight 1/2 each); 3 and 4 weigh 1
    answers = answers_frame((1, "sat_website", "2"), (2, "sat_website", "2"), (3, "sat_website", "4"))
    row = likert_summary(
        answers, SAT, ["sat_website"], respondents=LIKERT_RESPONDENTS, weights="organisation"
    ).iloc[0]
    # weighted mean = (0.5 * 2 + 0.5 * 2 + 1 * 4) / 2 = 3; T2B = 1 / 2; n stays the unweighted count 3
    assert (row["n"], row["mean"], row["t2b"]) == (3, 3.0, 0.5)
    # weighted median: weight 1 on score 2, 1 on score 4: the cumulative weight reaches exactly half at 2 -> (2+4)/2
    # (unweighted, the median of 2 2 4 would be 2)
    assert row["median"] == 3.0
    # Kish base n_eff = (sum w)^2 / sum w^2 = 4 / 1.5 = 2.6667; Wilson of x = 0.5 * 2.6667 = 1.3333 out of 2.6667
    # centre 0.5, half = 1.96 * sqrt(1.3333 * 1.3333 / 2.6667 + 0.9604) / 6.5083 = 1.96 * 1.275565 / 6.5083 = 0.384143
    assert row["n_eff"] == pytest.approx(8 / 3)
    assert row["t2b_low"] == pytest.approx(0.5 - 0.384143, abs=1e-5)
    assert row["t2b_high"] == pytest.approx(0.5 + 0.384143, abs=1e-5)
    unweighted = likert_summary(answers, SAT, ["sat_website"]).iloc[0]
    assert (unweighted["mean"], unweighted["median"]) == (pytest.approx(8 / 3), 2.0)


def test_likert_summary_leaves_out_answers_of_respondents_not_analysed():
    respondents = LIKERT_RESPONDENTS[LIKERT_RESPONDENTS["category"] == "un"]
    row = likert_summary(LIKERT_ANSWERS, SAT, ["sat_website"], respondents=respondents).iloc[0]
    assert (row["n"], row["na"]) == (2, 2)


def test_breakdowns_stack_overall_and_each_dimension():
    table = breakdowns(likert_summary, LIKERT_ANSWERS, SAT, ["sat_website"], respondents=LIKERT_RESPONDENTS)
    assert list(table.columns[:3]) == ["breakdown", "group", "question"]
    assert [(b, g, n) for b, g, n in table[["breakdown", "group", "n"]].itertuples(index=False)] == [
        ("all", "all", 6),
        ("category", "government", 4),
        ("category", "un", 2),
        ("region", "Africa", 4),
        ("region", "Global", 2),
        ("pathfinder", False, 4),  # respondents 3-8: 4 2 1 na na 3
        ("pathfinder", True, 2),  # respondents 1-2: 5 4
    ]


# -- service funnel --------------------------------------------------------------------------------------------------


def test_service_funnel_by_hand():
    answers = answers_frame(
        (1, "use_website", "not_aware"), (2, "use_website", "aware_not_used"), (3, "use_website", "used_occasionally"),
        (4, "use_website", "used_regularly"), (5, "use_website", "used_regularly"),
        (1, "use_events", "not_aware"), (2, "use_events", "not_aware"),
    )  # fmt: skip
    table = service_funnel(answers, default_like_survey()).set_index("service")
    website = table.loc["website"]
    # shown 5; aware = all but not_aware = 4; used = used_* = 3; 4/5, 3/5 and 3/4 of the aware
    assert (website["question"], website["shown"], website["aware"], website["used"]) == (
        "use_website",
        5,
        4,
        3,
    )
    assert (website["aware_pct"], website["used_pct"], website["used_of_aware_pct"]) == (0.8, 0.6, 0.75)
    events = table.loc["events"]
    assert (events["shown"], events["aware"], events["used"], events["aware_pct"]) == (2, 0, 0, 0.0)
    assert math.isnan(events["used_of_aware_pct"])
    assert table.loc["newsletter", "shown"] == 0


# -- importance vs satisfaction --------------------------------------------------------------------------------------

FOUR = ("a", "b", "c", "d")
IMP_SAT = survey(
    page(
        "services",
        grid("satisfaction", *(likert(f"sat_{s}") for s in FOUR)),
        grid("importance", *(likert(f"imp_{s}", list_name="imp5", na=("no_opinion",)) for s in FOUR)),
    )
)


def test_importance_satisfaction_gap_and_quadrants_by_hand():
    # importance a: 5 5 2 (mean 4), b: 4 4 (4), c: 2 2 (2), d: 2 2 (2) -> grand mean (4 + 4 + 2 + 2) / 4 = 3
    # satisfaction a: 2 2 na (2), b: 4 4 (4), c: 2 2 (2), d: 4 4 (4) -> grand mean 3
    rows = []
    for s, imp, sat in [("a", "552", "22n"), ("b", "44", "44"), ("c", "22", "22"), ("d", "22", "44")]:
        rows += [(r, f"imp_{s}", v) for r, v in enumerate(imp, start=1)]
        rows += [(r, f"sat_{s}", "na" if v == "n" else v) for r, v in enumerate(sat, start=1)]
    table = importance_satisfaction(answers_frame(*rows), IMP_SAT).set_index("service")
    a = table.loc["a"]
    assert (a["importance"], a["satisfaction"]) == ("imp_a", "sat_a")
    assert (a["importance_n"], a["importance_mean"], a["satisfaction_n"], a["satisfaction_mean"]) == (
        3,
        4.0,
        2,
        2.0,
    )
    # paired: only respondents 1 and 2 rated both (3 said "na" to satisfaction): gap = ((5-2) + (5-2)) / 2 = 3,
    # not 4 - 2
    assert (a["n_paired"], a["gap"]) == (2, 3.0)
    # T2B importance 2/3 (5 5 2), satisfaction 0/2
    assert a["t2b_gap"] == pytest.approx(2 / 3)
    assert list(table["gap"]) == [3.0, 0.0, 0.0, -2.0]
    assert list(table["t2b_gap"].round(4)) == [0.6667, 0.0, 0.0, -1.0]
    assert (table["importance_grand_mean"] == 3).all() and (table["satisfaction_grand_mean"] == 3).all()
    # a: high importance, low satisfaction; b: both high; c: both low; d: low importance, high satisfaction
    assert list(table["quadrant"]) == [CONCENTRATE, KEEP_UP, LOW_PRIORITY, OVERKILL]


def test_importance_satisfaction_per_group_uses_each_groups_cross_hairs():
    rows = [(1, "imp_a", "5"), (1, "sat_a", "5"), (1, "imp_b", "1"), (1, "sat_b", "1")]
    rows += [(2, "imp_a", "1"), (2, "sat_a", "1"), (2, "imp_b", "5"), (2, "sat_b", "5")]
    respondents = respondents_frame((1, 1, "un", "Global", False), (2, 2, "igo", "Africa", False))
    table = importance_satisfaction(answers_frame(*rows), IMP_SAT, respondents=respondents, by="category")
    # per group the grand means are (5 + 1) / 2 = 3 (c and d, never rated, stay out of the cross-hairs)
    assert one_row(table, category="un", service="a")["quadrant"] == KEEP_UP
    assert one_row(table, category="un", service="b")["quadrant"] == LOW_PRIORITY
    assert one_row(table, category="igo", service="b")["quadrant"] == KEEP_UP
    unrated = one_row(table, category="igo", service="c")
    assert unrated["quadrant"] is None and unrated["n_paired"] == 0


# -- NPS -------------------------------------------------------------------------------------------------------------


def test_nps_by_hand():
    scores = ["10", "10", "9", "9", "8", "7", "6", "0", "5", "10"]
    answers = answers_frame(*[(r, "recommend", v) for r, v in enumerate(scores)])
    row = nps_summary(answers, default_like_survey()).iloc[0]
    # promoters (9-10): 10 10 9 9 10 = 5; passives (7-8): 8 7 = 2; detractors (0-6): 6 0 5 = 3
    # NPS = 100 * (5 - 3) / 10 = 20
    assert (row["question"], row["n"], row["promoters"], row["passives"], row["detractors"]) == (
        "recommend",
        10,
        5,
        2,
        3,
    )
    assert row["nps"] == 20.0
    assert -100 <= row["nps_low"] < 20 < row["nps_high"] <= 100
    assert row["low_base"]


def test_nps_with_weights_and_all_promoters():
    answers = answers_frame((1, "recommend", "10"), (2, "recommend", "0"), (3, "recommend", "9"))
    respondents = respondents_frame(
        (1, 1, "un", "Global", False), (2, 1, "un", "Global", False), (3, 2, "un", "Global", False)
    )
    row = nps_summary(answers, default_like_survey(), respondents=respondents, weights="organisation").iloc[0]
    # weights 1/2, 1/2, 1: promoters 1.5 of 2, detractors 0.5 of 2 -> 100 * (0.75 - 0.25) = 50
    assert row["nps"] == 50.0
    all_promoters = nps_summary(
        answers_frame((1, "recommend", "9"), (2, "recommend", "10")), default_like_survey()
    )
    assert all_promoters[["nps", "nps_low", "nps_high"]].iloc[0].tolist() == [100.0, 100.0, 100.0]


# -- ranking ---------------------------------------------------------------------------------------------------------


def test_ranking_by_hand():
    ranked = survey(page("p", question("priorities", "rank", "a", "b", "c", "d", "e")))
    answers = answers_frame(
        (1, "priorities", "a b c"), (2, "priorities", "b a"), (3, "priorities", "c a b d")
    )
    table = ranking_summary(answers, ranked).set_index("option")
    assert list(table.index) == ["a", "b", "c", "d", "e"]
    assert (table["n"] == 3).all()
    # points 3/2/1 for ranks 1/2/3, 0 below: a = 3 + 2 + 2 = 7, b = 2 + 3 + 1 = 6, c = 1 + 0 + 3 = 4, d = 0, e = 0
    assert list(table["points_mean"]) == pytest.approx([7 / 3, 2, 4 / 3, 0, 0])
    assert list(table["first"]) == [1, 1, 1, 0, 0]
    assert list(table["first_pct"]) == pytest.approx([1 / 3, 1 / 3, 1 / 3, 0, 0])
    # in the top 3: a 3 of 3, b 3, c 2 (respondent 2 ranked two only), d 0 (4th), e 0
    assert list(table["top3"]) == [3, 3, 2, 0, 0]
    assert list(table["top3_pct"]) == pytest.approx([1, 1, 2 / 3, 0, 0])


# -- multiple choice -------------------------------------------------------------------------------------------------


def test_multiple_choice_counts_respondents_not_ticks():
    answers = answers_frame(
        (1, "reasons", "evidence networking"), (2, "reasons", "evidence other"), (3, "reasons", "advocacy"),
        (4, "reasons", "evidence evidence"), (5, "reasons", ""), (2, "reasons_other", "funding"),
    )  # fmt: skip
    table = choice_frequencies(answers, default_like_survey()).set_index("option")
    # 4 respondents answered (5's empty value is no answer): evidence 3 (4 ticked it twice: once), others 1 each
    assert list(table.index) == ["evidence", "networking", "advocacy", "other"]
    assert (table["n"] == 4).all()
    assert list(table["count"]) == [3, 1, 1, 1]
    assert list(table["pct"]) == [0.75, 0.25, 0.25, 0.25]
    # Wilson 3/4 = (0.300636, 0.954414)
    assert table.loc["evidence", "pct_low"] == pytest.approx(0.300636, abs=1e-6)
    assert table.loc["evidence", "pct_high"] == pytest.approx(0.954414, abs=1e-6)


def test_single_choice_frequencies_by_group():
    answers = answers_frame((1, "category", "un"), (2, "category", "un"), (3, "category", "government"))
    respondents = respondents_frame(
        (1, 1, "un", "Global", False), (2, 2, "un", "Africa", False), (3, 3, "government", "Africa", False)
    )
    table = choice_frequencies(
        answers, default_like_survey(), ["category"], respondents=respondents, by="region"
    )
    africa = table[table["region"] == "Africa"].set_index("option")
    assert list(africa.index) == ["government", "civil_society", "un"]
    assert list(africa["count"]) == [1, 0, 1] and list(africa["pct"]) == [0.5, 0.0, 0.5]
    assert one_row(table, region="Global", option="un")["pct"] == 1.0


# -- response rates --------------------------------------------------------------------------------------------------

INVITATIONS = pd.DataFrame(
    [
        # invitation, organisation, category, region, pathfinder, ineligible, status, response
        (1, 1, "government", "Africa", True, None, "submitted", 101),
        (2, 1, "government", "Africa", True, None, "in_progress", 102),  # partial
        (3, 2, "civil_society", "Europe", False, None, "in_progress", 103),  # started, not partial
        (4, 3, "civil_society", "Europe", False, None, None, None),
        (5, 4, "un", "Global", False, "bounced", None, None),
        (6, 5, "un", "Global", False, None, "submitted", 106),
        (7, 5, "un", "Global", False, None, None, None),
        (8, 6, "civil_society", "Europe", False, "duplicate", "submitted", 108),  # ineligible: not counted
    ],
    columns=["invitation_id", "organisation_id", "category", "region", "pathfinder", "ineligible", "response_status",
             "response_id"],
)  # fmt: skip
PARTIAL = pd.Series({102: True, 103: False})


def test_response_rates_overall():
    row = response_rates(INVITATIONS, PARTIAL).iloc[0]
    # E = 8 invited - 2 ineligible = 6; complete 2 (1, 6); partial 1 (2)
    assert (row["invited"], row["ineligible"], row["eligible"], row["complete"], row["partial"]) == (
        8,
        2,
        6,
        2,
        1,
    )
    assert row["started"] == 4
    assert row["completion_rate"] == pytest.approx(2 / 6)
    assert row["inclusive_rate"] == pytest.approx(3 / 6)
    # organisations invited 1-6 = 6; with at least one complete: 1 and 5
    assert (row["organisations"], row["organisations_complete"]) == (6, 2)
    assert row["organisational_rate"] == pytest.approx(2 / 6)


def test_response_rates_by_category_and_without_partials():
    table = response_rates(INVITATIONS, PARTIAL, by="category").set_index("category")
    # government: E 2, complete 1, partial 1 -> 1/2 and 2/2; organisation 1 answered -> 1/1
    assert table.loc["government", ["completion_rate", "inclusive_rate", "organisational_rate"]].tolist() == [
        0.5,
        1,
        1,
    ]
    # civil society: 3 invited, 1 ineligible, E 2, nothing complete -> 0; organisations 2, 3, 6 -> 0/3
    assert table.loc["civil_society", ["eligible", "complete", "organisations"]].tolist() == [2, 0, 3]
    assert table.loc["civil_society", "completion_rate"] == 0
    # UN: E 2, complete 1 -> 1/2; organisations 4 and 5, 5 answered -> 1/2
    assert table.loc["un", ["completion_rate", "inclusive_rate", "organisational_rate"]].tolist() == [
        0.5,
        0.5,
        0.5,
    ]
    assert response_rates(INVITATIONS).iloc[0]["inclusive_rate"] == pytest.approx(2 / 6)
    assert response_rates(INVITATIONS, [102]).iloc[0]["partial"] == 1


def test_response_rates_by_region_and_pathfinder():
    by_region = response_rates(INVITATIONS, PARTIAL, by="region").set_index("region")
    assert list(by_region.index) == ["Africa", "Europe", "Global"]
    assert by_region.loc["Africa", "inclusive_rate"] == 1.0
    by_pathfinder = breakdowns(response_rates, INVITATIONS, PARTIAL, dimensions=["pathfinder"])
    assert by_pathfinder[["breakdown", "group", "eligible"]].values.tolist() == [
        ["all", "all", 6], ["pathfinder", False, 4], ["pathfinder", True, 2],
    ]  # fmt: skip


def test_partial_responses_on_the_default_survey():
    # profile = first page; items = the 9 questions of the three grids on the services page; the 3 satisfaction
    # rows are conditional, so each counts as shown only when answered
    d = default_like_survey()
    uses = [(f"use_{s}", "used_regularly") for s in ("website", "newsletter", "events")]
    answers = answers_frame(
        # A: profile + 3 use + 1 importance = 4 of 6 shown (>= 3) -> partial
        (1, "category", "un"), *[(1, q, v) for q, v in uses], (1, "imp_website", "4"),
        # B: profile + 2 use = 2 of 6 -> not partial
        (2, "category", "un"), *[(2, q, v) for q, v in uses[:2]],
        # C: everything but the profile -> not partial
        *[(3, q, v) for q, v in uses], *[(3, f"imp_{s}", "3") for s in ("website", "newsletter", "events")],
        # D: profile + 1 use + 2 satisfaction: shown 6 + 2 = 8, answered 3 < 4 -> not partial
        (4, "category", "un"), (4, "use_website", "used_regularly"), (4, "sat_website", "4"),
        (4, "sat_events", "na"),
        # E: profile + 3 use + 1 satisfaction: shown 7, answered 4 >= 3.5 -> partial
        (5, "roadmap_stage", "workshop"), *[(5, q, v) for q, v in uses], (5, "sat_website", "5"),
    )  # fmt: skip
    partial = partial_responses(answers, d)
    assert partial.to_dict() == {1: True, 2: False, 3: False, 4: False, 5: True}


def test_partial_responses_on_another_survey_use_all_likert_items():
    # no services page: the profile is the first page and the items are every Likert item (q1, q2, q3, q4)
    other = survey(
        page("about", question("role", "text")),
        page("opinions", likert("q1"), likert("q2")),
        page("more", grid("g", likert("q3"), likert("q4"))),
    )
    answers = answers_frame(
        (1, "role", "chair"), (1, "q1", "3"), (1, "q4", "na"),  # 2 of 4 -> partial (NA is an answer)
        (2, "role", "chair"), (2, "q1", "3"),  # 1 of 4 -> not partial
        (3, "q1", "1"), (3, "q2", "1"), (3, "q3", "1"),  # no profile answer -> not partial
    )  # fmt: skip
    assert partial_responses(answers, other).to_dict() == {1: True, 2: False, 3: False}
    assert partial_responses(answers, other, items=["q1"], share=1).to_dict() == {1: True, 2: True, 3: False}


# -- change since the previous round ---------------------------------------------------------------------------------


def test_compare_rounds_uses_newcombe_and_never_compares_suppressed_cells():
    previous = pd.DataFrame(
        {
            "question": ["q1", "q2"],
            "n": [80, 40],
            "n_eff": [80.0, 40.0],
            "t2b": [48 / 80, 0.5],
            "mean": [3.5, 3.0],
        }
    )
    current = pd.DataFrame(
        {
            "question": ["q1", "q2"],
            "n": [70, 4],
            "n_eff": [70.0, 4.0],
            "t2b": [56 / 70, 0.75],
            "mean": [3.9, 3.5],
        }
    )
    table = compare_rounds(current, previous).set_index("question")
    # q1: 56/70 now against 48/80 before: Newcombe's example, +0.2 (0.0524 to 0.3339); mean 3.9 - 3.5 = 0.4
    assert table.loc["q1", "t2b_change"] == pytest.approx(0.2)
    assert table.loc["q1", "t2b_change_low"] == pytest.approx(0.0524, abs=5e-5)
    assert table.loc["q1", "t2b_change_high"] == pytest.approx(0.3339, abs=5e-5)
    assert table.loc["q1", "mean_change"] == pytest.approx(0.4)
    assert not table.loc["q1", "suppressed"]
    # q2: n = 4 this round is a suppressed cell: no change is shown
    assert table.loc["q2", "suppressed"]
    assert table.loc["q2", ["t2b_change", "t2b_change_low", "t2b_change_high", "mean_change"]].isna().all()


def test_compare_rounds_takes_likert_summaries():
    before = likert_summary(LIKERT_ANSWERS, SAT, ["sat_website"])
    after = likert_summary(answers_frame(*[(r, "sat_website", "5") for r in range(6)]), SAT, ["sat_website"])
    row = compare_rounds(after, before).iloc[0]
    # T2B 6/6 now against 3/6: +0.5; mean 5 - 19/6
    assert row["t2b_change"] == 0.5
    assert row["t2b_change_low"] < 0.5 < row["t2b_change_high"]
    assert row["mean_change"] == pytest.approx(5 - 19 / 6)


def test_rankings_and_choices_with_no_answer_to_them_give_empty_counts():
    # A round where nobody has reached the ranking yet: every option is listed with n = 0, nothing raises.
    definition = default_like_survey()
    # (an empty stored value, as a rank cleared by the partner, splits into no option at all)
    only_nps = pd.DataFrame({"response_id": [1, 2, 2], "question": ["recommend", "recommend", "priorities"],
                             "value": ["9", "3", ""]})
    ranks = ranking_summary(only_nps, definition)
    assert ranks["option"].tolist() == ["website", "newsletter", "events"]
    assert ranks["first"].tolist() == [0, 0, 0]
    assert ranks["first_pct"].isna().all()
    choices = choice_frequencies(only_nps, definition)
    assert len(choices) == 4 and choices["count"].tolist() == [0, 0, 0, 0]


def test_a_survey_without_rankings_gives_an_empty_ranking_table():
    # The report asks every survey for its rankings; a form with none must give an empty table, not a merge error.
    definition = survey(page("p", grid("satisfaction", likert("sat_web"))))
    answers = pd.DataFrame({"response_id": [1], "question": ["sat_web"], "value": ["4"]})
    assert ranking_summary(answers, definition).empty
