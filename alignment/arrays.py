"""The arrays a report is computed from: the coder (`alignment.coding`) fills them from the loaded
rows, the report builder (`report_sections`, `report_figures`, `report_strata`) and the dashboard's
points (`dashboard_points`) read them. Types only: no Django, no statistics.

Conventions follow `alignment.stats`: reliability data (n_raters, n_units), per-item vectors
(n_units,), NaN = missing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .stats import Level


@dataclass
class ModelArrays:
    """One model's answers on the units of a sub-dimension.

    label: (n_units,) label codes (categorical) or the expected rating rounded to a scale point.
    score: (n_units,) a continuous score: P(positive label) (binary), the expected label value
        (ordinal, interval, ratio on labels), the expected rating (rating); NaN where none.
    probs: (n_units, K) probability of each category (NaN rows where no prediction), or None
        where the model's probabilities do not cover the categories.
    """

    key: str
    meta: dict
    label: NDArray[np.float64]
    score: NDArray[np.float64]
    probs: NDArray[np.float64] | None = None


@dataclass
class SubDimension:
    """People's, experts' and models' answers on one sub-dimension.

    data: (n_raters, n_units) label codes 0..K-1 (categorical) or rating values.
    values: (K,) what codes stand for at interval/ratio level (numeric labels), else None.
    positive: the code of the positive ("signal") label of a binary sub-dimension, else None.
    experts: (n_units,) reference codes or values (expert labels, a truth field), NaN = none.
    """

    key: str
    level: Level
    categories: list[str]
    rating: bool
    data: NDArray[np.float64]
    raters: list[str]
    units: list[str]
    experts: NDArray[np.float64]
    models: list[ModelArrays] = field(default_factory=list)
    values: NDArray[np.float64] | None = None
    positive: int | None = None

    @property
    def k(self) -> int:
        return len(self.categories)

    def as_values(self, codes: NDArray[np.float64]) -> NDArray[np.float64]:
        """Codes as the numbers agreement is measured on at this level (identity unless `values`)."""
        if self.values is None or self.level in ("nominal", "ordinal"):
            return codes
        out = np.full(codes.shape, np.nan)
        ok = np.isfinite(codes)
        out[ok] = self.values[codes[ok].astype(int)]
        return out

    def sub(self, units: NDArray[np.bool_] | None = None, raters: NDArray[np.bool_] | None = None) -> SubDimension:
        """The same sub-dimension restricted to some units (columns) and/or raters (rows)."""
        u = np.ones(len(self.units), bool) if units is None else units
        r = np.ones(len(self.raters), bool) if raters is None else raters
        models = [ModelArrays(m.key, m.meta, m.label[u], m.score[u], None if m.probs is None else m.probs[u])
                  for m in self.models]
        kept_raters = [x for x, keep in zip(self.raters, r) if keep]
        kept_units = [x for x, keep in zip(self.units, u) if keep]
        return SubDimension(self.key, self.level, self.categories, self.rating, self.data[np.ix_(r, u)], kept_raters,
                            kept_units, self.experts[u], models, self.values, self.positive)



@dataclass
class DimensionArrays:
    """Everything a dimension's section is computed from.

    subs: one sub-dimension, or one binary sub-dimension per tag (multi-label).
    unit_groups: artwork stratum field (origin, style, period, generator) -> value per unit ("" = none).
    rater_groups: "expertise.<key>" -> value per rater ("" = not answered).
    shares: (n_units,) aggregated human share per artwork (NaN = none), with share_scores: model key ->
        (score name, (n_units,) the model's probability of the share's label).
    """

    key: str
    kind: str
    level: Level
    labels: list[str]
    scale: dict | None
    subs: list[SubDimension]
    unit_groups: dict[str, list[str]]
    rater_groups: dict[str, list[str]]
    truth_sources: dict[str, int] = field(default_factory=dict)
    positive_label: str | None = None
    shares: NDArray[np.float64] | None = None
    share_field: str | None = None
    share_label: str | None = None
    share_scores: dict[str, tuple[str, NDArray[np.float64]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
