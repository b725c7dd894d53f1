"""Intraclass correlation (Shrout & Fleiss 1979; McGraw & Wong 1996), vectorised.

Input: ratings `x` of shape (n_targets, k_raters), complete (no NaN). From the two-way ANOVA
without replication:
    MSB = k * sum_i (mean_i. - mean..)^2 / (n - 1)            between targets
    MSJ = n * sum_j (mean_.j - mean..)^2 / (k - 1)            between raters (judges)
    MSE = sum_ij (x_ij - mean_i. - mean_.j + mean..)^2 / ((n - 1)(k - 1))
    MSW = (SSJ + SSE) / (n (k - 1))                           within targets (one-way)
    ICC(1,1) = (MSB - MSW) / (MSB + (k-1) MSW)       ICC(1,k) = (MSB - MSW) / MSB
    ICC(2,1) = (MSB - MSE) / (MSB + (k-1) MSE + k (MSJ - MSE) / n)
    ICC(2,k) = (MSB - MSE) / (MSB + (MSJ - MSE) / n)
    ICC(3,1) = (MSB - MSE) / (MSB + (k-1) MSE)       ICC(3,k) = (MSB - MSE) / MSB
with the F-based 95% intervals of McGraw & Wong (ICC(2,·): Satterthwaite's degrees of freedom).
The names and figures are those of `pingouin.intraclass_corr` (ICC1, ICC2, ICC3, ICC1k, ICC2k,
ICC3k); tests/alignment/test_icc.py checks them against pingouin on its published example.

Crowd designs: when different people rate different artworks, only the one-way forms (ICC1, ICC1k)
apply: raters are exchangeable "slots". `crowd_matrix` builds such a (n, k) matrix from reliability
data (n_raters, n_units) with NaN for missing ratings.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy.stats import f as f_dist

FORMS = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")


def icc(x: NDArray[np.float64], ci_level: float = 0.95) -> dict[str, dict]:
    """Form -> {"value", "ci": [low, high], "F", "df1", "df2", "pval"} for every form in FORMS."""
    x = np.asarray(x, dtype=float)
    n, k = x.shape
    if n < 2 or k < 2 or not np.isfinite(x).all():
        raise ValueError(f"ICC needs complete ratings of at least 2 targets by at least 2 raters; got {n}x{k}")
    grand = x.mean()
    ss_b = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_j = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_e = ((x - x.mean(axis=1, keepdims=True) - x.mean(axis=0, keepdims=True) + grand) ** 2).sum()
    df1, df_w, df_e = n - 1, n * (k - 1), (n - 1) * (k - 1)
    msb, msj, mse = ss_b / df1, ss_j / (k - 1), ss_e / df_e
    msw = (ss_j + ss_e) / df_w
    with np.errstate(divide="ignore", invalid="ignore"):  # no variance: NaN figures, no warning
        icc1 = (msb - msw) / (msb + (k - 1) * msw)
        icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
        icc3 = (msb - mse) / (msb + (k - 1) * mse)
        icc1k = (msb - msw) / msb
        icc2k = (msb - mse) / (msb + (msj - mse) / n)
        icc3k = (msb - mse) / msb
        f1, f3 = msb / msw, msb / mse
        return _with_intervals(n, k, (msb, msj, mse), (icc1, icc2, icc3, icc1k, icc2k, icc3k), f1, f3, ci_level)


def _with_intervals(n: int, k: int, ms: tuple[float, float, float], values: tuple[float, ...], f1: float, f3: float,
                    ci_level: float) -> dict[str, dict]:
    msb, msj, mse = ms
    icc1, icc2, icc3, icc1k, icc2k, icc3k = values
    df1, df_w, df_e = n - 1, n * (k - 1), (n - 1) * (k - 1)
    q = 1 - (1 - ci_level) / 2
    f1l, f1u = f1 / f_dist.ppf(q, df1, df_w), f1 * f_dist.ppf(q, df_w, df1)
    f3l, f3u = f3 / f_dist.ppf(q, df1, df_e), f3 * f_dist.ppf(q, df_e, df1)
    fj = msj / mse
    vn = df_e * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    vd = df1 * k**2 * icc2**2 * fj**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v = vn / vd
    f2u, f2l = f_dist.ppf(q, n - 1, v), f_dist.ppf(q, v, n - 1)
    l2 = n * (msb - f2u * mse) / (f2u * (k * msj + (k * n - k - n) * mse) + n * msb)
    u2 = n * (f2l * msb - mse) / (k * msj + (k * n - k - n) * mse + n * f2l * msb)
    p1, p3 = float(f_dist.sf(f1, df1, df_w)), float(f_dist.sf(f3, df1, df_e))
    rows = {
        "ICC1": (icc1, ((f1l - 1) / (f1l + k - 1), (f1u - 1) / (f1u + k - 1)), f1, df_w, p1),
        "ICC2": (icc2, (l2, u2), f3, df_e, p3),
        "ICC3": (icc3, ((f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1)), f3, df_e, p3),
        "ICC1k": (icc1k, (1 - 1 / f1l, 1 - 1 / f1u), f1, df_w, p1),
        "ICC2k": (icc2k, (l2 * k / (1 + l2 * (k - 1)), u2 * k / (1 + u2 * (k - 1))), f3, df_e, p3),
        "ICC3k": (icc3k, (1 - 1 / f3l, 1 - 1 / f3u), f3, df_e, p3),
    }
    return {form: {"value": float(value), "ci": [float(ci[0]), float(ci[1])], "F": float(f), "df1": df1,
                   "df2": df2, "pval": p} for form, (value, ci, f, df2, p) in rows.items()}


def crowd_matrix(data: NDArray[np.float64], k: int | None = None) -> tuple[NDArray[np.float64], bool]:
    """(ratings (n, k), crossed) from reliability data (n_raters, n_units), NaN = missing.

    If some k raters rated the same units, `crossed` is True and the columns are those raters
    (the two-way forms apply). Otherwise k is the most common number of ratings per unit (at least
    2, or the `k` given), units with fewer are left out, and each unit's first k ratings (in rater
    order) are its slots: only the one-way forms (ICC1, ICC1k) apply.
    """
    present = np.isfinite(data)
    counts = present.sum(axis=0)
    if k is None:
        rated = counts[counts >= 2]
        k = int(np.bincount(rated).argmax()) if rated.size else 0
    if k < 2:
        return np.empty((0, 0)), False
    raters = present.any(axis=1)
    if raters.sum() == k and present[raters].all():
        return data[raters].T.copy(), True
    units = np.flatnonzero(counts >= k)
    out = np.empty((len(units), k))
    for row, u in enumerate(units):
        out[row] = data[present[:, u], u][:k]
    return out, False


def crowd_icc(data: NDArray[np.float64], ci_level: float = 0.95) -> dict:
    """ICC of a crowd's ratings (n_raters, n_units): the forms that fit its design (see
    `crowd_matrix`), with n_artworks and judges_per_artwork; "note" when it cannot be computed."""
    x, crossed = crowd_matrix(data)
    if x.shape[0] < 2 or x.shape[1] < 2 or float(np.var(x)) == 0.0:
        return {"note": "needs at least two artworks rated by the same number (at least 2) of people, and"
                        " some variance", "forms": {}}
    figures = icc(x, ci_level)
    forms = FORMS if crossed else ("ICC1", "ICC1k")
    return {"design": "crossed: the same people rated every artwork" if crossed
            else "one-way: different people rated different artworks (each artwork's first k ratings)",
            "n_artworks": int(x.shape[0]), "judges_per_artwork": int(x.shape[1]),
            "forms": {form: {key: (None if isinstance(v, float) and not math.isfinite(v) else v)
                             for key, v in figures[form].items()} for form in forms}}
