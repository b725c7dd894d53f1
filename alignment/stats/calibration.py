"""Calibration of a model's label distribution against people's votes: ECE, NLL, Brier, reliability bins.

Arrays: ``probs`` (n_items, K), the model's probability of each label (rows sum to 1); ``votes``
(n_items, K), people's vote counts (or shares) per label. Items with a non-finite probability or no
vote are left out. Two references:

- **votes**: the vote distribution p_i = votes_i / Σ votes_i (soft labels);
- **majority**: the one-hot of a given majority label m_i (ties broken by the caller).

With q_i the model's distribution and ŷ_i = argmax q_i, confidence c_i = q_i,ŷ:
  NLL = mean_i −Σ_k p_ik ln q_ik (majority: −ln q_i,m), in nats; a model that outputs exactly the vote
  shares has NLL equal to the mean entropy of the votes, and no model has less (Gibbs' inequality).
  Brier = mean_i Σ_k (q_ik − p_ik)² (majority: one-hot p).
  ECE = Σ_b (n_b / n) |acc_b − conf_b| over equal-mass bins of c (items sorted by confidence and cut
  into `n_bins` groups of equal size, ``numpy.array_split``), where acc_i = p_i,ŷ (the share of
  people who chose the model's label; majority: 1[ŷ_i = m_i]); a model that outputs the vote shares
  has ECE 0 against the votes.
Intervals: percentile bootstrap over items as multinomial item weights (B replicates in one matrix
product); the bins of a replicate are those of the data (each item keeps its bin).

References: Naeini, Cooper & Hauskrecht (2015), AAAI (ECE); Guo et al. (2017), ICML; Nixon et al.
(2019), "Measuring calibration in deep learning" (equal-mass bins); Brier (1950); Peterson et al.
(2019), ICCV (human label distributions as soft targets).
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .reliability import percentile_interval

EPS = 1e-15  # a probability of 0 for a label people chose: NLL uses max(q, EPS), finite but large


def equal_mass_bins(confidence: NDArray[np.float64], n_bins: int) -> NDArray[np.int64]:
    """Bin index (0..n_bins-1) per item: items sorted by confidence (stable), cut into equal-size groups."""
    order = np.argsort(confidence, kind="stable")
    bins = np.empty(len(confidence), dtype=np.int64)
    for b, members in enumerate(np.array_split(order, min(n_bins, max(len(order), 1)))):
        bins[members] = b
    return bins


def calibration(probs: ArrayLike, votes: ArrayLike, majority: ArrayLike | None = None, *, n_bins: int = 10,
                n_boot: int = 1000, seed: int = 0, ci_level: float = 0.95) -> dict:
    """ECE, NLL and Brier of `probs` against the vote distribution and the majority (see module docstring).

    Args:
        probs: (n_items, K) model probabilities. votes: (n_items, K) vote counts or shares.
        majority: (n_items,) majority label code per item (NaN = none); None: argmax of the votes
            (first of tied labels).
        n_bins: equal-mass bins for ECE and the reliability diagram (fewer when there are fewer items).

    Returns ``{"n", "n_bins", "vs_votes": {"ece", "nll", "brier"}, "vs_majority": {...}, "votes_entropy",
    "reliability": [{"bin", "n", "confidence", "accuracy_votes", "accuracy_majority"}], "n_boot", "ci_level"}``,
    each figure ``{"value", "ci"}``.
    """
    q = np.asarray(probs, dtype=float)
    v = np.asarray(votes, dtype=float)
    m = (np.argmax(v, axis=1).astype(float) if majority is None else np.asarray(majority, dtype=float))
    totals = v.sum(axis=1)
    keep = np.isfinite(q).all(axis=1) & np.isfinite(v).all(axis=1) & (totals > 0) & np.isfinite(m)
    q, p, m = q[keep], v[keep] / totals[keep, None], m[keep].astype(int)
    n, k = q.shape if q.ndim == 2 else (0, 0)
    out: dict = {"n": int(n), "n_bins": 0, "n_boot": n_boot, "ci_level": ci_level, "reliability": []}
    if n == 0:
        return out
    one_hot = np.eye(k)[m]
    predicted = np.argmax(q, axis=1)
    confidence = q[np.arange(n), predicted]
    log_q = np.log(np.maximum(q, EPS))
    per_item = {
        "votes": {"nll": -(p * log_q).sum(axis=1), "brier": ((q - p) ** 2).sum(axis=1),
                  "acc": p[np.arange(n), predicted]},
        "majority": {"nll": -log_q[np.arange(n), m], "brier": ((q - one_hot) ** 2).sum(axis=1),
                     "acc": (predicted == m).astype(float)},
    }
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0).sum(axis=1)
    bins = equal_mass_bins(confidence, n_bins)
    n_b = int(bins.max()) + 1
    member = np.zeros((n, n_b))
    member[np.arange(n), bins] = 1.0

    def ece(weights: NDArray[np.float64], acc: NDArray[np.float64]) -> NDArray[np.float64]:
        w_bin = weights @ member  # (B, n_bins)
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = np.abs(((weights * acc) @ member) - ((weights * confidence) @ member)) / w_bin
        return np.nansum(np.where(w_bin > 0, gap * w_bin, 0.0), axis=1) / weights.sum(axis=1)

    ones = np.ones((1, n))
    weights = (np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)
               if n >= 2 and n_boot >= 1 else None)
    for reference, items in per_item.items():
        figures = {}
        for name, value in (("ece", lambda w, it=items: ece(w, it["acc"])),
                            ("nll", lambda w, it=items: (w @ it["nll"]) / w.sum(axis=1)),
                            ("brier", lambda w, it=items: (w @ it["brier"]) / w.sum(axis=1))):
            figures[name] = {"value": float(value(ones)[0]),
                             "ci": (list(percentile_interval(value(weights), ci_level)) if weights is not None
                                    else [float("nan")] * 2)}
        out[f"vs_{reference}"] = figures
    out["votes_entropy"] = float(entropy.mean())
    out["n_bins"] = n_b
    out["reliability"] = [
        {"bin": b, "n": int((bins == b).sum()), "confidence": float(confidence[bins == b].mean()),
         "accuracy_votes": float(per_item["votes"]["acc"][bins == b].mean()),
         "accuracy_majority": float(per_item["majority"]["acc"][bins == b].mean())}
        for b in range(n_b)]
    return out
