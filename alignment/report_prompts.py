"""The report's `prompt_sensitivity`: how much a model's alignment figures move with the wording.

For each model whose zero-shot predictions keep each prompt template's own answers
(`Prediction.by_template`, written by a run), the dimension's figures per template and for the
ensemble the run stores: accuracy and Cohen's kappa against the human majority (single, binary),
Spearman's rho between P(positive label) and the share of people choosing it (binary), or between the
expected and the mean rating (rating); and per figure the spread (max − min over the templates).
No Django, no queries (the rows are the loader's).
"""
from __future__ import annotations

import math

import numpy as np

from . import stats
from .arrays import DimensionArrays
from .report_figures import human_centre, majority
from .rows import StudyRows


def _number(value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan


def _arrays(answers: dict[int, dict], unit: dict[int, int], n: int, categories: list[str],
            positive: int | None, rating: bool) -> tuple[np.ndarray, np.ndarray]:
    """(label codes, score) over units from {artwork id: {"probs", "label", "expected"}}."""
    codes, score = np.full(n, np.nan), np.full(n, np.nan)
    index = {c: i for i, c in enumerate(categories)}
    for artwork_id, answer in answers.items():
        u = unit.get(artwork_id)
        if u is None:
            continue
        probs = answer.get("probs") or {}
        if rating:
            score[u] = _number(answer.get("expected"))
            continue
        codes[u] = index.get(answer.get("label"), np.nan) if isinstance(answer.get("label"), str) else np.nan
        if positive is not None:
            score[u] = _number(probs.get(categories[positive]))
    return codes, score


def prompt_sensitivity_section(dim, arrays: DimensionArrays, rows: StudyRows) -> dict | None:
    """{"figures", "models": {model key: {"templates": {name: {figure: {"value", ...}}}, "spread",
    "figures"}}}; None where no model has per-template answers or the dimension is multi-label."""
    if arrays.kind == "multi":
        return None
    sub = arrays.subs[0]
    external = {a: art["external_id"] for a, art in rows.artworks.items()}
    position = {external_id: i for i, external_id in enumerate(sub.units)}
    unit = {a: position[e] for a, e in external.items() if e in position}
    per_model: dict[str, dict[str, dict[int, dict]]] = {}
    for p in rows.predictions:
        if p["dimension_id"] != dim.id or not p.get("by_template"):
            continue
        answers = per_model.setdefault(p["model_key"], {"ensemble": {}})
        answers["ensemble"][p["artwork_id"]] = p
        for name, answer in p["by_template"].items():
            answers.setdefault(name, {})[p["artwork_id"]] = answer
    if not per_model:
        return None
    n, rating = len(sub.units), arrays.kind == "rating"
    reference = majority(sub) if not rating else None
    centre = human_centre(sub)
    figures = (["spearman_vs_mean"] if rating else
               ["accuracy_vs_majority", "kappa_vs_majority"] + (["spearman_vs_share"] if sub.positive is not None
                                                               else []))
    models = {}
    for key, by_template in per_model.items():
        rows_out = {}
        for name, answers in by_template.items():
            codes, score = _arrays(answers, unit, n, sub.categories, sub.positive, rating)
            out: dict[str, dict] = {}
            if rating:
                out["spearman_vs_mean"] = {"value": stats.spearman(score, centre)}
            else:
                out["accuracy_vs_majority"] = {"value": stats.accuracy(reference, codes)}
                out["kappa_vs_majority"] = {"value": stats.cohen_kappa(reference, codes)}
                if sub.positive is not None:
                    out["spearman_vs_share"] = {"value": stats.spearman(score, centre)}
            rows_out[name] = out
        templates = [t for t in rows_out if t != "ensemble"]
        spread = {}
        for figure in figures:
            values = [rows_out[t][figure]["value"] for t in templates if np.isfinite(rows_out[t][figure]["value"])]
            spread[figure] = float(max(values) - min(values)) if len(values) >= 2 else None
        models[key] = {"n_templates": len(templates), "templates": rows_out, "spread": spread, "figures": figures}
    return {"figures": figures, "models": models}
