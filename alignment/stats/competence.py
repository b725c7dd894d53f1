"""Annotator competence and posterior labels: Dawid–Skene and MACE, fitted by crowd-kit.

Both models treat each artwork as having one true category and each annotator as answering from it
with some error. Dawid & Skene (1979) give annotator j a confusion matrix
pi_j[c, l] = P(j answers l | true category c); MACE (Hovy et al. 2013) says j "knows" with
probability theta_j (answers the true category) and otherwise "spams" from a strategy xi_j.
We use crowd-kit's fits (`crowdkit.aggregation.DawidSkene`, `MACE`) rather than our own EM: they are
maintained, tested against the papers' data sets, and the figures here equal theirs on the same
input (tests/alignment/test_competence.py).

Input: reliability data `codes` (n_raters, n_units) of category codes 0..K-1, NaN = no answer (the
convention of `alignment.stats`). Output (`Competence`):
- competence (n_raters,): Dawid–Skene: the annotator's accuracy under the fitted model,
  sum_c prior_c * pi_j[c, c]; MACE: theta_j, the posterior probability of knowing. NaN for an
  annotator without answers.
- posterior (n_units, K): P(true category = c | answers); NaN rows for artworks without answers.
- confusion (n_raters, K, K) for Dawid–Skene (rows: true category, columns: the answer), else None.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from numpy.typing import NDArray

METHODS = ("dawid_skene", "mace")


@dataclass(frozen=True)
class Competence:
    method: str
    competence: NDArray[np.float64]
    posterior: NDArray[np.float64]
    confusion: NDArray[np.float64] | None = None
    priors: NDArray[np.float64] | None = None


def long_answers(codes: NDArray[np.float64]) -> pd.DataFrame:
    """Reliability data as crowd-kit's long table: one row per answer, columns task (unit index),
    worker (rater index), label (category code), all integers, in (worker, task) order."""
    rater, unit = np.nonzero(np.isfinite(codes))
    return pd.DataFrame({"task": unit.astype(int), "worker": rater.astype(int),
                         "label": codes[rater, unit].astype(int)})


def _posterior(probas: pd.DataFrame, n_units: int, k: int) -> NDArray[np.float64]:
    out = np.full((n_units, k), np.nan)
    dense = np.zeros((len(probas.index), k))
    for label in probas.columns:
        dense[:, int(label)] = probas[label].to_numpy(float)
    out[probas.index.to_numpy(int)] = dense
    return out


def dawid_skene(codes: NDArray[np.float64], k: int, *, n_iter: int = 100, tol: float = 1e-5) -> Competence:
    """Dawid–Skene by crowd-kit (`DawidSkene(n_iter, tol)`, initialised from the majority vote)."""
    from crowdkit.aggregation import DawidSkene

    n_raters, n_units = codes.shape
    data = long_answers(codes)
    if data.empty:
        return Competence("dawid_skene", np.full(n_raters, np.nan), np.full((n_units, k), np.nan),
                          np.full((n_raters, k, k), np.nan), np.full(k, np.nan))
    ds = DawidSkene(n_iter=n_iter, tol=tol).fit(data)
    assert ds.probas_ is not None and ds.priors_ is not None and ds.errors_ is not None  # set by fit
    posterior = _posterior(ds.probas_, n_units, k)
    priors = np.zeros(k)
    for label, value in ds.priors_.items():
        priors[int(label)] = value
    confusion = np.full((n_raters, k, k), np.nan)
    errors = ds.errors_  # index (worker, answered label), columns: true label; P(answer | true)
    for (worker, answered), row in errors.iterrows():
        for true_label, p in row.items():
            confusion[int(worker), int(true_label), int(answered)] = p
    judged = np.isfinite(codes).any(axis=1)
    confusion[judged] = np.nan_to_num(confusion[judged], nan=0.0)
    diagonal = np.einsum("jcc->jc", confusion)
    competence = np.where(judged, diagonal @ priors, np.nan)
    return Competence("dawid_skene", competence, posterior, confusion, priors)


def mace(codes: NDArray[np.float64], k: int, *, n_restarts: int = 1, n_iter: int = 50, seed: int = 0) -> Competence:
    """MACE by crowd-kit (`MACE(n_restarts, n_iter, method="vb", random_state=seed)`).

    One restart: crowd-kit 1.4.2 draws every restart's starting point with the same integer
    `random_state`, so its restarts are identical and its default of 10 only multiplies the time
    (about 2 s per restart for 300 answers: the EM runs in pandas).
    """
    from crowdkit.aggregation import MACE

    n_raters, n_units = codes.shape
    data = long_answers(codes)
    if data.empty:
        return Competence("mace", np.full(n_raters, np.nan), np.full((n_units, k), np.nan))
    model = MACE(n_restarts=n_restarts, n_iter=n_iter, random_state=seed).fit(data)
    workers = pd.factorize(data["worker"])[1].to_numpy(int)
    competence = np.full(n_raters, np.nan)
    competence[workers] = model.spamming_[:, 1]  # column 1: P(knowing), MACE's theta_j
    return Competence("mace", competence, _posterior(model.probas_, n_units, k))


def competence_fit(codes: NDArray[np.float64], k: int, method: str, *, seed: int = 0) -> Competence:
    if method == "dawid_skene":
        return dawid_skene(codes, k)
    if method == "mace":
        return mace(codes, k, seed=seed)
    raise ValueError(f"unknown competence model {method!r}; one of {', '.join(METHODS)}")


def entropy_bits(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Shannon entropy (bits) of each row of p (n, K); NaN rows stay NaN. The posterior's uncertainty."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    out = terms.sum(axis=1)
    return np.where(np.isfinite(p).all(axis=1), out, math.nan)
