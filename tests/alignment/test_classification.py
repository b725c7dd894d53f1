import numpy as np
import pytest
from scipy.stats import norm

from alignment.stats import accuracy, auc, confusion_matrix, macro_f1, signal_detection

nan = np.nan
REFERENCE = np.array([0, 0, 1, 1, 2, 2, nan, 1], dtype=float)
PREDICTED = np.array([0, 1, 1, 1, 2, 0, 2, nan], dtype=float)


def test_accuracy_is_the_share_of_matching_labels_with_missing_pairs_dropped():
    assert accuracy(REFERENCE, PREDICTED) == pytest.approx(4 / 6)


def test_accuracy_without_pairs_is_nan():
    assert np.isnan(accuracy([nan], [1.0]))


def test_macro_f1_averages_per_label_f1_without_weighting():
    # label 0: P 1/2 R 1/2; label 1: P 2/3 R 1; label 2: P 1 R 1/2
    expected = np.mean([0.5, 2 * (2 / 3) / (2 / 3 + 1), 2 * 0.5 / 1.5])
    assert macro_f1(REFERENCE, PREDICTED) == pytest.approx(expected)


def test_macro_f1_of_perfect_labels_is_one():
    assert macro_f1([0, 1, 2], [0, 1, 2]) == pytest.approx(1.0)


def test_confusion_matrix_rows_are_reference_and_columns_predicted():
    np.testing.assert_array_equal(
        confusion_matrix(REFERENCE, PREDICTED), [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    )


def test_confusion_matrix_lists_every_requested_category():
    matrix = confusion_matrix([0, 0], [0, 1], labels=range(4))
    assert matrix.shape == (4, 4) and matrix.sum() == 2


def test_signal_detection_rates_and_d_prime_use_the_log_linear_correction():
    truth = np.array([1] * 10 + [0] * 10, dtype=float)
    decision = np.array([1] * 8 + [0] * 2 + [1] * 3 + [0] * 7, dtype=float)
    result = signal_detection(truth, decision)
    assert result["hit_rate"] == pytest.approx(0.8)
    assert result["false_alarm_rate"] == pytest.approx(0.3)
    assert result["d_prime"] == pytest.approx(norm.ppf(8.5 / 11) - norm.ppf(3.5 / 11))


def test_perfect_detection_gives_a_finite_positive_d_prime():
    result = signal_detection([1, 1, 0, 0], [1, 1, 0, 0])
    assert result["hit_rate"] == 1.0 and result["false_alarm_rate"] == 0.0
    assert 0 < result["d_prime"] < np.inf


def test_guessing_gives_d_prime_of_zero():
    result = signal_detection([1, 1, 0, 0], [1, 0, 1, 0])
    assert result["d_prime"] == pytest.approx(0.0)


def test_signal_detection_without_noise_items_gives_nan_rates():
    result = signal_detection([1, 1], [1, 0])
    assert np.isnan(result["d_prime"]) and result["n_noise"] == 0


def test_auc_of_a_perfect_ranking_is_one_and_of_a_reversed_one_zero():
    truth = [1, 1, 0, 0, nan]
    assert auc(truth, [0.9, 0.8, 0.1, 0.2, 0.5]) == pytest.approx(1.0)
    assert auc(truth, [0.1, 0.2, 0.9, 0.8, 0.5]) == pytest.approx(0.0)


def test_auc_counts_ties_as_half():
    assert auc([1, 0], [0.5, 0.5]) == pytest.approx(0.5)


def test_auc_with_one_class_is_nan():
    assert np.isnan(auc([1, 1], [0.2, 0.3]))
