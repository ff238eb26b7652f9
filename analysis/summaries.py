"""The summaries of the collective analysis (DOMAIN.md, "The collective analysis: methods the Secretariat needs").

Likert summaries with Wilson intervals and NA%, the service funnel, importance vs satisfaction with Martilla-James
quadrants, NPS with a bootstrap interval, rankings, multiple-choice frequencies, breakdowns by category, region and
Pathfinder status, and the change since an earlier round (Newcombe). The intervals themselves are in
analysis.intervals; response rates, partial responses and the organisation weights in analysis.rates.

Conventions shared by every summary:

- ``answers`` is the tidy frame (response_id, question, value); an empty value is not an answer. Hidden questions
  are absent from it, so "shown" means "answered", NA codes included.
- ``respondents``, when given, decides who is analysed (answers of other responses are left out) and supplies the
  group columns named in ``by`` (None, a column name or a list of them; they come first in the output, and a
  respondent with no value for a group column is left out of that breakdown) and the organisation of each response.
- ``weights``: None (a census: unweighted, the default), ``"organisation"`` (each respondent weighs 1/k, k the number
  of respondents in ``respondents`` from the same organisation) or a Series of weights indexed by response_id.
  Weights apply to means, medians, proportions, NA% and NPS; the counts (n, na, shown, ...) stay unweighted because
  they are the bases that suppression and the low-base flag look at. Wilson intervals on a weighted proportion use
  Kish's effective base n_eff = (sum w)^2 / sum w^2, which is n itself when unweighted.
- Proportions are fractions from 0 to 1, ``na_pct`` and the other ``*_pct`` columns too (the report formats them as
  percentages); NPS is on its own -100..+100 scale.
- The median is the ordinary median of the scores, so with an even n it can fall halfway between two scores and
  shows as x.5 (e.g. 3.5 when half the answers are 1-3 and half are 4-5). With weights it is the weighted median:
  the lowest score whose cumulative weight reaches half the total, averaged with the next score when it reaches
  exactly half.
- Bootstrap intervals (means, NPS) are percentile intervals over respondents, 2,000 resamples, a fixed seed (see
  analysis.intervals).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from analysis.intervals import RESAMPLES, SEED, Z, bootstrap_column, newcombe_difference, wilson_interval
from analysis.items import LIKERT_CODES, NOT_AWARE, ServicePair, choice_codes, discover_items, is_used
from analysis.rates import By, group_columns, organisation_weights
from analysis.suppression import MIN_CELL, is_low_base
from surveys.definition import SurveyDefinition

BREAKDOWNS = ("category", "region", "pathfinder")
LOW_RELEVANCE_ABOVE = 0.5
RANK_POINTS = {1: 3, 2: 2, 3: 1}
RANKING_COLUMNS = (
    "question",
    "option",
    "n",
    "points_mean",
    "first",
    "first_pct",
    "top3",
    "top3_pct",
    "low_base",
)
CONCENTRATE = "Concentrate here"
KEEP_UP = "Keep up the good work"
LOW_PRIORITY = "Low priority"
OVERKILL = "Possible overkill"

Weights = str | pd.Series | None


def likert_summary(
    answers: pd.DataFrame,
    definition: SurveyDefinition,
    questions: Iterable[str] | None = None,
    *,
    respondents: pd.DataFrame | None = None,
    by: By = None,
    weights: Weights = None,
    z: float = Z,
    mean_ci: bool = True,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    min_n: int = 0,
) -> pd.DataFrame:
    """Per Likert item (and group): n, mean with bootstrap CI, median, T2B with Wilson CI, B2B, net and NA%.

    Codes "1".."5" are valid answers; any other code of the item is an NA code. Rows with n below ``min_n`` get no
    bootstrap interval (the report passes its suppression threshold: those cells are never shown). Columns: the ``by`` columns,
    question, n, mean, mean_low, mean_high, median, t2b, t2b_low, t2b_high, b2b, net, na, shown, na_pct,
    low_relevance (na_pct > 50 %), low_base (5 <= n < 30), n_eff, n_1 .. n_5 (counts per score).
    """
    names = _names(questions, lambda: discover_items(definition).likert_names())
    a, keys = _frame(answers, names, respondents, by, weights)
    score = _likert_scores(a["value"])
    flags = {f"s{s}": score == s for s in range(1, 6)}
    flags["valid"] = score > 0
    flags["na"] = score == 0
    t = _tally(a, keys, names, flags)
    w_scores = t[[f"w_s{s}" for s in range(1, 6)]].to_numpy()
    n_valid = t["valid"].to_numpy()
    w_valid = t["w_valid"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame(index=t.index)
        out["n"] = n_valid
        out["mean"] = w_scores @ np.arange(1, 6) / w_valid
        out["mean_low"], out["mean_high"] = np.nan, np.nan
        out["median"] = _weighted_median(w_scores)
        out["t2b"] = (t["w_s4"] + t["w_s5"]) / w_valid
        n_eff = w_valid**2 / t["w2_valid"].to_numpy()
        out["t2b_low"], out["t2b_high"] = wilson_interval(out["t2b"].to_numpy() * n_eff, n_eff, z)
        out["b2b"] = (t["w_s1"] + t["w_s2"]) / w_valid
        out["net"] = out["t2b"] - out["b2b"]
        out["na"] = t["na"]
        out["shown"] = t["n"]
        out["na_pct"] = t["w_na"] / t["w"]
    out["low_relevance"] = out["na_pct"] > LOW_RELEVANCE_ABOVE
    out["low_base"] = is_low_base(out["n"])
    out["n_eff"] = np.nan_to_num(n_eff)
    for s in range(1, 6):
        out[f"n_{s}"] = t[f"s{s}"]
    if mean_ci:
        bootstrap_column(out, a.assign(score=score)[score > 0], keys, "mean", resamples, seed, min_n)
    return out.reset_index()


def service_funnel(
    answers: pd.DataFrame,
    definition: SurveyDefinition,
    questions: Iterable[str] | None = None,
    *,
    respondents: pd.DataFrame | None = None,
    by: By = None,
    weights: Weights = None,
) -> pd.DataFrame:
    """Per service of the use grid: shown, aware (any answer but not_aware), used (used / used_*), and shares.

    Columns: the ``by`` columns, question, service, shown, aware, used, aware_pct (of shown), used_pct (of shown),
    used_of_aware_pct (of aware), low_base (on shown).
    """
    items = discover_items(definition)
    names = _names(questions, items.service_use_names)
    a, keys = _frame(answers, names, respondents, by, weights)
    used_codes = {c for n in names if (q := definition.question(n)) for c in q.choice_names() if is_used(c)}
    t = _tally(a, keys, names, {"aware": a["value"] != NOT_AWARE, "used": a["value"].isin(list(used_codes))})
    out = pd.DataFrame(index=t.index)
    out["service"] = [items.services.get(q, q) for q in t.index.get_level_values("question")]
    out["shown"] = t["n"]
    out["aware"] = t["aware"]
    out["used"] = t["used"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["aware_pct"] = t["w_aware"] / t["w"]
        out["used_pct"] = t["w_used"] / t["w"]
        out["used_of_aware_pct"] = t["w_used"] / t["w_aware"]
    out["low_base"] = is_low_base(out["shown"])
    return out.reset_index()


def importance_satisfaction(
    answers: pd.DataFrame,
    definition: SurveyDefinition,
    pairs: Sequence[ServicePair] | None = None,
    *,
    respondents: pd.DataFrame | None = None,
    by: By = None,
    weights: Weights = None,
) -> pd.DataFrame:
    """Per service: mean importance and satisfaction, the paired gap, T2B gap and the Martilla-James quadrant.

    importance_mean and satisfaction_mean are over every valid rating of each; gap is the mean of (importance -
    satisfaction) over the n_paired respondents who rated both (positive = under-performance); t2b_gap =
    importance_t2b - satisfaction_t2b. The cross-hairs are the grand means across services (the plain mean of the
    service means, within each group); a service on a cross-hair counts as high. Columns: the ``by`` columns,
    service, importance, satisfaction, importance_n, importance_mean, satisfaction_n, satisfaction_mean, n_paired,
    gap, importance_t2b, satisfaction_t2b, t2b_gap, importance_grand_mean, satisfaction_grand_mean, quadrant.
    """
    pairs = list(pairs) if pairs is not None else discover_items(definition).pairs
    keys = group_columns(by)
    columns = [
        *keys, "service", "importance", "satisfaction", "importance_n", "importance_mean", "satisfaction_n",
        "satisfaction_mean", "n_paired", "gap", "importance_t2b", "satisfaction_t2b", "t2b_gap",
        "importance_grand_mean", "satisfaction_grand_mean", "quadrant",
    ]  # fmt: skip
    if not pairs:
        return pd.DataFrame(columns=columns)
    pair_frame = pd.DataFrame(
        [(p.service, p.importance, p.satisfaction) for p in pairs], columns=columns[len(keys) : len(keys) + 3]
    )
    names = [*pair_frame["importance"], *pair_frame["satisfaction"]]
    summary = likert_summary(
        answers, definition, names, respondents=respondents, by=by, weights=weights, mean_ci=False
    )[[*keys, "question", "n", "mean", "t2b"]]
    table = pair_frame
    if keys:
        groups = summary[keys].drop_duplicates()
        table = groups.merge(pair_frame, how="cross")
    for role in ("importance", "satisfaction"):
        side = summary.rename(
            columns={"question": role, "n": f"{role}_n", "mean": f"{role}_mean", "t2b": f"{role}_t2b"}
        )
        table = table.merge(side, on=[*keys, role], how="left")

    a, _ = _frame(answers, names, respondents, by, weights)
    a = a.assign(score=_likert_scores(a["value"]))
    a = a[a["score"] > 0]
    service_of = {
        **dict(zip(pair_frame["importance"], pair_frame["service"])),
        **dict(zip(pair_frame["satisfaction"], pair_frame["service"])),
    }
    a = a.assign(service=a["question"].astype(str).map(service_of))
    importance = a[a["question"].isin(list(pair_frame["importance"]))]
    satisfaction = a[a["question"].isin(list(pair_frame["satisfaction"]))]
    paired = importance.merge(
        satisfaction[["response_id", "service", "score"]],
        on=["response_id", "service"],
        suffixes=("", "_sat"),
    )
    paired = paired.assign(wgap=paired["w"] * (paired["score"] - paired["score_sat"]))
    gaps = paired.groupby([*keys, "service"], observed=True).agg(
        n_paired=("w", "size"), w=("w", "sum"), wgap=("wgap", "sum")
    )
    gaps["gap"] = gaps["wgap"] / gaps["w"]
    table = table.merge(gaps[["n_paired", "gap"]].reset_index(), on=[*keys, "service"], how="left")
    table["n_paired"] = table["n_paired"].fillna(0).astype(int)
    for role in ("importance", "satisfaction"):
        table[f"{role}_n"] = table[f"{role}_n"].fillna(0).astype(int)
    table["t2b_gap"] = table["importance_t2b"] - table["satisfaction_t2b"]
    for role in ("importance", "satisfaction"):
        mean = table[f"{role}_mean"]
        table[f"{role}_grand_mean"] = (
            mean.groupby([table[k] for k in keys]).transform("mean") if keys else mean.mean()
        )
    table["quadrant"] = _quadrants(table)
    return table[columns]


def _quadrants(table: pd.DataFrame) -> pd.Series:
    high_importance = table["importance_mean"] >= table["importance_grand_mean"]
    high_satisfaction = table["satisfaction_mean"] >= table["satisfaction_grand_mean"]
    quadrant = np.select(
        [
            high_importance & ~high_satisfaction,
            high_importance & high_satisfaction,
            ~high_importance & ~high_satisfaction,
        ],
        [CONCENTRATE, KEEP_UP, LOW_PRIORITY],
        OVERKILL,
    )
    rated = table["importance_mean"].notna() & table["satisfaction_mean"].notna()
    return pd.Series(quadrant, index=table.index, dtype=object).where(rated, None)


def nps_summary(
    answers: pd.DataFrame,
    definition: SurveyDefinition,
    questions: Iterable[str] | None = None,
    *,
    respondents: pd.DataFrame | None = None,
    by: By = None,
    weights: Weights = None,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    min_n: int = 0,
) -> pd.DataFrame:
    """NPS = % scoring 9-10 minus % scoring 0-6 (-100..+100), with a bootstrap 95 % interval.

    Columns: the ``by`` columns, question, n, promoters, passives, detractors (counts), nps, nps_low, nps_high,
    low_base. Rows with n below ``min_n`` get no interval.
    """
    names = _names(questions, lambda: discover_items(definition).nps)
    a, keys = _frame(answers, names, respondents, by, weights)
    score = pd.to_numeric(a["value"], errors="coerce")
    valid = score.between(0, 10)
    flags = {
        "valid": valid,
        "promoters": score >= 9,
        "passives": (score >= 7) & (score < 9),
        "detractors": valid & (score <= 6),
    }
    t = _tally(a, keys, names, flags)
    out = pd.DataFrame(index=t.index)
    out["n"] = t["valid"]
    out["promoters"] = t["promoters"]
    out["passives"] = t["passives"]
    out["detractors"] = t["detractors"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["nps"] = 100 * (t["w_promoters"] - t["w_detractors"]) / t["w_valid"]
    out["nps_low"], out["nps_high"] = np.nan, np.nan
    out["low_base"] = is_low_base(out["n"])
    bootstrap_column(out, a.assign(score=score)[valid.to_numpy()], keys, "nps", resamples, seed, min_n)
    return out.reset_index()


def ranking_summary(
    answers: pd.DataFrame,
    definition: SurveyDefinition,
    questions: Iterable[str] | None = None,
    *,
    respondents: pd.DataFrame | None = None,
    by: By = None,
    weights: Weights = None,
) -> pd.DataFrame:
    """Per option of each rank question: mean points (3/2/1 for ranks 1/2/3), % ranked first, % in the top 3.

    Bases are the respondents who answered the rank question (an option they did not rank scores 0). Columns: the
    ``by`` columns, question, option, n, points_mean, first, first_pct, top3, top3_pct, low_base.
    """
    names = _names(questions, lambda: discover_items(definition).rankings)
    a, keys = _frame(answers, names, respondents, by, weights)
    ticks = _ticks(a)
    rank = (ticks.groupby(level=0).cumcount() + 1).to_numpy()
    w = ticks["w"].to_numpy()
    ticks = ticks.assign(
        first=rank == 1,
        top3=rank <= 3,
        w_points=w * pd.Series(rank).map(RANK_POINTS).fillna(0).to_numpy(),
        w_first=w * (rank == 1),
        w_top3=w * (rank <= 3),
    )
    sums = ticks.groupby([*keys, "question", "option"], observed=True)[
        ["first", "top3", "w_points", "w_first", "w_top3"]
    ].sum()
    out = _per_option(a, keys, names, sums, definition)
    out["points_mean"] = out["w_points"] / out["w"]
    out["first_pct"] = out["w_first"] / out["w"]
    out["top3_pct"] = out["w_top3"] / out["w"]
    out = out.astype({"first": int, "top3": int})
    out["low_base"] = is_low_base(out["n"])
    return out[[*keys, *RANKING_COLUMNS]]


def choice_frequencies(
    answers: pd.DataFrame,
    definition: SurveyDefinition,
    questions: Iterable[str] | None = None,
    *,
    respondents: pd.DataFrame | None = None,
    by: By = None,
    weights: Weights = None,
    z: float = Z,
) -> pd.DataFrame:
    """Per option: the share of respondents who answered the question that chose it (respondents, not ticks).

    Works for select_multiple (the default: every multiple-choice question) and select_one; ``other`` is an option
    like any other. Columns: the ``by`` columns, question, option, n (answered the question), count, pct, pct_low,
    pct_high (Wilson), low_base.
    """
    names = _names(questions, lambda: discover_items(definition).multiple_choice)
    a, keys = _frame(answers, names, respondents, by, weights)
    ticks = _ticks(a)
    sums = ticks.assign(count=1).groupby([*keys, "question", "option"], observed=True)[["count", "w"]].sum()
    sums = sums.rename(columns={"w": "w_count"})
    out = _per_option(a, keys, names, sums, definition)
    out["count"] = out["count"].astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["pct"] = out["w_count"] / out["w"]
        n_eff = out["w"] ** 2 / out["w2"]
    out["pct_low"], out["pct_high"] = wilson_interval(
        out["pct"].to_numpy() * n_eff.to_numpy(), n_eff.to_numpy(), z
    )
    out["low_base"] = is_low_base(out["n"])
    return out[[*keys, "question", "option", "n", "count", "pct", "pct_low", "pct_high", "low_base"]]


def compare_rounds(
    current: pd.DataFrame,
    previous: pd.DataFrame,
    on: str | Sequence[str] = "question",
    *,
    threshold: int = MIN_CELL,
    z: float = Z,
) -> pd.DataFrame:
    """Change in T2B (Newcombe interval) and in mean between two ``likert_summary`` tables, current - previous.

    Descriptive only. A cell suppressed in either round (n < threshold) gets no change and no interval: its
    ``suppressed`` flag is True. Columns: the ``on`` columns, n_previous, n_current, t2b_previous, t2b_current,
    t2b_change, t2b_change_low, t2b_change_high, mean_previous, mean_current, mean_change, suppressed.
    """
    keys = group_columns(on)
    wanted = [*keys, "n", "n_eff", "t2b", "mean"]
    table = previous[wanted].merge(current[wanted], on=keys, suffixes=("_previous", "_current"))
    change, low, high = newcombe_difference(
        table["t2b_current"].to_numpy() * table["n_eff_current"].to_numpy(),
        table["n_eff_current"].to_numpy(),
        table["t2b_previous"].to_numpy() * table["n_eff_previous"].to_numpy(),
        table["n_eff_previous"].to_numpy(),
        z,
    )
    suppressed = ((table["n_current"] < threshold) | (table["n_previous"] < threshold)).to_numpy()
    table["t2b_change"] = np.where(suppressed, np.nan, change)
    table["t2b_change_low"] = np.where(suppressed, np.nan, low)
    table["t2b_change_high"] = np.where(suppressed, np.nan, high)
    table["mean_change"] = np.where(suppressed, np.nan, table["mean_current"] - table["mean_previous"])
    table["suppressed"] = suppressed
    return table[
        [*keys, "n_previous", "n_current", "t2b_previous", "t2b_current", "t2b_change", "t2b_change_low",
         "t2b_change_high", "mean_previous", "mean_current", "mean_change", "suppressed"]
    ]  # fmt: skip


def breakdowns(
    summary: Callable[..., pd.DataFrame], *args, dimensions: Sequence[str] = BREAKDOWNS, **kwargs
) -> pd.DataFrame:
    """One summary overall and by each dimension, stacked: columns breakdown ("all" or the dimension), group, ...

    ``summary`` is any function that takes ``by=`` (likert_summary, nps_summary, rates.response_rates, ...); the
    other arguments are passed on to it.
    """
    frames = [summary(*args, **kwargs).assign(group="all")]
    frames += [
        summary(*args, by=d, **kwargs).rename(columns={d: "group"}).assign(breakdown=d) for d in dimensions
    ]
    stacked = pd.concat([f.astype({"group": object}) for f in frames], ignore_index=True)
    stacked["breakdown"] = stacked["breakdown"].fillna("all")
    return stacked[["breakdown", "group", *[c for c in stacked.columns if c not in ("breakdown", "group")]]]


# -- shared machinery ------------------------------------------------------------------------------------------------


def _names(questions, default: Callable[[], list[str]]) -> list[str]:
    return list(dict.fromkeys(questions)) if questions is not None else default()


def _weights(weights: Weights, respondents: pd.DataFrame | None) -> pd.Series | None:
    if weights is None or isinstance(weights, pd.Series):
        return weights
    if weights == "organisation":
        if respondents is None:
            raise ValueError('weights="organisation" needs respondents')
        return organisation_weights(respondents)
    raise ValueError(f"unknown weights: {weights!r}")


def _frame(answers, names, respondents, by, weights) -> tuple[pd.DataFrame, list[str]]:
    """The answers to ``names`` with their group columns, a weight ``w`` and ``question`` as an ordered category."""
    keys = group_columns(by)
    a = answers.loc[answers["question"].isin(names), ["response_id", "question", "value"]]
    question = a["question"]
    # A categorical question (as load_round gives it) is recoded on its categories, not converted row by row.
    question = (
        question.cat.set_categories(names)
        if isinstance(question.dtype, pd.CategoricalDtype)
        else pd.Categorical(question.astype(str), categories=names)
    )
    a = a.assign(question=question, value=a["value"].astype(str))
    a = a[a["value"].fillna("") != ""]
    if respondents is not None:
        a = a[a["response_id"].isin(respondents["response_id"])]
        info = respondents.set_index("response_id")
        a = a.assign(**{key: a["response_id"].map(info[key]) for key in keys})
    elif keys:
        raise ValueError("a breakdown (by=) needs respondents")
    w = _weights(weights, respondents)
    a = a.assign(w=1.0 if w is None else a["response_id"].map(w).astype(float))
    if a["w"].isna().any():
        raise ValueError("some answers have no weight")
    return a.dropna(subset=keys).reset_index(drop=True), keys


def _tally(a: pd.DataFrame, keys: list[str], names: list[str], flags: dict[str, object]) -> pd.DataFrame:
    """Per group and question: n, w, w2 over all answers, and f, w_f, w2_f for each flag f (a boolean per answer)."""
    grouped = a.groupby([a[k] for k in keys] + [a["question"]], observed=True, sort=True)
    index = grouped.size().index
    codes = grouped.ngroup().to_numpy()
    w = a["w"].to_numpy(dtype=float)

    def sums(weights=None, where=None):
        c, v = (
            (codes, weights) if where is None else (codes[where], None if weights is None else weights[where])
        )
        total = np.bincount(c, weights=v, minlength=len(index))
        return total.astype(int) if weights is None else total

    columns = {"n": sums(), "w": sums(w), "w2": sums(w * w)}
    for name, flag in flags.items():
        flag = np.asarray(flag, dtype=bool)
        columns[name] = sums(where=flag)
        columns[f"w_{name}"] = sums(w, flag)
        columns[f"w2_{name}"] = sums(w * w, flag)
    t = pd.DataFrame(columns, index=index)
    if not keys:
        t = t.reindex(pd.CategoricalIndex(names, categories=names, name="question"), fill_value=0)
    t.index = t.index.set_levels(t.index.levels[-1].astype(str), level=-1) if keys else t.index.astype(str)
    return t


def _likert_scores(values: pd.Series) -> np.ndarray:
    """1..5 for the codes "1".."5", 0 for any other (NA) code."""
    return pd.Index(LIKERT_CODES).get_indexer(values.astype(str)) + 1


def _weighted_median(w_scores: np.ndarray) -> np.ndarray:
    """Median score per row of weights for the scores 1, 2, ... (see the module docstring)."""
    total = w_scores.sum(axis=1)
    cumulative = w_scores.cumsum(axis=1)
    half = total / 2
    rows = np.arange(len(w_scores))
    tolerance = 1e-9 * np.maximum(total, 1)
    j = np.argmax(cumulative >= (half - tolerance)[:, None], axis=1)
    at_half = np.abs(cumulative[rows, j] - half) <= tolerance
    after = (w_scores > 0) & (np.arange(w_scores.shape[1]) > j[:, None])
    k = np.argmax(after, axis=1)
    median = np.where(at_half & after.any(axis=1), (j + k + 2) / 2, j + 1.0)
    return np.where(total > 0, median, np.nan)


def _ticks(a: pd.DataFrame) -> pd.DataFrame:
    """One row per (answer, code) of space-separated values, in the order given, each code once per answer."""
    codes, distinct = pd.factorize(a["value"].astype(str))
    # Each distinct value is split once (a round repeats the same few thousand answers to choice questions).
    split = [list(dict.fromkeys(value.split())) for value in distinct.tolist()]
    lengths = np.array([len(options) for options in split], dtype=np.int64)
    options = np.array([option for parts in split for option in parts], dtype=object)
    starts = np.cumsum(lengths) - lengths
    per_row = lengths[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    rows = np.repeat(np.arange(len(a)), per_row)
    within = np.arange(per_row.sum()) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    ticks = a.iloc[rows].assign(
        option=options[np.repeat(starts[codes], per_row) + within] if len(rows) else np.array([], dtype=object)
    )
    if a.duplicated(subset=["response_id", "question"]).any():  # the same question twice in one response
        ticks = ticks[~ticks.duplicated(subset=["response_id", "question", "option"])]
    return ticks


def _per_option(a, keys, names, sums: pd.DataFrame, definition: SurveyDefinition) -> pd.DataFrame:
    """Every option of each question (the definition's codes, then any others seen) for every group that answered."""
    totals = _tally(a, keys, names, {}).reset_index()
    listed = [
        (name, code)
        for name in names
        if (q := definition.question(name)) is not None
        for code in choice_codes(q)
    ]
    seen = [(q, o) for q, o in sums.reset_index()[["question", "option"]].astype(str).itertuples(index=False)]
    options = pd.DataFrame(list(dict.fromkeys(listed + seen)), columns=["question", "option"])
    table = totals.merge(options, on="question").merge(
        sums.reset_index().astype({"question": str, "option": str}), on=[*keys, "question", "option"], how="left"
    )
    filled = [c for c in sums.columns]
    table[filled] = table[filled].fillna(0)
    return table
