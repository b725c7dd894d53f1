"""The figures of one (sub-)dimension, from arrays: people among themselves, each model, experts.

Part of the report builder: no Django, no queries. The coder (`alignment.coding`) makes the arrays
(`alignment.arrays`); each figure is defined once here and used by the report's overall figures,
its strata (`report_strata`) and the dashboard's points (`dashboard_points`).
A multi-label dimension is analysed as one binary sub-dimension per tag, every other dimension
as one sub-dimension. Conventions follow `alignment.stats`: reliability data (n_raters, n_units),
per-item vectors (n_units,), NaN = missing.

Randomness: only the bootstrap intervals use the report's seed. Majority ties and split-half
splits use the fixed seed `TIES_SEED`, so a point figure never depends on the report's seed.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import stats
from .arrays import ModelArrays, SubDimension

TIES_SEED = 0
TOP_DISAGREEMENTS = 10
MIN_VOTES_FOR_DIVERGENCE = 2


def json_ready(obj):
    """Plain JSON values: NaN and infinities become None, numpy scalars and arrays become Python."""
    if isinstance(obj, dict):
        return {str(key): json_ready(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(value) for value in obj]
    if isinstance(obj, np.ndarray):
        return json_ready(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


# People ---------------------------------------------------------------------------------------------
def _metric_data(sub: SubDimension) -> NDArray[np.float64]:
    return sub.data if sub.rating else sub.as_values(sub.data)


def human_centre(sub: SubDimension) -> NDArray[np.float64]:
    """Per unit: the share voting the positive label (binary), else the mean value (rank for ordinal)."""
    if sub.positive is not None:
        return stats.mean_ratings(np.where(np.isnan(sub.data), np.nan, sub.data == sub.positive))
    return stats.mean_ratings(_metric_data(sub))


def _rating_codes(sub: SubDimension) -> NDArray[np.float64] | None:
    """Ratings as scale-point codes 0..K-1 when every rating is a scale point, else None."""
    points = np.array([float(c) for c in sub.categories])
    present = ~np.isnan(sub.data)
    codes = np.full(sub.data.shape, np.nan)
    index = np.searchsorted(points, sub.data[present])
    if np.any(index >= len(points)) or np.any(points[np.minimum(index, len(points) - 1)] != sub.data[present]):
        return None
    codes[present] = index
    return codes


def category_codes(sub: SubDimension) -> NDArray[np.float64] | None:
    """Reliability data as category codes (categorical data as is; ratings as scale points)."""
    return _rating_codes(sub) if sub.rating else sub.data


def majority(sub: SubDimension) -> NDArray[np.float64]:
    """Majority category code per unit (ties: seeded random choice with TIES_SEED), NaN = no votes."""
    codes = category_codes(sub)
    if codes is None or not sub.k:
        return np.full(len(sub.units), np.nan)
    return stats.majority_labels(codes, sub.k, ties="random", seed=TIES_SEED)[0]


def _fleiss(sub: SubDimension) -> dict:
    codes = category_codes(sub)
    if codes is None:
        return {"value": None, "note": "ratings off the scale points: no categories to count"}
    counts = stats.vote_counts(codes, sub.k)
    counts = counts[counts.sum(axis=1) > 0]
    n_i = counts.sum(axis=1)
    if counts.shape[0] == 0 or n_i.min() < 2:
        return {"value": None, "note": "needs at least two judges on every judged artwork"}
    if not np.all(n_i == n_i[0]):
        return {"value": None, "note": f"artworks have {int(n_i.min())} to {int(n_i.max())} judges; Fleiss' kappa"
                                        " needs the same number on every artwork (see alpha)"}
    return {"value": stats.fleiss_kappa(counts), "note": None, "judges_per_artwork": int(n_i[0])}


def humans_figures(sub: SubDimension, loo: NDArray[np.float64], *, n_boot: int, seed: int) -> dict:
    """Agreement among people on one sub-dimension (see docs/report-schema.md, `humans`).

    `loo` is `leave_one_out(sub)`, each rater's agreement with the others (computed once by the
    caller, which also reads the human ceiling off it).
    """
    present = ~np.isnan(sub.data)
    out = {
        "alpha": alpha_figure(sub, n_boot=n_boot, seed=seed),
        "n_judgements": int(present.sum()),
        "n_participants": int(present.any(axis=1).sum()),
        "n_artworks": int(present.any(axis=0).sum()),
        "n_pairable_artworks": int((present.sum(axis=0) >= 2).sum()),
    }
    if not present.any():
        return out | dict.fromkeys(("fleiss_kappa", "percent_agreement", "pairwise_cohen_kappa", "leave_one_out",
                                    "split_half")) | {"note": "no judgements"}
    codes = category_codes(sub)
    loo_metric = stats.DEFAULT_METRIC[sub.level]
    judged = present.sum(axis=1)
    out |= {
        "fleiss_kappa": _fleiss(sub),
        "percent_agreement": stats.percent_agreement(sub.data),
        "pairwise_cohen_kappa": stats.pairwise_cohen_kappa(codes) if codes is not None else None,
        "leave_one_out": {
            "metric": loo_metric,
            "median": float(np.nanmedian(loo)) if np.isfinite(loo).any() else None,
            "mean": float(np.nanmean(loo)) if np.isfinite(loo).any() else None,
            "participants": [{"participant": rater, "n_artworks": int(n), "value": value}
                             for rater, n, value in zip(sub.raters, judged, loo) if n],
        },
        "split_half": None,
    }
    if sub.rating or sub.positive is not None or sub.level != "nominal":
        data = (np.where(present, sub.data == sub.positive, np.nan) if sub.positive is not None
                else _metric_data(sub))
        out["split_half"] = stats.split_half_reliability(data, seed=TIES_SEED)
    return out


def alpha_figure(sub: SubDimension, *, n_boot: int, seed: int) -> dict:
    """{"value", "ci": [low, high], "level", "n_boot", "ci_level"}: alpha at the sub-dimension's level."""
    data = _metric_data(sub)
    if not np.isfinite(data).any():
        return {"value": math.nan, "ci": (math.nan, math.nan), "level": sub.level, "n_boot": n_boot, "ci_level": 0.95}
    return stats.alpha_bootstrap(data, sub.level, n_boot=n_boot, seed=seed)


def leave_one_out(sub: SubDimension) -> NDArray[np.float64]:
    if sub.data.shape[0] < 2:
        return np.full(sub.data.shape[0], np.nan)
    return stats.leave_one_out_agreement(_metric_data(sub), sub.level, ties="random", seed=TIES_SEED)


def signal_detection_humans(sub: SubDimension, truth: NDArray[np.float64]) -> dict:
    """People's yes/no decisions pooled over judgements (each judgement a trial), and the AUC of the
    share voting the positive label per artwork."""
    present = ~np.isnan(sub.data)
    rater, unit = np.nonzero(present & np.isfinite(truth)[None, :])
    decisions = (sub.data[rater, unit] == sub.positive).astype(float)
    return stats.signal_detection(truth[unit], decisions) | {"auc": stats.auc(truth, human_centre(sub))}


def truth_of(sub: SubDimension) -> NDArray[np.float64]:
    """1 where the reference says the positive label, 0 where the other, NaN where no reference."""
    return np.where(np.isnan(sub.experts), np.nan, sub.experts == sub.positive)


def humans_vs_experts(sub: SubDimension) -> dict | None:
    """The human majority (mean, for ratings) against the reference labels."""
    has = np.isfinite(sub.experts)
    if not has.any():
        return None
    if sub.rating:
        centre = human_centre(sub)
        return {"n": int((has & np.isfinite(centre)).sum()), "spearman": stats.spearman(centre, sub.experts)}
    reference = majority(sub)
    return {"n": int((has & np.isfinite(reference)).sum()), "accuracy": stats.accuracy(sub.experts, reference),
            "cohen_kappa": stats.cohen_kappa(sub.experts, reference)}


# Models ---------------------------------------------------------------------------------------------
def _vs_reference(sub: SubDimension, reference: NDArray[np.float64], label: NDArray[np.float64]) -> dict:
    labels = list(range(sub.k))
    return {
        "n": int((np.isfinite(reference) & np.isfinite(label)).sum()),
        "accuracy": stats.accuracy(reference, label),
        "macro_f1": stats.macro_f1(reference, label, labels=labels),
        "cohen_kappa": stats.cohen_kappa(reference, label),
    }


def _as_annotator(sub: SubDimension, model: ModelArrays, *, n_boot: int, seed: int) -> dict:
    """Alpha of the people alone and with the model as one more judge, on the same artworks: those
    with the model's answer and at least two people's (so both alphas have the same units)."""
    units = np.isfinite(model.label) & ((~np.isnan(sub.data)).sum(axis=0) >= 2)
    if not units.any():
        undefined = {"value": math.nan, "ci": (math.nan, math.nan), "level": sub.level, "n_boot": n_boot,
                     "ci_level": 0.95}
        return {"n_artworks": 0, "without": undefined, "with": undefined, "change": math.nan}
    people = _metric_data(sub)[:, units]
    own = model.label[units] if sub.rating else sub.as_values(model.label[units])
    without = stats.alpha_bootstrap(people, sub.level, n_boot=n_boot, seed=seed)
    with_model = stats.alpha_bootstrap(np.vstack([people, own[None, :]]), sub.level, n_boot=n_boot, seed=seed)
    change = with_model["value"] - without["value"]
    return {"n_artworks": int(units.sum()), "without": without, "with": with_model, "change": change}


def _ceiling(sub: SubDimension, model: ModelArrays, rater_scores: NDArray[np.float64]) -> dict:
    """Where the model's leave-one-out agreement falls among the people's (`stats.human_ceiling`)."""
    metric = stats.DEFAULT_METRIC[sub.level]
    answer = model.label if sub.level == "nominal" or not np.isfinite(model.score).any() else model.score
    if sub.data.shape[0] < 2:
        return {"metric": metric, "note": "needs at least two people"}
    score = stats.model_leave_one_out_agreement(_metric_data(sub), answer, sub.level, ties="random", seed=TIES_SEED)
    return {"metric": metric} | stats.human_ceiling(rater_scores, score)


def divergence(sub: SubDimension, model: ModelArrays) -> dict | None:
    """Jensen–Shannon divergence (base 2, in [0, 1]) between the model's probabilities and the
    people's vote shares per artwork, over artworks with at least MIN_VOTES_FOR_DIVERGENCE votes."""
    codes = category_codes(sub)
    if model.probs is None or codes is None:
        return None
    counts = stats.vote_counts(codes, sub.k)
    use = (counts.sum(axis=1) >= MIN_VOTES_FOR_DIVERGENCE) & np.isfinite(model.probs).all(axis=1)
    if not use.any():
        return {"measure": "jensen_shannon", "n": 0, "mean": None, "median": None, "top": []}
    shares = counts[use] / counts[use].sum(axis=1, keepdims=True)
    jsd = stats.jensen_shannon(model.probs[use], shares)
    where = np.flatnonzero(use)
    order = np.argsort(-jsd, kind="stable")[:TOP_DISAGREEMENTS]
    top = [{"artwork": sub.units[where[i]], "value": jsd[i], "n_votes": int(counts[where[i]].sum()),
            "model": dict(zip(sub.categories, model.probs[where[i]])), "humans": dict(zip(sub.categories, shares[i]))}
           for i in order]
    finite = np.isfinite(jsd)  # n counts exactly the artworks the mean and median use
    if not finite.any():
        return {"measure": "jensen_shannon", "n": 0, "mean": None, "median": None, "top": top}
    return {"measure": "jensen_shannon", "n": int(finite.sum()), "mean": float(np.mean(jsd[finite])),
            "median": float(np.median(jsd[finite])), "top": top}


def score_name(sub: SubDimension) -> str:
    if sub.positive is not None:
        return f"P({sub.categories[sub.positive]})"
    return "expected rating" if sub.rating else "expected label value"


def continuous(sub: SubDimension) -> bool:
    """Whether people's answers have a per-artwork centre to rank (ratings, a binary share, an order)."""
    return sub.rating or sub.positive is not None or sub.level != "nominal"


def vs_majority(sub: SubDimension, model: ModelArrays, *, confusion: bool = False) -> dict | None:
    """The model's labels against the people's majority label (ties: TIES_SEED): n, accuracy, macro F1,
    Cohen's kappa, and the confusion matrix if asked; None for ratings or without judgements."""
    if sub.rating or not np.isfinite(sub.data).any():
        return None
    reference = majority(sub)
    out = _vs_reference(sub, reference, model.label)
    if confusion:
        out["confusion"] = {"labels": sub.categories, "rows": "human majority", "columns": "model",
                            "matrix": stats.confusion_matrix(reference, model.label, labels=range(sub.k))}
    return out


def vs_human_mean(sub: SubDimension, model: ModelArrays, *, n_boot: int, seed: int,
                  interval: bool = True) -> dict | None:
    """Spearman's rho between the model's score and the people's centre per artwork (`human_centre`),
    with a bootstrap interval unless `interval` is off; None where there is no centre or no score."""
    if not (np.isfinite(sub.data).any() and continuous(sub) and np.isfinite(model.score).any()):
        return None
    centre = human_centre(sub)
    return {"score": score_name(sub),
            "human": "share voting " + sub.categories[sub.positive] if sub.positive is not None
            else "mean rating" if sub.rating else "mean label value",
            "spearman": stats.spearman_ci(model.score, centre, n_boot=n_boot, seed=seed) if interval
            else {"value": stats.spearman(model.score, centre)}}


def model_figures(sub: SubDimension, model: ModelArrays, rater_scores: NDArray[np.float64], *,
                  n_boot: int, seed: int, split_half: float | None) -> dict:
    """One model on one sub-dimension (see docs/report-schema.md, `models.<name>`). A stratum repeats
    `n_artworks`, `vs_majority` (without the confusion matrix), `vs_human_mean` and `vs_experts` from
    the same functions (`report_strata`)."""
    has_people = bool(np.isfinite(sub.data).any())
    out: dict[str, Any] = {"n_artworks": int(np.isfinite(model.label).sum())}
    out["vs_majority"] = vs_majority(sub, model, confusion=True)
    out["as_annotator"] = _as_annotator(sub, model, n_boot=n_boot, seed=seed) if has_people else None
    out["human_ceiling"] = _ceiling(sub, model, rater_scores) if has_people else None
    out["vs_human_mean"] = vs_human_mean(sub, model, n_boot=n_boot, seed=seed)
    if out["vs_human_mean"] is not None:
        out["vs_human_mean"]["human_split_half"] = split_half
    out["vs_experts"] = model_vs_experts(sub, model)
    out["signal_detection"] = None
    if sub.positive is not None and np.isfinite(sub.experts).any():
        truth = truth_of(sub)
        out["signal_detection"] = stats.signal_detection(truth, np.where(
            np.isnan(model.label), np.nan, model.label == sub.positive)) | {"auc": stats.auc(truth, model.score)}
    out["divergence"] = divergence(sub, model) if has_people else None
    return out


def model_vs_experts(sub: SubDimension, model: ModelArrays) -> dict | None:
    """The model against the reference labels (expert labels, a truth field); None without any."""
    if not np.isfinite(sub.experts).any():
        return None
    if sub.rating:
        return {"n": int((np.isfinite(sub.experts) & np.isfinite(model.score)).sum()),
                "spearman": stats.spearman(model.score, sub.experts)}
    return _vs_reference(sub, sub.experts, model.label)


# Means over the tags of a multi-label dimension -------------------------------------------------------
def mean_alpha(subs: list[SubDimension], *, n_boot: int, seed: int) -> dict:
    """Mean alpha over tags, with a bootstrap interval of the mean.

    Every judgement of a multi-label dimension answers every tag, so the tags share their pairable
    artworks and one seed draws the same resamples for all; replicate b of the mean is the mean of
    the tags' replicates b (tags with an undefined alpha in a resample are left out of it).
    """
    level = subs[0].level
    if not np.isfinite(subs[0].data).any():
        return alpha_figure(subs[0], n_boot=n_boot, seed=seed) | {"of": "mean over tags"}
    values = np.array([stats.alpha(s.data, level) for s in subs])
    out = {"value": float(np.nanmean(values)) if np.isfinite(values).any() else float("nan"),
           "ci": (float("nan"), float("nan")), "level": level, "n_boot": n_boot, "ci_level": 0.95,
           "of": "mean over tags"}
    replicates = np.vstack([stats.alpha_replicates(s.data, level, n_boot=n_boot, seed=seed) for s in subs])
    ok = np.isfinite(replicates)
    counts = ok.sum(axis=0)
    if counts.any():  # per resample, the mean over the tags where alpha is defined
        mean = np.where(counts > 0, np.where(ok, replicates, 0).sum(axis=0) / np.maximum(counts, 1), np.nan)
        out["ci"] = stats.percentile_interval(mean)
    return out


def mean_of(dicts: list[dict | None], paths: list[str]) -> dict:
    """Mean over dicts of the numbers at dotted `paths` (missing or null entries left out)."""
    out: dict = {}
    for path in paths:
        numbers: list[float] = []
        for d in dicts:
            value = d
            for part in path.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if isinstance(value, (int, float)) and math.isfinite(value):
                numbers.append(float(value))
        target = out
        *parents, last = path.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        mean = float(np.mean(numbers)) if numbers else None
        same = mean is not None and all(x == numbers[0] for x in numbers) and mean.is_integer()
        target[last] = int(mean) if same and mean is not None else mean
    return {key: None if isinstance(value, dict) and not _any_number(value) else value for key, value in out.items()}


def _any_number(node) -> bool:
    if isinstance(node, dict):
        return any(_any_number(value) for value in node.values())
    return node is not None
