"""Who the annotators are: competence (Dawid–Skene, MACE), the posterior labels as a second human
reference, and the per-dimension sections of issue 17 (competence, order effects, ICC, error
consistency). Part of the report builder: no Django, no queries (the rows come from the loader).

Competence fits cost about a second per dimension (crowd-kit's EM in pandas), so they are computed
when the study asks: the study file's `competence: true` (both models), `competence: {methods:
[dawid_skene]}`, or an exclusion rule `exclusions: {min_competence: 0.3}` (MACE). The cheap
sections (order effects, ICC, error consistency) are always there.

The exclusion rule: a participant whose MACE competence, averaged over the categorical
dimensions they judged, is below `min_competence` is excluded (rule `low_competence`). Competence
is fitted on the judgements the other rules keep, so a flagged or too-fast participant does not
shape anybody's competence.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from annotations.errors import Refused
from annotations.exclusions import COMPETENCE_FIELD, ExclusionRules, competence_field_problems, exclusions_decide

from . import stats
from .arrays import DimensionArrays, ModelArrays, SubDimension
from .coding import dimension_arrays
from .report_consistency import error_consistency_section, icc_section
from .report_figures import category_codes, leave_one_out, majority
from .report_order import judgement_positions, order_effects
from .rows import StudyRows
from .stats.competence import METHODS, Competence, competence_fit, entropy_bits

if TYPE_CHECKING:
    from annotations.models import Dimension

# The posterior used as the second reference: MACE's where it runs. Dawid–Skene fits a K x K confusion
# matrix per person, which a small study cannot pin down: on the demo (24 artworks, 19 styles, 8 people)
# its posterior matched the expert labels on 16 of 24 artworks, MACE's (and the majority) on 24.
POSTERIOR_METHOD = "mace"
TOP_UNCERTAIN = 10
CATEGORICAL = ("single", "binary")  # competence and error consistency: one true category per artwork
CROWD_KINDS = (*CATEGORICAL, "rating")  # order effects for these too, ICC for ratings


class CompetenceRefused(Refused, ValueError):
    """The study's `competence` field is not one the report understands."""


def competence_methods(extra: Mapping | None, rules: ExclusionRules) -> tuple[str, ...]:
    """The competence models a study's report fits (empty: none); CompetenceRefused naming the field when
    the study file's value is not one of true, false, {methods: [...]}."""
    value = (extra or {}).get(COMPETENCE_FIELD)
    problems = competence_field_problems(value)  # the study file's validation refuses these first
    if problems:
        raise CompetenceRefused(problems)
    if value is None or value is False:
        methods: tuple[str, ...] = ()
    elif value is True:
        methods = METHODS
    else:
        methods = tuple(m for m in METHODS if m in value["methods"])
    if rules.min_competence and "mace" not in methods:
        methods += ("mace",)
    return methods


def _fits(sub: SubDimension, methods: tuple[str, ...], seed: int) -> dict[str, Competence]:
    codes = category_codes(sub)
    if codes is None or not np.isfinite(codes).any():
        return {}
    return {m: competence_fit(codes, sub.k, m, seed=seed) for m in methods}


def participants_competence(dims: Mapping[int, Dimension], rows: StudyRows,
                            rules: ExclusionRules) -> dict[int, float] | None:
    """Participant id -> MACE competence averaged over the categorical dimensions they judged, fitted
    on the judgements the other rules keep; None when the study has no competence rule."""
    if not rules.min_competence:
        return None
    decided = exclusions_decide(rows.participants, rows.judgements, rows.attention_checks, rules)
    kept = rows.without({pid for pid, d in decided.items() if d.excluded})
    by_external = {p["external_id"]: pid for pid, p in rows.participants.items()}
    values: dict[int, list[float]] = defaultdict(list)
    for dim in dims.values():
        if dim.kind not in CATEGORICAL:
            continue
        sub = dimension_arrays(dim, kept).subs[0]
        fit = _fits(sub, ("mace",), 0).get("mace")
        if fit is None:
            continue
        for person, value in zip(sub.raters, fit.competence):
            if math.isfinite(value):
                values[by_external[person]].append(float(value))
    return {pid: float(np.mean(v)) for pid, v in values.items()}


def competence_options(rules: ExclusionRules, exclusions: dict) -> dict:
    """What a report's options record of the competence rule (nothing when it is off): its threshold
    and whom it excluded, so the report's exports and dashboard drop the same people."""
    if not rules.min_competence:
        return {}
    excluded = [p["participant"] for p in exclusions["participants"] if "low_competence" in p["rules"]]
    return {"min_competence": rules.min_competence, "competence_excluded": excluded}


def competence_section(sub: SubDimension, methods: tuple[str, ...], *, seed: int) -> dict | None:
    """Competence per participant beside leave-one-out agreement, Dawid–Skene's confusion matrices,
    the posterior per artwork and the models against it (None when no model is fitted)."""
    fits = _fits(sub, methods, seed)
    if not fits:
        return None
    loo = leave_one_out(sub)
    judged = np.isfinite(sub.data).sum(axis=1)
    out: dict[str, Any] = {
        "methods": list(fits), "labels": sub.categories,
        "measure": {"dawid_skene": "accuracy under the fitted confusion matrix, sum_c prior_c * P(answer c | true c)",
                    "mace": "MACE's theta: posterior probability that the participant knows (does not guess)"},
        "participants": [{"participant": person, "n_artworks": int(n), "leave_one_out": loo[r]}
                         | {m: fit.competence[r] for m, fit in fits.items()}
                         for r, (person, n) in enumerate(zip(sub.raters, judged)) if n],
    }
    ds = fits.get("dawid_skene")
    if ds is not None and ds.confusion is not None:
        matrices = {person: ds.confusion[r] for r, person in enumerate(sub.raters) if judged[r]}
        out["confusion"] = {"rows": "true category", "columns": "answer", "priors": ds.priors,
                            "participants": matrices}
    method = POSTERIOR_METHOD if POSTERIOR_METHOD in fits else next(iter(fits))
    posterior = fits[method].posterior
    answered = np.isfinite(posterior).all(axis=1)
    entropy = entropy_bits(posterior)
    label = np.where(answered, np.argmax(np.nan_to_num(posterior, nan=-1.0), axis=1), np.nan)
    vote = majority(sub)
    codes = category_codes(sub)
    counts = stats.vote_counts(codes, sub.k) if codes is not None else None
    out["posterior"] = {
        "method": method, "n_artworks": int(answered.sum()),
        "agrees_with_majority": stats.accuracy(vote, label),
        "artworks": [{"artwork": sub.units[u], "label": sub.categories[int(label[u])], "entropy": entropy[u],
                      "probs": posterior[u]} for u in np.flatnonzero(answered)],
    }
    order = np.flatnonzero(answered)[np.argsort(-entropy[answered], kind="stable")][:TOP_UNCERTAIN]
    out["most_uncertain"] = [{"artwork": sub.units[u], "entropy": entropy[u], "label": sub.categories[int(label[u])],
                              "posterior": dict(zip(sub.categories, posterior[u])),
                              "votes": dict(zip(sub.categories, counts[u])) if counts is not None else None,
                              "majority": sub.categories[int(vote[u])] if math.isfinite(vote[u]) else None}
                             for u in order]
    out["models"] = {m.key: _vs_posterior(sub, m, posterior, label, vote) for m in sub.models}
    return out


def _vs_posterior(sub: SubDimension, model: ModelArrays, posterior: NDArray[np.float64], label: NDArray[np.float64],
                  vote: NDArray[np.float64]) -> dict:
    answer = model.label
    figures: dict[str, Any] = {
        "vs_posterior": {"n": int((np.isfinite(label) & np.isfinite(answer)).sum()),
                         "accuracy": stats.accuracy(label, answer), "cohen_kappa": stats.cohen_kappa(label, answer),
                         "macro_f1": stats.macro_f1(label, answer, labels=list(range(sub.k)))},
        "vs_majority": {"accuracy": stats.accuracy(vote, answer), "cohen_kappa": stats.cohen_kappa(vote, answer)},
        "divergence_posterior": None,
    }
    if model.probs is not None:
        use = np.isfinite(posterior).all(axis=1) & np.isfinite(model.probs).all(axis=1)
        if use.any():
            jsd = stats.jensen_shannon(model.probs[use], posterior[use])
            figures["divergence_posterior"] = {"measure": "jensen_shannon", "n": int(use.sum()),
                                               "mean": float(np.mean(jsd)), "median": float(np.median(jsd))}
    return figures


def crowd_sections(dim: Dimension, arrays: DimensionArrays, rows: StudyRows, methods: tuple[str, ...], *,
                   seed: int) -> dict:
    """`competence`, `order_effects`, `icc` and `error_consistency` of one dimension (see
    docs/report-schema.md); a multi-label dimension gets them as null with a note."""
    none = dict.fromkeys(("competence", "order_effects", "icc", "error_consistency"))
    if dim.kind not in CROWD_KINDS or not arrays.subs:
        return none | {"crowd_note": "competence and error consistency are computed for single and binary"
                                     " dimensions, order effects for these and ratings, ICC for ratings"}
    sub = arrays.subs[0]
    if not np.isfinite(sub.data).any():
        return none
    people, artworks = rows.participants, rows.artworks
    response_ms = {(people[j["participant_id"]]["external_id"], artworks[j["artwork_id"]]["external_id"]):
                   float(j["response_ms"]) for j in rows.judgements
                   if j["dimension_id"] == dim.id and j["response_ms"] is not None}
    return {
        "competence": competence_section(sub, methods, seed=seed) if methods and dim.kind in CATEGORICAL else None,
        "order_effects": order_effects(sub, judgement_positions(rows), response_ms, seed=seed),
        "icc": icc_section(sub),
        "error_consistency": error_consistency_section(sub, seed=seed) if dim.kind in CATEGORICAL else None,
    }

