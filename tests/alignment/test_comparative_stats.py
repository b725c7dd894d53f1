"""Comparative statistics (alignment/stats/comparative.py): pure functions, no database."""
import choix
import numpy as np
import pytest

from alignment.stats.comparative import (
    bradley_terry,
    bradley_terry_bootstrap,
    bt_split_half,
    cosine_dissimilarity,
    implied_pairs,
    model_answer,
    repeat_consistency,
    rsa,
    spearman_with_replicates,
    trial_noise_ceiling,
    triplet_similarity,
    win_matrix,
)


def test_bradley_terry_equals_choix_penalised_maximum_likelihood():
    rng = np.random.default_rng(3)
    pairs = [tuple(rng.choice(8, 2, replace=False)) for _ in range(300)]
    data = [(int(a), int(b)) for a, b in pairs]
    ours = bradley_terry(win_matrix(data, 8), alpha=0.05)
    theirs = choix.opt_pairwise(8, data, alpha=0.05, tol=1e-10)
    np.testing.assert_allclose(ours, theirs - theirs.mean(), atol=1e-5)


def test_batched_fit_equals_one_fit_per_matrix():
    rng = np.random.default_rng(4)
    batch = rng.integers(0, 5, size=(3, 6, 6)).astype(float)
    together = bradley_terry(batch)
    for b in range(3):
        np.testing.assert_allclose(together[b], bradley_terry(batch[b]), atol=1e-8)


def test_best_worst_implies_best_over_all_and_all_over_worst():
    assert sorted(implied_pairs("best_worst", [4, 7, 1, 2], [7, 2])) == [(1, 2), (4, 2), (7, 1), (7, 2), (7, 4)]
    assert implied_pairs("pairwise", [3, 5], 5) == [(5, 3)]
    assert implied_pairs("triplet", [1, 2, 3], 2) == []


def test_consistency_counts_repeats_answered_as_the_first_time():
    result = repeat_consistency(["a", "a", "a", "a", "b", "b"], [1, 1, 2, 2, 1, 1], [0, 1, 0, 1, 0, 1],
                                [5, 5, 7, 8, 5, 5])
    assert result["per_person"] == {"a": 0.5, "b": 1.0}
    assert result["n_repeats"] == 3


def test_triplet_similarity_is_the_share_of_meetings_judged_alike():
    matrix = triplet_similarity([((0, 1, 2), 2), ((0, 1, 2), 0), ((0, 1, 3), 3)], 4)
    assert matrix[0, 1] == pytest.approx(2 / 3)
    assert matrix[1, 2] == pytest.approx(1 / 2)
    assert np.isnan(matrix[2, 3])


def test_noise_ceiling_leaves_each_person_out_and_splits_ties():
    # Trial 1: a, b, c say 0; d says 1. Trial 2: a says 2, b says 3 (a tie for each other).
    result = trial_noise_ceiling(["a", "b", "c", "d", "a", "b"], [1, 1, 1, 1, 2, 2], [0, 0, 0, 1, 2, 3],
                                 model_answers={1: 0, 2: 2})
    assert result["people"] == {"a": 0.5, "b": 0.5, "c": 1.0, "d": 0.0}
    assert result["model"] == pytest.approx(np.mean([(1 + 1) / 2, (1 + 0) / 2, 1.0, 1.0]))


def test_odd_one_out_is_outside_the_most_similar_pair():
    embeddings = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    assert model_answer("triplet", [0, 1, 2], embeddings=embeddings) == 2
    assert model_answer("best_worst", [0, 1, 2], scores=[0.2, 0.9, -1]) == (1, 2)


def test_rsa_of_a_matrix_with_itself_is_one_and_of_noise_near_zero():
    rng = np.random.default_rng(0)
    d = cosine_dissimilarity(rng.normal(size=(15, 4)))
    same = rsa(d, d, n_boot=200)
    assert same["value"] == pytest.approx(1.0)
    assert same["ci"][0] == pytest.approx(1.0)
    other = rsa(d, cosine_dissimilarity(rng.normal(size=(15, 4))), n_boot=200)
    assert abs(other["value"]) < 0.3 and other["ci"][0] < 0 < other["ci"][1]


# A simulated study with known latent scores ----------------------------------------------------------
def _simulate(theta, n_people, trials_per_person, rng, kind="pairwise"):
    n = len(theta)
    people, answers = [], []
    for person in range(n_people):
        for _ in range(trials_per_person):
            items = [int(i) for i in rng.choice(n, 2 if kind == "pairwise" else 4, replace=False)]
            # Gumbel noise: the logit choice model whose pairwise margin is Bradley–Terry's
            utility = theta[items] + rng.gumbel(size=len(items))
            if kind == "pairwise":
                answers.append((items, items[int(np.argmax(utility))]))
            else:
                answers.append((items, (items[int(np.argmax(utility))], items[int(np.argmin(utility))])))
            people.append(person)
    return people, answers


def test_simulated_pairwise_study_recovers_the_ranking_with_covering_intervals():
    rng = np.random.default_rng(18)
    coverage = []
    for _ in range(3):
        theta = rng.normal(0, 1.0, size=20)
        theta -= theta.mean()
        people, answers = _simulate(theta, 40, 50, rng)
        fit = bradley_terry_bootstrap("pairwise", answers, 20, n_boot=300, seed=1, alpha=1e-4)
        assert np.corrcoef(np.argsort(np.argsort(fit["theta"])), np.argsort(np.argsort(theta)))[0, 1] >= 0.95
        coverage.append(np.mean((fit["ci"][:, 0] <= theta) & (theta <= fit["ci"][:, 1])))
    assert 0.85 <= np.mean(coverage) <= 1.0


def test_best_worst_and_split_half_on_a_simulated_study():
    rng = np.random.default_rng(5)
    theta = np.linspace(-2, 2, 12)
    people, answers = _simulate(theta, 30, 20, rng, kind="best_worst")
    fit = bradley_terry_bootstrap("best_worst", answers, 12, n_boot=100, seed=0)
    assert spearman_with_replicates(fit["theta"], fit["replicates"], theta)["value"] >= 0.95
    assert bt_split_half("best_worst", people, answers, 12, n_splits=20)["value"] >= 0.9


def test_model_near_the_truth_sits_above_the_human_noise_ceiling():
    rng = np.random.default_rng(7)
    theta = rng.normal(0, 1.0, size=20)
    pairs = [tuple(int(i) for i in rng.choice(20, 2, replace=False)) for _ in range(60)]
    people, trials, answers = [], [], []
    for person in range(12):
        for t, items in enumerate(pairs):
            utility = theta[list(items)] + rng.gumbel(size=2)
            people.append(person)
            trials.append(t)
            answers.append(items[int(np.argmax(utility))])
    model_scores = theta + rng.normal(0, 0.1, size=20)
    model = {t: model_answer("pairwise", items, scores=model_scores) for t, items in enumerate(pairs)}
    result = trial_noise_ceiling(people, trials, answers, model)
    assert result["model"] > result["ceiling"]
    assert result["ranking"]["rank"] == 1
