"""The report's divergence figure (issue 16, item 8): n counts exactly the artworks its mean uses."""

import numpy as np
import pytest

from alignment.arrays import ModelArrays, SubDimension
from alignment.report_figures import divergence


def _sub(data: np.ndarray, probs: np.ndarray) -> SubDimension:
    n_raters, n_units = data.shape
    model = ModelArrays(key="m", meta={}, label=np.argmax(probs, axis=1).astype(float),
                        score=probs[:, 1], probs=probs)
    return SubDimension(key="origin", level="nominal", categories=["human", "ai"], rating=False,
                        data=data.astype(float), raters=[f"p{i}" for i in range(n_raters)],
                        units=[f"a{j}" for j in range(n_units)], experts=np.full(n_units, np.nan),
                        models=[model])


def test_a_model_that_outputs_the_vote_shares_has_divergence_zero_on_every_artwork():
    # 7 people; artwork j has j votes for 'ai' (shares j/7): [6/7, 1/7] among them
    data = np.array([[1 if i < j else 0 for j in range(8)] for i in range(7)])
    shares = np.stack([1 - data.mean(axis=0), data.mean(axis=0)], axis=1)
    sub = _sub(data, shares.astype(np.float32).astype(float))  # stored probabilities are float32
    figure = divergence(sub, sub.models[0])
    assert figure["n"] == 8
    assert figure["mean"] == pytest.approx(0.0, abs=1e-12)
    assert figure["median"] == pytest.approx(0.0, abs=1e-12)


def test_n_counts_only_the_artworks_with_a_prediction_and_enough_votes():
    data = np.array([[0, 1, 0], [0, 1, np.nan]])
    probs = np.array([[1.0, 0.0], [np.nan, np.nan], [0.5, 0.5]])
    sub = _sub(data, np.nan_to_num(probs))
    figure = divergence(sub, ModelArrays(key="m", meta={}, label=np.zeros(3), score=probs[:, 1], probs=probs))
    assert figure["n"] == 1  # artwork 1 has no prediction, artwork 2 a single vote
    assert figure["mean"] == pytest.approx(0.0, abs=1e-12)
