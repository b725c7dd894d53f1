"""Comparative judgements: Bradley–Terry scores with bootstrap intervals, consistency on repeated
trials, split-half reliability, the triplet similarity matrix, the trial-level noise ceiling, the
model's answers on the same trials and representational similarity (RSA).

Conventions: artworks are indices 0..n-1; a trial answer is the tuple of artworks shown (``items``)
and the ``choice`` (an artwork for pairwise and triplet, (best, worst) for best–worst). A win
matrix ``W`` has shape (n, n) or (B, n, n), ``W[i, j]`` = how often i was preferred to j. NaN marks
a missing value. Random procedures take a ``seed``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import rankdata

from .ceiling import human_ceiling
from .correlation import rowwise_pearson, spearman, spearman_brown
from .reliability import percentile_interval

Answer = Hashable  # an artwork index, or a (best, worst) pair
DEFAULT_ALPHA = 0.01  # choix's penalty: alpha * ||theta||^2, enough to keep an unbeaten artwork finite
_BLOCK_CELLS = 2_000_000  # bootstrap replicates solved per block: bounds memory to a few arrays this size


def implied_pairs(kind: str, items: Sequence[int], choice: int | Sequence[int]) -> list[tuple[int, int]]:
    """(winner, loser) pairs an answer implies: pairwise, the chosen artwork beats the other;
    best–worst, the best beats every other artwork and every other artwork beats the worst (2k - 3
    pairs for k artworks, best over worst once). A triplet implies no preference: empty.

    Reference: Marley & Louviere (2005), best–worst scaling as paired comparisons.
    """
    if kind == "pairwise":
        chosen = int(choice)  # type: ignore[arg-type]
        return [(chosen, int(other)) for other in items if other != chosen]
    if kind == "best_worst":
        best, worst = (int(c) for c in choice)  # type: ignore[union-attr]
        pairs = [(best, int(other)) for other in items if other != best]
        return pairs + [(int(other), worst) for other in items if other not in (best, worst)]
    return []


def win_matrix(pairs: Sequence[tuple[int, int]], n: int) -> NDArray[np.float64]:
    """W[i, j] = number of (i, j) pairs in ``pairs``, shape (n, n)."""
    matrix = np.zeros((n, n))
    if pairs:
        winners, losers = np.asarray(pairs, dtype=int).T
        np.add.at(matrix, (winners, losers), 1.0)
    return matrix


def bradley_terry(wins: ArrayLike, alpha: float = DEFAULT_ALPHA, iterations: int = 100,
                  tol: float = 1e-10) -> NDArray[np.float64]:
    """Bradley–Terry strengths θ by Newton's method, for one win matrix or a batch at once.

    P(i beats j) = σ(θ_i − θ_j) = 1 / (1 + exp(θ_j − θ_i)). θ minimises choix's penalised negative
    log-likelihood (``choix.opt_pairwise``): α‖θ‖² − Σ_ij W_ij log σ(θ_i − θ_j), whose gradient is
    g_i = 2αθ_i − Σ_j (W_ij − N_ij P_ij) and Hessian H = 2αI + diag(Σ_j N_ij P_ij(1 − P_ij)) −
    N ∘ P(1 − P), N = W + Wᵀ. With α > 0 the objective is strictly convex, so Newton converges from 0.

    Args:
        wins: shape (n, n) or (B, n, n).
        alpha: penalty; choix's ``alpha`` argument.

    Returns:
        θ, shape (n,) or (B, n), centred to mean 0 (the model fixes only differences).

    Reference: Bradley & Terry (1952), Biometrika 39; Maystre & Grossglauser (2015), choix.
    """
    w = np.asarray(wins, dtype=float)
    single = w.ndim == 2
    if single:
        w = w[None]
    total = w + np.swapaxes(w, 1, 2)
    theta = np.zeros(w.shape[:2])
    eye = np.eye(w.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(theta[:, None, :] - theta[:, :, None]))  # P_ij = σ(θ_i − θ_j)
        grad = 2 * alpha * theta - (w - total * p).sum(axis=2)
        curvature = total * p * (1 - p)
        hessian = 2 * alpha * eye + np.einsum("bi,ij->bij", curvature.sum(axis=2), eye) - curvature
        step = np.linalg.solve(hessian, grad[..., None])[..., 0]
        theta = theta - step
        if np.abs(step).max() < tol:
            break
    theta = theta - theta.mean(axis=1, keepdims=True)
    return theta[0] if single else theta


def bradley_terry_bootstrap(kind: str, trials: Sequence[tuple[Sequence[int], int | Sequence[int]]], n: int,
                            n_boot: int = 1000, seed: int = 0, ci: float = 0.95,
                            alpha: float = DEFAULT_ALPHA) -> dict:
    """Bradley–Terry scores of n artworks from answers (items, choice), with percentile intervals
    from a bootstrap over answers (each resample draws the answers with replacement and refits all
    its implied pairs; the resamples are solved together, ``bradley_terry`` over a batch).

    Returns:
        ``{"theta": (n,), "ci": (n, 2), "replicates": (n_boot, n), "n_answers", "n_pairs"}``.
    """
    per_answer = [implied_pairs(kind, items, choice) for items, choice in trials]
    answers = np.stack([win_matrix(p, n).ravel() for p in per_answer]) if per_answer else np.zeros((0, n * n))
    theta = bradley_terry(answers.sum(axis=0).reshape(n, n), alpha)
    rng = np.random.default_rng(seed)
    m = len(per_answer)
    block = max(1, _BLOCK_CELLS // max(1, n * n))
    replicates = []
    for start in range(0, n_boot if m else 0, block):
        size = min(block, n_boot - start)
        counts = rng.multinomial(m, np.full(m, 1.0 / m), size=size).astype(float)  # (size, m)
        replicates.append(bradley_terry((counts @ answers).reshape(size, n, n), alpha))
    reps = np.concatenate(replicates) if replicates else np.full((0, n), np.nan)
    interval = np.array([percentile_interval(reps[:, i], ci) for i in range(n)]) if n else np.zeros((0, 2))
    return {"theta": theta, "ci": interval, "replicates": reps, "n_answers": m,
            "n_pairs": int(sum(len(p) for p in per_answer))}


def spearman_with_replicates(theta: ArrayLike, replicates: ArrayLike, scores: ArrayLike, ci: float = 0.95) -> dict:
    """Spearman's rho between scores θ and a model's ``scores`` (shape (n,)), with the percentile
    interval of rho over bootstrap replicates of θ (shape (B, n)), all replicates at once."""
    scores_arr = np.asarray(scores, dtype=float)
    reps = np.asarray(replicates, dtype=float)
    value = spearman(theta, scores_arr)
    keep = np.isfinite(scores_arr)
    if reps.size == 0 or keep.sum() < 3:
        return {"value": value, "ci": (float("nan"), float("nan")), "n": int(keep.sum())}
    rhos = rowwise_pearson(rankdata(reps[:, keep], axis=1), rankdata(scores_arr[keep])[None, :])
    return {"value": value, "ci": percentile_interval(rhos, ci), "n": int(keep.sum())}


def repeat_consistency(people: Sequence[Hashable], trials: Sequence[Hashable], repeats: Sequence[int],
                       answers: Sequence[Answer]) -> dict:
    """Per person, the share of repeated trials answered as the first time (repeat 0).

    Returns ``{"per_person": {person: share}, "mean": mean share, "n_people", "n_repeats"}``; people
    without a repeated trial are left out.
    """
    first: dict[tuple, Answer] = {}
    for person, trial, repeat, answer in zip(people, trials, repeats, answers):
        if repeat == 0:
            first[(person, trial)] = answer
    same: dict[Hashable, list[bool]] = defaultdict(list)
    for person, trial, repeat, answer in zip(people, trials, repeats, answers):
        if repeat > 0 and (person, trial) in first:
            same[person].append(first[(person, trial)] == answer)
    per_person = {person: float(np.mean(flags)) for person, flags in same.items()}
    values = list(per_person.values())
    return {"per_person": per_person, "mean": float(np.mean(values)) if values else float("nan"),
            "n_people": len(per_person), "n_repeats": int(sum(len(f) for f in same.values()))}


def bt_split_half(kind: str, people: Sequence[Hashable], trials: Sequence[tuple[Sequence[int], int | Sequence[int]]],
                  n: int, n_splits: int = 50, seed: int = 0, alpha: float = DEFAULT_ALPHA) -> dict:
    """Split-half reliability of Bradley–Terry scores: the people are dealt at random into two
    halves, each half's answers fitted, the halves' scores correlated (Spearman) and corrected to
    full length, 2r / (1 + r); the mean over ``n_splits`` splits (all halves solved in one batch).

    Returns ``{"value", "r_half", "n_splits", "n_people"}``; NaN with fewer than 2 people.
    """
    persons = sorted(set(people), key=str)
    if len(persons) < 2 or n < 3:
        return {"value": float("nan"), "r_half": float("nan"), "n_splits": n_splits, "n_people": len(persons)}
    index = {p: i for i, p in enumerate(persons)}
    per_person = np.zeros((len(persons), n * n))
    for person, (items, choice) in zip(people, trials):
        per_person[index[person]] += win_matrix(implied_pairs(kind, items, choice), n).ravel()
    rng = np.random.default_rng(seed)
    halves = np.zeros((n_splits, 2, len(persons)))
    for split in range(n_splits):
        order = rng.permutation(len(persons))
        halves[split, 0, order[: len(persons) // 2]] = 1
        halves[split, 1, order[len(persons) // 2:]] = 1
    theta = bradley_terry((halves.reshape(-1, len(persons)) @ per_person).reshape(-1, n, n), alpha)
    theta = theta.reshape(n_splits, 2, n)
    r_half = rowwise_pearson(rankdata(theta[:, 0], axis=1), rankdata(theta[:, 1], axis=1))
    corrected = spearman_brown(r_half)
    return {"value": float(np.nanmean(corrected)), "r_half": float(np.nanmean(r_half)), "n_splits": n_splits,
            "n_people": len(persons)}


def triplet_similarity(trials: Sequence[tuple[Sequence[int], int]], n: int) -> NDArray[np.float64]:
    """Human similarity of artworks from odd-one-out answers, shape (n, n): S_ij = the share of the
    triplets holding both i and j in which the odd one out was the third artwork (so i and j were
    judged the most alike); NaN where i and j never met; 1 on the diagonal.

    Reference: Hebart et al. (2020), Nature Human Behaviour 4 (THINGS odd-one-out similarity).
    """
    together, similar = np.zeros((n, n)), np.zeros((n, n))
    for items, odd in trials:
        for a in items:
            for b in items:
                if a != b:
                    together[a, b] += 1
                    if odd not in (a, b):
                        similar[a, b] += 1
    with np.errstate(divide="ignore", invalid="ignore"):
        matrix = np.where(together > 0, similar / together, np.nan)
    np.fill_diagonal(matrix, 1.0)
    return matrix


def _majority_credit(answer: Answer, counts: Counter) -> float:
    """Agreement of one answer with a majority: 1 if it is the only most common answer, 1/k if it is
    one of k tied most common answers, 0 otherwise (the expected agreement with ties broken at random)."""
    if not counts:
        return float("nan")
    top = max(counts.values())
    tied = [a for a, c in counts.items() if c == top]
    return 1.0 / len(tied) if answer in tied else 0.0


def trial_noise_ceiling(people: Sequence[Hashable], trials: Sequence[Hashable], answers: Sequence[Answer],
                        model_answers: dict[Hashable, Answer] | None = None) -> dict:
    """Each person's agreement with the others' majority on the trials they answered, and the
    model's agreement with the same leave-one-out majorities: the model as one dot among the people.

    For person p and trial t, M₋ₚ(t) is the most common answer of the others (first answers only);
    p scores 1 when their answer is M₋ₚ(t) (1/k among k tied). A person's agreement is the mean over
    their trials with at least one other answer; the model's is the mean, over the same (p, t), of
    its answer's credit against M₋ₚ(t). The noise ceiling is the people's mean agreement.

    Returns ``{"people": {person: agreement}, "ceiling", "model", "model_per_person", "ranking":
    human_ceiling(...), "n_trials"}``.
    """
    by_trial: dict[Hashable, list[tuple[Hashable, Answer]]] = defaultdict(list)
    for person, trial, answer in zip(people, trials, answers):
        by_trial[trial].append((person, answer))
    human: dict[Hashable, list[float]] = defaultdict(list)
    model: dict[Hashable, list[float]] = defaultdict(list)
    for trial, given in by_trial.items():
        total = Counter(answer for _, answer in given)
        for person, answer in given:
            others = total.copy()
            others[answer] -= 1
            others = +others
            if not others:
                continue
            human[person].append(_majority_credit(answer, others))
            if model_answers is not None and trial in model_answers:
                model[person].append(_majority_credit(model_answers[trial], others))
    per_person = {p: float(np.mean(v)) for p, v in human.items()}
    model_per_person = {p: float(np.mean(v)) for p, v in model.items()}
    ceiling = float(np.mean(list(per_person.values()))) if per_person else float("nan")
    model_score = float(np.mean(list(model_per_person.values()))) if model_per_person else float("nan")
    return {"people": per_person, "ceiling": ceiling, "model": model_score, "model_per_person": model_per_person,
            "ranking": human_ceiling(list(per_person.values()), model_score), "n_trials": len(by_trial)}


def model_answer(kind: str, items: Sequence[int], scores: ArrayLike | None = None,
                 embeddings: ArrayLike | None = None) -> Answer:
    """The model's answer to a trial: pairwise, the artwork with the higher score; best–worst,
    (highest, lowest); triplet, the odd one out: the artwork outside the most similar pair, by
    cosine similarity of ``embeddings`` (rows L2-normalised, shape (n, d); or scores' vectors)."""
    if kind in ("pairwise", "best_worst"):
        s = np.asarray(scores, dtype=float)[list(items)]
        best, worst = int(items[int(np.argmax(s))]), int(items[int(np.argmin(s))])
        return best if kind == "pairwise" else (best, worst)
    e = np.asarray(embeddings, dtype=float)[list(items)]
    e = e / np.linalg.norm(e, axis=1, keepdims=True)
    similarity = e @ e.T
    pairs = [(similarity[a, b], a, b) for a in range(len(items)) for b in range(a + 1, len(items))]
    _, a, b = max(pairs)
    return int(next(items[k] for k in range(len(items)) if k not in (a, b)))


def cosine_dissimilarity(embeddings: ArrayLike) -> NDArray[np.float64]:
    """1 − cosine similarity between rows, shape (n, d) -> (n, n)."""
    e = np.asarray(embeddings, dtype=float)
    e = e / np.linalg.norm(e, axis=1, keepdims=True)
    return 1.0 - e @ e.T


def rsa(human: ArrayLike, model: ArrayLike, n_boot: int = 1000, seed: int = 0, ci: float = 0.95) -> dict:
    """Representational similarity: Spearman's rho between the upper triangles of two (n, n)
    dissimilarity matrices (pairs where either is NaN left out), with a percentile bootstrap over
    artworks: each resample draws n artworks with replacement and compares the pairs of distinct
    draws (a pair of an artwork with itself is left out).

    Reference: Kriegeskorte, Mur & Bandettini (2008), Frontiers in Systems Neuroscience 2;
    Nili et al. (2014), the RSA toolbox's bootstrap over stimuli.
    """
    h, m = np.asarray(human, dtype=float), np.asarray(model, dtype=float)
    n = h.shape[0]
    upper = np.triu_indices(n, k=1)
    value = spearman(h[upper], m[upper])
    rng = np.random.default_rng(seed)
    replicates = np.full(n_boot, np.nan)
    i, j = upper
    for b in range(n_boot if n >= 3 else 0):
        draw = rng.integers(0, n, size=n)
        a, c = np.take(draw, i), np.take(draw, j)
        keep = a != c
        replicates[b] = spearman(h[a[keep], c[keep]], m[a[keep], c[keep]])
    return {"value": value, "ci": percentile_interval(replicates, ci), "n_artworks": n,
            "n_pairs": int(np.isfinite(h[upper]).sum()), "n_boot": n_boot, "ci_level": ci}
