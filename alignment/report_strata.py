"""Figures per stratum (artworks by origin, style, period, generator; people by expertise) and
rank correlations with aggregated human shares. Pure numpy over `arrays.SubDimension`s.

A stratum gets a subset of the figures, to stay cheap on many strata: people's alpha with its
interval, and per model the overall figures' `n_artworks`, `vs_majority` (against the stratum's
majority, without the confusion matrix), `vs_human_mean` and `vs_experts`: the same functions
(`report_figures`), so the same names and definitions overall and per stratum.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import stats
from .arrays import SubDimension
from .report_figures import alpha_figure, mean_alpha, mean_of, model_vs_experts, vs_human_mean, vs_majority

SHARES_NOTE = ("The shares are aggregated human data (per artwork, the share of judges who chose {label!r}); "
               "they hold no individual judgements, so agreement among judges (Krippendorff's alpha, kappas, "
               "leave-one-out agreement, the human ceiling) cannot be computed from them. Only rank correlations "
               "between the shares and the models' scores are reported.")


def _model_in_stratum(sub: SubDimension, index: int, *, n_boot: int, seed: int, interval: bool = True) -> dict:
    """A model's figures in a stratum: the overall figures' definitions and names (`report_figures`)."""
    model = sub.models[index]
    return {"n_artworks": int(np.isfinite(model.label).sum()), "vs_majority": vs_majority(sub, model),
            "vs_human_mean": vs_human_mean(sub, model, n_boot=n_boot, seed=seed, interval=interval),
            "vs_experts": model_vs_experts(sub, model)}


def stratum_figures(subs: list[SubDimension], *, n_boot: int, seed: int) -> dict:
    """People's alpha and each model's figures on one stratum (one sub-dimension, or a multi's tags)."""
    present = ~np.isnan(subs[0].data)
    out: dict[str, Any] = {"n_artworks": len(subs[0].units), "n_judgements": int(present.sum()),
           "n_participants": int(present.any(axis=1).sum())}
    if present.any():
        alpha = (alpha_figure(subs[0], n_boot=n_boot, seed=seed) if len(subs) == 1
                 else mean_alpha(subs, n_boot=n_boot, seed=seed))
        out["humans"] = {"alpha": alpha}
    models = {}
    for index, model in enumerate(subs[0].models):
        # A multi-label dimension's stratum shows the tags' mean rho, so the tags need no interval.
        per_sub: list[dict | None] = [_model_in_stratum(sub, index, n_boot=n_boot, seed=seed, interval=len(subs) == 1)
                                      for sub in subs]
        models[model.key] = per_sub[0] if len(subs) == 1 else mean_of(per_sub, [
            "n_artworks", "vs_majority.n", "vs_majority.accuracy", "vs_majority.macro_f1", "vs_majority.cohen_kappa",
            "vs_human_mean.spearman.value", "vs_experts.n", "vs_experts.accuracy", "vs_experts.cohen_kappa",
        ]) | {"of": "mean over tags"}
    out["models"] = models
    return out


def _groups(values: list[str]) -> list[str]:
    return sorted({value for value in values if value != ""})


def artwork_strata(subs: list[SubDimension], unit_groups: dict[str, list[str]], *, min_items: int,
                   n_boot: int, seed: int) -> dict:
    """{field: {value: figures}} for artwork fields (origin, style, ...); strata with fewer than
    `min_items` artworks get only their size and a note."""
    out = {}
    for name, group_values in unit_groups.items():
        values = np.asarray(group_values, dtype=object)
        per_value: dict[str, dict] = {}
        for value in _groups(list(values)):
            mask = values == value
            n = int(mask.sum())
            if n < min_items:
                per_value[value] = {"n_artworks": n, "note": f"fewer than {min_items} artworks; not computed"}
            else:
                per_value[value] = stratum_figures([s.sub(units=mask) for s in subs], n_boot=n_boot, seed=seed)
        if per_value:
            out[name] = per_value
    return out


def rater_strata(subs: list[SubDimension], rater_groups: dict[str, list[str]], *, min_items: int,
                 n_boot: int, seed: int) -> dict:
    """{"expertise.<key>": {value: figures}}: the same figures among the people of one background,
    against that group's own majority or mean; groups need two people and `min_items` artworks
    judged by at least two of them."""
    out = {}
    for name, group_values in rater_groups.items():
        values = np.asarray(group_values, dtype=object)
        per_value: dict[str, dict] = {}
        for value in _groups(list(values)):
            mask = values == value
            part = [s.sub(raters=mask) for s in subs]
            pairable = int(((~np.isnan(part[0].data)).sum(axis=0) >= 2).sum())
            if mask.sum() < 2 or pairable < min_items:
                per_value[value] = {"n_participants": int(mask.sum()), "n_pairable_artworks": pairable,
                                    "note": f"needs 2 people and {min_items} artworks judged by two of them"}
            else:
                per_value[value] = stratum_figures(part, n_boot=n_boot, seed=seed)
        if per_value:
            out[name] = per_value
    return out


def shares_figures(shares: NDArray[np.float64], scores: dict[str, tuple[str, NDArray[np.float64]]],
                   unit_groups: dict[str, list[str]], *, field: str | None, label: str | None, min_items: int,
                   n_boot: int, seed: int) -> dict:
    """Spearman's rho (bootstrap interval) between aggregated human shares and each model's score,
    overall and per artwork stratum.

    Args:
        shares: (n_units,) share of judges choosing `label` per artwork, NaN = none.
        scores: model key -> (score name, (n_units,) the model's P(label)).
        unit_groups: stratum field -> value per unit.
    """
    has = np.isfinite(shares)
    models = {}
    for key, (name, score) in scores.items():
        strata = {}
        for group, group_values in unit_groups.items():
            values = np.asarray(group_values, dtype=object)
            per_value: dict[str, dict] = {}
            for value in _groups(list(values[has])):
                mask = (values == value) & has & np.isfinite(score)
                if mask.sum() < max(min_items, 3):
                    per_value[value] = {"n": int(mask.sum()), "note": f"fewer than {max(min_items, 3)} artworks"}
                else:
                    rho = stats.spearman_ci(score[mask], shares[mask], n_boot=n_boot, seed=seed)
                    per_value[value] = {"spearman": rho}
            if per_value:
                strata[group] = per_value
        models[key] = {"score": name, "spearman": stats.spearman_ci(score, shares, n_boot=n_boot, seed=seed),
                       "strata": strata}
    return {"field": field, "label": label, "n_artworks": int(has.sum()),
            "mean": float(np.nanmean(shares)) if has.any() else None,
            "note": SHARES_NOTE.format(label=label), "models": models}
