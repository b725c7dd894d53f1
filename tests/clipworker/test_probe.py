import numpy as np
import pytest

from clipworker.probe import probe_cross_val
from clipworker.probe_cli import load_human_vs_ai, main


def separable(n=120, d=16, seed=0):
    rng = np.random.default_rng(seed)
    y = np.array(["ai", "human"] * (n // 2), dtype=object)
    X = rng.normal(size=(n, d)) + np.where(y == "human", 1.5, -1.5)[:, None] * np.eye(d)[0]
    groups = np.repeat(np.arange(n // 4), 4)
    return X, y, groups


def assert_no_group_in_two_folds(groups, fold_of_item):
    folds_by_group = {}
    for group, fold in zip(groups, fold_of_item):
        if fold >= 0:
            folds_by_group.setdefault(group, set()).add(fold)
    assert all(len(folds) == 1 for folds in folds_by_group.values())


def test_probe_predicts_each_item_from_a_fold_that_never_saw_its_group():
    X, y, groups = separable()
    result = probe_cross_val(X, y, groups, n_splits=5)
    assert result["accuracy"] > 0.9 and result["auc"] > 0.95
    assert result["n"] == 120 and result["n_per_class"] == {"ai": 60, "human": 60}
    assert list(result["classes"]) == ["ai", "human"]
    assert set(result["fold_of_item"]) == set(range(5))
    assert_no_group_in_two_folds(groups, result["fold_of_item"])
    np.testing.assert_allclose(result["proba"].sum(axis=1), 1)


def test_probe_is_reproducible_with_the_same_seed():
    X, y, groups = separable()
    a, b = probe_cross_val(X, y, groups, seed=3), probe_cross_val(X, y, groups, seed=3)
    np.testing.assert_array_equal(a["proba"], b["proba"])
    np.testing.assert_array_equal(a["fold_of_item"], b["fold_of_item"])


def test_unlabelled_items_are_neither_trained_on_nor_predicted():
    X, y, groups = separable()
    y[[0, 5]] = None
    y[7] = float("nan")
    result = probe_cross_val(X, y, groups)
    assert result["n"] == 117
    assert np.isnan(result["proba"][[0, 5, 7]]).all()
    assert list(result["fold_of_item"][[0, 5, 7]]) == [-1, -1, -1]
    assert result["predicted"][0] is None


def test_probe_on_real_embeddings_tells_human_from_ai_by_prompt_groups(realdata):
    X, y, groups, _ = load_human_vs_ai(realdata)
    result = probe_cross_val(X, y, groups, n_splits=5, seed=0)
    assert result["n_per_class"] == {"ai": 953, "human": 953}
    assert result["accuracy"] > 0.85 and result["balanced_accuracy"] > 0.85
    assert_no_group_in_two_folds(groups, result["fold_of_item"])
    prompts = {g for g in groups if g.startswith("prompt:")}
    assert len(prompts) == 73


def test_probe_command_prints_cross_validated_figures_and_the_authenticity_correlation(
        realdata, capsys):
    assert main([str(realdata)]) == 0
    out = capsys.readouterr().out
    for expected in ("cross-validated accuracy", "balanced accuracy", "ROC AUC",
                     "ai 953, human 953", "Spearman rho", "authenticity"):
        assert expected in out


def test_probe_refuses_a_single_class():
    with pytest.raises(ValueError, match="two classes"):
        probe_cross_val(np.eye(4), ["ai"] * 4)


def test_a_small_study_gets_as_many_folds_as_it_has_groups():
    X, y, _ = separable(n=12)
    groups = ["g1"] * 4 + ["g2"] * 4 + ["g3"] * 4
    result = probe_cross_val(X, y, groups, n_splits=5)
    assert result["n_splits"] == 3
    assert set(result["fold_of_item"]) == {0, 1, 2}
    assert not np.isnan(result["proba"]).any()
