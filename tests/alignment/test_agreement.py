import numpy as np
import pytest

from alignment.stats import cohen_kappa, fleiss_kappa, pairwise_cohen_kappa, percent_agreement, vote_counts

nan = np.nan

# Fleiss (1971) as worked on Wikipedia's "Fleiss' kappa": 10 subjects, 14 raters, 5 categories.
FLEISS_TABLE = np.array(
    [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
)


def two_raters_from_table(yes_yes, yes_no, no_yes, no_no):
    """Label vectors for a 2x2 table: rows rater A (1 = yes), columns rater B."""
    a = [1] * (yes_yes + yes_no) + [0] * (no_yes + no_no)
    b = [1] * yes_yes + [0] * yes_no + [1] * no_yes + [0] * no_no
    return np.array(a, dtype=float), np.array(b, dtype=float)


def test_fleiss_1971_table_gives_kappa_of_0_210():
    assert round(fleiss_kappa(FLEISS_TABLE), 3) == 0.210


def test_fleiss_kappa_refuses_units_with_different_numbers_of_raters():
    with pytest.raises(ValueError, match="same number of raters on every unit"):
        fleiss_kappa([[1, 1], [2, 1]])


def test_fleiss_kappa_of_unanimous_units_in_several_categories_is_one():
    assert fleiss_kappa([[3, 0], [0, 3], [3, 0]]) == pytest.approx(1.0)


def test_fleiss_kappa_with_one_category_used_is_nan():
    assert np.isnan(fleiss_kappa([[3, 0], [3, 0]]))


def test_fleiss_kappa_from_vote_counts_of_reliability_data_ignores_rater_order():
    rng = np.random.default_rng(0)
    data = rng.integers(0, 3, (5, 30)).astype(float)
    shuffled = data[::-1]
    assert fleiss_kappa(vote_counts(data, 3)) == pytest.approx(fleiss_kappa(vote_counts(shuffled, 3)))


def test_wikipedia_cohen_example_of_50_proposals_gives_kappa_of_0_4():
    a, b = two_raters_from_table(yes_yes=20, yes_no=5, no_yes=10, no_no=15)
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_wikipedia_cohen_examples_with_same_agreement_but_different_margins():
    assert round(cohen_kappa(*two_raters_from_table(45, 15, 25, 15)), 4) == 0.1304
    assert round(cohen_kappa(*two_raters_from_table(25, 35, 5, 35)), 4) == 0.2593


def test_cohen_kappa_drops_pairs_with_a_missing_label():
    a, b = two_raters_from_table(20, 5, 10, 15)
    assert cohen_kappa(np.append(a, [nan, 1.0]), np.append(b, [0.0, nan])) == pytest.approx(0.4)


def test_cohen_kappa_is_symmetric_in_the_raters():
    a, b = two_raters_from_table(20, 5, 10, 15)
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa(b, a))


def test_cohen_kappa_with_a_single_label_is_nan():
    assert np.isnan(cohen_kappa([1, 1, 1], [1, 1, 1]))
    assert np.isnan(cohen_kappa([nan], [1.0]))


def test_quadratic_weighted_kappa_credits_near_misses():
    a = np.array([0, 1, 2, 3, 4, 0, 1, 2, 3, 4], dtype=float)
    near = np.clip(a + np.array([1, 0, -1, 0, 0, 1, 0, 1, 0, -1]), 0, 4)
    assert cohen_kappa(a, near, weights="quadratic") > cohen_kappa(a, near)


def test_pairwise_cohen_kappa_is_the_mean_over_pairs_that_share_units():
    a, b = two_raters_from_table(20, 5, 10, 15)
    loner = np.full_like(a, nan)
    loner[0] = 1.0  # one shared unit: below min_overlap, so the pair is skipped
    assert pairwise_cohen_kappa(np.vstack([a, b, loner])) == pytest.approx(0.4)


def test_pairwise_cohen_kappa_of_identical_raters_is_one():
    labels = np.array([0, 1, 2, 1, 0, 2], dtype=float)
    assert pairwise_cohen_kappa(np.vstack([labels, labels, labels])) == pytest.approx(1.0)


def test_percent_agreement_counts_agreeing_pairs_over_all_pairs():
    data = np.array([[0, 1, 2], [0, 1, nan], [0, 2, nan]], dtype=float)
    # unit 0: 3 of 3 pairs agree; unit 1: 1 of 3; unit 2: a single value, no pair
    assert percent_agreement(data) == pytest.approx(4 / 6)


def test_percent_agreement_without_pairs_is_nan():
    assert np.isnan(percent_agreement([[1.0, nan], [nan, 2.0]]))


def test_pairwise_cohen_kappa_equals_the_mean_of_each_pairs_kappa_on_its_shared_units():
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 4, 60)
    data = np.where(rng.random((9, 60)) < 0.6, truth, rng.integers(0, 4, (9, 60))).astype(float)
    data[rng.random(data.shape) < 0.5] = nan
    data[7] = nan
    data[7, :3] = 2.0  # a rater who said one label: pairs where both said only it are undefined
    data[8, :] = nan
    data[8, 0] = 1.0  # a rater with one unit: below min_overlap with everyone
    kappas = [cohen_kappa(data[i], data[j]) for i in range(9) for j in range(i + 1, 9)
              if np.sum(~np.isnan(data[i]) & ~np.isnan(data[j])) >= 2]
    assert pairwise_cohen_kappa(data) == pytest.approx(np.nanmean(kappas), abs=1e-12)
