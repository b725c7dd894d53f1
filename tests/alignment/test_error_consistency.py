"""Error consistency (alignment/stats/error_consistency.py) on a constructed case, by hand."""
import numpy as np
import pytest

from alignment.stats.error_consistency import error_consistency, pairwise_error_consistency

# 10 trials: a is right on 7, b on 6; they agree (both right or both wrong) on 7.
A = np.array([1, 1, 1, 1, 1, 1, 1, 0, 0, 0], float)
B = np.array([1, 1, 1, 1, 1, 0, 0, 1, 0, 0], float)


def test_error_consistency_equals_the_hand_computation():
    c_obs = 7 / 10  # trials 1-5 both right, 9-10 both wrong
    c_exp = 0.7 * 0.6 + 0.3 * 0.4  # 0.54
    figure = error_consistency(A, B, n_boot=200, seed=0)
    assert figure["c_obs"] == pytest.approx(c_obs) and figure["c_exp"] == pytest.approx(c_exp)
    assert figure["value"] == pytest.approx((c_obs - c_exp) / (1 - c_exp))  # 0.3478...
    low, high = figure["ci"]
    assert low <= figure["value"] <= high


def test_unanswered_trials_are_left_out_and_pairwise_matrix_agrees():
    a, b = np.append(A, np.nan), np.append(B, 1.0)
    assert error_consistency(a, b, n_boot=0)["n"] == 10
    matrix = pairwise_error_consistency(np.vstack([a, b]), min_items=5)
    assert matrix[0, 1] == pytest.approx(error_consistency(A, B, n_boot=0)["value"])
    assert np.isnan(matrix[0, 0])


def test_identical_errors_give_one_and_independent_observers_near_zero():
    assert error_consistency(A, A, n_boot=0)["value"] == pytest.approx(1.0)
    rng = np.random.default_rng(3)
    x, y = rng.random(20000) < 0.7, rng.random(20000) < 0.6
    assert abs(error_consistency(x.astype(float), y.astype(float), n_boot=0)["value"]) < 0.03
