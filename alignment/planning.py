"""Power planning, the service: `plan_study` and the plan page call `study_plan`.

From a pilot's judgements (the study's own, after its exclusion rules) or a stated expected alpha and
label distribution, it fits the simulation model of `alignment.stats.power` per dimension, simulates
the study at N annotators per artwork and M artworks, and returns per dimension the expected width
of alpha's 95% interval and the spread of the first model's percentile among the people (the human
ceiling's precision), the smallest N and M reaching a target width, and the cost in participants and
minutes from the pilot's median time per artwork. Reads the database only through the loader.
"""
from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from annotations.errors import Refused
from annotations.exclusions import exclusions_decide, study_exclusion_rules
from annotations.models import Study

from .coding import dimension_arrays
from .loader import study_dimensions, study_rows
from .report_figures import category_codes, json_ready
from .stats.power import DEFAULT_MS, DEFAULT_NS, PlanModel, plan_grid, plan_model_from_pilot, smallest_design

PLANNED_KINDS = ("single", "binary", "rating")
MAX_CELLS = 60  # N values x M values a request may ask for
MAX_REPLICATIONS = 200


class PlanRefused(Refused, ValueError):
    """A plan that cannot be made (no pilot and nothing stated, bad numbers)."""


@dataclass(frozen=True)
class PlanRequest:
    target_width: float = 0.1
    ns: Sequence[int] = DEFAULT_NS
    ms: Sequence[int] = DEFAULT_MS
    replications: int = 20
    n_boot: int = 200
    seed: int = 0
    dimensions: Sequence[str] = ()  # empty: every single, binary and rating dimension
    alpha: float | None = None  # stated expected alpha: used instead of the pilot's
    shares: dict[str, float] = field(default_factory=dict)  # stated label distribution (label -> weight)
    seconds_per_artwork: float | None = None  # stated; else the pilot's median
    per_person: int | None = None  # artworks per participant; else the pilot's median, else 50

    def problems(self) -> list[str]:
        found = []
        if not 0 < self.target_width < 2:
            found.append(f"target width: expected a number between 0 and 2, got {self.target_width}")
        if not self.ns or min(self.ns) < 2:
            found.append("N (annotators per artwork): every value at least 2")
        if not self.ms or min(self.ms) < 2:
            found.append("M (artworks): every value at least 2")
        if len(set(self.ns)) * len(set(self.ms)) > MAX_CELLS:
            found.append(f"at most {MAX_CELLS} (N, M) pairs per plan")
        if not 1 <= self.replications <= MAX_REPLICATIONS:
            found.append(f"replications: between 1 and {MAX_REPLICATIONS}")
        if not 10 <= self.n_boot <= 2000:
            found.append("bootstrap resamples: between 10 and 2000")
        if self.alpha is not None and not 0 <= self.alpha <= 1:
            found.append(f"expected alpha: between 0 and 1, got {self.alpha}")
        if any(not (isinstance(w, (int, float)) and w >= 0) for w in self.shares.values()) or (
                self.shares and sum(self.shares.values()) <= 0):
            found.append("label distribution: non-negative weights, not all zero")
        return found


def _seconds_per_artwork(judgements: list[dict]) -> float | None:
    """Median over (participant, artwork) of the summed response times of all its dimensions, in s."""
    per_pair: dict[tuple[int, int], int] = defaultdict(int)
    for j in judgements:
        if j["response_ms"] is not None:
            per_pair[(j["participant_id"], j["artwork_id"])] += j["response_ms"]
    return statistics.median(per_pair.values()) / 1000 if per_pair else None


def _stated_model(dim, request: PlanRequest, per_person: int) -> PlanModel:
    categories = ([str(v) for v in range(dim.scale_min, dim.scale_max + 1)] if dim.kind == "rating"
                  else list(dim.labels))
    unknown = sorted(set(request.shares) - set(categories))
    if unknown:
        raise PlanRefused(f"label distribution: {', '.join(unknown)} not labels of dimension {dim.key!r}"
                          f" ({', '.join(categories)})")
    weights = np.array([float(request.shares.get(c, 0 if request.shares else 1)) for c in categories])
    values = np.array([float(c) for c in categories]) if dim.kind == "rating" else None
    return PlanModel(level=dim.level, shares=weights / weights.sum(), alpha=float(request.alpha or 0.0), values=values,
                     per_person=per_person)


def study_plan(study: Study, request: PlanRequest) -> dict:
    """The plan of a study (JSON-ready; see the module docstring); PlanRefused with every problem."""
    problems = request.problems()
    if problems:
        raise PlanRefused(problems)
    dims = [d for d in study_dimensions(study).values() if d.kind in PLANNED_KINDS
            and (not request.dimensions or d.key in request.dimensions)]
    missing = sorted(set(request.dimensions) - {d.key for d in dims})
    if missing:
        raise PlanRefused(f"no single, binary or rating dimension {', '.join(map(repr, missing))}"
                          f" in study {study.slug!r}")
    rows = study_rows(study)
    decided = exclusions_decide(rows.participants, rows.judgements, rows.attention_checks, study_exclusion_rules(study))
    rows = rows.without({pid for pid, d in decided.items() if d.excluded})
    seconds = request.seconds_per_artwork or _seconds_per_artwork(rows.judgements)
    sections: dict[str, Any] = {}
    per_person_all = []
    for dim in dims:
        sub = dimension_arrays(dim, rows).subs[0]
        codes = category_codes(sub)
        pilot = codes is not None and (np.isfinite(codes).sum(axis=0) >= 2).sum() >= 2
        section: dict[str, Any] = {"key": dim.key, "kind": dim.kind, "level": sub.level}
        if request.alpha is not None or not pilot:
            if request.alpha is None:
                raise PlanRefused(f"dimension {dim.key!r}: no pilot (at least two artworks judged by two people);"
                                  " state an expected alpha (and a label distribution)")
            plan = _stated_model(dim, request, request.per_person or 50)
            section |= {"source": "stated", "model": None}
        else:
            assert codes is not None
            values = (np.array([float(c) for c in sub.categories]) if sub.rating
                      else sub.values if sub.level in ("interval", "ratio") else None)
            model = sub.models[0] if sub.models else None
            model_codes = None
            if model is not None:
                model_codes = (np.searchsorted(values, model.label).astype(float) if sub.rating and values is not None
                               else model.label.copy())
                model_codes[~np.isfinite(model.label)] = np.nan
            try:
                plan = plan_model_from_pilot(codes, sub.k, sub.level, values=values, model_labels=model_codes,
                                             per_person=request.per_person)
            except ValueError as exc:
                raise PlanRefused(f"dimension {dim.key!r}: {exc}") from None
            present = np.isfinite(codes)
            section |= {"source": "pilot", "model": model.key if model is not None else None,
                        "pilot": {"n_participants": int(present.any(axis=1).sum()),
                                  "n_artworks": int(present.any(axis=0).sum()),
                                  "judges_per_artwork": float(np.median(present.sum(axis=0)[present.any(axis=0)]))}}
        per_person_all.append(plan.per_person)
        grid = plan_grid(plan, request.ns, request.ms, replications=request.replications, n_boot=request.n_boot,
                         seed=request.seed)
        smallest_m = {}
        for n in sorted(set(request.ns)):
            reached = smallest_design([r for r in grid if r["n_judges"] == n], request.target_width)
            smallest_m[str(n)] = reached["n_artworks"] if reached else None
        section |= {"alpha": plan.alpha, "knows": plan.knows, "model_knows": plan.model_knows,
                    "labels": sub.categories, "shares": plan.shares, "per_person": plan.per_person,
                    "rows": grid, "smallest": smallest_design(grid, request.target_width),
                    "smallest_artworks_per_n": smallest_m}
        sections[dim.key] = section
    per_person = min(per_person_all) if per_person_all else (request.per_person or 50)
    return json_ready({
        "study": study.slug,
        "request": {"target_width": request.target_width, "ns": sorted(set(request.ns)), "ms": sorted(set(request.ms)),
                    "replications": request.replications, "n_boot": request.n_boot, "seed": request.seed,
                    "alpha": request.alpha, "shares": request.shares},
        "seconds_per_artwork": seconds,
        "dimensions": sections,
        "recommendation": _recommendation(sections, request, per_person, seconds),
    })


def _recommendation(sections: dict, request: PlanRequest, per_person: int, seconds: float | None) -> dict | None:
    """The cheapest (N, M) reaching the target width on every dimension, and its cost."""
    if not sections:
        return None
    best = None
    for n in sorted(set(request.ns)):
        for m in sorted(set(request.ms)):
            widths = [next(r["ci_width"] for r in s["rows"] if r["n_judges"] == n and r["n_artworks"] == m)
                      for s in sections.values()]
            if all(math.isfinite(w) and w <= request.target_width for w in widths) and (
                    best is None or n * m < best[0] * best[1]):
                best = (n, m, max(widths))
    if best is None:
        return {"reached": False, "note": f"no (N, M) in the grid reaches width {request.target_width} on every"
                                          " dimension: try larger N or M"}
    n, m, width = best
    judgements = n * m
    per = max(1, min(per_person, m))
    participants = math.ceil(judgements / per)
    out = {"reached": True, "n_judges": n, "n_artworks": m, "widest": width, "judgements": judgements,
           "artworks_per_participant": per, "participants": participants,
           "minutes_total": judgements * seconds / 60 if seconds else None,
           "minutes_per_participant": per * seconds / 60 if seconds else None}
    out["cost"] = (f"{participants} participants judging {per} artworks each ({judgements} artwork judgements"
                   + (f"; about {out['minutes_per_participant']:.0f} min each, {out['minutes_total']:.0f}"
                      " participant-minutes in all)" if seconds else ")"))
    return out
