"""A labeller (CLIP, a person) against a reference (the human majority, experts).

All functions take vectors of shape (n_items,) and drop items where either side is NaN.
Labels are numeric codes. Thin wrappers over ``sklearn.metrics`` where it already does the job.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import norm
from sklearn import metrics


def finite_pairs(reference: ArrayLike, predicted: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    reference, predicted = np.asarray(reference, dtype=float), np.asarray(predicted, dtype=float)
    if reference.shape != predicted.shape or reference.ndim != 1:
        raise ValueError(f"expected two vectors of equal length; got {reference.shape} and {predicted.shape}")
    both = ~(np.isnan(reference) | np.isnan(predicted))
    return reference[both], predicted[both]


def accuracy(reference: ArrayLike, predicted: ArrayLike) -> float:
    """Share of items where ``predicted`` equals ``reference``; NaN pairs dropped, NaN if none left."""
    reference, predicted = finite_pairs(reference, predicted)
    return float((reference == predicted).mean()) if reference.size else float("nan")


def macro_f1(reference: ArrayLike, predicted: ArrayLike, labels: ArrayLike | None = None) -> float:
    """Unweighted mean over labels of F1 = 2 PR / (P + R).

    Args:
        reference, predicted: shape (n_items,), NaN pairs dropped.
        labels: labels to average over (default: those in either vector); a label never
            predicted nor present scores 0 (``zero_division=0``).

    Returns:
        Macro-F1; NaN if no pair is left.

    Reference: ``sklearn.metrics.f1_score(average="macro")``.
    """
    reference, predicted = finite_pairs(reference, predicted)
    if not reference.size:
        return float("nan")
    return float(metrics.f1_score(reference, predicted, labels=labels, average="macro", zero_division=0))


def confusion_matrix(
    reference: ArrayLike, predicted: ArrayLike, labels: ArrayLike | None = None
) -> NDArray[np.int64]:
    """Counts of (reference, predicted) label pairs.

    Args:
        reference, predicted: shape (n_items,), NaN pairs dropped.
        labels: row and column order (default: sorted labels in either vector); pass
            ``range(K)`` to get every category.

    Returns:
        Shape (K, K); entry [i, j] counts items with reference label i predicted as j.

    Reference: ``sklearn.metrics.confusion_matrix``.
    """
    reference, predicted = finite_pairs(reference, predicted)
    if labels is not None:
        labels = np.asarray(labels, dtype=float)
        if not reference.size:
            return np.zeros((len(labels), len(labels)), dtype=np.int64)
    elif not reference.size:
        return np.zeros((0, 0), dtype=np.int64)
    return metrics.confusion_matrix(reference, predicted, labels=labels).astype(np.int64)


def signal_detection(truth: ArrayLike, decision: ArrayLike) -> dict:
    """Hit rate, false-alarm rate and sensitivity d′ of yes/no decisions.

    H = hits / n_signal, F = false alarms / n_noise, d′ = Φ⁻¹(H) − Φ⁻¹(F). d′ uses the
    log-linear correction, applied to every cell so that rates of 0 or 1 stay finite and all
    conditions are treated alike: H' = (hits + 0.5) / (n_signal + 1),
    F' = (false alarms + 0.5) / (n_noise + 1). The returned rates are the uncorrected ones.

    Args:
        truth: shape (n_items,), 1 = signal (e.g. AI-made), 0 = noise; NaN pairs dropped.
        decision: shape (n_items,), 1 = "yes, signal", 0 = "no".

    Returns:
        ``{"hit_rate", "false_alarm_rate", "d_prime", "hits", "false_alarms", "n_signal",
        "n_noise"}``; rates and d′ are NaN when a class is absent.

    Reference: Hautus (1995), Behavior Research Methods 27(1); Stanislaw & Todorov (1999),
    Behavior Research Methods 31(1).
    """
    truth, decision = finite_pairs(truth, decision)
    signal, noise = truth == 1, truth == 0
    n_signal, n_noise = int(signal.sum()), int(noise.sum())
    hits, false_alarms = int((decision[signal] == 1).sum()), int((decision[noise] == 1).sum())
    if n_signal == 0 or n_noise == 0:
        rates = (float("nan"),) * 3
    else:
        h_corr = (hits + 0.5) / (n_signal + 1)
        f_corr = (false_alarms + 0.5) / (n_noise + 1)
        rates = (hits / n_signal, false_alarms / n_noise, float(norm.ppf(h_corr) - norm.ppf(f_corr)))
    return {
        "hit_rate": rates[0],
        "false_alarm_rate": rates[1],
        "d_prime": rates[2],
        "hits": hits,
        "false_alarms": false_alarms,
        "n_signal": n_signal,
        "n_noise": n_noise,
    }


def auc(truth: ArrayLike, score: ArrayLike) -> float:
    """Area under the ROC curve: the probability that a random signal item outscores a random noise item.

    Args:
        truth: shape (n_items,), 1 = signal, 0 = noise; NaN pairs dropped.
        score: shape (n_items,), higher = more signal-like.

    Returns:
        AUC in [0, 1] (ties count ½); NaN when one class is absent.

    Reference: Hanley & McNeil (1982), Radiology 143(1); ``sklearn.metrics.roc_auc_score``.
    """
    truth, score = finite_pairs(truth, score)
    if np.unique(truth).size < 2:
        return float("nan")
    return float(metrics.roc_auc_score(truth, score))
