import numpy as np
import pytest

from alignment.stats import (
    cohen_kappa,
    human_ceiling,
    leave_one_out_agreement,
    leave_one_out_references,
    model_agreement,
    model_leave_one_out_agreement,
    spearman,
)

nan = np.nan


def crowd_labels(seed, n_raters=7, n_units=400, n_categories=4, skill=(0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3)):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_categories, n_units)
    correct = rng.random((n_raters, n_units)) < np.array(skill)[:, None]
    data = np.where(correct, truth, rng.integers(0, n_categories, (n_raters, n_units))).astype(float)
    data[rng.random(data.shape) < 0.2] = nan
    return truth.astype(float), data


def test_leave_one_out_reference_is_the_majority_of_the_other_raters():
    data = np.array([[0, 1, 2], [0, 1, nan], [1, 1, nan], [1, 1, nan], [1, 0, nan]], dtype=float)
    references = leave_one_out_references(data, "nominal", ties="drop")
    np.testing.assert_array_equal(references[0, :2], [1, 1])  # others: 0,1,1,1 and 1,1,1,0
    assert np.isnan(references[0, 2])  # nobody else judged unit 2
    assert np.isnan(references[1, 2])  # rater 1 did not judge unit 2
    assert np.isnan(references[4, 0]) and references[4, 1] == 1  # others: 0,0,1,1 is a tie


def test_leave_one_out_reference_for_ratings_is_the_mean_of_the_others():
    data = np.array([[1, 4], [3, nan], [5, 6]], dtype=float)
    np.testing.assert_allclose(leave_one_out_references(data, "interval"), [[4, 6], [3, nan], [2, 4]])


def test_better_raters_agree_more_with_the_others():
    _, data = crowd_labels(0)
    scores = leave_one_out_agreement(data, "nominal")
    assert scores.shape == (7,)
    assert np.all(np.diff(scores) < 0)


def test_rater_order_does_not_change_leave_one_out_scores_for_ratings():
    rng = np.random.default_rng(1)
    data = rng.normal(size=(5, 60)) + rng.normal(size=60)
    data[rng.random(data.shape) < 0.2] = nan
    order = np.array([3, 0, 4, 1, 2])
    np.testing.assert_allclose(leave_one_out_agreement(data[order], "interval"),
                               leave_one_out_agreement(data, "interval")[order])


def test_rater_score_is_cohen_kappa_or_spearman_against_the_leave_one_out_reference():
    _, labels = crowd_labels(2)
    references = leave_one_out_references(labels, "nominal", seed=3)
    assert leave_one_out_agreement(labels, "nominal", seed=3)[0] == pytest.approx(cohen_kappa(labels[0], references[0]))
    ratings = labels + np.random.default_rng(0).normal(size=labels.shape)
    references = leave_one_out_references(ratings, "interval")
    assert leave_one_out_agreement(ratings, "interval")[2] == pytest.approx(spearman(ratings[2], references[2]))


def test_model_is_scored_against_the_same_leave_one_out_references_averaged_over_raters():
    truth, data = crowd_labels(3)
    references = leave_one_out_references(data, "nominal", seed=0)
    expected = np.mean([cohen_kappa(truth, reference) for reference in references])
    assert model_leave_one_out_agreement(data, truth, "nominal", seed=0) == pytest.approx(expected)


def test_a_model_that_knows_the_truth_beats_the_human_ceiling():
    truth, data = crowd_labels(5)
    scores = leave_one_out_agreement(data, "nominal")
    model = model_leave_one_out_agreement(data, truth, "nominal")
    ceiling = human_ceiling(scores, model)
    assert ceiling["rank"] == 1 and ceiling["percentile"] == 100.0 and ceiling["n_raters"] == 7


def test_model_agreement_uses_the_full_majority():
    truth, data = crowd_labels(6)
    assert model_agreement(data, truth, "nominal") > model_leave_one_out_agreement(data, truth, "nominal")


def test_model_must_have_one_output_per_unit():
    _, data = crowd_labels(7)
    with pytest.raises(ValueError, match="model must have shape"):
        model_leave_one_out_agreement(data, np.zeros(3), "nominal")


def test_human_ceiling_reports_mid_rank_percentile_and_rank():
    result = human_ceiling([0.2, 0.4, 0.4, 0.6, nan], 0.4)
    assert result["n_raters"] == 4
    assert result["percentile"] == pytest.approx(50.0)  # one below, two tied: (1 + 1) / 4
    assert result["rank"] == 2  # one rater strictly above
    assert result["median"] == pytest.approx(0.4)
    assert result["share_below"] == pytest.approx(0.25)


def test_human_ceiling_without_rater_scores_gives_nan():
    result = human_ceiling([nan, nan], 0.5)
    assert result["n_raters"] == 0 and np.isnan(result["percentile"]) and result["rank"] is None
