"""Order and fatigue: does a participant answer differently later in their session?

Part of the report builder (no Django, no queries). A judgement's position is the rank of its
artwork among the participant's artworks by the time of their first answer to it (`created_at`),
scaled to [0, 1] (first artwork 0, last 1); "first half" is position < 0.5. Per dimension:
- agreement: whether the judgement equals the majority of the other people on the artwork
  (leave-one-out, category codes; ties: TIES_SEED), share per half and the linear trend
  (OLS slope of agreement on position: the change from first to last artwork);
- response time (ms): mean per half and the trend, where times are recorded;
- drift: each label's share in the first and the second half, with a chi-square test of
  independence of label and half.
Intervals: percentile bootstrap over participants (their judgements stay together), vectorised as
multinomial resample counts times per-participant sums. `flag` is set when an interval excludes
0 (no change) or the drift test's p < 0.05.
"""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2_contingency

from . import stats
from .arrays import SubDimension
from .report_figures import TIES_SEED, category_codes
from .rows import StudyRows

MIN_SESSION = 4  # participants with fewer artworks tell nothing about order
N_BOOT_ORDER = 500


def judgement_positions(rows: StudyRows) -> dict[tuple[str, str], float]:
    """(participant external id, artwork external id) -> position in [0, 1] in the participant's
    session, for participants with at least MIN_SESSION artworks and distinct answer times."""
    first: dict[int, dict[int, Any]] = defaultdict(dict)
    for j in rows.judgements:
        when = j.get("created_at")
        if when is None:
            continue
        seen = first[j["participant_id"]]
        if j["artwork_id"] not in seen or when < seen[j["artwork_id"]]:
            seen[j["artwork_id"]] = when
    out = {}
    for pid, times in first.items():
        if len(times) < MIN_SESSION or len(set(times.values())) < 2:
            continue
        ordered = sorted(times, key=lambda a: (times[a], a))
        last = len(ordered) - 1
        person = rows.participants[pid]["external_id"]
        for rank, artwork in enumerate(ordered):
            out[(person, rows.artworks[artwork]["external_id"])] = rank / last
    return out


def _trend(groups: NDArray[np.int64], x: NDArray[np.float64], y: NDArray[np.float64], n_groups: int,
           seed: int) -> dict:
    """OLS slope of y on x and the difference of means (second half - first half), each with a
    percentile bootstrap interval over groups (participants)."""
    second = (x >= 0.5).astype(float)
    columns = np.stack([np.ones_like(x), x, y, x * x, x * y, second, second * y, y - y * second + 0.0], axis=1)
    sums = np.zeros((n_groups, columns.shape[1]))
    np.add.at(sums, groups, columns)
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n_groups, np.full(n_groups, 1 / n_groups), size=N_BOOT_ORDER).astype(float)
    every = np.vstack([np.ones((1, n_groups)), weights]) @ sums  # row 0: the data, then the resamples
    n, sx, sy, sxx, sxy, n2, sy2, sy1 = every.T
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
        first_mean, second_mean = sy1 / (n - n2), sy2 / n2
    change = second_mean - first_mean

    def figure(values: NDArray[np.float64]) -> dict[str, Any]:
        replicates = values[1:][np.isfinite(values[1:])]
        ci = stats.percentile_interval(replicates) if replicates.size else (math.nan, math.nan)
        return {"value": float(values[0]), "ci": list(ci)}

    out: dict[str, Any] = {"first_half": float(first_mean[0]), "second_half": float(second_mean[0]),
           "change": figure(change), "trend": figure(slope)}
    out["flag"] = any(f["ci"][0] > 0 or f["ci"][1] < 0 for f in (out["change"], out["trend"]))
    return out


def order_effects(sub: SubDimension, positions: dict[tuple[str, str], float], response_ms: dict[tuple[str, str], float],
                  *, seed: int) -> dict | None:
    """The order section of one sub-dimension (None: no judgement has a position)."""
    codes = category_codes(sub)
    present = np.isfinite(sub.data)
    rater, unit = np.nonzero(present)
    pos = np.array([positions.get((sub.raters[r], sub.units[u]), math.nan) for r, u in zip(rater, unit)])
    known = np.isfinite(pos)
    if known.sum() < 2 * MIN_SESSION:
        return None
    rater, unit, pos = rater[known], unit[known], pos[known]
    groups = np.unique(rater, return_inverse=True)[1]
    n_groups = int(groups.max()) + 1
    out: dict[str, Any] = {"positions": "rank of the artwork in the participant's session, 0 = first, 1 = last",
                           "n_participants": n_groups, "n_judgements": int(pos.size)}
    out["agreement"] = None
    if codes is not None and codes.shape[0] >= 2:
        references = stats.leave_one_out_references(codes, "nominal", ties="random", seed=TIES_SEED)
        ref = references[rater, unit]
        ok = np.isfinite(ref)
        if ok.sum() >= 2 * MIN_SESSION:
            agree = (codes[rater, unit] == ref).astype(float)
            out["agreement"] = {"measure": "share of answers equal to the others' majority"} | _trend(
                groups[ok], pos[ok], agree[ok], n_groups, seed)
    times = np.array([response_ms.get((sub.raters[r], sub.units[u]), math.nan) for r, u in zip(rater, unit)])
    timed = np.isfinite(times)
    out["response_ms"] = (_trend(groups[timed], pos[timed], times[timed], n_groups, seed + 1)
                          if timed.sum() >= 2 * MIN_SESSION else None)
    out["drift"] = None
    if codes is not None:
        second = pos >= 0.5
        table = np.zeros((2, sub.k))
        np.add.at(table, (second.astype(int), codes[rater, unit].astype(int)), 1)
        used = table.sum(axis=0) > 0
        shares = table / np.maximum(table.sum(axis=1, keepdims=True), 1)
        p = math.nan
        if used.sum() >= 2 and (table.sum(axis=1) > 0).all():
            p = float(chi2_contingency(table[:, used])[1])
        out["drift"] = {"labels": sub.categories, "first_half": shares[0].tolist(), "second_half": shares[1].tolist(),
                        "chi2_p": p, "flag": bool(math.isfinite(p) and p < 0.05)}
    out["flag"] = any(bool((out.get(k) or {}).get("flag")) for k in ("agreement", "response_ms", "drift"))
    return out
