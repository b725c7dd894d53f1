"""A linear probe on stored CLIP embeddings, scored by grouped cross-validation.

A logistic regression reads the label off the L2-normalised embeddings; its figures are
out-of-fold: the items are split into folds by group (e.g. the generator prompt, so the same prompt's
images are never both trained on and tested), each fold is predicted by a model trained on the
others, and accuracy is computed over those predictions. Every item's prediction therefore comes
from a model that never saw the item nor anything of its group.

Only labelled items take part: an item whose label is missing (None, NaN or "") is neither trained on
nor predicted (its `proba` row is NaN and its fold -1).

No Django here; `python -m clipworker.probe_cli` runs it on the AI-Pastiche / NGA sample.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold


def _missing(value) -> bool:
    return value is None or value == "" or (isinstance(value, float) and np.isnan(value))


def probe_cross_val(X: np.ndarray, y: Sequence, groups: Sequence | None = None, *,
                    n_splits: int = 5, seed: int = 0, C: float = 1.0) -> dict:
    """Out-of-fold predictions of a logistic-regression probe.

    X: (n, d) embeddings (any scale; rows are L2-normalised here, as CLIP compares them).
    y: (n,) labels, any hashable values; missing labels are left out (see the module docstring).
    groups: (n,) group of each item; None puts every item in its own group.
    n_splits: folds, at most the number of groups (fewer groups: fewer folds, reported back).
    Folds: StratifiedGroupKFold (shuffled with `seed`): no group in two folds, classes balanced
    across folds as far as the groups allow. C: inverse L2 regularisation strength.

    Returns a dict:
      accuracy, balanced_accuracy: over the labelled items' out-of-fold predictions;
      auc: ROC AUC of the out-of-fold probability of classes[1] (two classes only, else None);
      n: labelled items; n_per_class: {class: count}; n_splits;
      classes: (K,) sorted labels; proba: (n, K) out-of-fold probabilities (NaN rows: unlabelled);
      predicted: (n,) out-of-fold labels (None where unlabelled); fold_of_item: (n,) int, -1 where
      unlabelled.
    """
    X = np.asarray(X, dtype=np.float64)
    X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    y = np.asarray(y, dtype=object)
    n = len(y)
    groups = np.arange(n) if groups is None else np.asarray(groups, dtype=object)
    labelled = np.array([not _missing(v) for v in y])
    idx = np.flatnonzero(labelled)
    classes = np.array(sorted(set(y[idx])), dtype=object)
    if len(classes) < 2:
        raise ValueError("the probe needs at least two classes among the labelled items")
    y_int = np.searchsorted(classes, y[idx])  # classes is sorted, so this is the class index

    # Group ids as strings: StratifiedGroupKFold needs sortable, comparable values.
    group_keys = np.array([str(g) for g in groups[idx]])
    n_groups = len(set(group_keys))
    if n_groups < 2:
        raise ValueError("the probe needs at least two groups of labelled items to cross-validate")
    n_splits = min(n_splits, n_groups)  # small studies: as many folds as there are groups
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    if n_groups == len(idx):  # singleton groups: plain stratified folds
        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)

    proba = np.full((n, len(classes)), np.nan)
    fold_of_item = np.full(n, -1, dtype=int)
    for fold, (train, test) in enumerate(splitter.split(X[idx], y_int, group_keys)):
        # A class absent from a training fold gets probability 0 there.
        fold_proba = np.zeros((len(test), len(classes)))
        seen = np.unique(y_int[train])
        if len(seen) == 1:  # nothing to separate: that fold predicts its only class
            fold_proba[:, seen[0]] = 1.0
        else:
            model = LogisticRegression(C=C, max_iter=5000)
            model.fit(X[idx[train]], y_int[train])
            fold_proba[:, model.classes_] = model.predict_proba(X[idx[test]])
        proba[idx[test]] = fold_proba
        fold_of_item[idx[test]] = fold

    predicted_int = proba[idx].argmax(axis=1)
    predicted = np.full(n, None, dtype=object)
    predicted[idx] = classes[predicted_int]
    auc = (float(roc_auc_score(y_int, proba[idx, 1])) if len(classes) == 2 else None)
    return {
        "accuracy": float(accuracy_score(y_int, predicted_int)),
        "balanced_accuracy": float(balanced_accuracy_score(y_int, predicted_int)),
        "auc": auc,
        "n": int(len(idx)),
        "n_per_class": {str(c): int((y_int == k).sum()) for k, c in enumerate(classes)},
        "n_splits": n_splits,
        "classes": classes,
        "proba": proba,
        "predicted": predicted,
        "fold_of_item": fold_of_item,
    }
