"""The report's `calibration` section: per model, how well its label distribution matches the spread of
people's votes (ECE over equal-mass bins, NLL, Brier; against the vote distribution and against the
majority, with bootstrap intervals) and the reliability diagram's bins. Single-choice and binary
dimensions, over artworks with at least MIN_VOTES_FOR_DIVERGENCE votes. No Django, no queries.
"""
from __future__ import annotations

import numpy as np

from . import stats
from .arrays import DimensionArrays
from .report_figures import MIN_VOTES_FOR_DIVERGENCE, category_codes, majority
from .stats.calibration import calibration

N_BINS = 10


def calibration_section(arrays: DimensionArrays, *, n_boot: int, seed: int) -> dict | None:
    """Model key -> calibration figures; None for multi-label and rating dimensions or without votes."""
    if arrays.kind in ("multi", "rating"):
        return None
    sub = arrays.subs[0]
    codes = category_codes(sub)
    if codes is None or not sub.k or not np.isfinite(codes).any():
        return None
    votes = stats.vote_counts(codes, sub.k).astype(float)
    enough = votes.sum(axis=1) >= MIN_VOTES_FOR_DIVERGENCE
    reference = majority(sub)
    models = {}
    for model in sub.models:
        if model.probs is None:
            continue
        use = enough & np.isfinite(model.probs).all(axis=1)
        models[model.key] = calibration(model.probs[use], votes[use], reference[use], n_bins=N_BINS,
                                        n_boot=n_boot, seed=seed)
    if not models:
        return None
    return {"min_votes": MIN_VOTES_FOR_DIVERGENCE, "bins": f"{N_BINS} equal-mass bins of the top-label confidence",
            "nll_unit": "nats", "models": models}
