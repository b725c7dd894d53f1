"""Error consistency (Geirhos, Meding & Wichmann 2020): do two observers get the same items wrong?

For two observers answering the same n items, with correct/incorrect vectors a, b (1 = correct):
    c_obs = mean(a == b)                         observed consistency
    p_a, p_b = mean(a), mean(b)                  accuracies
    c_exp = p_a p_b + (1 - p_a)(1 - p_b)          consistency expected from the accuracies alone
    kappa = (c_obs - c_exp) / (1 - c_exp)
kappa is undefined (NaN) when c_exp = 1 (one observer always right or always wrong and so on).
Intervals: percentile bootstrap over items, vectorised (one (n_boot, n) index draw).
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray


def _kappa(a: NDArray[np.float64], b: NDArray[np.float64], axis: int = -1) -> NDArray[np.float64]:
    c_obs = (a == b).mean(axis=axis)
    p_a, p_b = a.mean(axis=axis), b.mean(axis=axis)
    c_exp = p_a * p_b + (1 - p_a) * (1 - p_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(c_exp < 1, (c_obs - c_exp) / (1 - c_exp), np.nan)


def error_consistency(correct_a: NDArray[np.float64], correct_b: NDArray[np.float64], *, n_boot: int = 1000,
                      seed: int = 0, ci_level: float = 0.95) -> dict:
    """{"value", "ci", "n", "c_obs", "c_exp", "accuracy_a", "accuracy_b"} over the items both observers
    answered (NaN = not answered; other values are read as correct when non-zero)."""
    both = np.isfinite(correct_a) & np.isfinite(correct_b)
    a, b = (np.asarray(correct_a)[both] != 0).astype(float), (np.asarray(correct_b)[both] != 0).astype(float)
    n = int(both.sum())
    if n == 0:
        return {"value": math.nan, "ci": [math.nan, math.nan], "n": 0, "c_obs": math.nan, "c_exp": math.nan,
                "accuracy_a": math.nan, "accuracy_b": math.nan}
    p_a, p_b = float(a.mean()), float(b.mean())
    value = float(_kappa(a, b))
    ci = [math.nan, math.nan]
    if n_boot and n > 1:
        index = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
        replicates = _kappa(a[index], b[index], axis=1)
        replicates = replicates[np.isfinite(replicates)]
        if replicates.size:
            tail = (1 - ci_level) / 2 * 100
            ci = [float(np.percentile(replicates, tail)), float(np.percentile(replicates, 100 - tail))]
    return {"value": value, "ci": ci, "n": n, "c_obs": float((a == b).mean()),
            "c_exp": p_a * p_b + (1 - p_a) * (1 - p_b), "accuracy_a": p_a, "accuracy_b": p_b}


def pairwise_error_consistency(correct: NDArray[np.float64], min_items: int = 5) -> NDArray[np.float64]:
    """(n_raters, n_raters) kappa between every two raters' correct/incorrect vectors (rows of
    `correct`, NaN = not answered); NaN on the diagonal and where fewer than `min_items` are shared."""
    present = np.isfinite(correct)
    c = np.where(present, correct != 0, False).astype(float)
    w = present.astype(float)
    shared = w @ w.T
    both_right = c @ c.T
    a_right = c @ w.T  # i right, j answered
    b_right = w @ c.T  # i answered, j right
    both_wrong = shared - a_right - b_right + both_right
    with np.errstate(divide="ignore", invalid="ignore"):
        c_obs = (both_right + both_wrong) / shared
        p_a, p_b = a_right / shared, b_right / shared
        c_exp = p_a * p_b + (1 - p_a) * (1 - p_b)
        kappa = np.where((shared >= min_items) & (c_exp < 1), (c_obs - c_exp) / (1 - c_exp), np.nan)
    np.fill_diagonal(kappa, np.nan)
    return kappa
