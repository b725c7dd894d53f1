"""ICC (alignment/stats/icc.py) against pingouin on pingouin's published example (the wine data,
Shrout & Fleiss' design: 8 wines, 4 judges)."""
import numpy as np
import pingouin as pg
import pytest

from alignment.stats.icc import crowd_icc, crowd_matrix, icc

PINGOUIN_NAMES = {"ICC(1,1)": "ICC1", "ICC(A,1)": "ICC2", "ICC(C,1)": "ICC3", "ICC(1,k)": "ICC1k",
                  "ICC(A,k)": "ICC2k", "ICC(C,k)": "ICC3k"}


@pytest.fixture(scope="module")
def wine():
    data = pg.read_dataset("icc")
    table = pg.intraclass_corr(data, targets="Wine", raters="Judge", ratings="Scores")
    matrix = data.pivot(index="Wine", columns="Judge", values="Scores").to_numpy(float)
    return matrix, table


def test_icc_equals_pingouin_on_its_example_data(wine):
    matrix, table = wine
    ours = icc(matrix)
    for _, row in table.iterrows():
        form = ours[PINGOUIN_NAMES.get(row["Type"], row["Type"])]
        assert form["value"] == pytest.approx(row["ICC"], abs=1e-6)
        assert form["F"] == pytest.approx(row["F"], abs=1e-6)
        assert form["df2"] == row["df2"] and form["pval"] == pytest.approx(row["pval"], abs=1e-9)
        assert np.allclose(form["ci"], row["CI95"], atol=0.005)  # pingouin rounds its intervals to 2 decimals
    assert ours["ICC1"]["value"] == pytest.approx(0.727521, abs=1e-6)  # pingouin's documentation


def test_crossed_crowd_gets_every_form_and_a_crowd_design_only_the_one_way_forms(wine):
    matrix, _ = wine
    crossed = crowd_icc(matrix.T)
    assert set(crossed["forms"]) == {"ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"}
    data = np.full((6, 8), np.nan)  # 8 wines, each by 3 of 6 people
    for u in range(8):
        data[[u % 6, (u + 1) % 6, (u + 2) % 6], u] = matrix[u, :3]
    x, is_crossed = crowd_matrix(data)
    assert x.shape == (8, 3) and not is_crossed
    one_way = crowd_icc(data)
    assert set(one_way["forms"]) == {"ICC1", "ICC1k"} and one_way["judges_per_artwork"] == 3


def test_perfect_agreement_gives_one():
    x = np.repeat(np.arange(5.0)[:, None], 3, axis=1)
    assert icc(x)["ICC1"]["value"] == pytest.approx(1.0)
