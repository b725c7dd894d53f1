"""plan_study and the plan page on a simulated pilot (study data built once for the module)."""
import io
import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from alignment.stats import alpha_bootstrap
from annotations.imports import judgements_import
from annotations.studies import study_create
from tests.conftest import researcher
from tests.factories import write_csv

pytestmark = pytest.mark.django_db
LABELS = ["baroque", "impressionism", "cubism"]
SPEC = {"title": "Pilot", "exclusions": {"too_fast_ms": 0}, "dimensions": [
    {"key": "style", "kind": "single", "question": "Style?", "labels": LABELS, "prompts": ["a {label} painting"]}]}


@pytest.fixture(scope="module")
def pilot(module_db, tmp_path_factory):
    """30 artworks, each judged by 4 of 8 people who know the answer with probability 0.8 (alpha about
    0.64), 4 s per judgement."""
    rng = np.random.default_rng(2)
    study = study_create(SPEC, "pilot", owner=researcher("owner"))
    truth = rng.integers(0, 3, 30)
    rows = []
    for art in range(30):
        for person in (art + np.arange(4)) % 8:
            label = truth[art] if rng.random() < 0.8 else rng.integers(0, 3)
            rows.append({"participant": f"p{person}", "artwork": f"a{art:02d}", "dimension": "style",
                         "value": LABELS[label], "response_ms": 4000})
    judgements_import(study, write_csv(tmp_path_factory.mktemp("pilot") / "j.csv", rows), create_artworks=True)
    return study


def plan_json(*args) -> dict:
    out = io.StringIO()
    call_command("plan_study", "pilot", "--format", "json", "--replications", "4", "--bootstrap", "100", *args,
                 stdout=out)
    return json.loads(out.getvalue())


def test_plan_from_the_pilot_gives_widths_the_smallest_design_and_its_cost(pilot):
    plan = plan_json("--n", "3,6", "--m", "40,160", "--target-width", "0.25")
    style = plan["dimensions"]["style"]
    assert style["source"] == "pilot" and 0.4 < style["alpha"] < 0.85
    assert style["pilot"] == {"n_participants": 8, "n_artworks": 30, "judges_per_artwork": 4.0}
    widths = {(r["n_judges"], r["n_artworks"]): r["ci_width"] for r in style["rows"]}
    assert widths[(6, 160)] < widths[(3, 40)]
    assert plan["seconds_per_artwork"] == 4.0
    rec = plan["recommendation"]
    assert rec["reached"] and widths[(rec["n_judges"], rec["n_artworks"])] <= 0.25
    assert rec["participants"] == -(-rec["judgements"] // rec["artworks_per_participant"])
    assert rec["minutes_total"] == pytest.approx(rec["judgements"] * 4 / 60)


def test_stated_alpha_replaces_the_pilot_and_a_bad_request_is_refused(pilot):
    plan = plan_json("--n", "3", "--m", "40", "--alpha", "0.3", "--shares", "baroque=2,impressionism=1,cubism=1")
    assert plan["dimensions"]["style"]["source"] == "stated"
    assert plan["dimensions"]["style"]["shares"] == [0.5, 0.25, 0.25]
    with pytest.raises(CommandError, match="not labels of dimension 'style'"):
        plan_json("--alpha", "0.3", "--shares", "rococo=1")
    with pytest.raises(CommandError, match="N \\(annotators per artwork\\): every value at least 2"):
        plan_json("--n", "1")


def test_text_output_has_the_table_and_the_cost_line(pilot):
    out = io.StringIO()
    call_command("plan_study", "pilot", "--n", "3", "--m", "40,80", "--replications", "3", "--bootstrap", "50",
                 "--target-width", "0.9", stdout=out)
    text = out.getvalue()
    assert "style (single, nominal): pilot alpha" in text and "Cost: " in text and "participants judging" in text


def test_plan_page_shows_a_table_and_a_chart(pilot, client):
    client.force_login(pilot.owner)
    page = client.get("/studies/pilot/alignment/plan/?target_width=0.3&ns=3,5&ms=30,60&replications=3&dimension=style")
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and 'class="plan-table"' in html
    assert "people per artwork" in html
    assert client.get("/studies/pilot/alignment/plan/?target_width=0.3&ns=1&ms=30").status_code == 200


def test_plan_studys_predicted_width_matches_studies_simulated_at_n_and_m(pilot):
    """The Done-when of issue 17: the pilot's generator (know with 0.8, else guess) run at N=4, M=100."""
    plan = plan_json("--n", "4", "--m", "100", "--replications", "12", "--bootstrap", "200")
    predicted = plan["dimensions"]["style"]["rows"][0]["ci_width"]
    rng = np.random.default_rng(11)
    widths = []
    for r in range(12):
        truth = rng.integers(0, 3, 100)
        codes = np.full((27, 100), np.nan)  # 15 artworks per person, as in the pilot, 4 people per artwork
        for slot in range(400):
            person, art = slot // 15, slot % 100
            codes[person, art] = truth[art] if rng.random() < 0.8 else rng.integers(0, 3)
        low, high = alpha_bootstrap(codes, "nominal", n_boot=200, seed=r)["ci"]
        widths.append(high - low)
    assert predicted == pytest.approx(np.mean(widths), rel=0.15)
