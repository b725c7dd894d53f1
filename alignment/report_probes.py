"""The report's `held_out` section: a stored probe trained on another study, applied to this one
(`run_clip B --method probe --train-study A`). Its figures here are held out: accuracy against the
reference labels, ROC AUC of its probability of the positive label, and Spearman's rho between its
score and the aggregated human shares, each with a bootstrap interval over artworks; beside them the
probe's provenance (trained on, target, C, its cross-validated figures on the training study).
No Django, no queries.
"""
from __future__ import annotations

import numpy as np

from . import stats
from .arrays import DimensionArrays
from .report_figures import truth_of
from .stats.truth import accuracy_ci, auc_ci


def held_out_section(arrays: DimensionArrays, model_meta: dict[str, dict], *, n_boot: int, seed: int) -> dict | None:
    """Model key -> held-out figures, for the models that are stored probes; None when there is none."""
    if arrays.kind == "multi":
        return None
    sub = arrays.subs[0]
    out = {}
    for model in sub.models:
        probe = model_meta.get(model.key, {}).get("probe")
        if not probe:
            continue
        figures: dict = {"trained_on": probe.get("trained_on"), "probe": probe.get("name"),
                         "target": probe.get("target"), "training_cv": probe.get("cv"),
                         "accuracy": accuracy_ci(sub.experts, model.label, n_boot=n_boot, seed=seed)}
        if sub.positive is not None and np.isfinite(sub.experts).any():
            figures["auc"] = auc_ci(truth_of(sub), model.score, n_boot=n_boot, seed=seed) | {
                "of": f"P({sub.categories[sub.positive]})"}
        if arrays.shares is not None and model.key in (arrays.share_scores or {}):
            name, score = arrays.share_scores[model.key]
            figures["spearman_with_shares"] = stats.spearman_ci(score, arrays.shares, n_boot=n_boot, seed=seed) | {
                "score": name, "shares": arrays.share_field}
        out[model.key] = figures
    return out or None
