"""Decisions against the truth: accuracy and d′ with bootstrap intervals, and a model's place among people.

For binary judgements with a known answer per item (e.g. human-made vs AI-generated, with the true
origin). Each judgement is a trial: accuracy = correct trials / trials, d′ = Φ⁻¹(H′) − Φ⁻¹(F′) with the
log-linear correction of `classification.signal_detection` on the pooled counts. Intervals are
percentile bootstrap intervals over items (all the trials of an item stay together), drawn as
multinomial item weights so that B replicates cost one matrix product.

Arrays: ``truth`` (n_items,) 1 = signal, 0 = noise, NaN = unknown; ``decisions`` (n_raters, n_items)
1 = "signal", 0 = "noise", NaN = no judgement.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import norm

from .classification import signal_detection
from .reliability import percentile_interval


def _per_item_counts(truth: NDArray[np.float64], decisions: NDArray[np.float64]) -> NDArray[np.float64]:
    """(n_items, 4): trials, correct, hits (signal items), false alarms (noise items) per item."""
    known = np.isfinite(truth)
    present = np.isfinite(decisions) & known[None, :]
    said_signal = (decisions == 1) & present
    correct = ((decisions == truth[None, :]) & present).sum(axis=0)
    trials = present.sum(axis=0)
    is_signal = (truth == 1)[None, :]
    hits = (said_signal & is_signal).sum(axis=0)
    false_alarms = (said_signal & ~is_signal).sum(axis=0)
    return np.stack([trials, correct, hits, false_alarms], axis=1).astype(float)


def _dprime(hits: NDArray[np.float64], n_signal: NDArray[np.float64], false_alarms: NDArray[np.float64],
            n_noise: NDArray[np.float64]) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        h = (hits + 0.5) / (n_signal + 1)
        f = (false_alarms + 0.5) / (n_noise + 1)
        d = norm.ppf(h) - norm.ppf(f)
    return np.where((n_signal > 0) & (n_noise > 0), d, np.nan)


def truth_figures(truth: ArrayLike, decisions: ArrayLike, *, n_boot: int = 1000, seed: int = 0,
                  ci_level: float = 0.95) -> dict:
    """Pooled accuracy and d′ of `decisions` against `truth`, with percentile bootstrap intervals over items.

    Returns ``{"n_trials", "n_items", "accuracy": {"value", "ci"}, "d_prime": {"value", "ci"},
    "hit_rate", "false_alarm_rate", "hits", "false_alarms", "n_signal", "n_noise", "n_boot", "ci_level"}``.
    Reference: Stanislaw & Todorov (1999), Behavior Research Methods 31(1); Efron & Tibshirani (1993).
    """
    t = np.asarray(truth, dtype=float)
    d = np.atleast_2d(np.asarray(decisions, dtype=float))
    counts = _per_item_counts(t, d)
    used = counts[:, 0] > 0
    counts = counts[used]
    signal_items = (t[used] == 1).astype(float)
    rater, item = np.nonzero(np.isfinite(d) & np.isfinite(t)[None, :])
    point = signal_detection(t[item], d[rater, item])
    trials = counts[:, 0].sum()
    accuracy = counts[:, 1].sum() / trials if trials else float("nan")
    out = {"n_trials": int(trials), "n_items": int(used.sum()),
           "accuracy": {"value": float(accuracy), "ci": [float("nan"), float("nan")]},
           "d_prime": {"value": point["d_prime"], "ci": [float("nan"), float("nan")]},
           **{k: point[k] for k in ("hit_rate", "false_alarm_rate", "hits", "false_alarms", "n_signal", "n_noise")},
           "n_boot": n_boot, "ci_level": ci_level}
    n = len(counts)
    if n < 2 or n_boot < 1:
        return out
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)  # (B, n_items)
    sums = weights @ counts  # (B, 4)
    n_signal = weights @ (counts[:, 0] * signal_items)
    n_noise = sums[:, 0] - n_signal
    with np.errstate(divide="ignore", invalid="ignore"):
        acc = sums[:, 1] / sums[:, 0]
    dp = _dprime(sums[:, 2], n_signal, sums[:, 3], n_noise)
    tail = 100 * (1 - ci_level) / 2
    for name, values in (("accuracy", acc), ("d_prime", dp)):
        finite = values[np.isfinite(values)]
        if finite.size:
            out[name]["ci"] = [float(np.percentile(finite, tail)), float(np.percentile(finite, 100 - tail))]
    return out


def place_among_raters(truth: ArrayLike, decisions: ArrayLike, model: ArrayLike) -> dict:
    """Where a model's accuracy falls among the raters', each rater compared on the items they judged.

    For rater r with items I_r (a judgement and a known answer), acc_r = mean(decision_r == truth)
    over I_r and acc_model_r = mean(model == truth) over I_r (items the model answered).
    Returns ``{"n_raters", "model_better", "ties", "model_worse", "share_below"}`` where share_below =
    (better + ties / 2) / n_raters: the model's percentile among the raters, on equal terms;
    ``rater_accuracy`` gives the median and range of acc_r, ``model_accuracy_mean`` the mean of acc_model_r.
    """
    t = np.asarray(truth, dtype=float)
    d = np.atleast_2d(np.asarray(decisions, dtype=float))
    m = np.asarray(model, dtype=float)
    present = np.isfinite(d) & np.isfinite(t)[None, :] & np.isfinite(m)[None, :]
    n_r = present.sum(axis=1)
    keep = n_r > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        rater_acc = ((d == t[None, :]) & present).sum(axis=1)[keep] / n_r[keep]
        model_acc = ((m == t)[None, :] & present).sum(axis=1)[keep] / n_r[keep]
    better = int((model_acc > rater_acc + 1e-12).sum())
    worse = int((model_acc < rater_acc - 1e-12).sum())
    ties = int(keep.sum()) - better - worse
    n = int(keep.sum())
    return {"n_raters": n, "model_better": better, "ties": ties, "model_worse": worse,
            "share_below": (better + ties / 2) / n if n else float("nan"),
            "rater_accuracy": {"median": float(np.median(rater_acc)) if n else float("nan"),
                               "min": float(rater_acc.min()) if n else float("nan"),
                               "max": float(rater_acc.max()) if n else float("nan")},
            "model_accuracy_mean": float(model_acc.mean()) if n else float("nan")}


def accuracy_ci(reference: ArrayLike, predicted: ArrayLike, *, n_boot: int = 1000, seed: int = 0,
                ci_level: float = 0.95) -> dict:
    """Share of items where ``predicted`` equals ``reference`` (NaN pairs dropped), with a percentile
    bootstrap interval over items. Returns ``{"value", "ci", "n", "n_boot", "ci_level"}``."""
    r, p = np.asarray(reference, dtype=float), np.asarray(predicted, dtype=float)
    keep = np.isfinite(r) & np.isfinite(p)
    correct = (r[keep] == p[keep]).astype(float)
    n = int(correct.size)
    out = {"value": float(correct.mean()) if n else float("nan"), "ci": [float("nan"), float("nan")], "n": n,
           "n_boot": n_boot, "ci_level": ci_level}
    if n >= 2 and n_boot >= 1:
        weights = np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)
        out["ci"] = list(percentile_interval(weights @ correct / n, ci_level))
    return out


def auc_ci(truth: ArrayLike, score: ArrayLike, *, n_boot: int = 1000, seed: int = 0, ci_level: float = 0.95) -> dict:
    """ROC AUC (ties count ½; ``sklearn.metrics.roc_auc_score``) with a percentile bootstrap interval over items.

    AUC = Σ_i∈pos Σ_j∈neg w_i w_j ([s_i > s_j] + ½[s_i = s_j]) / (W_pos W_neg) with w the multinomial
    copies of each item in a resample (w = 1 for the point value): one sort of the scores serves every
    resample. Returns ``{"value", "ci", "n", "n_boot", "ci_level"}``; NaN when a class is absent.
    """
    t, s = np.asarray(truth, dtype=float), np.asarray(score, dtype=float)
    keep = np.isfinite(t) & np.isfinite(s)
    t, s = t[keep], s[keep]
    n = int(t.size)
    out = {"value": float("nan"), "ci": [float("nan"), float("nan")], "n": n, "n_boot": n_boot, "ci_level": ci_level}
    if n < 2 or np.unique(t).size < 2:
        return out
    levels, inverse = np.unique(s, return_inverse=True)  # scores ascending, one column per distinct score
    onehot = np.zeros((n, levels.size))
    onehot[np.arange(n), inverse] = 1.0
    positive = (t == 1).astype(float)

    def area(weights: NDArray[np.float64]) -> NDArray[np.float64]:  # weights (B, n) -> (B,)
        w_pos, w_neg = (weights * positive) @ onehot, (weights * (1 - positive)) @ onehot
        below = np.cumsum(w_neg, axis=1) - w_neg
        with np.errstate(divide="ignore", invalid="ignore"):
            return (w_pos * (below + 0.5 * w_neg)).sum(axis=1) / (w_pos.sum(axis=1) * w_neg.sum(axis=1))

    out["value"] = float(area(np.ones((1, n)))[0])
    if n_boot >= 1:
        weights = np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)
        out["ci"] = list(percentile_interval(area(weights), ci_level))
    return out
