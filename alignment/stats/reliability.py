"""Krippendorff's alpha, its coincidence matrices and a vectorised bootstrap over units.

Reliability data ``data`` has shape ``(n_raters, n_units)``; ``data[i, u]`` is the value rater
``i`` gave unit ``u``, NaN where the rater did not judge the unit (the convention of
``krippendorff.alpha(reliability_data=...)``). Nominal and ordinal labels are numeric codes.

Notation follows Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability":
``m_u`` values in unit ``u``; ``o_ck`` the coincidence matrix; ``n_c = sum_k o_ck``; ``n = sum_c n_c``
pairable values; ``delta_ck`` the level's difference function;

    alpha = 1 - D_o / D_e = 1 - (n - 1) * sum_ck o_ck delta_ck / sum_ck n_c n_k delta_ck.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import krippendorff
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval", "ratio")

# Above this many float64 cells (80 MB) the per-unit coincidences stay sparse in the bootstrap.
_DENSE_MAX_CELLS = 10_000_000
# Resamples drawn and multiplied per block: bounds memory at block * n_units counts.
_BLOCK = 128


def as_reliability_data(data: ArrayLike) -> NDArray[np.float64]:
    """`data` as a float (n_raters, n_units) array; raises ValueError for any other shape."""
    data = np.asarray(data, dtype=float)
    if data.ndim != 2:
        raise ValueError(f"reliability data must be 2-D (n_raters, n_units); got shape {data.shape}")
    return data


def check_level(level: str) -> None:
    """Raise ValueError unless `level` is one of LEVELS (every level-taking function checks first)."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}; got {level!r}")


def unit_value_counts(data: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Count how many raters gave each value to each unit.

    Args:
        data: reliability data, shape (n_raters, n_units), NaN = missing.

    Returns:
        ``(n_uv, values)``: ``n_uv[u, v]`` is the number of raters who gave unit ``u`` the value
        ``values[v]``, shape (n_units, V); ``values`` are the distinct non-missing values,
        sorted, shape (V,).
    """
    data = as_reliability_data(data)
    present = ~np.isnan(data)
    values = np.unique(data[present])
    n_units, n_values = data.shape[1], len(values)
    rater, unit = np.nonzero(present)
    code = np.searchsorted(values, data[rater, unit])
    n_uv = np.bincount(unit * n_values + code, minlength=n_units * n_values)
    return n_uv.reshape(n_units, n_values), values


def _unit_coincidences_sparse(n_uv: NDArray[np.int64]) -> sparse.csr_array:
    """Per-unit coincidences o_uck = (n_uc n_uk - [c = k] n_uc) / (m_u - 1), flattened to (n_units, V*V).

    Only the values present in a unit pair up, so the work is sum_u k_u^2 for k_u distinct values
    in unit u, not n_units * V^2.
    """
    n_units, n_values = n_uv.shape
    m_u = n_uv.sum(axis=1)
    unit, value = np.nonzero(n_uv)  # row-major, so entries of a unit are contiguous
    count = n_uv[unit, value]
    k_u = np.bincount(unit, minlength=n_units)
    first = np.concatenate(([0], np.cumsum(k_u)[:-1]))
    # Pair every entry with every entry of its own unit (itself included).
    reps = k_u[unit]
    left = np.repeat(np.arange(len(unit)), reps)
    offset = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    right = first[unit[left]] + offset
    u = unit[left]
    c, k = value[left], value[right]
    o = (count[left] * count[right] - (c == k) * count[left]).astype(float)
    keep = (m_u[u] >= 2) & (o != 0)
    o = o[keep] / (m_u[u][keep] - 1)
    return sparse.csr_array((o, (u[keep], c[keep] * n_values + k[keep])), shape=(n_units, n_values**2))


def unit_coincidences(data: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Coincidence matrix of every unit.

    o_uck = sum over ordered pairs of different raters (i, j) judging u of
    [x_iu = c][x_ju = k] / (m_u - 1), where m_u is the number of values in unit u; units with
    m_u < 2 are not pairable and get a zero matrix. Summing over units gives Krippendorff's
    coincidence matrix o_ck, whose marginals n_c count pairable values.

    Args:
        data: reliability data, shape (n_raters, n_units), NaN = missing.

    Returns:
        ``(o_u, values)`` with ``o_u`` of shape (n_units, V, V) and the sorted distinct values (V,).
        Memory is n_units * V^2 floats; ``alpha_replicates`` keeps it sparse when that is large.

    Reference: Krippendorff (2011), section C ("coincidences within units").
    """
    n_uv, values = unit_value_counts(data)
    n_values = len(values)
    o_u = _unit_coincidences_sparse(n_uv).toarray().reshape(-1, n_values, n_values)
    return o_u, values


def difference_matrix(values: ArrayLike, level: Level, n_c: ArrayLike | None = None) -> NDArray[np.float64]:
    """Squared difference delta²_ck between values c and k for a level of measurement.

    - nominal:  0 if c == k else 1
    - ordinal:  (sum_{g=c..k} n_g - (n_c + n_k) / 2)²; with M_c = sum_{g<=c} n_g - n_c / 2 this is
      (M_k - M_c)², which is how it is computed (vectorised over leading axes of ``n_c``)
    - interval: (c - k)²
    - ratio:    ((c - k) / (c + k))², 0 where c + k = 0 (as in ``krippendorff``)

    Args:
        values: sorted distinct values, shape (V,).
        level: one of "nominal", "ordinal", "interval", "ratio".
        n_c: value marginals, shape (..., V); required for ordinal only.

    Returns:
        Shape (V, V), or (..., V, V) for ordinal with batched marginals.

    Reference: Krippendorff (2011), section E ("difference functions").
    """
    check_level(level)
    values = np.asarray(values, dtype=float)
    c, k = values[:, None], values[None, :]
    if level == "nominal":
        return (c != k).astype(float)
    if level == "interval":
        return (c - k) ** 2
    if level == "ratio":
        total = c + k
        return np.divide(c - k, total, out=np.zeros_like(total), where=total != 0) ** 2
    if n_c is None:
        raise ValueError("the ordinal difference needs the value marginals n_c")
    n_c = np.asarray(n_c, dtype=float)
    mid_rank = np.cumsum(n_c, axis=-1) - n_c / 2
    return (mid_rank[..., None, :] - mid_rank[..., :, None]) ** 2


def alpha_from_coincidences(o: ArrayLike, values: ArrayLike, level: Level) -> NDArray[np.float64]:
    """Krippendorff's alpha from coincidence matrices, vectorised over leading axes.

    alpha = 1 - (n - 1) * sum_ck o_ck delta²_ck / sum_ck n_c n_k delta²_ck, with n_c = sum_k o_ck
    and n = sum_c n_c (the diagonal of delta² is 0, so the random-coincidence term needs no
    diagonal correction).

    Args:
        o: coincidence matrices, shape (..., V, V) (for example one per bootstrap resample).
        values: the sorted values the rows and columns stand for, shape (V,).
        level: one of "nominal", "ordinal", "interval", "ratio".

    Returns:
        Alpha with shape ``o.shape[:-2]`` (a 0-d array for one matrix); NaN where the expected
        disagreement is 0 (fewer than two distinct pairable values).

    Reference: Krippendorff (2011), sections C-E; equals ``krippendorff.alpha`` on the same data.
    """
    o = np.asarray(o, dtype=float)
    n_c = o.sum(axis=-1)
    n = n_c.sum(axis=-1)
    delta = difference_matrix(values, level, n_c if level == "ordinal" else None)
    observed = (o * delta).sum(axis=(-2, -1))
    expected = np.einsum("...c,...ck,...k->...", n_c, delta, n_c)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = 1 - (n - 1) * observed / expected
    return np.where(expected > 0, result, np.nan)


def _pairable_values(n_uv: NDArray[np.int64]) -> int:
    """Number of distinct values that occur in units with at least two values."""
    pairable = n_uv[n_uv.sum(axis=1) >= 2]
    return int((pairable.sum(axis=0) > 0).sum())


def alpha(data: ArrayLike, level: Level) -> float:
    """Krippendorff's alpha of reliability data at a level of measurement.

    alpha = 1 - D_o / D_e (observed over expected disagreement); the point estimate is
    ``krippendorff.alpha(reliability_data=data, level_of_measurement=level)``.

    Args:
        data: reliability data, shape (n_raters, n_units), NaN = missing.
        level: "nominal", "ordinal", "interval" or "ratio".

    Returns:
        Alpha as a float; NaN (not an exception) when no unit has two values or all pairable
        values are identical, where alpha is undefined.

    Reference: Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability".
    """
    check_level(level)
    data = as_reliability_data(data)
    n_uv, _ = unit_value_counts(data)
    if _pairable_values(n_uv) < 2:
        return float("nan")
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement=level))


def _bootstrap_count_blocks(n_units: int, n_boot: int, seed: int) -> Iterator[NDArray[np.float64]]:
    """Yield blocks of shape (block, n_units): how often each unit is drawn in each resample.

    Draws come from one ``numpy.random.default_rng(seed)`` stream in order, so resample b is the
    same whatever ``n_boot`` is.
    """
    rng = np.random.default_rng(seed)
    for start in range(0, n_boot, _BLOCK):
        size = min(_BLOCK, n_boot - start)
        draws = rng.integers(0, n_units, size=(size, n_units), dtype=np.int32)
        counts = np.empty((size, n_units))
        for row, drawn in zip(counts, draws):
            row[:] = np.bincount(drawn, minlength=n_units)
        yield counts


def bootstrap_counts(n_units: int, n_boot: int, seed: int = 0) -> NDArray[np.float64]:
    """Unit counts of each bootstrap resample, shape (n_boot, n_units).

    Row b says how many times each unit is drawn in resample b (each row sums to n_units); the
    resamples are those ``alpha_replicates`` uses for pairable units with the same seed.
    """
    if n_boot < 1:
        return np.zeros((0, n_units))
    return np.concatenate(list(_bootstrap_count_blocks(n_units, n_boot, seed)))


def pairable_units(data: ArrayLike) -> NDArray[np.bool_]:
    """Mask of units with at least two values, shape (n_units,): the units alpha can use."""
    data = as_reliability_data(data)
    return (~np.isnan(data)).sum(axis=0) >= 2


def alpha_replicates(data: ArrayLike, level: Level, n_boot: int = 1000, seed: int = 0) -> NDArray[np.float64]:
    """Bootstrap distribution of Krippendorff's alpha, resampling units with replacement.

    Units with fewer than two values are dropped first (they carry no pairs), so each resample
    draws as many pairable units as the data has. The per-unit coincidence matrices o_u are built
    once; with ``C`` the (n_boot, n_units) matrix of how often each unit is drawn, every
    resample's coincidence matrix is one row of the single product ``C @ o_u.reshape(n_units, V*V)``,
    and alpha follows from it with the difference function (the ordinal one recomputed from each
    resample's marginals). Replicate b equals ``krippendorff.alpha`` on the columns of resample b.

    Args:
        data: reliability data, shape (n_raters, n_units), NaN = missing.
        level: "nominal", "ordinal", "interval" or "ratio".
        n_boot: number of resamples.
        seed: seed of ``numpy.random.default_rng``.

    Returns:
        Shape (n_boot,); NaN for resamples where alpha is undefined (and all NaN when the data has
        no pairable units).

    Reference: Efron & Tibshirani (1993), "An Introduction to the Bootstrap", ch. 6, 13.
    """
    check_level(level)
    data = as_reliability_data(data)
    data = data[:, pairable_units(data)]
    n_uv, values = unit_value_counts(data)
    n_units, n_values = n_uv.shape
    if n_boot < 1:
        return np.zeros(0)
    if n_units == 0 or n_values < 2:
        return np.full(n_boot, np.nan)
    o_u = _unit_coincidences_sparse(n_uv)
    if n_units * n_values**2 <= _DENSE_MAX_CELLS:
        o_u = o_u.toarray()  # a dense BLAS product beats sparse at small V
    replicates = []
    for counts in _bootstrap_count_blocks(n_units, n_boot, seed):
        o_b = np.asarray(counts @ o_u).reshape(-1, n_values, n_values)
        replicates.append(alpha_from_coincidences(o_b, values, level))
    return np.concatenate(replicates)


def percentile_interval(replicates: ArrayLike, ci: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval: the (1-ci)/2 and (1+ci)/2 quantiles of the finite replicates.

    Returns (NaN, NaN) when no replicate is finite.
    """
    replicates = np.asarray(replicates, dtype=float)
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return (float("nan"), float("nan"))
    low, high = np.quantile(finite, [(1 - ci) / 2, (1 + ci) / 2])
    return (float(low), float(high))


def alpha_bootstrap(
    data: ArrayLike, level: Level, n_boot: int = 1000, seed: int = 0, ci: float = 0.95
) -> dict:
    """Krippendorff's alpha with a percentile bootstrap confidence interval over units.

    Args:
        data: reliability data, shape (n_raters, n_units), NaN = missing.
        level: "nominal", "ordinal", "interval" or "ratio".
        n_boot: number of resamples (see ``alpha_replicates``).
        seed: seed of ``numpy.random.default_rng``; the same inputs give the same interval.
        ci: coverage of the interval.

    Returns:
        ``{"value": alpha(data, level), "ci": (low, high), "level": level, "n_boot": n_boot,
        "ci_level": ci}``; the interval is taken over the finite replicates, (NaN, NaN) if none.

    Reference: Krippendorff (2011); Efron & Tibshirani (1993), ch. 13 (percentile interval).
    """
    replicates = alpha_replicates(data, level, n_boot=n_boot, seed=seed)
    return {
        "value": alpha(data, level),
        "ci": percentile_interval(replicates, ci),
        "level": level,
        "n_boot": n_boot,
        "ci_level": ci,
    }
