"""Agreement and alignment statistics: pure functions over numpy arrays, no Django.

Conventions: reliability data has shape (n_raters, n_units) with NaN for a missing judgement (as
``krippendorff.alpha``); nominal and ordinal labels are numeric codes 0..K-1; per-item vectors have
shape (n_units,). Random procedures take a ``seed`` and give the same numbers for the same seed.
"""

from .agreement import cohen_kappa, fleiss_kappa, pairwise_cohen_kappa, percent_agreement
from .ceiling import (
    DEFAULT_METRIC,
    Metric,
    human_ceiling,
    leave_one_out_agreement,
    leave_one_out_references,
    model_agreement,
    model_leave_one_out_agreement,
)
from .classification import accuracy, auc, confusion_matrix, macro_f1, signal_detection
from .correlation import rowwise_pearson, spearman, spearman_brown, spearman_ci, split_half_reliability
from .reliability import (
    LEVELS,
    Level,
    alpha,
    alpha_bootstrap,
    alpha_from_coincidences,
    alpha_replicates,
    bootstrap_counts,
    difference_matrix,
    pairable_units,
    percentile_interval,
    unit_coincidences,
    unit_value_counts,
)
from .votes import Ties, jensen_shannon, majority_from_counts, majority_labels, mean_ratings, vote_counts

__all__ = [
    "DEFAULT_METRIC",
    "LEVELS",
    "Level",
    "Metric",
    "Ties",
    "accuracy",
    "alpha",
    "alpha_bootstrap",
    "alpha_from_coincidences",
    "alpha_replicates",
    "auc",
    "bootstrap_counts",
    "cohen_kappa",
    "confusion_matrix",
    "difference_matrix",
    "fleiss_kappa",
    "human_ceiling",
    "jensen_shannon",
    "leave_one_out_agreement",
    "leave_one_out_references",
    "macro_f1",
    "majority_from_counts",
    "majority_labels",
    "mean_ratings",
    "model_agreement",
    "model_leave_one_out_agreement",
    "pairable_units",
    "pairwise_cohen_kappa",
    "percent_agreement",
    "percentile_interval",
    "rowwise_pearson",
    "signal_detection",
    "spearman",
    "spearman_brown",
    "spearman_ci",
    "split_half_reliability",
    "unit_coincidences",
    "unit_value_counts",
    "vote_counts",
]
