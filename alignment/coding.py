"""The coder: a study's loaded rows (`alignment.rows`) into arrays per dimension (`alignment.arrays`).
No queries (the loader has read everything), no figures (the report builder computes them).

Codes: single and binary labels become their index in `Dimension.labels` (an ordinal dimension's
order is its labels' order); a multi-label judgement becomes one 0/1 answer per tag; ratings stay
numbers. Artworks (units) and participants (raters) are ordered by external id, so the numbers do not
depend on insertion order or on the database.
"""
from __future__ import annotations

import contextlib
import json
import math
from collections import defaultdict
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from annotations.exclusions import ExclusionRules, exclusions_decide

from .arrays import DimensionArrays, ModelArrays, SubDimension
from .rows import ARTWORK_STRATA, PredictionRow, StudyRows
from .stats import Level

if TYPE_CHECKING:
    from annotations.models import Dimension



def dimension_arrays_as_reported(dim: Dimension, rows: StudyRows, options: dict) -> DimensionArrays:
    """The arrays of one dimension after the exclusions a stored report was computed with (its
    `options`): the dashboard's points are the pairs the report's figures were computed on."""
    decided = exclusions_decide(rows.participants, rows.judgements, rows.attention_checks,
                                ExclusionRules.from_options(options))
    return dimension_arrays(dim, rows.without({pid for pid, d in decided.items() if d.excluded}))


def _number(raw) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return math.nan
    return value if math.isfinite(value) else math.nan


class Coder:
    """How one dimension's stored values become numbers (see the module docstring)."""

    def __init__(self, dim: Dimension):
        self.dim = dim
        self.index = {label: i for i, label in enumerate(dim.labels)}
        self.level = cast(Level, dim.level)  # one of LEVELS: the study file's validation says so
        # A rating dimension has its scale (the study file's validation says so); others have none.
        self.scale = (cast(int, dim.scale_min), cast(int, dim.scale_max))
        if dim.kind == "rating":
            self.categories = [str(v) for v in range(self.scale[0], self.scale[1] + 1)]
        elif dim.kind == "multi":
            self.categories = ["no", "yes"]
        else:
            self.categories = list(dim.labels)
        numeric = [_number(label) for label in dim.labels]
        self.values = (np.array(numeric) if dim.labels and all(map(math.isfinite, numeric))
                       else np.arange(1.0, len(dim.labels) + 1))
        positive = dim.extra.get("positive_label", dim.labels[1] if dim.kind == "binary" else None)
        self.positive = self.index.get(positive) if dim.kind == "binary" else (1 if dim.kind == "multi" else None)

    def code(self, value) -> float | list[float]:
        """A stored value as a code (or per-tag 0/1 list for multi); NaN if it does not fit."""
        if self.dim.kind == "multi":
            chosen = set(value) if isinstance(value, list) else set()
            return [float(tag in chosen) for tag in self.dim.labels]
        if self.dim.kind == "rating":
            return _number(value)
        return float(self.index.get(value, math.nan)) if isinstance(value, str) else math.nan


def _prediction_arrays(coder: Coder, rows: list[PredictionRow], unit_index: dict[int, int], n: int):
    """(label, score, probs) arrays over units for one model, per sub-dimension (tags for multi)."""
    dim, k = coder.dim, len(coder.categories)
    n_subs = len(dim.labels) if dim.kind == "multi" else 1
    label = np.full((n_subs, n), np.nan)
    score = np.full((n_subs, n), np.nan)
    probs = np.full((n_subs, n, k), np.nan)
    probs_complete = True
    for row in rows:
        u = unit_index[row["artwork_id"]]
        p = row["probs"] if isinstance(row["probs"], dict) else {}
        if dim.kind == "multi":
            tags = set(row["label"]) if isinstance(row["label"], list) else None
            for t, tag in enumerate(dim.labels):
                pt = _number(p.get(tag))
                probs[t, u] = (1 - pt, pt)
                score[t, u] = pt
                if tags is not None:
                    label[t, u] = float(tag in tags)
                elif math.isfinite(pt):
                    label[t, u] = float(pt >= 0.5)
        elif dim.kind == "rating":
            point = np.array([_number(p.get(c)) for c in coder.categories])
            probs_complete &= bool(np.isfinite(point).all())
            probs[0, u] = point
            expected = _number(row["expected"])
            if not math.isfinite(expected) and np.isfinite(point).all() and point.sum() > 0:
                expected = float(point @ np.array([float(c) for c in coder.categories]) / point.sum())
            score[0, u] = expected
            if math.isfinite(expected):
                label[0, u] = min(max(round(expected), coder.scale[0]), coder.scale[1])
        else:
            point = np.array([_number(p.get(c)) for c in coder.categories])
            probs[0, u] = point
            chosen = cast(float, coder.code(row["label"]))  # one code: not multi-label
            label[0, u] = chosen if math.isfinite(chosen) or not np.isfinite(point).all() else float(np.argmax(point))
            if coder.positive is not None:
                score[0, u] = point[coder.positive]
            elif dim.level != "nominal" and np.isfinite(point).all() and point.sum() > 0:
                positions = np.arange(k, dtype=float) if dim.level == "ordinal" else coder.values
                score[0, u] = float(point @ positions / point.sum())
    return label, score, (probs if probs_complete else None)


def _truth_field(dim: Dimension) -> str | None:
    return dim.extra.get("truth_field", "origin" if dim.key == "origin" and dim.kind != "rating" else None)


def dimension_arrays(dim: Dimension, rows: StudyRows) -> DimensionArrays:
    """Arrays of one dimension from the study's loaded rows (`loader.study_rows`, less the excluded
    participants' judgements: `StudyRows.without`)."""
    coder = Coder(dim)
    judgements = [j for j in rows.judgements if j["dimension_id"] == dim.id]
    predictions = [p for p in rows.predictions if p["dimension_id"] == dim.id]
    experts = {e["artwork_id"]: e["value"] for e in rows.experts if e["dimension_id"] == dim.id}
    share_field, share_label = dim.extra.get("human_share_field"), dim.extra.get("human_share_label")
    artworks = rows.artworks
    shares_by_artwork = {}
    if share_field:
        shares_by_artwork = {a: _number(art["metadata"].get(share_field)) for a, art in artworks.items()
                             if isinstance(art["metadata"], dict) and share_field in art["metadata"]}
        shares_by_artwork = {a: v for a, v in shares_by_artwork.items() if math.isfinite(v)}
    truth_field = _truth_field(dim)
    truth = dict(experts)
    sources = {"expert_labels": len(experts)} if experts else {}
    if truth_field:
        extra = {}
        for a, art in artworks.items():
            if a not in experts and art.get(truth_field):
                with contextlib.suppress(ValueError):
                    extra[a] = dim.parse_value(cast(dict[str, Any], art)[truth_field])
        truth |= extra
        if extra:
            sources[f"artwork.{truth_field}"] = len(extra)
    used = ({j["artwork_id"] for j in judgements} | {p["artwork_id"] for p in predictions} | set(truth)
            | set(shares_by_artwork))
    units = sorted(used, key=lambda a: artworks[a]["external_id"])
    unit_index = {a: i for i, a in enumerate(units)}
    raters = sorted({j["participant_id"] for j in judgements}, key=lambda p: rows.participants[p]["external_id"])
    rater_index = {p: i for i, p in enumerate(raters)}
    n_subs = len(dim.labels) if dim.kind == "multi" else 1
    matrix = np.full((n_subs, len(raters), len(units)), np.nan)
    unfit = 0
    for j in judgements:
        code = coder.code(j["value"])
        if isinstance(code, float) and not math.isfinite(code):
            unfit += 1
        matrix[:, rater_index[j["participant_id"]], unit_index[j["artwork_id"]]] = code
    reference = np.full((n_subs, len(units)), np.nan)
    for a, value in truth.items():
        reference[:, unit_index[a]] = coder.code(value)
    unit_ids = [artworks[a]["external_id"] for a in units]
    rater_ids = [rows.participants[p]["external_id"] for p in raters]
    by_model = defaultdict(list)
    for p in predictions:
        by_model[p["model_key"]].append(p)
    per_model = {key: _prediction_arrays(coder, model_rows, unit_index, len(units))
                 for key, model_rows in sorted(by_model.items())}
    subs = []
    for s in range(n_subs):
        sub_models = [ModelArrays(key, rows.models[key], label[s], score[s], None if probs is None else probs[s])
                      for key, (label, score, probs) in per_model.items()]
        subs.append(SubDimension(
            key=dim.labels[s] if dim.kind == "multi" else dim.key, level=coder.level, categories=coder.categories,
            rating=dim.kind == "rating", data=matrix[s], raters=rater_ids, units=unit_ids, experts=reference[s],
            models=sub_models, values=coder.values if dim.kind in ("single", "binary") else None,
            positive=coder.positive))
    expertise_keys = sorted({k for p in raters for k in rows.participants[p]["expertise"]})
    arrays = DimensionArrays(
        key=dim.key, kind=dim.kind, level=coder.level,
        labels=list(dim.labels) if dim.kind == "multi" else coder.categories,
        scale={"min": dim.scale_min, "max": dim.scale_max} if dim.kind == "rating" else None, subs=subs,
        unit_groups={f: [str(cast(dict[str, Any], artworks[a])[f] or "") for a in units] for f in ARTWORK_STRATA},
        rater_groups={f"expertise.{k}": [_group_value(rows.participants[p]["expertise"].get(k)) for p in raters]
                      for k in expertise_keys},
        truth_sources=sources,
        positive_label=dim.labels[coder.positive] if dim.kind == "binary" and coder.positive is not None else None,
    )
    if unfit:
        arrays.notes.append(f"{unfit} judgement{'' if unfit == 1 else 's'} with a value outside the dimension's"
                            " labels left out.")
    if share_field and not shares_by_artwork:
        arrays.notes.append(f"No aggregated human shares to compare with: no artwork has a number in its"
                            f" “{share_field}” metadata column.")
    elif share_field:
        arrays.share_field, arrays.share_label = share_field, share_label
        arrays.shares = np.array([shares_by_artwork.get(a, math.nan) for a in units])
        arrays.share_scores = _share_scores(share_label, by_model, unit_index, len(units))
        if share_label not in coder.categories and share_label not in dim.labels:
            arrays.notes.append(f"The aggregated shares count “{share_label}”, which is not one of the"
                                " dimension's labels: models have no score to compare with them.")
    return arrays


def _group_value(value) -> str:
    if value is None or value == "":
        return ""
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else str(value)


def _share_scores(label: str, by_model: dict, unit_index: dict[int, int], n: int) -> dict:
    scores = {}
    for key, rows in sorted(by_model.items()):
        score = np.full(n, np.nan)
        for row in rows:
            p = row["probs"] if isinstance(row["probs"], dict) else {}
            score[unit_index[row["artwork_id"]]] = _number(p.get(label))
        scores[key] = (f"P({label})", score)
    return scores
