import warnings

import numpy as np
import pytest

from alignment.stats import jensen_shannon, majority_from_counts, majority_labels, mean_ratings, vote_counts

nan = np.nan


def test_vote_counts_count_raters_per_category_and_skip_missing():
    data = np.array([[0, 2, nan], [0, 1, nan], [1, 1, 2]], dtype=float)
    np.testing.assert_array_equal(vote_counts(data, 3), [[2, 1, 0], [0, 2, 1], [0, 0, 1]])


def test_vote_counts_refuse_codes_outside_the_categories():
    with pytest.raises(ValueError, match="integer codes 0..2"):
        vote_counts([[0.0, 3.0]], 3)
    with pytest.raises(ValueError, match="integer codes"):
        vote_counts([[0.5]], 3)


def test_majority_label_is_the_most_frequent_and_distribution_is_the_share_of_votes():
    data = np.array([[0, 1, nan], [1, 1, nan], [0, 2, nan]], dtype=float)
    labels, distribution = majority_labels(data, 3)
    np.testing.assert_array_equal(labels[:2], [0, 1])
    assert np.isnan(labels[2])
    np.testing.assert_allclose(distribution[:2], [[2 / 3, 1 / 3, 0], [0, 2 / 3, 1 / 3]])
    assert np.isnan(distribution[2]).all()


def test_tied_majority_follows_the_tie_rule():
    counts = np.array([[2, 2, 0], [0, 1, 1]])
    np.testing.assert_array_equal(majority_from_counts(counts, ties="lowest"), [0, 1])
    assert np.isnan(majority_from_counts(counts, ties="drop")).all()
    random = majority_from_counts(counts, ties="random", seed=5)
    assert random[0] in (0, 1) and random[1] in (1, 2)


def test_random_tie_breaking_is_reproducible_and_uses_every_tied_category():
    counts = np.tile([3, 0, 3, 3], (300, 1))
    first = majority_from_counts(counts, seed=1)
    np.testing.assert_array_equal(first, majority_from_counts(counts, seed=1))
    assert set(first) == {0.0, 2.0, 3.0}


def test_mean_ratings_average_present_ratings_and_give_nan_without_a_warning():
    data = np.array([[1, nan, nan], [3, 5, nan]], dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        means = mean_ratings(data)
    np.testing.assert_allclose(means[:2], [2, 5])
    assert np.isnan(means[2])


def test_jensen_shannon_of_identical_distributions_is_zero():
    p = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
    np.testing.assert_allclose(jensen_shannon(p, p), [0, 0], atol=1e-12)


def test_jensen_shannon_of_disjoint_distributions_is_one():
    np.testing.assert_allclose(jensen_shannon([[1, 0, 0], [0.5, 0.5, 0]], [[0, 1, 0], [0, 0, 1]]), [1, 1])


def test_jensen_shannon_is_symmetric_bounded_and_accepts_counts():
    rng = np.random.default_rng(0)
    p, q = rng.random((50, 4)), rng.random((50, 4))
    js = jensen_shannon(p, q)
    np.testing.assert_allclose(js, jensen_shannon(q, p))
    np.testing.assert_allclose(js, jensen_shannon(10 * p, 3 * q))
    assert ((js >= 0) & (js <= 1)).all()


def test_jensen_shannon_matches_the_definition_on_a_small_example():
    # P = (1, 0), Q = (1/2, 1/2), M = (3/4, 1/4); JSD = 1/2 KL(P || M) + 1/2 KL(Q || M), base 2
    m = np.array([0.75, 0.25])
    expected = 0.5 * np.log2(1 / m[0]) + 0.5 * (0.5 * np.log2(0.5 / m[0]) + 0.5 * np.log2(0.5 / m[1]))
    assert jensen_shannon([1.0, 0.0], [0.5, 0.5]) == pytest.approx(expected)


def test_jensen_shannon_of_an_empty_row_is_nan():
    assert np.isnan(jensen_shannon([[0.0, 0.0]], [[1.0, 0.0]])).all()


def test_jensen_shannon_of_identical_and_near_identical_shares_is_zero_not_nan():
    # issue 16: [6/7, 1/7] against itself (and against its float32 round trip, as a model's stored
    # probabilities are) came out NaN from the square root of a tiny negative number
    shares = np.array([[k / n, 1 - k / n] for n in range(1, 40) for k in range(n + 1)])
    stored = shares.astype(np.float32).astype(float)
    for p, q in ((shares, shares), (stored, shares), (shares * (1 + 1e-12), shares)):
        js = jensen_shannon(p, q)
        assert np.isfinite(js).all()
        np.testing.assert_allclose(js, 0.0, atol=1e-12)
    assert jensen_shannon([6 / 7, 1 / 7], [6 / 7, 1 / 7]) == 0.0


def test_jensen_shannon_of_near_identical_distributions_is_small_and_positive():
    # second-order expansion: JSD ~ (1/8) sum (p - q)^2 / m / ln 2 for q close to p
    p, q = np.array([0.5, 0.5]), np.array([0.5 + 1e-4, 0.5 - 1e-4])
    expected = (1 / 8) * (2 * (1e-4) ** 2 / 0.5) / np.log(2)
    assert jensen_shannon(p, q) == pytest.approx(expected, rel=1e-3)
