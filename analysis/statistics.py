"""The statistics of the collective analysis (DOMAIN.md, "The collective analysis: methods the Secretariat needs").

Response rates, Likert summaries with Wilson intervals and NA%, the service funnel, importance vs satisfaction with
Martilla-James quadrants, NPS with a bootstrap interval, rankings, multiple-choice frequencies, 1/k organisation
weights, breakdowns by category, region and Pathfinder status, and the change since an earlier round (Newcombe).

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
- Bootstrap intervals (means, NPS) are percentile intervals over respondents, 2,000 resamples, a fixed seed. A
  resample of n respondents is drawn as multinomial counts over the respondents pooled by (value, weight): every
  statistic here depends only on the weighted distribution of values, so this is the same distribution as
  resampling row indices, at a cost that does not grow with n.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from analysis.items import LIKERT_CODES, NOT_AWARE, ServicePair, choice_codes, discover_items, is_used
from analysis.suppression import MIN_CELL, is_low_base
from surveys.definition import SurveyDefinition

Z = 1.96
RESAMPLES = 2000
SEED = 87  # fixed so that a report rebuilt from the same answers shows the same intervals
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

By = str | Sequence[str] | None
Weights = str | pd.Series | None


# -- intervals -----------------------------------------------------------------------------------------------------


def wilson_interval(x, n, z: float = Z):
    """Wilson score interval for x successes out of n; (nan, nan) when n = 0. Works on scalars and arrays."""
    x_ = np.asarray(x, dtype=float)
    n_ = np.asarray(n, dtype=float)
    z2 = z * z
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = (x_ + z2 / 2) / (n_ + z2)
        half = z * np.sqrt(np.maximum(x_ * (n_ - x_) / n_, 0) + z2 / 4) / (n_ + z2)
    low = np.where(x_ <= 0, 0.0, np.clip(centre - half, 0, 1))
    high = np.where(x_ >= n_, 1.0, np.clip(centre + half, 0, 1))
    empty = ~(n_ > 0)
    low, high = np.where(empty, np.nan, low), np.where(empty, np.nan, high)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


def newcombe_difference(x1, n1, x2, n2, z: float = Z):
    """p1 - p2 with Newcombe's hybrid score interval (method 10 of Newcombe 1998): (difference, low, high)."""
    x1_, n1_, x2_, n2_ = (np.asarray(v, dtype=float) for v in (x1, n1, x2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = x1_ / n1_, x2_ / n2_
    l1, u1 = wilson_interval(x1_, n1_, z)
    l2, u2 = wilson_interval(x2_, n2_, z)
    difference = p1 - p2
    low = difference - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = difference + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    if np.ndim(difference) == 0:
        return float(difference), float(low), float(high)
    return difference, low, high


def mean_statistic(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean of each resample: weights[r, j] is the weight of values[j] in resample r."""
    return weights @ values / weights.sum(axis=1)


def nps_statistic(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """NPS (-100..+100) of each resample of 0-10 scores."""
    promoters = weights[:, values >= 9].sum(axis=1)
    detractors = weights[:, values <= 6].sum(axis=1)
    return 100 * (promoters - detractors) / weights.sum(axis=1)


STATISTICS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "mean": mean_statistic,
    "nps": nps_statistic,
}


def bootstrap_interval(
    values,
    statistic: str | Callable[[np.ndarray, np.ndarray], np.ndarray] = "mean",
    resamples: int = RESAMPLES,
    seed: int = SEED,
    weights=None,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval over respondents (one value per respondent; NaN values are left out).

    ``statistic`` is "mean", "nps" or a function (distinct values, weight matrix resamples x values) -> one estimate
    per resample, like ``mean_statistic``; it must depend on the weighted distribution of values only.
    """
    values = np.asarray(values, dtype=float)
    weights = np.ones_like(values) if weights is None else np.asarray(weights, dtype=float)
    keep = ~np.isnan(values)
    if not keep.any():
        return (np.nan, np.nan)
    pooled, counts = np.unique(np.column_stack([values[keep], weights[keep]]), axis=0, return_counts=True)
    return _pooled_interval(pooled[:, 0], pooled[:, 1], counts, statistic, resamples, seed, level)


def _pooled_interval(values, weights, counts, statistic, resamples, seed, level) -> tuple[float, float]:
    statistic = STATISTICS[statistic] if isinstance(statistic, str) else statistic
    n = int(counts.sum())
    draws = np.random.default_rng(seed).multinomial(n, counts / n, size=resamples)
    estimates = statistic(np.asarray(values, dtype=float), draws * np.asarray(weights, dtype=float))
    tail = (1 - level) / 2
    low, high = np.quantile(estimates, [tail, 1 - tail])
    return float(low), float(high)


# -- who answered ----------------------------------------------------------------------------------------------------


def organisation_weights(respondents: pd.DataFrame) -> pd.Series:
    """1/k per response, k the number of respondents from the same organisation (1 without an organisation)."""
    k = respondents.groupby("organisation_id")["response_id"].transform("size").fillna(1)
    return pd.Series(1.0 / k.to_numpy(), index=respondents["response_id"].to_numpy(), name="weight")


def partial_responses(
    answers: pd.DataFrame,
    definition: SurveyDefinition,
    *,
    profile_page: str | None = None,
    items: Sequence[str] | None = None,
    share: float = 0.5,
) -> pd.Series:
    """Which responses count as partial: answered the profile and at least ``share`` of the items shown to them.

    The profile is the first page (or ``profile_page``); answering it means at least one answer on it. The items are
    ``items`` if given, else the questions of the grids on the services page (the first page whose name contains
    "service" and holds a grid, as in the default survey), else every Likert item of the survey. An item counts as
    shown when it has no relevance condition of its own or of an enclosing group, or when it was answered: the
    answers cannot tell a conditional item that was skipped from one that was hidden. A response with no item shown
    is not partial. Returns a boolean Series indexed by response_id over every response in ``answers``; apply it
    to in-progress responses (``response_rates`` does).
    """
    page = definition.page(profile_page) if profile_page else definition.pages[0]
    profile = {q.name for q in page.questions() if q.answerable}
    names = list(items) if items is not None else _service_items(definition)
    conditional = {
        n
        for n in names
        if (q := definition.question(n)) is not None and (q.relevant is not None or q.conditions)
    }
    asked = answers[answers["question"].isin([*profile, *names])]
    answered = asked[asked["value"].fillna("") != ""]
    ids = pd.Index(answers["response_id"].unique())
    has_profile = ids.isin(answered.loc[answered["question"].isin(list(profile)), "response_id"])
    on_items = answered[answered["question"].isin(names)]
    n_answered = on_items.groupby("response_id").size().reindex(ids, fill_value=0)
    n_conditional = (
        on_items[on_items["question"].isin(list(conditional))]
        .groupby("response_id")
        .size()
        .reindex(ids, fill_value=0)
    )
    shown = len(names) - len(conditional) + n_conditional
    partial = has_profile & (shown > 0) & (n_answered >= share * shown)
    return pd.Series(partial.to_numpy(), index=ids, name="partial")


def _service_items(definition: SurveyDefinition) -> list[str]:
    for page in definition.pages:
        names = [q.name for q in page.questions() if q.grid and q.answerable]
        if "service" in page.name.lower() and names:
            return names
    return discover_items(definition).likert_names()


def response_rates(invitations: pd.DataFrame, partial=None, by: By = None) -> pd.DataFrame:
    """Completion, inclusive and organisational response rates, overall or per group of ``by``.

    Eligible = invited - ineligible. Complete = submitted (on an eligible invitation); partial = in progress and
    marked partial (``partial``: a boolean Series by response_id, as ``partial_responses`` returns, or a collection of
    response ids). completion_rate = complete / eligible; inclusive_rate = (complete + partial) / eligible;
    organisational_rate = organisations with at least one complete / organisations invited.
    """
    keys = _keys(by)
    if isinstance(partial, pd.Series):
        partial_ids = partial.index[partial.eq(True)]
    else:
        partial_ids = list(partial or [])
    ineligible = invitations["ineligible"].fillna("").astype(str) != ""
    status = invitations["response_status"]
    complete = ~ineligible & (status == "submitted")
    frame = pd.DataFrame(
        {
            "invited": 1,
            "ineligible": ineligible.astype(int),
            "eligible": (~ineligible).astype(int),
            "started": (~ineligible & status.notna()).astype(int),
            "complete": complete.astype(int),
            "partial": (
                ~ineligible & (status == "in_progress") & invitations["response_id"].isin(list(partial_ids))
            ).astype(int),
            "organisation_id": invitations["organisation_id"],
            "complete_organisation": invitations["organisation_id"].where(complete),
        }
    )
    for key in keys:
        frame[key] = invitations[key]
    grouped = frame.groupby(keys if keys else np.zeros(len(frame), dtype=int), observed=True, sort=True)
    table = grouped[["invited", "ineligible", "eligible", "started", "complete", "partial"]].sum()
    table["organisations"] = grouped["organisation_id"].nunique()
    table["organisations_complete"] = grouped["complete_organisation"].nunique()
    table["completion_rate"] = table["complete"] / table["eligible"].where(table["eligible"] > 0)
    table["inclusive_rate"] = (table["complete"] + table["partial"]) / table["eligible"].where(
        table["eligible"] > 0
    )
    table["organisational_rate"] = table["organisations_complete"] / table["organisations"]
    return table.reset_index() if keys else table.reset_index(drop=True)


# -- summaries -------------------------------------------------------------------------------------------------------


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
        _bootstrap_column(out, a.assign(score=score)[score > 0], keys, "mean", resamples, seed, min_n)
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
    keys = _keys(by)
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
    _bootstrap_column(out, a.assign(score=score)[valid.to_numpy()], keys, "nps", resamples, seed, min_n)
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
    keys = _keys(on)
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

    ``summary`` is any function here that takes ``by=`` (likert_summary, nps_summary, response_rates, ...); the other
    arguments are passed on to it.
    """
    frames = [summary(*args, **kwargs).assign(group="all")]
    frames += [
        summary(*args, by=d, **kwargs).rename(columns={d: "group"}).assign(breakdown=d) for d in dimensions
    ]
    stacked = pd.concat([f.astype({"group": object}) for f in frames], ignore_index=True)
    stacked["breakdown"] = stacked["breakdown"].fillna("all")
    return stacked[["breakdown", "group", *[c for c in stacked.columns if c not in ("breakdown", "group")]]]


# -- shared machinery ------------------------------------------------------------------------------------------------


def _keys(by) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


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
    keys = _keys(by)
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


def _bootstrap_column(
    out: pd.DataFrame, scored: pd.DataFrame, keys, statistic, resamples, seed, min_n=0
) -> None:
    """Fill ``<statistic>_low``/``_high`` of ``out`` from the valid scores, one percentile bootstrap per row.

    Rows with fewer than ``min_n`` valid answers are left NaN. Each row draws from a generator seeded afresh, so a
    row's interval does not depend on which other rows are computed with it.
    """
    if scored.empty:
        return
    group = [*keys, "question"]
    pooled = scored.groupby([*group, "score", "w"], observed=True).size().rename("count").reset_index()
    labels = pooled[group].astype({"question": str})
    rows_group = pooled.groupby(group, observed=True, sort=False).ngroup().to_numpy()  # sorted: runs of rows
    starts = np.flatnonzero(np.r_[True, rows_group[1:] != rows_group[:-1]])
    ends = np.r_[starts[1:], len(pooled)]
    scores, weights, counts = (pooled[c].to_numpy(float) for c in ("score", "w", "count"))
    statistic_of = STATISTICS[statistic] if isinstance(statistic, str) else statistic
    found, estimates = [], []
    for start, end in zip(starts, ends):
        n = int(counts[start:end].sum())
        if n < min_n:
            continue
        draws = np.random.default_rng(seed).multinomial(n, counts[start:end] / n, size=resamples)
        estimates.append(statistic_of(scores[start:end], draws * weights[start:end]))
        row = tuple(labels.iloc[start])
        found.append(row if keys else row[0])
    if not found:
        return
    tail = (1 - 0.95) / 2
    low, high = np.quantile(np.vstack(estimates), [tail, 1 - tail], axis=1)
    index = pd.MultiIndex.from_tuples(found, names=group) if keys else pd.Index(found)
    intervals = pd.DataFrame({"low": low, "high": high}, index=index).reindex(out.index)
    out[f"{statistic}_low"] = intervals["low"].to_numpy()
    out[f"{statistic}_high"] = intervals["high"].to_numpy()


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
