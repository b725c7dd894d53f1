"""Issue 17's report sections on one simulated study, built once for the module: competence
(Dawid–Skene, MACE) beside leave-one-out agreement, the posterior as a second reference, the
competence exclusion rule, order and fatigue effects, ICC and error consistency."""
import io
import zipfile
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from alignment.bundle import study_bundle
from alignment.reports import report_create
from annotations.imports import judgements_import
from annotations.models import Artwork
from annotations.studies import study_create
from clipworker.models import ClipRun, Prediction
from tests.conftest import researcher
from tests.factories import write_csv

LABELS = ["baroque", "impressionism", "cubism", "realism"]
SKILL = {"expert-1": 0.95, "expert-2": 0.9, "person-1": 0.8, "person-2": 0.75, "person-3": 0.7, "person-4": 0.65,
         "spammer": 0.0}
N_ART = 40
pytestmark = pytest.mark.django_db  # the module's data lives in the test database (module_db)
SPEC = {"title": "Competence", "competence": True, "exclusions": {"too_fast_ms": 0, "min_competence": 0.2},
        "dimensions": [
            {"key": "style", "kind": "single", "question": "Style?", "labels": LABELS,
             "prompts": ["a {label} painting"]},
            {"key": "aesthetic", "kind": "rating", "question": "How appealing?", "scale": {"min": 1, "max": 7},
             "prompts": ["a {label} painting"]}]}


@pytest.fixture(scope="module")
def built(module_db, tmp_path_factory):
    rng = np.random.default_rng(4)
    study = study_create(SPEC, "competence", owner=researcher("owner"))
    truth = rng.integers(0, len(LABELS), N_ART)
    beauty = rng.integers(2, 7, N_ART)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    rows = []
    for person, skill in SKILL.items():
        order = rng.permutation(N_ART)
        for position, art in enumerate(order):
            tired = position >= N_ART // 2  # the second half: more guessing, quicker answers
            knows = rng.random() < (skill - 0.3 if tired and person != "spammer" else skill)
            style = LABELS[truth[art]] if knows else LABELS[int(rng.integers(len(LABELS)))]
            when = (start + timedelta(minutes=position)).isoformat()
            ms = int(rng.integers(2000, 4000) if tired else rng.integers(5000, 8000))
            rows.append({"participant": person, "artwork": f"art-{art:02d}", "dimension": "style", "value": style,
                         "response_ms": ms, "created_at": when})
            rating = int(np.clip(beauty[art] + rng.integers(-1, 2), 1, 7)) if person != "spammer" else int(
                rng.integers(1, 8))
            rows.append({"participant": person, "artwork": f"art-{art:02d}", "dimension": "aesthetic",
                         "value": rating, "response_ms": ms, "created_at": when})
    result = judgements_import(study, write_csv(tmp_path_factory.mktemp("j") / "j.csv", rows), create_artworks=True)
    assert result.created == 2 * N_ART * len(SKILL)
    run = ClipRun.objects.create(study=study, model_name="tiny", revision="r1", status="done")
    style = study.dimensions.get(key="style")
    predictions = []
    for artwork in Artwork.objects.filter(study=study):
        art = int(artwork.external_id.split("-")[1])
        hit = truth[art] if rng.random() < 0.7 else int(rng.integers(len(LABELS)))
        p = 0.4 * rng.dirichlet(np.ones(len(LABELS)))
        p[hit] += 0.6
        predictions.append(Prediction(run=run, artwork=artwork, dimension=style, model_name="tiny", revision="r1",
                                      probs=dict(zip(LABELS, map(float, p))), label=LABELS[hit], prompts_hash="a" * 64))
    Prediction.objects.bulk_create(predictions)
    return report_create(study).content


def test_competence_sits_beside_leave_one_out_and_ranks_the_experts_first(built):
    section = built["dimensions"]["style"]["competence"]
    assert section["methods"] == ["dawid_skene", "mace"]
    people = {p["participant"]: p for p in section["participants"]}
    assert "spammer" not in people  # excluded by the competence rule before the figures
    for p in people.values():
        assert set(p) >= {"leave_one_out", "dawid_skene", "mace", "n_artworks"}
    ranked = sorted(people, key=lambda name: -people[name]["dawid_skene"])
    assert set(ranked[:2]) == {"expert-1", "expert-2"}
    assert np.allclose(np.sum(section["confusion"]["participants"]["expert-1"], axis=1), 1)


def test_spammer_is_excluded_by_the_competence_rule_and_reported_like_other_exclusions(built):
    excluded = {p["participant"]: p for p in built["exclusions"]["participants"]}
    assert excluded["spammer"]["rules"] == ["low_competence"]
    assert "below 0.2" in excluded["spammer"]["reasons"][0]
    assert built["exclusions"]["rules"]["low_competence"] == {"mace_competence_below": 0.2}
    assert built["options"]["competence_excluded"] == ["spammer"]


def test_model_is_compared_with_the_majority_and_with_the_posterior(built):
    section = built["dimensions"]["style"]["competence"]
    figures = section["models"]["tiny"]
    assert 0 <= figures["vs_posterior"]["accuracy"] <= 1 and figures["vs_posterior"]["n"] == N_ART
    assert figures["vs_majority"]["accuracy"] == pytest.approx(
        built["dimensions"]["style"]["models"]["tiny"]["vs_majority"]["accuracy"])
    assert 0 <= figures["divergence_posterior"]["mean"] <= 1
    uncertain = section["most_uncertain"]
    assert [u["entropy"] for u in uncertain] == sorted((u["entropy"] for u in uncertain), reverse=True)
    assert len(section["posterior"]["artworks"]) == N_ART


def test_fatigue_in_the_second_half_is_flagged(built):
    order = built["dimensions"]["style"]["order_effects"]
    assert order["agreement"]["change"]["value"] < 0 and order["agreement"]["change"]["ci"][1] < 0
    assert order["response_ms"]["trend"]["ci"][1] < 0
    assert order["flag"] is True


def test_rating_dimension_has_icc_and_categorical_ones_error_consistency(built):
    icc = built["dimensions"]["aesthetic"]["icc"]
    assert icc["judges_per_artwork"] == 6 and set(icc["forms"]) >= {"ICC1", "ICC1k"}
    assert 0 < icc["forms"]["ICC1k"]["value"] <= 1
    consistency = built["dimensions"]["style"]["error_consistency"]
    assert consistency["reference"].startswith("people's majority")
    with_people = consistency["models"]["tiny"]["participants"]
    assert len(with_people) == 6 and all(p["ci"][0] <= p["value"] <= p["ci"][1] for p in with_people)
    assert built["dimensions"]["style"]["icc"] is None


def test_stable_core_is_unchanged(built):
    alpha = built["dimensions"]["style"]["humans"]["alpha"]
    assert set(alpha) >= {"value", "ci", "level"} and alpha["level"] == "nominal"
    assert "tiny" in built["dimensions"]["style"]["models"]


def test_dashboard_shows_competence_beside_leave_one_out_the_uncertain_artworks_and_the_flags(built, client):
    from annotations.models import Study

    study = Study.objects.get(slug="competence")
    client.force_login(study.owner)
    html = client.get("/studies/competence/alignment/?dimension=style").content.decode()
    assert 'class="crowd-competence"' in html and "expert-1" in html and 'class="crowd-uncertain"' in html
    assert "crowd-order-flag" in html and 'class="crowd-error-consistency"' in html
    assert 'class="crowd-icc"' in client.get("/studies/competence/alignment/?dimension=aesthetic").content.decode()


def test_html_report_holds_the_same_figures(built):
    from alignment.render_report import report_html

    html = report_html(built)
    assert html.count('class="crowd-competence"') == 1 and html.count('class="crowd-icc"') == 1
    assert "crowd-order-flag" in html and "<script" not in html


def test_bundle_has_the_long_tables_and_competence_and_posterior_per_dimension(built):
    from annotations.models import Study

    archive = zipfile.ZipFile(io.BytesIO(study_bundle(Study.objects.get(slug="competence")).data))
    long = pd.read_csv(archive.open("competence/long/style.csv"))
    assert list(long.columns) == ["task", "worker", "label"] and "spammer" not in set(long["worker"])
    assert len(long) == N_ART * (len(SKILL) - 1)
    competence = pd.read_csv(archive.open("competence/competence/style.csv"))
    assert list(competence.columns) == ["participant", "n_artworks", "leave_one_out", "dawid_skene", "mace"]
    posterior = pd.read_csv(archive.open("competence/posterior/style.csv"))
    assert len(posterior) == N_ART and np.allclose(posterior.filter(like="p_").sum(axis=1), 1)
    assert "competence/competence/aesthetic.csv" not in archive.namelist()
    ratings = pd.read_csv(archive.open("competence/long/aesthetic.csv"))
    import pingouin as pg  # reads the tidy table without reshaping
    assert pg.intraclass_corr(ratings, targets="task", raters="worker", ratings="label").shape[0] == 6


def test_study_file_refuses_a_bad_competence_switch_and_threshold():
    from annotations.studies import StudySpecError, study_spec_validate

    bad = dict(SPEC, competence={"methods": ["glad"]}, exclusions={"min_competence": 1.5})
    with pytest.raises(StudySpecError) as refused:
        study_spec_validate(bad)
    problems = refused.value.errors
    assert any(p.startswith("field 'competence': expected true, false or {methods: [dawid_skene, mace]}")
               for p in problems)
    assert any("field 'exclusions.min_competence': expected a competence between 0 and 1" in p for p in problems)
    study_spec_validate(dict(SPEC, competence={"methods": ["mace"]}))


def test_plan_page_of_another_researchers_study_is_not_found(built, client):
    client.force_login(researcher("outsider"))
    assert client.get("/studies/competence/alignment/plan/?target_width=0.3").status_code == 404
