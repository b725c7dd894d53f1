"""Power planning by simulation: how wide alpha's 95% interval will be with N annotators per artwork
and M artworks, and how precisely the human ceiling will place a model.

The generative model ("knows or guesses", MACE's shape with one competence for everybody): each
artwork has a true category t ~ p (the label distribution); each judgement is t with probability q
and otherwise an independent draw from p. Two judgements then agree (exactly, or in expected squared
difference at interval level) as two draws from p do, except when both "know", so for a large study
    D_o / D_e = 1 - q^2,   i.e. alpha = q^2   at every level of measurement,
and a pilot's alpha gives q = sqrt(alpha). A model "knows" with its own q_m: P(model answer = a
person's answer) = q_m q + (1 - q_m q) S with S = sum_c p_c^2, solved for q_m from a pilot.

A simulated study has M artworks, each judged by N people; people judge `per_person` artworks each
(the pilot's median), so it has ceil(N M / per_person) participants, as a crowd study does. For
each (N, M) we simulate `replications` studies, compute alpha's percentile-bootstrap interval
(`reliability.alpha_bootstrap`, the report's) and, with a model, the model's percentile among the
people (`ceiling.human_ceiling`, the report's), and report the mean interval width and the spread
(2.5-97.5 percentiles) of the model's percentile. Everything is seeded.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .ceiling import human_ceiling, leave_one_out_agreement, model_leave_one_out_agreement
from .reliability import Level, alpha, alpha_bootstrap
from .votes import vote_counts

DEFAULT_NS = (2, 3, 5, 8, 12)
DEFAULT_MS = (25, 50, 100, 200, 400)


@dataclass(frozen=True)
class PlanModel:
    """What a simulated study is drawn from. shares: (K,) label distribution; values: (K,) the
    numbers categories stand for at interval/ratio level (None: codes); alpha: people's expected alpha;
    model_knows: q_m of a model, None without one."""

    level: Level
    shares: NDArray[np.float64]
    alpha: float
    values: NDArray[np.float64] | None = None
    model_knows: float | None = None
    per_person: int = 50

    @property
    def knows(self) -> float:
        return math.sqrt(min(max(self.alpha, 0.0), 1.0))


def plan_model_from_pilot(codes: NDArray[np.float64], k: int, level: Level, *,
                          values: NDArray[np.float64] | None = None, model_labels: NDArray[np.float64] | None = None,
                          per_person: int | None = None) -> PlanModel:
    """The generative model fitted to a pilot: reliability data `codes` (n_raters, n_units) of category
    codes 0..K-1 (NaN = none), optionally a model's labels (n_units,) as codes."""
    counts = vote_counts(codes, k).sum(axis=0).astype(float)
    if counts.sum() == 0:
        raise ValueError("the pilot has no judgements")
    shares = counts / counts.sum()
    data = codes if values is None or level in ("nominal", "ordinal") else _as_values(codes, values)
    a = alpha(data, level)
    if not math.isfinite(a):
        raise ValueError("alpha of the pilot is undefined (needs artworks judged by at least two people)")
    judged = np.isfinite(codes).sum(axis=1)
    person = per_person or max(1, int(np.median(judged[judged > 0])))
    plan = PlanModel(level=level, shares=shares, alpha=a, values=values, per_person=person)
    if model_labels is None:
        return plan
    rater, unit = np.nonzero(np.isfinite(codes) & np.isfinite(model_labels)[None, :])
    if rater.size == 0:
        return plan
    agree = float((codes[rater, unit] == model_labels[unit]).mean())
    s = float((shares**2).sum())
    q = plan.knows
    model_knows = (agree - s) / ((1 - s) * q) if q > 0 and s < 1 else 0.0
    return PlanModel(level=level, shares=shares, alpha=a, values=values,
                     model_knows=min(max(model_knows, 0.0), 1.0), per_person=person)


def _as_values(codes: NDArray[np.float64], values: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.full(codes.shape, np.nan)
    ok = np.isfinite(codes)
    out[ok] = values[codes[ok].astype(int)]
    return out


def simulate_study(plan: PlanModel, n_judges: int, n_items: int,
                   rng: np.random.Generator) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """(codes (n_participants, M), truth (M,), model labels (M,), NaN without a model) of one study."""
    k = len(plan.shares)
    truth = rng.choice(k, size=n_items, p=plan.shares)
    per_person = max(1, min(plan.per_person, n_items))
    n_people = math.ceil(n_judges * n_items / per_person)
    slots = np.arange(n_judges * n_items)
    person, item = slots // per_person, slots % n_items
    knows = rng.random(slots.size) < plan.knows
    answers = np.where(knows, truth[item], rng.choice(k, size=slots.size, p=plan.shares))
    codes = np.full((n_people, n_items), np.nan)
    codes[person, item] = answers
    model = np.full(n_items, np.nan)
    if plan.model_knows is not None:
        model = np.where(rng.random(n_items) < plan.model_knows, truth,
                         rng.choice(k, size=n_items, p=plan.shares)).astype(float)
    return codes, truth.astype(float), model


def simulate_cell(plan: PlanModel, n_judges: int, n_items: int, *, replications: int = 20, n_boot: int = 200,
                  seed: int = 0) -> dict:
    """Simulated studies at (N, M): mean (and sd) of alpha's 95% interval width, mean alpha, and with
    a model the spread of its percentile among the people."""
    rng = np.random.default_rng([seed, n_judges, n_items])
    widths, alphas, percentiles = [], [], []
    for r in range(replications):
        codes, _, model = simulate_study(plan, n_judges, n_items, rng)
        data = codes if plan.values is None or plan.level in ("nominal", "ordinal") else _as_values(codes, plan.values)
        figure = alpha_bootstrap(data, plan.level, n_boot=n_boot, seed=seed + r)
        low, high = figure["ci"]
        if math.isfinite(low) and math.isfinite(high):
            widths.append(high - low)
        alphas.append(figure["value"])
        if plan.model_knows is not None and codes.shape[0] >= 2:
            answer = model if plan.values is None or plan.level in ("nominal", "ordinal") else plan.values[
                model.astype(int)]
            loo = leave_one_out_agreement(data, plan.level, seed=seed)
            score = model_leave_one_out_agreement(data, answer, plan.level, seed=seed)
            percentiles.append(human_ceiling(loo, score)["percentile"])
    finite = [p for p in percentiles if math.isfinite(p)]
    out: dict[str, Any] = {"n_judges": n_judges, "n_artworks": n_items, "n_participants": math.ceil(
        n_judges * n_items / max(1, min(plan.per_person, n_items))), "replications": replications,
        "ci_width": float(np.mean(widths)) if widths else math.nan,
        "ci_width_sd": float(np.std(widths, ddof=1)) if len(widths) > 1 else math.nan,
        "alpha_mean": float(np.nanmean(alphas)) if np.isfinite(alphas).any() else math.nan,
        "ceiling_percentile": None}
    if finite:
        out["ceiling_percentile"] = {"mean": float(np.mean(finite)),
                                     "range95": [float(np.percentile(finite, 2.5)), float(np.percentile(finite, 97.5))],
                                     "spread": float(np.percentile(finite, 97.5) - np.percentile(finite, 2.5))}
    return out


def plan_grid(plan: PlanModel, ns: Sequence[int] = DEFAULT_NS, ms: Sequence[int] = DEFAULT_MS, *,
              replications: int = 20, n_boot: int = 200, seed: int = 0) -> list[dict]:
    """`simulate_cell` for every N in ns and M in ms (rows ordered by N, then M)."""
    return [simulate_cell(plan, n, m, replications=replications, n_boot=n_boot, seed=seed)
            for n in sorted(set(ns)) for m in sorted(set(ms))]


def smallest_design(rows: Sequence[dict], target_width: float) -> dict | None:
    """The cheapest (fewest judgements N x M; then fewer people per artwork) row whose mean width
    reaches `target_width`, or None when none does."""
    ok = [r for r in rows if math.isfinite(r["ci_width"]) and r["ci_width"] <= target_width]
    return min(ok, key=lambda r: (r["n_judges"] * r["n_artworks"], r["n_judges"])) if ok else None
