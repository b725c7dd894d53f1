"""Calibration against people's votes (issue 16, item 5): known answers first, then properties."""
import numpy as np
import pytest
from sklearn.metrics import log_loss

from alignment.stats.calibration import calibration, equal_mass_bins


def _votes(rng, n=60, k=3, judges=7):
    shares = rng.dirichlet(np.ones(k), size=n)
    return np.stack([rng.multinomial(judges, s) for s in shares]).astype(float)


def test_a_model_that_outputs_the_vote_shares_has_ece_zero_and_nll_equal_to_the_votes_entropy():
    votes = _votes(np.random.default_rng(0))
    shares = votes / votes.sum(axis=1, keepdims=True)
    result = calibration(shares, votes, n_bins=5, n_boot=200)
    assert result["vs_votes"]["ece"]["value"] == pytest.approx(0.0, abs=1e-12)
    entropy = np.mean([-sum(x * np.log(x) for x in row if x > 0) for row in shares])
    assert result["vs_votes"]["nll"]["value"] == pytest.approx(entropy, abs=1e-12)
    assert result["votes_entropy"] == pytest.approx(entropy, abs=1e-12)
    assert result["vs_votes"]["brier"]["value"] == pytest.approx(0.0, abs=1e-12)


def test_the_vote_shares_have_the_lowest_nll_against_the_votes():
    rng = np.random.default_rng(1)
    votes = _votes(rng)
    shares = votes / votes.sum(axis=1, keepdims=True)
    exact = calibration(shares, votes, n_boot=0)["vs_votes"]["nll"]["value"]
    for _ in range(5):
        other = 0.8 * shares + 0.2 * rng.dirichlet(np.ones(3), size=len(shares))
        assert calibration(other, votes, n_boot=0)["vs_votes"]["nll"]["value"] > exact


def test_figures_against_the_majority_equal_scikit_learns_log_loss_and_the_definitions():
    rng = np.random.default_rng(2)
    votes = _votes(rng)
    probs = rng.dirichlet(np.ones(3), size=len(votes))
    majority = np.argmax(votes, axis=1)
    result = calibration(probs, votes, majority, n_bins=4, n_boot=0)
    assert result["vs_majority"]["nll"]["value"] == pytest.approx(log_loss(majority, probs, labels=[0, 1, 2]))
    brier = np.mean(((probs - np.eye(3)[majority]) ** 2).sum(axis=1))
    assert result["vs_majority"]["brier"]["value"] == pytest.approx(brier)
    # ECE by hand: 4 equal-mass bins of the top-label confidence
    confidence, predicted = probs.max(axis=1), probs.argmax(axis=1)
    order = np.argsort(confidence, kind="stable")
    ece = sum(len(b) / len(order) * abs((predicted[b] == majority[b]).mean() - confidence[b].mean())
              for b in np.array_split(order, 4))
    assert result["vs_majority"]["ece"]["value"] == pytest.approx(ece)
    assert [r["n"] for r in result["reliability"]] == [15, 15, 15, 15]


def test_intervals_bracket_the_values_and_the_same_seed_gives_the_same_interval():
    rng = np.random.default_rng(3)
    votes = _votes(rng, n=80)
    probs = rng.dirichlet(np.ones(3), size=80)
    first, again = calibration(probs, votes, seed=5, n_boot=300), calibration(probs, votes, seed=5, n_boot=300)
    for reference in ("vs_votes", "vs_majority"):
        for name in ("ece", "nll", "brier"):
            low, high = first[reference][name]["ci"]
            assert low <= first[reference][name]["value"] <= high
            assert first[reference][name]["ci"] == again[reference][name]["ci"]


def test_items_without_votes_or_probabilities_are_left_out_and_bins_are_equal_mass():
    probs = np.array([[0.5, 0.5], [np.nan, np.nan], [0.9, 0.1]])
    votes = np.array([[1, 1], [2, 0], [0, 0]])
    assert calibration(probs, votes, n_boot=0)["n"] == 1
    assert np.bincount(equal_mass_bins(np.linspace(0, 1, 10), 3)).tolist() == [4, 3, 3]
