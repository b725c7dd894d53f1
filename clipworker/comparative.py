"""The model's scores for comparative dimensions (pairwise, best_worst, triplet with an aspect).

Stored as Predictions like every other score, so runs, exports and the report treat them alike:

- pairwise and best_worst: `expected` = cos(x, t⁺) − cos(x, t⁻), x the image's unit embedding,
  t⁺ the unit mean of the dimension's `prompts` and t⁻ of its `negative_prompts` (0 when none);
  `label` is empty and `probs` {}. The model's answer to a trial is then the artwork with the
  highest score (best–worst: highest and lowest; alignment.stats.comparative.model_answer).
- triplet with `labels` and `prompts` (an aspect such as style): `probs` over the labels by the
  zero-shot softmax, the vector the model's odd-one-out on the aspect is judged by. A triplet without
  them needs no prediction: its answers come from the image embeddings' cosine similarity.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np

from annotations.models import Dimension

from .model import LoadedClip
from .models import ClipRun, Prediction
from .scoring import prompt_ensemble, zero_shot_single


def comparative_prompts_hash(dim: Dimension) -> str:
    payload = [dim.kind, dim.labels, dim.prompts, dim.extra.get("negative_prompts") or []]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()


def _mean_unit(rows: np.ndarray) -> np.ndarray:
    mean = np.asarray(rows, dtype=np.float64).mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


def comparative_scores(dim: Dimension, images: np.ndarray, clip: LoadedClip) -> list[dict] | None:
    """Per image row (unit rows, shape (n, d)): {"probs", "label", "expected"}; None when the
    dimension has no prompts to score by."""
    if dim.kind in ("pairwise", "best_worst"):
        if not dim.prompts:
            return None
        score = images @ _mean_unit(clip.embed_texts(list(dim.prompts)))
        negative = dim.extra.get("negative_prompts") or []
        if negative:
            score = score - images @ _mean_unit(clip.embed_texts(list(negative)))
        return [{"probs": {}, "label": "", "expected": float(s)} for s in score]
    if not (dim.labels and dim.prompts):
        return None
    by_label = {label: clip.embed_texts([p.format(label=label) for p in dim.prompts]) for label in dim.labels}
    probs = zero_shot_single(images, prompt_ensemble(by_label), clip.logit_scale)
    return [{"probs": dict(zip(dim.labels, map(float, row))), "label": dim.labels[int(np.argmax(row))],
             "expected": None} for row in probs]


def comparative_predictions(run: ClipRun, clip: LoadedClip, vectors: dict[int, np.ndarray],
                            dims: list[Dimension]) -> list[Prediction]:
    """A run's predictions for the study's comparative dimensions (module docstring)."""
    if not vectors:
        return []
    ids = list(vectors)
    images = np.stack([vectors[i] for i in ids]).astype(np.float64)
    predictions = []
    for dim in dims:
        scores = comparative_scores(dim, images, clip)
        if scores is None:
            continue
        digest = comparative_prompts_hash(dim)
        predictions += [Prediction(run=run, artwork_id=artwork_id, dimension=dim, model_name=run.model_name,
                                   revision=clip.revision, method=Prediction.Method.ZERO_SHOT, prompts_hash=digest,
                                   **score) for artwork_id, score in zip(ids, scores)]
    return predictions
