"""Rank correlation with a bootstrap interval, and split-half reliability of mean ratings.

Vectors have shape (n_items,) and NaN marks a missing value; reliability data has shape
(n_raters, n_units).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import pearsonr, rankdata, spearmanr

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
        return float(spearmanr(x, y).statistic)
    if method == "pearson":
        return float(pearsonr(x, y).statistic)
    raise ValueError(f"method must be 'spearman' or 'pearson'; got {method!r}")


def spearman(x: ArrayLike, y: ArrayLike) -> float:
    """Spearman's rho (Pearson's r of average ranks); NaN pairs dropped; NaN if < 3 pairs or constant."""
    return correlation_of(*finite_pairs(x, y), "spearman")


def spearman_ci(x: ArrayLike, y: ArrayLike, n_boot: int = 1000, seed: int = 0, ci: float = 0.95) -> dict:
    """Spearman's rho with a percentile bootstrap interval over items.

    rho is Pearson's r between the average ranks of x and y (``scipy.stats.spearmanr``). Each
    resample draws n items with replacement (``numpy.random.default_rng(seed)``), re-ranks them
    with ``scipy.stats.rankdata(axis=1)`` and takes a row-wise Pearson, all resamples at once.

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
    for start in range(0, n_boot, block):
        index = rng.integers(0, n, size=(min(block, n_boot - start), n))
        replicates.append(rowwise_pearson(rankdata(x[index], axis=1), rankdata(y[index], axis=1)))
    interval = percentile_interval(np.concatenate(replicates) if replicates else [], ci)
    return {"value": value, "ci": interval, "n": n, "n_boot": n_boot, "ci_level": ci}


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
    m_u = present.sum(axis=0)
    rng = np.random.default_rng(seed)
    r_half = np.full(n_splits, np.nan)
    for split in range(n_splits):
        keys = np.where(present, rng.random(data.shape), np.inf)
        position = np.argsort(np.argsort(keys, axis=0), axis=0)  # place of each rater in the shuffle
        in_a = present & (position < m_u // 2)
        in_b = present & ~in_a
        mean_a = np.where(in_a, data, 0.0).sum(axis=0) / in_a.sum(axis=0)
        mean_b = np.where(in_b, data, 0.0).sum(axis=0) / in_b.sum(axis=0)
        r_half[split] = correlation_of(mean_a, mean_b, method)
    corrected = spearman_brown(r_half)
    return {
        "value": float(np.nanmean(corrected)) if np.isfinite(corrected).any() else float("nan"),
        "r_half": float(np.nanmean(r_half)) if np.isfinite(r_half).any() else float("nan"),
        "sd": float(np.nanstd(corrected)) if np.isfinite(corrected).any() else float("nan"),
        "n_splits": n_splits,
        "n_units": int(used.sum()),
    }
