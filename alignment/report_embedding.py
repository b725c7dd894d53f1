"""The report's `embedding_maps`: per embedding model, the artworks' stored embeddings in two
dimensions (PCA, `stats.embedding.pca_2d`) with the variance each axis explains, and per artwork the
fields a map can be coloured by: origin, style, period, generator, and for each single-choice or
binary dimension the human majority (`majority:<key>`, ties left blank) and the model's label
(`model:<key>`, its zero-shot label, else any). Columnar, so a study of thousands stays small.
No Django, no queries (the loader reads the embeddings).
"""
from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from .rows import ARTWORK_STRATA, StudyRows
from .stats.embedding import pca_2d

MAX_POINTS = 5000  # the first MAX_POINTS artworks (by id) of a larger study are drawn


def _majorities(rows: StudyRows, dims: dict) -> dict[str, dict[int, str]]:
    votes: dict[int, dict[int, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for j in rows.judgements:
        if isinstance(j["value"], str):
            votes[j["dimension_id"]][j["artwork_id"]][j["value"]] += 1
    out = {}
    for dim_id, per_artwork in votes.items():
        out[dims[dim_id].key] = {a: c.most_common(1)[0][0] for a, c in per_artwork.items()
                                 if len(c) == 1 or c.most_common(2)[0][1] > c.most_common(2)[1][1]}
    return out


def _model_labels(rows: StudyRows, dims: dict, model_name: str) -> dict[str, dict[int, str]]:
    out: dict[str, dict[int, str]] = defaultdict(dict)
    for p in sorted(rows.predictions, key=lambda p: p["method"] != "zero-shot"):  # zero-shot first
        if p["model_name"] == model_name and isinstance(p["label"], str) and p["dimension_id"] in dims:
            out[dims[p["dimension_id"]].key].setdefault(p["artwork_id"], p["label"])
    return out


def embedding_maps(embeddings: dict[str, tuple[list[int], np.ndarray]], rows: StudyRows, dims: dict) -> dict | None:
    """Model name -> {"method", "explained_variance", "n", "artworks", "x", "y", "fields": {name: [value]}}."""
    if not embeddings:
        return None
    categorical = {i: d for i, d in dims.items() if d.kind in ("single", "binary")}
    majorities = _majorities(rows, categorical)
    maps = {}
    for name, (ids, X) in embeddings.items():
        ids, X = ids[:MAX_POINTS], X[:MAX_POINTS]
        coords, ratio = pca_2d(X)
        arts = [rows.artworks.get(i, {}) for i in ids]
        fields = {f: [str(a.get(f) or "") for a in arts] for f in ARTWORK_STRATA}
        for key, by_artwork in sorted(majorities.items()):
            fields[f"majority:{key}"] = [by_artwork.get(i, "") for i in ids]
        for key, by_artwork in sorted(_model_labels(rows, categorical, name).items()):
            fields[f"model:{key}"] = [by_artwork.get(i, "") for i in ids]
        maps[name] = {"method": "pca", "explained_variance": [round(float(r), 6) for r in ratio], "n": len(ids),
                      "artworks": [str(a.get("external_id", "")) for a in arts],
                      "x": [round(float(v), 5) for v in coords[:, 0]], "y": [round(float(v), 5) for v in coords[:, 1]],
                      "fields": {f: v for f, v in fields.items() if any(v)}}
    return maps
