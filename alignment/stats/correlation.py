"""Rank correlation with a bootstrap interval, and split-half reliability of mean ratings.

Vectors have shape (n_items,) and NaN marks a missing value; reliability data has shape
(n_raters, n_units).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import pearsonr, rankdata

from .classification import finite_pairs
from .reliability import as_reliability_data, percentile_interval

_BLOCK_CELLS = 4_000_000  # resample rows drawn per block: bounds memory to a few arrays of this size


def rowwise_pearson(a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    """Pearson's r between matching rows of ``a`` and ``b``, shape (n_rows, n) -> (n_rows,).

    r = sum (a - ā)(b - b̄) / sqrt(sum (a - ā)² sum (b - b̄)²); NaN for a constant row.
    """
    a_arr, b_arr = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    da = a_arr - a_arr.mean(axis=-1, keepdims=True)  # a - ā
    db = b_arr - b_arr.mean(axis=-1, keepdims=True)  # b - b̄
    denominator = np.sqrt((da * da).sum(axis=-1) * (db * db).sum(axis=-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, (da * db).sum(axis=-1) / denominator, np.nan)


def correlation_of(x: NDArray[np.float64], y: NDArray[np.float64], method: str) -> float:
    """Spearman's or Pearson's r of paired, finite vectors; NaN below 3 pairs or for a constant vector."""
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    if method == "spearman":
        # What ``spearmanr(x, y)`` computes (Pearson's r of average ranks, by np.corrcoef), without its
        # checks: the same value to the last bit at a tenth of the cost; the ceiling calls it per rater.
        return float(np.corrcoef(np.vstack([rankdata(x), rankdata(y)]))[1, 0])
    if method == "pearson":
        return float(pearsonr(x, y).statistic)
    raise ValueError(f"method must be 'spearman' or 'pearson'; got {method!r}")


def spearman(x: ArrayLike, y: ArrayLike) -> float:
    """Spearman's rho (Pearson's r of average ranks); NaN pairs dropped; NaN if < 3 pairs or constant."""
    return correlation_of(*finite_pairs(x, y), "spearman")


def spearman_ci(x: ArrayLike, y: ArrayLike, n_boot: int = 1000, seed: int = 0, ci: float = 0.95) -> dict:
    """Spearman's rho with a percentile bootstrap interval over items.

    rho is Pearson's r between the average ranks of x and y (``scipy.stats.spearmanr``). Each
    resample draws n items with replacement (``numpy.random.default_rng(seed)``) and takes Pearson's
    r of its average ranks (as ``scipy.stats.rankdata``), all resamples at once: a resample is held
    as each item's count of copies, and ranked from one sort of x and y (no sort per resample).

    Args:
        x, y: shape (n_items,); pairs where either is NaN are dropped.
        n_boot: number of resamples.
        seed: seed of the generator; the same inputs give the same interval.
        ci: coverage of the interval.

    Returns:
        ``{"value": rho, "ci": (low, high), "n": pairs used, "n_boot": n_boot, "ci_level": ci}``;
        NaN value and interval with fewer than 3 pairs or a constant vector; resamples with a
        constant vector are left out of the interval.

    Reference: Efron & Tibshirani (1993), ch. 6 and 13.
    """
    x, y = finite_pairs(x, y)
    n = int(x.size)
    value = correlation_of(x, y, "spearman")
    if np.isnan(value):
        return {"value": value, "ci": (float("nan"), float("nan")), "n": n, "n_boot": n_boot, "ci_level": ci}
    rng = np.random.default_rng(seed)
    block = max(1, _BLOCK_CELLS // n)
    replicates = []
    x_ties, y_ties = _tie_groups(x), _tie_groups(y)
    for start in range(0, n_boot, block):
        rows = min(block, n_boot - start)
        index = rng.integers(0, n, size=(rows, n))
        counts = np.bincount((index + n * np.arange(rows)[:, None]).ravel(), minlength=rows * n).reshape(rows, n)
        replicates.append(_weighted_rank_pearson(counts, x_ties, y_ties))
    interval = percentile_interval(np.concatenate(replicates) if replicates else [], ci)
    return {"value": value, "ci": interval, "n": n, "n_boot": n_boot, "ci_level": ci}


def _tie_groups(v: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
    """(order, group starts in that order, group of each item): v's items sorted, and equal values
    grouped, once, so that ranking a resample needs no sort."""
    order = np.argsort(v, kind="stable")
    new_value = np.r_[True, v[order][1:] != v[order][:-1]]
    group = np.empty(v.size, dtype=np.intp)
    group[order] = np.cumsum(new_value) - 1
    return order, np.flatnonzero(new_value), group


def _resample_ranks(counts: NDArray[np.int64], ties: tuple) -> NDArray[np.float64]:
    """Average rank (as ``rankdata``) that each item's copies get in each resample, shape (rows, n):
    with c_g copies of tie group g drawn, a copy of g ranks sum(c below g) + (c_g + 1) / 2."""
    order, starts, group = ties
    per_group = counts[:, order]
    if starts.size < order.size:  # ties: one count per group of equal values
        per_group = np.add.reduceat(per_group, starts, axis=1)
    ranks = np.cumsum(per_group, axis=1, dtype=np.float64)
    ranks -= (per_group - 1) / 2  # copies below the group, plus the average of 1..c_g
    return ranks[:, group]


def _weighted_rank_pearson(counts: NDArray[np.int64], x_ties: tuple, y_ties: tuple) -> NDArray[np.float64]:
    """Spearman's rho of each resample, given as counts (rows, n) of each item's copies: Pearson's r
    of the copies' average ranks, each item weighted by its count. The mean rank of n copies is
    (n + 1) / 2 whatever the ties. Equal, up to rounding, to ``rowwise_pearson(rankdata(x[index],
    axis=1), rankdata(y[index], axis=1))`` on the resamples' index rows, without sorting each one."""
    centre = (counts.shape[1] + 1) / 2
    dx = _resample_ranks(counts, x_ties)
    dx -= centre
    dy = _resample_ranks(counts, y_ties)
    dy -= centre
    weighted = counts * dy
    sxy, syy = np.einsum("ij,ij->i", weighted, dx), np.einsum("ij,ij->i", weighted, dy)
    np.multiply(counts, dx, out=weighted)
    denominator = np.sqrt(np.einsum("ij,ij->i", weighted, dx) * syy)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, sxy / denominator, np.nan)


def spearman_brown(r: ArrayLike, factor: float = 2.0) -> NDArray[np.float64]:
    """Spearman–Brown prophecy: reliability of a test ``factor`` times as long, k r / (1 + (k - 1) r)."""
    r = np.asarray(r, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return factor * r / (1 + (factor - 1) * r)


def split_half_reliability(
    data: ArrayLike,
    n_splits: int = 100,
    seed: int = 0,
    method: Literal["spearman", "pearson"] = "spearman",
) -> dict:
    """Split-half reliability of mean ratings, Spearman–Brown corrected, averaged over random splits.

    In each split the raters of every unit are shuffled and dealt into two halves (the first
    floor(m_u / 2) to half A, the rest to B); the half means are correlated across units and the
    correlation r is corrected to full length, 2r / (1 + r). Only units with at least two ratings
    take part. This is the ceiling a model's correlation with the human mean can be read against.

    Args:
        data: reliability data, shape (n_raters, n_units), NaN = missing.
        n_splits: number of random splits.
        seed: seed of ``numpy.random.default_rng``.
        method: correlation of the half means, "spearman" (default) or "pearson".

    Returns:
        ``{"value": mean corrected r, "r_half": mean uncorrected r, "sd": sd of corrected r over
        splits, "n_splits": n_splits, "n_units": units used}``; NaN with fewer than 3 units.

    Reference: Spearman (1910) and Brown (1910), British Journal of Psychology 3.
    """
    data = as_reliability_data(data)
    present = ~np.isnan(data)
    used = present.sum(axis=0) >= 2
    data, present = data[:, used], present[:, used]
    n_units = data.shape[1]
    # The judged cells only, unit by unit (raters in order within a unit): a study where each
    # person judges a few of many artworks is mostly empty, and only its cells are shuffled.
    unit, rater = np.nonzero(present.T)
    values = data[rater, unit]
    m_u = np.bincount(unit, minlength=n_units)
    slot = np.arange(unit.size) - (np.cumsum(m_u) - m_u)[unit]  # the cell's place among its unit's cells
    half = (m_u // 2)[unit]
    packed = np.full((n_units, int(m_u.max(initial=0))), np.inf)  # units x most raters of a unit
    places = np.broadcast_to(np.arange(packed.shape[1]), packed.shape)
    shuffled = np.empty(packed.shape, dtype=np.intp)
    rng = np.random.default_rng(seed)
    r_half = np.full(n_splits, np.nan)
    for split in range(n_splits):
        packed[unit, slot] = rng.random(data.shape)[rater, unit]  # a key per cell: each unit's raters shuffled
        np.put_along_axis(shuffled, np.argsort(packed, axis=1), places, axis=1)  # the inverse permutation
        position = shuffled[unit, slot]  # place of each rater in the unit's shuffle
        in_a = position < half
        mean_a = np.bincount(unit[in_a], values[in_a], n_units) / np.bincount(unit[in_a], minlength=n_units)
        mean_b = np.bincount(unit[~in_a], values[~in_a], n_units) / np.bincount(unit[~in_a], minlength=n_units)
        r_half[split] = correlation_of(mean_a, mean_b, method)
    corrected = spearman_brown(r_half)
    return {
        "value": float(np.nanmean(corrected)) if np.isfinite(corrected).any() else float("nan"),
        "r_half": float(np.nanmean(r_half)) if np.isfinite(r_half).any() else float("nan"),
        "sd": float(np.nanstd(corrected)) if np.isfinite(corrected).any() else float("nan"),
        "n_splits": n_splits,
        "n_units": int(used.sum()),
    }
