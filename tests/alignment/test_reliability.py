import warnings

import krippendorff
import numpy as np
import pytest

from alignment.stats import (
    LEVELS,
    alpha,
    alpha_bootstrap,
    alpha_from_coincidences,
    alpha_replicates,
    bootstrap_counts,
    pairable_units,
    reliability,
    unit_coincidences,
)

nan = np.nan

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers x 12 units.
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
)
PUBLISHED = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}


def random_reliability_data(seed, n_raters=6, n_units=40, n_values=5, missing=0.35):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_values, n_units)
    noise = rng.integers(-1, 2, (n_raters, n_units)) * (rng.random((n_raters, n_units)) < 0.4)
    data = np.clip(truth + noise, 0, n_values - 1).astype(float) + 1  # values 1..n_values (ratio needs > 0)
    data[rng.random(data.shape) < missing] = nan
    return data


def test_krippendorff_2011_example_nominal_alpha_is_0_743():
    assert round(alpha(KRIPPENDORFF_2011, "nominal"), 3) == 0.743


def test_krippendorff_2011_example_ordinal_alpha_is_0_815():
    assert round(alpha(KRIPPENDORFF_2011, "ordinal"), 3) == 0.815


def test_krippendorff_2011_example_interval_alpha_is_0_849():
    assert round(alpha(KRIPPENDORFF_2011, "interval"), 3) == 0.849


def test_krippendorff_2011_example_ratio_alpha_is_0_797():
    assert round(alpha(KRIPPENDORFF_2011, "ratio"), 3) == 0.797


@pytest.mark.parametrize("level", LEVELS)
def test_krippendorff_2011_example_from_coincidences_matches_the_published_alpha(level):
    o_u, values = unit_coincidences(KRIPPENDORFF_2011)
    assert round(float(alpha_from_coincidences(o_u.sum(axis=0), values, level)), 3) == PUBLISHED[level]


def test_krippendorff_2011_example_has_40_pairable_values():
    o_u, values = unit_coincidences(KRIPPENDORFF_2011)
    assert o_u.sum() == pytest.approx(40)
    np.testing.assert_array_equal(values, [1, 2, 3, 4, 5])


def test_coincidences_of_a_unit_sum_to_its_number_of_values_and_are_symmetric():
    o_u, _ = unit_coincidences(KRIPPENDORFF_2011)
    np.testing.assert_allclose(o_u.sum(axis=(1, 2)), [3, 4, 4, 4, 4, 4, 4, 4, 4, 3, 2, 0])
    np.testing.assert_allclose(o_u, o_u.transpose(0, 2, 1))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("level", LEVELS)
def test_vectorised_alpha_equals_krippendorff_package_on_random_data_with_missing_values(level, seed):
    data = random_reliability_data(seed)
    o_u, values = unit_coincidences(data)
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    assert float(alpha_from_coincidences(o_u.sum(axis=0), values, level)) == pytest.approx(expected, abs=1e-9)
    assert alpha(data, level) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("level", LEVELS)
def test_alpha_from_coincidences_works_on_a_stack_of_matrices(level):
    stack = []
    for seed in range(3):
        o_u, values = unit_coincidences(random_reliability_data(seed, n_values=4, missing=0.0))
        assert len(values) == 4
        stack.append(o_u.sum(axis=0))
    batched = alpha_from_coincidences(np.array(stack), values, level)
    one_by_one = [float(alpha_from_coincidences(o, values, level)) for o in stack]
    np.testing.assert_allclose(batched, one_by_one, rtol=0, atol=1e-12)


@pytest.mark.parametrize("level", LEVELS)
def test_each_bootstrap_replicate_equals_krippendorff_package_on_that_resample(level):
    data = random_reliability_data(7)
    pairable = data[:, pairable_units(data)]
    counts = bootstrap_counts(pairable.shape[1], 25, seed=3).astype(int)
    replicates = alpha_replicates(data, level, n_boot=25, seed=3)
    for b in range(25):
        columns = np.repeat(np.arange(pairable.shape[1]), counts[b])
        expected = krippendorff.alpha(reliability_data=pairable[:, columns], level_of_measurement=level)
        assert replicates[b] == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("level", LEVELS)
def test_sparse_and_dense_bootstrap_paths_give_the_same_replicates(level, monkeypatch):
    data = random_reliability_data(11)
    dense = alpha_replicates(data, level, n_boot=50, seed=1)
    monkeypatch.setattr(reliability, "_DENSE_MAX_CELLS", 0)
    sparse = alpha_replicates(data, level, n_boot=50, seed=1)
    np.testing.assert_allclose(dense, sparse, rtol=0, atol=1e-12)


def test_bootstrap_counts_rows_sum_to_the_number_of_units_and_do_not_depend_on_n_boot():
    few = bootstrap_counts(300, 5, seed=9)
    many = bootstrap_counts(300, 400, seed=9)
    np.testing.assert_array_equal(few.sum(axis=1), 300)
    np.testing.assert_array_equal(few, many[:5])


@pytest.mark.parametrize("level", LEVELS)
def test_perfect_agreement_gives_alpha_of_one(level):
    data = np.tile([1.0, 2.0, 3.0, 2.0, 4.0], (3, 1))
    data[0, 1] = nan
    assert alpha(data, level) == pytest.approx(1.0)


@pytest.mark.parametrize("level", LEVELS)
def test_order_of_raters_and_units_does_not_change_alpha(level):
    data = random_reliability_data(3)
    rng = np.random.default_rng(0)
    shuffled = data[rng.permutation(data.shape[0])][:, rng.permutation(data.shape[1])]
    assert alpha(shuffled, level) == pytest.approx(alpha(data, level), abs=1e-12)


@pytest.mark.parametrize("level", LEVELS)
def test_units_with_a_single_value_and_raters_without_values_do_not_change_alpha(level):
    data = random_reliability_data(4)
    lone_unit = np.full((data.shape[0], 1), nan)
    lone_unit[0, 0] = 2.0
    padded = np.vstack([np.hstack([data, lone_unit]), np.full((1, data.shape[1] + 1), nan)])
    assert alpha(padded, level) == pytest.approx(alpha(data, level), abs=1e-12)


@pytest.mark.parametrize("level", LEVELS)
def test_identical_values_everywhere_give_nan_without_an_exception_or_warning(level):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(alpha(np.full((3, 5), 2.0), level))
        result = alpha_bootstrap(np.full((3, 5), 2.0), level, n_boot=20)
    assert np.isnan(result["value"]) and all(np.isnan(result["ci"]))


def test_data_without_any_pairable_unit_gives_nan():
    data = np.array([[1.0, nan, 3.0], [nan, 2.0, nan]])
    assert np.isnan(alpha(data, "nominal"))
    assert np.isnan(alpha(np.full((2, 3), nan), "interval"))


def test_pairable_values_that_are_all_identical_give_nan_even_when_other_values_exist():
    data = np.array([[1.0, 1.0, 5.0], [1.0, 1.0, nan]])
    assert np.isnan(alpha(data, "ordinal"))


def test_unknown_level_is_refused():
    with pytest.raises(ValueError, match="level must be one of"):
        alpha(KRIPPENDORFF_2011, "cardinal")


def test_bootstrap_with_the_same_seed_is_identical_and_another_seed_differs():
    data = random_reliability_data(5, n_units=200)
    first = alpha_bootstrap(data, "ordinal", n_boot=200, seed=42)
    again = alpha_bootstrap(data, "ordinal", n_boot=200, seed=42)
    other = alpha_bootstrap(data, "ordinal", n_boot=200, seed=43)
    assert first == again
    assert first["ci"] != other["ci"]


@pytest.mark.parametrize("level", LEVELS)
def test_bootstrap_interval_contains_the_point_estimate_for_reasonable_data(level):
    result = alpha_bootstrap(random_reliability_data(6, n_units=300), level, n_boot=300, seed=0)
    low, high = result["ci"]
    assert low < result["value"] < high
    assert result["level"] == level and result["n_boot"] == 300


def test_bootstrap_point_estimate_equals_krippendorff_package():
    data = random_reliability_data(8)
    result = alpha_bootstrap(data, "interval", n_boot=10)
    assert result["value"] == pytest.approx(krippendorff.alpha(data, level_of_measurement="interval"), abs=1e-12)
