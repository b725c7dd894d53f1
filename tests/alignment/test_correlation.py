import numpy as np
import pytest
from scipy.stats import spearmanr

from alignment.stats import rowwise_pearson, spearman, spearman_brown, spearman_ci, split_half_reliability

nan = np.nan


def noisy_ratings(seed, n_raters=8, n_units=300, noise=1.0, missing=0.3):
    rng = np.random.default_rng(seed)
    truth = rng.normal(size=n_units)
    data = truth + noise * rng.normal(size=(n_raters, n_units))
    data[rng.random(data.shape) < missing] = nan
    return truth, data


def test_spearman_equals_scipy_with_missing_pairs_dropped():
    x = np.array([1, 2, 3, 4, 5, nan, 7], dtype=float)
    y = np.array([2, 1, 4, 3, 5, 6, nan], dtype=float)
    assert spearman(x, y) == pytest.approx(spearmanr(x[:5], y[:5]).statistic)


def test_spearman_ci_value_equals_scipy_and_the_interval_contains_it():
    truth, data = noisy_ratings(0)
    model = truth + np.random.default_rng(1).normal(size=truth.size)
    result = spearman_ci(model, np.nanmean(data, axis=0))
    assert result["value"] == pytest.approx(spearmanr(model, np.nanmean(data, axis=0)).statistic)
    low, high = result["ci"]
    assert low < result["value"] < high and result["n"] == truth.size


def test_spearman_ci_with_the_same_seed_is_identical():
    x, y = np.arange(30.0), np.arange(30.0) ** 1.5 + np.random.default_rng(0).normal(size=30) * 20
    assert spearman_ci(x, y, n_boot=200, seed=4) == spearman_ci(x, y, n_boot=200, seed=4)


def test_spearman_ci_bootstrap_ranks_each_resample_like_a_loop_would():
    x = np.random.default_rng(2).normal(size=40)
    y = x + np.random.default_rng(3).normal(size=40)
    result = spearman_ci(x, y, n_boot=100, seed=7)
    index = np.random.default_rng(7).integers(0, 40, size=(100, 40))
    loop = [spearmanr(x[i], y[i]).statistic for i in index]
    assert result["ci"] == pytest.approx(tuple(np.quantile(loop, [0.025, 0.975])))


def test_spearman_of_a_monotone_relation_is_one():
    x = np.arange(10.0)
    assert spearman_ci(x, np.exp(x), n_boot=50)["value"] == pytest.approx(1.0)


def test_spearman_ci_with_too_few_pairs_or_a_constant_vector_is_nan():
    assert np.isnan(spearman_ci([1.0, 2.0], [2.0, 1.0])["value"])
    assert np.isnan(spearman_ci([1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 3.0, 4.0])["ci"][0])


def test_rowwise_pearson_matches_numpy_corrcoef():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 20)), rng.normal(size=(5, 20))
    expected = [np.corrcoef(a[i], b[i])[0, 1] for i in range(5)]
    np.testing.assert_allclose(rowwise_pearson(a, b), expected)


def test_spearman_brown_doubles_a_half_test_correlation():
    assert spearman_brown(0.5) == pytest.approx(2 / 3)
    assert spearman_brown(1.0) == pytest.approx(1.0)


def test_split_half_reliability_is_high_for_consistent_raters_and_low_for_noise():
    _, consistent = noisy_ratings(1, noise=0.3)
    noise = np.random.default_rng(2).normal(size=(8, 300))
    assert split_half_reliability(consistent, n_splits=20)["value"] > 0.95
    assert abs(split_half_reliability(noise, n_splits=20)["value"]) < 0.2


def test_split_half_reliability_of_identical_raters_is_one():
    ratings = np.tile(np.arange(20.0), (6, 1))
    result = split_half_reliability(ratings, n_splits=5)
    assert result["value"] == pytest.approx(1.0) and result["r_half"] == pytest.approx(1.0)


def test_split_half_reliability_is_corrected_with_spearman_brown_and_reproducible():
    _, data = noisy_ratings(3, noise=2.0)
    result = split_half_reliability(data, n_splits=30, seed=5)
    assert result == split_half_reliability(data, n_splits=30, seed=5)
    assert result["value"] > result["r_half"]
    assert result["n_units"] == int(((~np.isnan(data)).sum(axis=0) >= 2).sum())


def test_split_half_reliability_matches_the_spearman_brown_formula_in_expectation():
    # With k raters per unit of unit-variance noise around a unit-variance truth, the reliability
    # of the mean of k ratings is k / (k + 1) (Spearman-Brown on a single-rating reliability 1/2).
    _, data = noisy_ratings(4, n_raters=8, n_units=3000, noise=1.0, missing=0.0)
    result = split_half_reliability(data, n_splits=20, method="pearson")
    assert result["value"] == pytest.approx(8 / 9, abs=0.02)
