"""Prompt sensitivity (issue 16, item 4): a dimension scored with each prompt template alone, beside
the ensemble a run stores as its answer.

`template_variants(spec)` gives one DimensionSpec per template: the spec's `prompts` one at a time (or
the kind's defaults), or, where each label has its own prompts (`label_prompts`, as many for every
label), the i-th prompt of every label together. A dimension with fewer than two templates has none.
`score_variants` scores them like the ensemble (`scoring.score_dimension`) and returns, per image,
{template name: {"probs", "label", "expected"}}: what `Prediction.by_template` keeps.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from .scoring import DEFAULT_POINT_PROMPTS, DEFAULT_PROMPTS, DimensionSpec, TextLookup, score_dimension


def template_variants(spec: DimensionSpec) -> dict[str, DimensionSpec]:
    if spec.label_prompts and not spec.pair_prompts:
        lists = [list(spec.label_prompts.get(label, ())) for label in spec.labels]
        n = len(lists[0]) if lists else 0
        if n < 2 or any(len(prompts) != n for prompts in lists):
            return {}
        return {" / ".join(prompts[i] for prompts in lists): replace(spec, label_prompts={
            label: [prompts[i]] for label, prompts in zip(spec.labels, lists)}) for i in range(n)}
    if spec.pair_prompts:
        return {}
    templates = spec.prompts or (DEFAULT_POINT_PROMPTS if spec.kind == "rating" and not spec.anchors
                                 else DEFAULT_PROMPTS.get(spec.kind, ()))
    if len(templates) < 2:
        return {}
    return {template: replace(spec, prompts=(template,)) for template in dict.fromkeys(templates)}


def score_variants(specs: Sequence[DimensionSpec], image_emb: np.ndarray, text_emb: TextLookup,
                   logit_scale: float) -> list[dict[str, dict[str, dict]]]:
    """Per image, {dimension key: {template: result}} for the dimensions that have templates to compare."""
    n = len(np.atleast_2d(image_emb))
    per_image: list[dict[str, dict[str, dict]]] = [{} for _ in range(n)]
    for spec in specs:
        for name, variant in template_variants(spec).items():
            for item, result in zip(per_image, score_dimension(variant, image_emb, text_emb, logit_scale)):
                item.setdefault(spec.key, {})[name] = result
    return per_image
