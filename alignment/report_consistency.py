"""ICC for rating dimensions and error consistency between the model and each person and between
people: part of the report builder (no Django, no queries).

Error consistency (`stats.error_consistency`, Geirhos et al. 2020) needs a "correct": against the
expert labels where the dimension has them (every observer scored against the same reference), else
against the people's majority, leave-one-out for a person (the majority of the others, so that a
person's own vote does not make them right) and the full majority for the model.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import stats
from .arrays import SubDimension
from .report_figures import TIES_SEED, category_codes, majority
from .stats.error_consistency import error_consistency, pairwise_error_consistency
from .stats.icc import crowd_icc

MIN_SHARED = 5  # artworks two observers must share for their error consistency
N_BOOT_EC = 500


def icc_section(sub: SubDimension) -> dict | None:
    """ICC of a rating sub-dimension (None for other kinds)."""
    if not sub.rating or not np.isfinite(sub.data).any():
        return None
    return {"reference": "pingouin.intraclass_corr's forms; Shrout & Fleiss (1979), McGraw & Wong (1996)"} | crowd_icc(
        sub.data)


def error_consistency_section(sub: SubDimension, *, seed: int) -> dict | None:
    """Each model against each person, and people among themselves (None: no categories or no people)."""
    codes = category_codes(sub)
    if codes is None or codes.shape[0] < 2 or sub.rating and not np.isfinite(codes).any():
        return None
    has_experts = bool(np.isfinite(sub.experts).any())
    if has_experts:
        reference_name = "expert labels"
        people_ref = np.broadcast_to(sub.experts, codes.shape)
        model_ref = sub.experts
    else:
        reference_name = "people's majority (leave-one-out for each person)"
        people_ref = stats.leave_one_out_references(codes, "nominal", ties="random", seed=TIES_SEED)
        model_ref = majority(sub)
    ok = np.isfinite(codes) & np.isfinite(people_ref)
    correct = np.where(ok, codes == people_ref, np.nan)
    pairwise = pairwise_error_consistency(correct, MIN_SHARED)
    per_person = np.array([np.nanmean(row) if np.isfinite(row).any() else np.nan for row in pairwise])
    upper = pairwise[np.triu_indices_from(pairwise, k=1)]
    upper = upper[np.isfinite(upper)]
    out: dict[str, Any] = {
        "reference": reference_name, "min_shared_artworks": MIN_SHARED,
        "people": {"n_pairs": int(upper.size), "median": float(np.median(upper)) if upper.size else math.nan,
                   "mean": float(upper.mean()) if upper.size else math.nan,
                   "participants": [{"participant": p, "mean_with_others": v}
                                    for p, v in zip(sub.raters, per_person) if math.isfinite(v)]},
        "models": {},
    }
    for model in sub.models:
        model_ok = np.isfinite(model.label) & np.isfinite(model_ref)
        model_correct = np.where(model_ok, model.label == model_ref, np.nan)
        with_people = []
        for r, person in enumerate(sub.raters):
            if (np.isfinite(correct[r]) & np.isfinite(model_correct)).sum() < MIN_SHARED:
                continue
            figure = error_consistency(model_correct, correct[r], n_boot=N_BOOT_EC, seed=seed + r)
            with_people.append({"participant": person} | figure)
        values = np.array([f["value"] for f in with_people], dtype=float)
        finite = values[np.isfinite(values)]
        mean = float(finite.mean()) if finite.size else math.nan
        people_means = per_person[np.isfinite(per_person)]
        out["models"][model.key] = {
            "median": float(np.median(finite)) if finite.size else math.nan, "mean": mean,
            "percentile_among_people": (100.0 * ((people_means < mean).sum() + 0.5 * (people_means == mean).sum())
                                        / people_means.size) if people_means.size and math.isfinite(mean) else math.nan,
            "participants": with_people}
    return out
