"""Power planning (alignment/stats/power.py): from a simulated pilot with a known alpha, the
predicted width of alpha's interval at N and M against studies actually simulated at N and M."""
import math

import numpy as np
import pytest

from alignment.stats import alpha_bootstrap
from alignment.stats.power import (
    PlanModel,
    plan_grid,
    plan_model_from_pilot,
    simulate_cell,
    simulate_study,
    smallest_design,
)

K = 4
SHARES = np.array([0.4, 0.3, 0.2, 0.1])


def crowd_study(n_judges, n_items, rng, per_person=30):
    """The 'true' process, not the planner's: every person has their own chance of knowing the
    answer (Beta(6, 3), mean 2/3), so people differ as they do in a real crowd."""
    truth = rng.choice(K, size=n_items, p=SHARES)
    per_person = min(per_person, n_items)
    people = math.ceil(n_judges * n_items / per_person)
    knows = rng.beta(6, 3, size=people)
    slot = np.arange(n_judges * n_items)
    person, item = slot // per_person, slot % n_items
    answers = np.where(rng.random(slot.size) < knows[person], truth[item], rng.choice(K, size=slot.size, p=SHARES))
    codes = np.full((people, n_items), np.nan)
    codes[person, item] = answers
    return codes


@pytest.mark.parametrize(("n_judges", "n_items"), [(3, 100), (6, 150)])
def test_predicted_width_matches_simulated_studies_within_15_percent(n_judges, n_items):
    rng = np.random.default_rng(7)
    plan = plan_model_from_pilot(crowd_study(5, 60, rng), K, "nominal")
    predicted = simulate_cell(plan, n_judges, n_items, replications=12, n_boot=200, seed=1)["ci_width"]
    actual = [np.subtract(*alpha_bootstrap(crowd_study(n_judges, n_items, rng), "nominal", n_boot=200,
                                           seed=r)["ci"][::-1]) for r in range(12)]
    assert predicted == pytest.approx(np.mean(actual), rel=0.15)


def test_planner_recovers_the_pilots_alpha_and_model_competence():
    plan = PlanModel(level="nominal", shares=SHARES, alpha=0.49, model_knows=0.5, per_person=40)
    codes, _, model = simulate_study(plan, 8, 400, np.random.default_rng(0))
    fitted = plan_model_from_pilot(codes, K, "nominal", model_labels=model)
    assert fitted.alpha == pytest.approx(0.49, abs=0.05)
    assert fitted.model_knows == pytest.approx(0.5, abs=0.08)
    assert fitted.per_person == 40


def test_more_people_and_artworks_narrow_the_interval_and_the_cheapest_design_reaching_it_is_picked():
    plan = PlanModel(level="nominal", shares=SHARES, alpha=0.5, model_knows=0.6, per_person=25)
    rows = plan_grid(plan, ns=(2, 5), ms=(30, 120), replications=4, n_boot=100, seed=0)
    width = {(r["n_judges"], r["n_artworks"]): r["ci_width"] for r in rows}
    assert width[(5, 120)] < width[(2, 120)] and width[(5, 120)] < width[(5, 30)]
    assert rows[0]["ceiling_percentile"]["spread"] >= 0
    chosen = smallest_design(rows, width[(5, 120)] + 1e-9)
    assert chosen is not None and chosen["ci_width"] <= width[(5, 120)] + 1e-9
    assert smallest_design(rows, 0.0) is None
