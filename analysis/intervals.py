"""Confidence intervals of the collective analysis: Wilson for a proportion, Newcombe for the difference of two, and
the percentile bootstrap over respondents for means and NPS (DOMAIN.md, "The collective analysis").

Bootstrap intervals are percentile intervals over respondents, 2,000 resamples, a fixed seed. A resample of n
respondents is drawn as multinomial counts over the respondents pooled by (value, weight): every statistic here
depends only on the weighted distribution of values, so this is the same distribution as resampling row indices, at
a cost that does not grow with n.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

Z = 1.96
RESAMPLES = 2000
SEED = 87  # fixed so that a report rebuilt from the same answers shows the same intervals


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


def bootstrap_column(
    out: pd.DataFrame, scored: pd.DataFrame, keys, statistic, resamples, seed, min_n=0
) -> None:
    """Fill ``<statistic>_low``/``_high`` of ``out`` from the valid scores, one percentile bootstrap per row.

    ``scored`` holds one valid answer per row: the group columns ``keys``, ``question``, ``score`` and its weight ``w``.

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
