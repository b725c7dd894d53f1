"""The report builder: arrays in, the report's JSON content out (no Django, no queries).

`dimension_report` turns one dimension's `DimensionArrays` (made by `alignment.coding`) into its
section (`dimensions.<key>`, docs/report-schema.md) from the figure definitions in `report_figures`
and `report_strata`; `inputs_section` fingerprints the loaded rows, so two reports of the same
inputs say so. `alignment.reports` calls them in order: load, code, build, store.
"""
from __future__ import annotations

import hashlib
import json
import platform
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from .arrays import DimensionArrays, SubDimension
from .report_calibration import calibration_section
from .report_figures import (
    humans_figures,
    humans_vs_experts,
    leave_one_out,
    mean_alpha,
    mean_of,
    model_figures,
    signal_detection_humans,
    truth_of,
)
from .report_probes import held_out_section
from .report_strata import artwork_strata, rater_strata, shares_figures
from .report_truth import truth_section
from .rows import StudyRows

STATS_PACKAGES = ("numpy", "scipy", "scikit-learn", "krippendorff")

# Figures averaged over the tags of a multi-label dimension, for its dimension-level summary.
HUMAN_TAG_MEANS = ["fleiss_kappa.value", "percent_agreement", "pairwise_cohen_kappa", "leave_one_out.median",
                   "split_half.value"]
MODEL_TAG_MEANS = ["n_artworks", "vs_majority.accuracy", "vs_majority.macro_f1", "vs_majority.cohen_kappa",
                   "as_annotator.without.value", "as_annotator.with.value", "as_annotator.change",
                   "human_ceiling.model", "human_ceiling.percentile", "vs_human_mean.spearman.value",
                   "vs_experts.accuracy", "vs_experts.cohen_kappa", "signal_detection.d_prime",
                   "signal_detection.auc", "divergence.mean"]


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
    """The JSON-ready section of one dimension (NaN still present; `report_figures.json_ready` removes it)."""
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
        humans["note"] = ("no per-judge judgements" + ("; see `shares` for the aggregated human data"
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
        "truth": truth_section(subs[0], n_boot=n_boot, seed=seed) if arrays.kind != "multi" else None,
        "held_out": held_out_section(arrays, model_meta, n_boot=n_boot, seed=seed),
        "calibration": calibration_section(arrays, n_boot=n_boot, seed=seed),
        "notes": arrays.notes,
    }


def _sha256(rows) -> str:
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


def _versions() -> dict:
    found: dict[str, str | None] = {}
    for name in STATS_PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found | {"python": platform.python_version()}


def inputs_section(rows: StudyRows, dims: dict, excluded: set[int], *, seed: int, n_boot: int) -> dict:
    """The report's `inputs`: counts and SHA-256 of every row it read (in external ids, sorted), the
    models, the seed and the package versions: two reports with equal inputs had the same data.

    `rows` are all the study's rows (before exclusions); `dims`: dimension id -> dimension.
    """
    arts, people = rows.artworks, rows.participants
    judgement_rows = sorted([people[j["participant_id"]]["external_id"], arts[j["artwork_id"]]["external_id"],
                             dims[j["dimension_id"]].key, j["value"], j["response_ms"]] for j in rows.judgements)
    prediction_rows = sorted([arts[p["artwork_id"]]["external_id"], dims[p["dimension_id"]].key, p["model_name"],
                              p["revision"], p["method"], p["probs"], p["label"], p["expected"], p["prompts_hash"]]
                             for p in rows.predictions)
    expert_rows = sorted([arts[e["artwork_id"]]["external_id"], dims[e["dimension_id"]].key, e["value"]]
                         for e in rows.experts)
    share_fields = sorted({d.extra["human_share_field"] for d in dims.values() if d.extra.get("human_share_field")})
    share_rows = sorted([a["external_id"], f, a["metadata"].get(f)] for a in arts.values() for f in share_fields
                        if isinstance(a["metadata"], dict) and f in a["metadata"])
    used = [j for j in rows.judgements if j["participant_id"] not in excluded]
    return {
        "judgements": {"count": len(rows.judgements), "used": len(used), "sha256": _sha256(judgement_rows)},
        "expert_labels": {"count": len(expert_rows), "sha256": _sha256(expert_rows)},
        "shares": {"fields": share_fields, "count": len(share_rows), "sha256": _sha256(share_rows)},
        "predictions": {"count": len(prediction_rows), "sha256": _sha256(prediction_rows)},
        "models": [{"key": key} | meta for key, meta in rows.models.items()],
        "seed": seed,
        "n_boot": n_boot,
        "versions": _versions(),
    }
