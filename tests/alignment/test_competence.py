"""Dawid–Skene and MACE (alignment/stats/competence.py) on a simulated study with known annotator
accuracies: experts, ordinary people and spammers."""
import numpy as np
import pytest
from crowdkit.aggregation import MACE, DawidSkene
from scipy.stats import spearmanr

from alignment.stats import majority_labels
from alignment.stats.competence import dawid_skene, entropy_bits, long_answers, mace

K, N_ITEMS = 4, 300
ACCURACY = np.array([0.95, 0.9, 0.85, 0.75, 0.65, 0.55, 0.45, 0.35, 0.25, 0.25])  # last two: spammers (1/K)


@pytest.fixture(scope="module")
def study():
    rng = np.random.default_rng(1)
    truth = rng.integers(0, K, N_ITEMS)
    codes = np.full((len(ACCURACY), N_ITEMS), np.nan)
    for j, accuracy in enumerate(ACCURACY):
        judged = rng.random(N_ITEMS) < 0.4  # a crowd design: each person judges some artworks
        answers = np.where(rng.random(N_ITEMS) < accuracy, truth, rng.integers(0, K, N_ITEMS))
        codes[j, judged] = answers[judged]
    return codes, truth


@pytest.fixture(scope="module")
def fitted(study):
    codes, _ = study
    return {"dawid_skene": dawid_skene(codes, K), "mace": mace(codes, K)}


@pytest.mark.parametrize("method", ["dawid_skene", "mace"])
def test_competence_ranks_the_annotators_in_their_true_order(fitted, method):
    assert spearmanr(ACCURACY, fitted[method].competence).statistic >= 0.9


@pytest.mark.parametrize("method", ["dawid_skene", "mace"])
def test_posterior_labels_beat_the_majority_vote_against_the_truth(study, fitted, method):
    codes, truth = study
    vote = majority_labels(codes, K, ties="random", seed=0)[0]
    answered = np.isfinite(codes).any(axis=0)
    posterior = fitted[method].posterior[answered]
    assert np.allclose(posterior.sum(axis=1), 1)
    assert (posterior.argmax(axis=1) == truth[answered]).mean() > (vote[answered] == truth[answered]).mean()


def test_dawid_skene_figures_are_crowd_kits(study, fitted):
    codes, _ = study
    data = long_answers(codes)
    ds = DawidSkene(n_iter=100, tol=1e-5).fit(data)
    ours = fitted["dawid_skene"]
    for task, row in ds.probas_.iterrows():
        for label, p in row.items():
            assert ours.posterior[task, label] == p
    for (worker, answered), row in ds.errors_.iterrows():
        for true_label, p in row.items():
            assert ours.confusion[worker, true_label, answered] == p
    expected = [sum(ds.priors_[c] * ds.errors_.loc[(w, c), c] for c in ds.priors_.index if (w, c) in ds.errors_.index)
                for w in range(len(ACCURACY))]
    assert np.allclose(ours.competence, expected, atol=1e-12)


def test_mace_figures_are_crowd_kits(study, fitted):
    codes, _ = study
    data = long_answers(codes)
    model = MACE(n_restarts=1, n_iter=50, random_state=0).fit(data)
    workers = data["worker"].drop_duplicates().to_numpy()
    assert np.array_equal(fitted["mace"].competence[workers], model.spamming_[:, 1])
    for task, row in model.probas_.iterrows():
        for label, p in row.items():
            assert fitted["mace"].posterior[task, label] == p


def test_annotator_without_answers_has_no_competence_and_artwork_without_answers_no_posterior():
    codes = np.array([[0, 1, 0, np.nan], [0, 1, 1, np.nan], [np.nan] * 4])
    fit = dawid_skene(codes, 2)
    assert np.isnan(fit.competence[2]) and np.isfinite(fit.competence[:2]).all()
    assert np.isnan(fit.posterior[3]).all() and np.isfinite(fit.posterior[:3]).all()


def test_entropy_is_zero_for_a_certain_posterior_and_one_bit_for_a_coin():
    assert entropy_bits(np.array([[1.0, 0.0], [0.5, 0.5]])).tolist() == [0.0, 1.0]
