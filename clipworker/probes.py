"""Stored probes: train a logistic-regression probe on one study, apply it to another (issue 16, item 2).

`probe_train` fits the probe on every labelled artwork of the training study (L2-normalised stored
embeddings of one model) after scoring it there by grouped cross-validation (`probe.probe_cross_val`),
and keeps it as a `StoredProbe`: plain arrays (coefficients, intercepts, classes) and its provenance
(training study, embedding model and revision, target, grouping, C, the CV figures).
`probe_apply` scores any study holding embeddings of the same model with it and stores the answers as
predictions of method "transfer" linked to the probe, so the report shows them as held out ("trained on
A"). A probe travels as a JSON file (`probe_export` / `probe_import`): numbers and strings only, read
with `json`, so loading one executes nothing (never a pickle).

Probabilities are scikit-learn's `LogisticRegression.predict_proba` on the same arrays: for two
classes P(classes[1]) = expit(x·w + b); for more, softmax(x·W + b) (multinomial, lbfgs).
"""
from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
from django.db import transaction
from scipy.special import expit, softmax
from sklearn.linear_model import LogisticRegression

from annotations.models import Study
from annotations.tables import ImportFailed, RowError

from .models import Embedding, Prediction, StoredProbe
from .probe import probe_cross_val
from .services import probe_labels

FORMAT = "artalign-probe/1"
MAX_FILE_BYTES = 50 * 1024 * 1024
CV_FIGURES = ("accuracy", "balanced_accuracy", "auc", "n", "n_per_class", "n_splits")


def _normalised(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)


def _study_embeddings(study: Study, model_name: str) -> tuple[str, list[Embedding]]:
    embeddings = list(Embedding.objects.filter(artwork__study=study, model_name=model_name)
                      .select_related("artwork").order_by("artwork_id", "-created_at"))
    if not embeddings:
        raise ValueError(f"no {model_name!r} embeddings in study {study.slug!r}: run CLIP or import_embeddings first")
    revision = Counter(e.revision for e in embeddings).most_common(1)[0][0]
    return revision, [e for e in embeddings if e.revision == revision]


def probe_train(study: Study, model_name: str, dimension_key: str, *, target: str = "expert", group_by: str = "",
                folds: int = 5, seed: int = 0, C: float = 1.0, name: str = "") -> StoredProbe:
    """Score the probe on `study` by grouped CV, then fit it on all its labelled artworks and store it."""
    dim = study.dimensions.get(key=dimension_key)
    revision, embeddings = _study_embeddings(study, model_name)
    labels, groups = probe_labels(embeddings, dim, target, group_by)
    X = np.stack([e.array() for e in embeddings])
    cv = probe_cross_val(X, labels, groups, n_splits=folds, seed=seed, C=C)
    labelled = np.array([label is not None for label in labels])
    classes = [str(c) for c in cv["classes"]]
    y = np.searchsorted(np.array(classes, dtype=object), np.array([str(v) for v in np.asarray(labels)[labelled]]))
    model = LogisticRegression(C=C, max_iter=5000).fit(_normalised(X[labelled]), y)
    figures = {key: cv[key] for key in CV_FIGURES} | {"folds": folds, "seed": seed}
    return StoredProbe.objects.create(
        name=name or f"{study.slug}:{model_name}:{dimension_key}", train_study=study, train_study_slug=study.slug,
        embedding_model=model_name, embedding_revision=revision, dimension_key=dimension_key, target=target,
        group_by=group_by, classes=classes, C=C, coef=model.coef_.tolist(), intercept=model.intercept_.tolist(),
        n_train=int(labelled.sum()), cv=figures)


def probe_proba(probe: StoredProbe, X: np.ndarray) -> np.ndarray:
    """(n, K) class probabilities of the stored probe on raw embeddings X (n, d)."""
    coef, intercept = np.asarray(probe.coef, dtype=np.float64), np.asarray(probe.intercept, dtype=np.float64)
    z = _normalised(X) @ coef.T + intercept
    if len(probe.classes) == 2:
        p1 = expit(z[:, 0])
        return np.column_stack([1 - p1, p1])
    return softmax(z, axis=1)


def probe_apply(probe: StoredProbe, study: Study, dimension_key: str | None = None) -> dict:
    """Predict `study`'s dimension (the probe's own key by default) and store the answers (method
    "transfer"); returns {"n", "probe", "trained_on"}."""
    key = dimension_key or probe.dimension_key
    dim = study.dimensions.filter(key=key).first()
    if dim is None:
        raise ValueError(f"study {study.slug!r} has no dimension {key!r}")
    unknown = [c for c in probe.classes if c not in dim.labels]
    if unknown:
        raise ValueError(f"the probe's classes {', '.join(map(repr, unknown))} are not labels of {study.slug}/{key}")
    revision, embeddings = _study_embeddings(study, probe.embedding_model)
    dims = {len(e.array()) for e in embeddings}
    if dims != {len(probe.coef[0])}:
        raise ValueError(f"the probe reads {len(probe.coef[0])}-d embeddings; {study.slug!r} holds {sorted(dims)}")
    proba = probe_proba(probe, np.stack([e.array() for e in embeddings]))
    predictions = [
        Prediction(artwork=e.artwork, dimension=dim, model_name=probe.embedding_model, revision=revision,
                   method=Prediction.Method.TRANSFER, probs=dict(zip(probe.classes, map(float, row))),
                   label=probe.classes[int(np.argmax(row))], prompts_hash=f"probe:{probe.pk}", probe=probe)
        for e, row in zip(embeddings, proba)
    ]
    with transaction.atomic():
        Prediction.objects.filter(dimension=dim, model_name=probe.embedding_model,
                                  method=Prediction.Method.TRANSFER).delete()
        Prediction.objects.bulk_create(predictions)
    return {"n": len(predictions), "probe": probe.name, "trained_on": probe.train_study_slug}


def probe_export(probe: StoredProbe) -> dict:
    """The probe as a JSON-ready dict (numbers and strings only)."""
    return {"format": FORMAT, "name": probe.name, "trained_on": probe.train_study_slug,
            "embedding_model": probe.embedding_model, "embedding_revision": probe.embedding_revision,
            "dimension": probe.dimension_key, "target": probe.target, "group_by": probe.group_by,
            "classes": probe.classes, "C": probe.C, "coef": probe.coef, "intercept": probe.intercept,
            "n_train": probe.n_train, "cv": probe.cv}


def _finite_matrix(value, rows: int | None, field: str, errors: list[RowError]) -> list:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        errors.append(RowError(0, field, "not an array of numbers"))
        return []
    if rows is not None and (array.ndim != 2 or array.shape[0] != rows or array.shape[1] < 1):
        errors.append(RowError(0, field, f"shape {array.shape}; expected ({rows}, d)"))
    elif rows is None and array.ndim != 1:
        errors.append(RowError(0, field, f"shape {array.shape}; expected a list"))
    elif not np.isfinite(array).all():
        errors.append(RowError(0, field, "contains NaN or infinite values"))
    return array.tolist()


def probe_import(path: Path | str) -> StoredProbe:
    """A probe from a file `probe_export` wrote; ImportFailed (field, reason) if it is not one."""
    raw = Path(path).read_bytes()
    if len(raw) > MAX_FILE_BYTES:
        raise ImportFailed([RowError(0, "file", f"{len(raw):,} bytes; at most {MAX_FILE_BYTES:,}")])
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFailed([RowError(0, "file", f"not a JSON probe file: {exc}")]) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ImportFailed([RowError(0, "format", f"expected {FORMAT!r}")])
    errors: list[RowError] = []
    classes = data.get("classes")
    if not (isinstance(classes, list) and len(classes) >= 2 and all(isinstance(c, str) for c in classes)):
        errors.append(RowError(0, "classes", "expected a list of at least two labels"))
        classes = []
    rows = 1 if len(classes) == 2 else len(classes)
    coef = _finite_matrix(data.get("coef"), rows, "coef", errors)
    intercept = _finite_matrix(data.get("intercept"), None, "intercept", errors)
    if not errors and len(intercept) != rows:
        errors.append(RowError(0, "intercept", f"{len(intercept)} values; expected {rows}"))
    C = data.get("C")
    if not (isinstance(C, (int, float)) and math.isfinite(C) and C > 0):
        errors.append(RowError(0, "C", "expected a positive number"))
    for field in ("embedding_model", "dimension", "target"):
        if not isinstance(data.get(field), str) or not data[field]:
            errors.append(RowError(0, field, "expected a non-empty text"))
    if errors:
        raise ImportFailed(errors)
    text = lambda key, limit: str(data.get(key) or "")[:limit]  # noqa: E731
    return StoredProbe.objects.create(
        name=text("name", 200) or Path(path).stem, train_study=None, train_study_slug=text("trained_on", 100),
        embedding_model=text("embedding_model", 200), embedding_revision=text("embedding_revision", 64),
        dimension_key=text("dimension", 50), target=text("target", 200), group_by=text("group_by", 200),
        classes=classes, C=float(C), coef=coef, intercept=intercept, n_train=int(data.get("n_train") or 0),
        cv=data.get("cv") if isinstance(data.get("cv"), dict) else {}, sha256=hashlib.sha256(raw).hexdigest())
