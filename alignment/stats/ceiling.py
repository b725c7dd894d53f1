"""Each annotator against the others (leave-one-out), and where a model falls among them.

Reliability data ``data`` has shape (n_raters, n_units), NaN = missing; nominal labels are codes
0..K-1. A model's output ``model`` has shape (n_units,) (labels or scores), NaN = no output.

The human ceiling: rater r is scored against the consensus of the other raters (majority label
for nominal data, mean for ordinal, interval and ratio) on the units r judged. The model is
scored against exactly the same leave-one-out consensus on the same units, once per rater, and
those scores are averaged, so model and humans face references built from the same number of
judges on the same items. (Scoring the model against the full consensus of all raters gives it a
stronger reference than any human had; ``model_agreement`` does that, for reporting only.)
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .agreement import cohen_kappa
from .classification import accuracy, finite_pairs
from .correlation import correlation_of
from .reliability import Level, as_reliability_data, check_level
from .votes import Ties, majority_from_counts, vote_counts

Metric = Literal["kappa", "accuracy", "spearman", "pearson"]
DEFAULT_METRIC: dict[str, Metric] = {
    "nominal": "kappa",
    "ordinal": "spearman",
    "interval": "spearman",
    "ratio": "spearman",
}


def _score(a: ArrayLike, b: ArrayLike, metric: Metric) -> float:
    if metric == "kappa":
        return cohen_kappa(a, b)
    if metric == "accuracy":
        return accuracy(a, b)
    if metric in ("spearman", "pearson"):
        return correlation_of(*finite_pairs(a, b), metric)
    raise ValueError(f"metric must be one of kappa, accuracy, spearman, pearson; got {metric!r}")


def _n_categories(data: NDArray[np.float64]) -> int:
    return int(np.nanmax(data)) + 1 if np.isfinite(data).any() else 1


def leave_one_out_references(
    data: ArrayLike, level: Level, ties: Ties = "random", seed: int = 0
) -> NDArray[np.float64]:
    """Consensus of all raters but one, for each rater.

    Row r holds, for each unit r judged, the majority label (nominal; ties broken as in
    ``votes.majority_from_counts``, one seeded generator for all rows) or the mean value (other
    levels) of the other raters of that unit; NaN where r did not judge the unit or nobody else did.

    Args:
        data: reliability data, shape (n_raters, n_units), NaN = missing.
        level: level of measurement, which picks majority or mean.
        ties, seed: tie rule and seed for nominal majorities.

    Returns:
        Shape (n_raters, n_units).
    """
    check_level(level)
    data = as_reliability_data(data)
    present = ~np.isnan(data)
    if level == "nominal":
        n_categories = _n_categories(data)
        counts = vote_counts(data, n_categories)
        rng = np.random.default_rng(seed)
        references = np.empty(data.shape)
        for r, labels in enumerate(data):
            others = counts.copy()
            judged = np.flatnonzero(present[r])
            others[judged, labels[judged].astype(int)] -= 1
            references[r] = majority_from_counts(others, ties=ties, seed=rng)
    else:
        values = np.where(present, data, 0.0)
        others_sum = values.sum(axis=0) - values
        others_n = present.sum(axis=0) - present
        with np.errstate(divide="ignore", invalid="ignore"):
            references = np.where(others_n > 0, others_sum / others_n, np.nan)
    references[~present] = np.nan
    return references


def leave_one_out_agreement(
    data: ArrayLike,
    level: Level,
    metric: Metric | None = None,
    ties: Ties = "random",
    seed: int = 0,
) -> NDArray[np.float64]:
    """Each rater's agreement with the consensus of the others, on the units that rater judged.

    score_r = metric(x_r, consensus_{-r}) over units judged by r and at least one other rater,
    with the consensus from ``leave_one_out_references``. The default metric follows the level:
    Cohen's kappa for nominal, Spearman's rho for ordinal, interval and ratio.

    Args:
        data: reliability data, shape (n_raters, n_units), NaN = missing.
        level: level of measurement.
        metric: "kappa", "accuracy", "spearman" or "pearson" (default: by level).
        ties, seed: tie rule and seed for nominal majorities.

    Returns:
        Shape (n_raters,); NaN for raters with too few shared units for the metric.
    """
    metric = metric or DEFAULT_METRIC[level]
    data = as_reliability_data(data)
    references = leave_one_out_references(data, level, ties=ties, seed=seed)
    return np.array([_score(data[r], references[r], metric) for r in range(data.shape[0])])


def model_leave_one_out_agreement(
    data: ArrayLike,
    model: ArrayLike,
    level: Level,
    metric: Metric | None = None,
    ties: Ties = "random",
    seed: int = 0,
) -> float:
    """The model's agreement with the same leave-one-out consensuses the raters were scored against.

    mean over raters r (with a defined score) of metric(model, consensus_{-r}) on the units r
    judged: the model sits in each rater's seat in turn, so its score is directly comparable
    with ``leave_one_out_agreement`` (same references, same units, same metric, same seed).

    Args:
        data: reliability data, shape (n_raters, n_units), NaN = missing.
        model: the model's labels or scores, shape (n_units,), NaN = no output.
        level, metric, ties, seed: as for ``leave_one_out_agreement``.

    Returns:
        The mean score; NaN when no rater seat gives a defined score.
    """
    metric = metric or DEFAULT_METRIC[level]
    data = as_reliability_data(data)
    model = np.asarray(model, dtype=float)
    if model.shape != (data.shape[1],):
        raise ValueError(f"model must have shape ({data.shape[1]},); got {model.shape}")
    references = leave_one_out_references(data, level, ties=ties, seed=seed)
    scores = np.array([_score(model, reference, metric) for reference in references])
    return float(np.nanmean(scores)) if np.isfinite(scores).any() else float("nan")


def model_agreement(
    data: ArrayLike,
    model: ArrayLike,
    level: Level,
    metric: Metric | None = None,
    ties: Ties = "random",
    seed: int = 0,
) -> float:
    """The model against the consensus of all raters (majority or mean), with the level's metric.

    Not comparable with the human ceiling: the full consensus includes one judge more than any
    leave-one-out consensus. Use ``model_leave_one_out_agreement`` for that comparison.
    """
    check_level(level)
    metric = metric or DEFAULT_METRIC[level]
    data = as_reliability_data(data)
    model = np.asarray(model, dtype=float)
    if level == "nominal":
        reference = majority_from_counts(vote_counts(data, _n_categories(data)), ties=ties, seed=seed)
    else:
        present = ~np.isnan(data)
        n = present.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            reference = np.where(n > 0, np.where(present, data, 0.0).sum(axis=0) / n, np.nan)
    return _score(model, reference, metric)


def human_ceiling(rater_scores: ArrayLike, model_score: float) -> dict:
    """Where a model's score falls among the raters' own (leave-one-out) scores.

    percentile = 100 (below + ½ tied) / n, the mid-rank percentile of the model among the n raters
    with a finite score; rank = 1 + number of raters scoring strictly higher (1 = at least as good
    as every rater).

    Args:
        rater_scores: shape (n_raters,), e.g. from ``leave_one_out_agreement``; NaN ignored.
        model_score: e.g. from ``model_leave_one_out_agreement``.

    Returns:
        ``{"model": model_score, "percentile", "rank", "n_raters", "median", "mean", "min", "max",
        "share_below"}``; NaN figures when there is no rater score or the model score is NaN.
    """
    scores = np.asarray(rater_scores, dtype=float)
    scores = scores[np.isfinite(scores)]
    n = int(scores.size)
    summary = {
        "model": float(model_score),
        "n_raters": n,
        "median": float(np.median(scores)) if n else float("nan"),
        "mean": float(scores.mean()) if n else float("nan"),
        "min": float(scores.min()) if n else float("nan"),
        "max": float(scores.max()) if n else float("nan"),
    }
    if n == 0 or not np.isfinite(model_score):
        return summary | {"percentile": float("nan"), "rank": None, "share_below": float("nan")}
    below = int((scores < model_score).sum())
    tied = int((scores == model_score).sum())
    return summary | {
        "percentile": 100.0 * (below + 0.5 * tied) / n,
        "rank": 1 + int((scores > model_score).sum()),
        "share_below": below / n,
    }
