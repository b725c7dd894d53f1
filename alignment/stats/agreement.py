"""Chance-corrected agreement for nominal labels: Fleiss' kappa, Cohen's kappa, percent agreement.

Reliability data ``data`` has shape (n_raters, n_units), NaN = missing; labels are numeric codes.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from sklearn.metrics import cohen_kappa_score

from .reliability import as_reliability_data, unit_value_counts


def fleiss_kappa(counts: ArrayLike) -> float:
    """Fleiss' kappa for a fixed number of raters per unit.

    With N units, n raters per unit and n_ij raters putting unit i in category j:
    P_i = (sum_j n_ij² - n) / (n (n - 1)), P̄ = mean_i P_i, p_j = sum_i n_ij / (N n),
    P̄_e = sum_j p_j², kappa = (P̄ - P̄_e) / (1 - P̄_e).

    Args:
        counts: shape (n_units, n_categories), raters per category
            (``votes.vote_counts`` builds it from reliability data).

    Returns:
        Kappa; NaN when every judgement falls in one category (P̄_e = 1).

    Raises:
        ValueError: if units have different numbers of raters, or fewer than two; use
            Krippendorff's alpha for unequal numbers of judgements.

    Reference: Fleiss (1971), "Measuring nominal scale agreement among many raters",
    Psychological Bulletin 76(5).
    """
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2 or counts.shape[0] == 0:
        raise ValueError(f"counts must be 2-D (n_units, n_categories) with units; got shape {counts.shape}")
    n_i = counts.sum(axis=1)
    if not np.all(n_i == n_i[0]):
        raise ValueError(
            "Fleiss' kappa needs the same number of raters on every unit; "
            f"got between {n_i.min():g} and {n_i.max():g}. Use alpha() for unequal numbers."
        )
    n = n_i[0]
    if n < 2:
        raise ValueError(f"Fleiss' kappa needs at least two raters per unit; got {n:g}")
    n_units = counts.shape[0]
    p_i = ((counts**2).sum(axis=1) - n) / (n * (n - 1))
    p_j = counts.sum(axis=0) / (n_units * n)
    p_bar, p_e = p_i.mean(), (p_j**2).sum()
    if np.isclose(p_e, 1.0):
        return float("nan")
    return float((p_bar - p_e) / (1 - p_e))


def cohen_kappa(
    a: ArrayLike,
    b: ArrayLike,
    labels: ArrayLike | None = None,
    weights: Literal["linear", "quadratic"] | None = None,
) -> float:
    """Cohen's kappa between two raters' labels of the same units.

    kappa = (p_o - p_e) / (1 - p_e), p_o the observed share of agreement and p_e = sum_k p_a(k) p_b(k)
    the agreement expected from each rater's own label distribution; ``weights`` gives the
    linear or quadratic weighted kappa for ordered codes. Wraps
    ``sklearn.metrics.cohen_kappa_score``.

    Args:
        a, b: labels, shape (n_units,); pairs where either is NaN are dropped.
        labels: the label set (defaults to the labels present).
        weights: None, "linear" or "quadratic".

    Returns:
        Kappa; NaN when no pair is left or kappa is undefined (p_e = 1).

    Reference: Cohen (1960), Educational and Psychological Measurement 20(1); Cohen (1968) for
    weighted kappa; Artstein & Poesio (2008), Computational Linguistics 34(4).
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    both = ~(np.isnan(x) | np.isnan(y))
    x, y = x[both], y[both]
    codes, code_of = np.unique(np.concatenate([x, y]), return_inverse=True)
    if codes.size < 2:
        return float("nan")  # one label only: p_e = 1 and kappa is undefined
    if labels is None and weights is None:
        return _kappa_unweighted(code_of[: x.size], code_of[x.size:], codes.size)
    return float(cohen_kappa_score(x, y, labels=labels, weights=weights, replace_undefined_by=np.nan))


def _kappa_unweighted(a: NDArray[np.intp], b: NDArray[np.intp], k: int) -> float:
    """``cohen_kappa_score``'s own arithmetic on label codes 0..k-1 (the same float operations, so the
    same value to the last bit), without its input validation: that costs 5 ms a call, and the
    leave-one-out ceiling calls kappa once per rater (a crowd of 1,000 people: 2,000 calls)."""
    confusion = np.bincount(a * k + b, minlength=k * k).reshape(k, k).astype(float)
    sum0, sum1 = confusion.sum(axis=0), confusion.sum(axis=1)
    expected = np.outer(sum0, sum1) / np.sum(sum0)
    w_mat = np.ones((k, k))
    w_mat.flat[:: k + 1] = 0
    return float(1 - np.sum(w_mat * confusion) / np.sum(w_mat * expected))


def pairwise_cohen_kappa(data: ArrayLike, min_overlap: int = 2) -> float:
    """Mean Cohen's kappa over pairs of raters (Light's kappa, generalised to missing data).

    For every pair of raters (i, j) with n_ij >= ``min_overlap`` units judged by both, kappa on
    those units; the result is the unweighted mean over pairs with a defined kappa (p_e < 1).
    All pairs at once, from sparse label indicators O_k (n_units, n_raters), one per label k, and
    the indicator M of judged cells: n = M'M, p_o = sum_k (O_k'O_k) / n, and with
    C_k = O_k'M (C_k[i, j]: units judged by both where i said k), p_e = sum_k C_k * C_k' / n².
    Equal to ``cohen_kappa`` on each pair's shared units (tests check it); memory O(n_raters²).

    Args:
        data: reliability data, shape (n_raters, n_units), NaN = missing.
        min_overlap: fewest shared units for a pair to count.

    Returns:
        Mean kappa; NaN when no pair qualifies.

    Reference: Light (1971), Psychological Bulletin 76(5); Conger (1980).
    """
    data = as_reliability_data(data)
    n_raters, n_units = data.shape
    rater, unit = np.nonzero(~np.isnan(data))
    label = data[rater, unit]

    def indicator(cells: NDArray[np.bool_]) -> sparse.csr_matrix:
        return sparse.csr_matrix((np.ones(cells.sum()), (unit[cells], rater[cells])), shape=(n_units, n_raters))

    judged = indicator(np.ones_like(label, dtype=bool))
    n = (judged.T @ judged).toarray()
    agree, expected = np.zeros_like(n), np.zeros_like(n)
    for k in np.unique(label):
        said_k = indicator(label == k)
        agree += (said_k.T @ said_k).toarray()
        c_k = (said_k.T @ judged).toarray()
        expected += c_k * c_k.T
    i, j = np.triu_indices(n_raters, 1)
    pairs = n[i, j] >= min_overlap
    i, j, n_ij = i[pairs], j[pairs], n[i[pairs], j[pairs]]
    p_o, p_e = agree[i, j] / n_ij, expected[i, j] / n_ij**2
    defined = ~np.isclose(p_e, 1.0)  # one label only on the shared units: kappa is undefined
    kappas = (p_o[defined] - p_e[defined]) / (1 - p_e[defined])
    return float(kappas.mean()) if kappas.size else float("nan")


def percent_agreement(data: ArrayLike) -> float:
    """Share of agreeing pairs among all pairable pairs of judgements.

    Pooled over units: sum_u sum_v C(n_uv, 2) / sum_u C(m_u, 2), with n_uv raters giving unit u
    value v and m_u values in unit u; units with one value contribute no pairs. Values agree only
    when exactly equal (a nominal notion).

    Args:
        data: reliability data, shape (n_raters, n_units), NaN = missing.

    Returns:
        Share in [0, 1]; NaN when there is no pair.

    Reference: Artstein & Poesio (2008), section 2.1 (observed agreement, multiple coders).
    """
    n_uv, _ = unit_value_counts(data)
    m_u = n_uv.sum(axis=1)
    pairs = (m_u * (m_u - 1)).sum()
    if pairs == 0:
        return float("nan")
    return float((n_uv * (n_uv - 1)).sum() / pairs)

