"""Per-item summaries of many judgements: vote counts, majority label, mean rating, JS divergence.

Reliability data ``data`` has shape (n_raters, n_units), NaN = missing; nominal labels are codes
0..K-1.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import xlogy

from .reliability import as_reliability_data

Ties = Literal["random", "lowest", "drop"]


def vote_counts(data: ArrayLike, n_categories: int) -> NDArray[np.int64]:
    """Number of raters choosing each category for each unit.

    Args:
        data: reliability data, shape (n_raters, n_units), codes 0..n_categories-1, NaN = missing.
        n_categories: K.

    Returns:
        Shape (n_units, K); row u sums to the number of raters who judged unit u.

    Raises:
        ValueError: if a value is not an integer code in 0..K-1.
    """
    data = as_reliability_data(data)
    rater, unit = np.nonzero(~np.isnan(data))
    codes = data[rater, unit]
    if codes.size and (np.any(codes != np.round(codes)) or codes.min() < 0 or codes.max() >= n_categories):
        raise ValueError(f"labels must be integer codes 0..{n_categories - 1}")
    n_units = data.shape[1]
    flat = unit * n_categories + codes.astype(np.int64)
    return np.bincount(flat, minlength=n_units * n_categories).reshape(n_units, n_categories)


def majority_from_counts(
    counts: ArrayLike, ties: Ties = "random", seed: int | np.random.Generator = 0
) -> NDArray[np.float64]:
    """Most frequent category per row of ``counts`` (n_units, K) (or (..., n_units, K)).

    Ties: "random" picks uniformly among the tied categories with ``numpy.random.default_rng(seed)``
    (reproducible, and unbiased across categories; a Generator may be passed to continue its
    stream); "lowest" takes the lowest code; "drop" gives NaN. Rows without votes give NaN.

    Returns:
        Labels as floats, shape ``counts.shape[:-1]``.
    """
    counts = np.asarray(counts)
    top = counts.max(axis=-1, keepdims=True)
    is_top = (counts == top) & (top > 0)
    if ties == "random":
        keys = np.random.default_rng(seed).random(counts.shape)
        label = np.argmax(np.where(is_top, keys, -1.0), axis=-1).astype(float)
    elif ties in ("lowest", "drop"):
        label = np.argmax(is_top, axis=-1).astype(float)
        if ties == "drop":
            label[is_top.sum(axis=-1) > 1] = np.nan
    else:
        raise ValueError(f"ties must be 'random', 'lowest' or 'drop'; got {ties!r}")
    label[top[..., 0] == 0] = np.nan
    return label


def majority_labels(
    data: ArrayLike, n_categories: int, ties: Ties = "random", seed: int = 0
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Majority label and vote distribution of each unit.

    Args:
        data: reliability data, shape (n_raters, n_units), codes 0..K-1, NaN = missing.
        n_categories: K.
        ties: how to break ties, see ``majority_from_counts`` (default: seeded random choice).
        seed: seed for random tie-breaking.

    Returns:
        ``(labels, distribution)``: labels shape (n_units,), NaN for units without votes (or ties
        with ``ties="drop"``); distribution shape (n_units, K), the share of votes per category,
        rows of NaN for units without votes.
    """
    counts = vote_counts(data, n_categories)
    total = counts.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        distribution = np.where(total > 0, counts / total, np.nan)
    return majority_from_counts(counts, ties=ties, seed=seed), distribution


def mean_ratings(data: ArrayLike) -> NDArray[np.float64]:
    """Mean rating per unit over the raters who judged it.

    Args:
        data: reliability data, shape (n_raters, n_units), NaN = missing.

    Returns:
        Shape (n_units,); NaN for units nobody rated (without a warning).
    """
    data = as_reliability_data(data)
    present = ~np.isnan(data)
    n = present.sum(axis=0)
    total = np.where(present, data, 0.0).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, total / n, np.nan)


def jensen_shannon(p: ArrayLike, q: ArrayLike) -> NDArray[np.float64]:
    """Jensen–Shannon divergence per item between two distributions, base 2.

    JSD(P, Q) = ½ KL(P ‖ M) + ½ KL(Q ‖ M), M = ½ (P + Q), with logarithms base 2, so it lies in
    [0, 1]: 0 for identical distributions, 1 for disjoint ones. Rows are normalised to sum to 1
    first, so vote counts work as well as shares. The divergence is computed directly from its
    definition (0 log 0 = 0) and clipped to [0, 1] against rounding, not as the square of
    ``scipy.spatial.distance.jensenshannon``: that distance takes the square root of a sum that
    rounding can leave slightly negative (e.g. [6/7, 1/7] against itself after a float32 trip),
    which returned NaN for (near-)identical rows.

    Args:
        p, q: shape (n_items, K) (or (K,) for one item); rows are distributions.

    Returns:
        Shape (n_items,) (or a 0-d array); NaN for rows that are all zero or contain NaN.

    Reference: Lin (1991), "Divergence measures based on the Shannon entropy", IEEE Trans. Inf.
    Theory 37(1).
    """
    P, Q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        P = P / P.sum(axis=-1, keepdims=True)
        Q = Q / Q.sum(axis=-1, keepdims=True)
        M = 0.5 * (P + Q)
        # x log(x / m) as xlogy(x, x) - xlogy(x, m): 0 where x == 0 (m > 0 wherever x > 0)
        kl_p = (xlogy(P, P) - xlogy(P, M)).sum(axis=-1)
        kl_q = (xlogy(Q, Q) - xlogy(Q, M)).sum(axis=-1)
    divergence = (0.5 * (kl_p + kl_q)) / np.log(2.0)
    return np.clip(divergence, 0.0, 1.0)
