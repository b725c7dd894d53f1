"""The report's `truth` section of a binary dimension with reference labels (expert labels, a truth
field): people's and each model's accuracy and d′ against the truth, with bootstrap intervals over
artworks, and each model's place among the people (each person compared with the model on the
artworks that person judged). Figures from `alignment.stats.truth`; no Django, no queries.
"""
from __future__ import annotations

import numpy as np

from .arrays import SubDimension
from .report_figures import truth_of
from .stats.truth import place_among_raters, truth_figures


def truth_section(sub: SubDimension, *, n_boot: int, seed: int) -> dict | None:
    """None unless the sub-dimension is binary (a positive label) and some artworks have a reference."""
    if sub.positive is None or sub.rating or not np.isfinite(sub.experts).any():
        return None
    truth = truth_of(sub)
    people = np.where(np.isnan(sub.data), np.nan, sub.data == sub.positive)
    answered = np.isfinite(people) & np.isfinite(truth)[None, :]
    section: dict = {"signal": sub.categories[sub.positive], "resampled": "artworks",
                     "people": truth_figures(truth, people, n_boot=n_boot, seed=seed)
                     | {"n_people": int(answered.any(axis=1).sum())},
                     "models": {}}
    for model in sub.models:
        decision = np.where(np.isnan(model.label), np.nan, model.label == sub.positive)
        section["models"][model.key] = (truth_figures(truth, decision, n_boot=n_boot, seed=seed)
                                        | {"place_among_people": place_among_raters(truth, people, decision)})
    return section
