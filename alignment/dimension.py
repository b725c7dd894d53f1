"""One dimension's section of a report, assembled from arrays (no Django).

`alignment.reports` builds a `DimensionArrays` from the database; `dimension_report` turns it into
the JSON-ready section documented in docs/report-schema.md (`dimensions.<key>`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .figures import (
    SubDimension,
    humans_figures,
    humans_vs_experts,
    leave_one_out,
    mean_alpha,
    mean_of,
    model_figures,
    signal_detection_humans,
    truth_of,
)
from .strata import artwork_strata, rater_strata, shares_figures

# Figures averaged over the tags of a multi-label dimension, for its dimension-level summary.
HUMAN_TAG_MEANS = ["fleiss_kappa.value", "percent_agreement", "pairwise_cohen_kappa", "leave_one_out.median",
                   "split_half.value"]
MODEL_TAG_MEANS = ["n_artworks", "vs_majority.accuracy", "vs_majority.macro_f1", "vs_majority.cohen_kappa",
                   "as_annotator.without.value", "as_annotator.with.value", "as_annotator.change",
                   "human_ceiling.model", "human_ceiling.percentile", "vs_human_mean.spearman.value",
                   "vs_experts.accuracy", "vs_experts.cohen_kappa", "signal_detection.d_prime",
                   "signal_detection.auc", "divergence.mean"]


@dataclass
class DimensionArrays:
    """Everything a dimension's section is computed from.

    subs: one sub-dimension, or one binary sub-dimension per tag (multi-label).
    unit_groups: artwork stratum field (origin, style, period, generator) -> value per unit ("" = none).
    rater_groups: "expertise.<key>" -> value per rater ("" = not answered).
    shares: (n_units,) aggregated human share per artwork (NaN = none), with share_scores: model key ->
        (score name, (n_units,) the model's probability of the share's label).
    """

    key: str
    kind: str
    level: str
    labels: list[str]
    scale: dict | None
    subs: list[SubDimension]
    unit_groups: dict[str, list[str]]
    rater_groups: dict[str, list[str]]
    truth_sources: dict[str, int] = field(default_factory=dict)
    positive_label: str | None = None
    shares: NDArray[np.float64] | None = None
    share_field: str | None = None
    share_label: str | None = None
    share_scores: dict[str, tuple[str, NDArray[np.float64]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _sub_section(sub: SubDimension, *, n_boot: int, seed: int) -> tuple[dict, dict, dict | None]:
    """(humans, models, experts) of one sub-dimension."""
    loo = leave_one_out(sub)
    humans = humans_figures(sub, loo, n_boot=n_boot, seed=seed)
    has_truth = bool(np.isfinite(sub.experts).any())
    if sub.positive is not None and has_truth and humans["n_judgements"]:
        humans["signal_detection"] = signal_detection_humans(sub, truth_of(sub))
    split_half = (humans.get("split_half") or {}).get("value")
    models = {m.key: model_figures(sub, m, loo, n_boot=n_boot, seed=seed, split_half=split_half) for m in sub.models}
    experts = humans_vs_experts(sub) if humans["n_judgements"] else None
    return humans, models, experts


def dimension_report(arrays: DimensionArrays, model_meta: dict[str, dict], *, n_boot: int, seed: int,
                     min_stratum_items: int) -> dict:
    """The JSON-ready section of one dimension (NaN still present; `figures.json_ready` removes it)."""
    subs = arrays.subs
    sections = [_sub_section(sub, n_boot=n_boot, seed=seed) for sub in subs]
    n_units = len(subs[0].units)
    if arrays.kind == "multi":
        tag_humans = {sub.key: humans for sub, (humans, _, _) in zip(subs, sections)}
        first = sections[0][0]
        humans = {"alpha": mean_alpha(subs, n_boot=n_boot, seed=seed)} | {
            k: first[k] for k in ("n_judgements", "n_participants", "n_artworks", "n_pairable_artworks")}
        humans |= mean_of(list(tag_humans.values()), HUMAN_TAG_MEANS) | {"of": "mean over tags", "tags": tag_humans}
        models = {}
        for model in subs[0].models:
            per_tag = {sub.key: models_[model.key] for sub, (_, models_, _) in zip(subs, sections)}
            means = mean_of(list(per_tag.values()), MODEL_TAG_MEANS)
            # Alpha with and without the model: averaged over the tags where both are defined.
            both = [f for f in per_tag.values() if f["as_annotator"] and all(
                np.isfinite(f["as_annotator"][side]["value"]) for side in ("without", "with"))]
            as_annotator = mean_of(both, ["as_annotator.without.value", "as_annotator.with.value",
                                          "as_annotator.change"]).get("as_annotator")
            means["as_annotator"] = as_annotator | {"n_tags": len(both)} if as_annotator else None
            models[model.key] = model_meta[model.key] | means | {"of": "mean over tags", "tags": per_tag}
        tag_experts = {sub.key: experts for sub, (_, _, experts) in zip(subs, sections)}
        experts_humans = (mean_of(list(tag_experts.values()), ["n", "accuracy", "cohen_kappa"])
                          | {"of": "mean over tags", "tags": tag_experts}) if any(tag_experts.values()) else None
    else:
        humans, models_, experts_humans = sections[0]
        models = {key: model_meta[key] | figures for key, figures in models_.items()}
    if not humans["n_judgements"]:
        humans["note"] = ("no per-judge judgements" + (f"; see `shares` for the aggregated human data"
                                                       if arrays.shares is not None else ""))
    experts = None
    if arrays.truth_sources:
        experts = {"sources": arrays.truth_sources, "humans": experts_humans}
    shares = None
    if arrays.shares is not None:
        shares = shares_figures(arrays.shares, arrays.share_scores, arrays.unit_groups, field=arrays.share_field,
                                label=arrays.share_label, min_items=min_stratum_items, n_boot=n_boot, seed=seed)
    strata = artwork_strata(subs, arrays.unit_groups, min_items=min_stratum_items, n_boot=n_boot, seed=seed)
    strata |= rater_strata(subs, arrays.rater_groups, min_items=min_stratum_items, n_boot=n_boot, seed=seed)
    return {
        "key": arrays.key,
        "kind": arrays.kind,
        "level": arrays.level,
        "labels": arrays.labels,
        "scale": arrays.scale,
        "positive_label": arrays.positive_label,
        "n_artworks": n_units,
        "humans": humans,
        "experts": experts,
        "models": models,
        "shares": shares,
        "strata": strata,
        "notes": arrays.notes,
    }
