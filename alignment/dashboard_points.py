"""Dashboard selectors, per artwork: the points behind the dashboard's scatters and a stratum's
disagreement list, from one dimension's arrays.

A stored report keeps figures, not every artwork's values, so the dashboard codes the study's rows
again through the very coder the report is built with (`coding.dimension_arrays_as_reported`, with
the exclusion rules the report recorded) and reads the points off those arrays here: the scatter
shows the pairs the report's Spearman was computed on, as long as the data did not change since
(the dashboard says when it did). No queries here.
"""
from __future__ import annotations

import numpy as np

from .arrays import DimensionArrays, SubDimension
from .report_figures import divergence, human_centre, score_name


def stratum_subs(arrays: DimensionArrays, stratum: tuple[str, str] | None) -> tuple[list[SubDimension], np.ndarray]:
    """The sub-dimensions restricted to a stratum, and the unit mask (all units without one)."""
    units = np.ones(len(arrays.subs[0].units), bool)
    if stratum is None:
        return arrays.subs, units
    field, value = stratum
    if field in arrays.unit_groups:
        units = _equal(arrays.unit_groups[field], value)
        return [s.sub(units=units) for s in arrays.subs], units
    if field in arrays.rater_groups:
        raters = _equal(arrays.rater_groups[field], value)
        return [s.sub(raters=raters) for s in arrays.subs], units
    return [s.sub(units=np.zeros(len(units), bool)) for s in arrays.subs], np.zeros(len(units), bool)


def _equal(groups, value: str) -> np.ndarray:
    """Which groups are `value`, compared as Python strings: numpy would turn `value` into its own
    string type, which drops trailing NUL characters ("ai\\x00" would select "ai")."""
    return np.fromiter((group == value for group in groups), bool, len(groups))


def _ranges(arrays: DimensionArrays, sub: SubDimension):
    if sub.positive is not None:
        return (0.0, 1.0), (0.0, 1.0), "share voting " + sub.categories[sub.positive]
    if sub.rating:
        scale_of = arrays.scale or {}  # a rating dimension's arrays always have their scale
        scale = (float(scale_of["min"]), float(scale_of["max"]))
        return scale, scale, "mean rating"
    if sub.level == "ordinal":
        top = float(len(sub.categories) - 1)
        return (0.0, top), (0.0, top), "mean label position (0 = first label)"
    return None, None, "mean label value"


def scatters(arrays: DimensionArrays, stratum: tuple[str, str] | None, model_meta: dict) -> list[dict]:
    """Human mean (or share voting the positive label) against each model's score, per artwork.
    Multi-label dimensions have none here (one binary scatter per tag would be too many)."""
    if arrays.kind == "multi":
        return []
    subs, _ = stratum_subs(arrays, stratum)
    sub = subs[0]
    if not (sub.rating or sub.positive is not None or sub.level != "nominal"):
        return []
    centre = human_centre(sub)
    x_range, y_range, y_title = _ranges(arrays, sub)
    out = []
    for model in sub.models:
        points = [(float(x), float(y), unit) for x, y, unit in zip(model.score, centre, sub.units)
                  if np.isfinite(x) and np.isfinite(y)]
        out.append({"model": model.key, "stand_in": bool((model_meta.get(model.key) or {}).get("is_stand_in")),
                    "points": points, "x_title": f"{model.key}: {score_name(sub)}", "y_title": y_title,
                    "x_range": x_range, "y_range": y_range})
    return out


def share_scatters(arrays: DimensionArrays, stratum: tuple[str, str] | None, model_meta: dict) -> list[dict]:
    """Aggregated human shares (e.g. AI-Pastiche's authenticity) against each model's P(label)."""
    if arrays.shares is None:
        return []
    _, units = stratum_subs(arrays, stratum)
    ids = arrays.subs[0].units
    out = []
    for key, (name, score) in arrays.share_scores.items():
        points = [(float(score[i]), float(arrays.shares[i]), ids[i]) for i in np.flatnonzero(units)
                  if np.isfinite(score[i]) and np.isfinite(arrays.shares[i])]
        out.append({"model": key, "stand_in": bool((model_meta.get(key) or {}).get("is_stand_in")),
                    "points": points, "x_title": f"{key}: {name}",
                    "y_title": f"share choosing {arrays.share_label!r} ({arrays.share_field})",
                    "x_range": (0.0, 1.0), "y_range": (0.0, 1.0)})
    return out


def disagreements(arrays: DimensionArrays, stratum: tuple[str, str] | None) -> dict[str, list[dict]]:
    """Model key -> the artworks (of the stratum) with the largest Jensen–Shannon divergence between
    the model's probabilities and the people's vote shares (the report's `divergence.top`)."""
    if arrays.kind == "multi":
        return {}
    subs, _ = stratum_subs(arrays, stratum)
    sub = subs[0]
    out = {}
    for model in sub.models:
        found = divergence(sub, model)
        if found and found["top"]:
            out[model.key] = found["top"]
    return out
