"""A simulated comparative study with known latent scores, imported through the comparative judgements
file (annotations/comparative_import.py) and reported (alignment/report_comparative.py).

Built once per module: 20 artworks with a latent appeal θ and a latent 2-d style position; 30 people
answer a balanced pairwise design (Bradley–Terry choices, with two repeated trials each) and a
triplet design (odd one out by noisy distances); a model scores appeal as θ plus small noise and
embeds each artwork at its style position plus small noise.
"""
import csv
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from django.urls import reverse

from alignment.bundle import study_bundle
from alignment.render_report import report_html
from alignment.reports import ReportOptions, report_build, report_create
from annotations.comparative import design_tuples
from annotations.comparative_import import comparative_judgements_csv, judgements_file_import
from annotations.models import ComparativeJudgement, Study, Trial
from annotations.studies import study_create
from annotations.tables import ImportFailed
from clipworker.models import Embedding, Prediction
from tests.conftest import researcher

N_ARTWORKS, N_PEOPLE = 20, 30
SPEC = {"title": "Comparative", "dimensions": [
    {"key": "appeal", "kind": "pairwise", "question": "Which painting is more appealing?",
     "prompts": ["a beautiful painting"], "appearances": 6},
    {"key": "odd", "kind": "triplet", "question": "Which is the odd one out?", "aspect": "style"},
]}


def _rows(seed: int = 18):
    rng = np.random.default_rng(seed)
    theta = rng.normal(0, 1.2, N_ARTWORKS)
    style = rng.normal(0, 1, (N_ARTWORKS, 2))
    names = [f"art-{i:02d}" for i in range(N_ARTWORKS)]
    pairs = design_tuples(N_ARTWORKS, 2, 8, seed=1)
    triplets = design_tuples(N_ARTWORKS, 3, 6, seed=2)
    rows = []
    for person in range(N_PEOPLE):
        mine = [pairs[k] for k in rng.choice(len(pairs), 25, replace=False)]
        for k, pair in enumerate(mine + mine[:2]):  # the last two: the same trials again
            shown = list(rng.permutation(pair))
            utility = theta[shown] + rng.gumbel(size=2)
            chosen = shown[int(np.argmax(utility))]
            rows.append({"participant": f"p{person}", "dimension": "appeal", "items": ";".join(names[i] for i in shown),
                         "choice": names[chosen], "response_ms": str(900 + k),
                         "positions": str(shown.index(chosen) + 1)})
        for k in rng.choice(len(triplets), 12, replace=False):
            shown = list(rng.permutation(triplets[k]))
            points = style[shown] + rng.normal(0, 0.25, (3, 2))
            d = np.linalg.norm(points[:, None] - points[None], axis=2)
            odd = shown[int(np.argmax(d.sum(axis=1)))]  # the one farthest from the other two
            rows.append({"participant": f"p{person}", "dimension": "odd", "items": ";".join(names[i] for i in shown),
                         "choice": names[odd], "response_ms": "", "positions": ""})
    return theta, style, names, rows


def _write(path, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["participant", "dimension", "items", "choice", "response_ms",
                                                    "positions"])
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def simulated_module(module_db, tmp_path_factory):
    theta, style, names, rows = _rows()
    study = study_create(SPEC, "comparative-sim")
    path = _write(tmp_path_factory.mktemp("comparative") / "answers.csv", rows)
    imported = judgements_file_import(study, path, create_artworks=True)
    ids = dict(study.artworks.values_list("external_id", "id"))
    rng = np.random.default_rng(99)
    appeal = study.dimensions.get(key="appeal")
    Prediction.objects.bulk_create(
        Prediction(artwork_id=ids[name], dimension=appeal, model_name="near-truth", probs={}, label="",
                   expected=float(theta[i] + rng.normal(0, 0.1)), prompts_hash="sim") for i, name in enumerate(names))
    Embedding.objects.bulk_create(
        Embedding(artwork_id=ids[name], model_name="near-truth", dim=3, source="imported",
                  vector=Embedding.pack(np.array([*(style[i] + rng.normal(0, 0.05, 2)), 3.0]) / 5))
        for i, name in enumerate(names))
    study.owner = researcher("comparative-owner")
    study.save()
    report = report_create(study, ReportOptions(n_boot=200, seed=1)).content
    return {"study": study, "theta": theta, "names": names, "rows": rows, "imported": imported, "path": path,
            "report": report, "ids": ids}


@pytest.fixture
def simulated(simulated_module, db):
    return simulated_module


def test_the_file_is_imported_with_repeats_numbered_and_trials_outside_the_design(simulated):
    study = simulated["study"]
    assert simulated["imported"].created == len(simulated["rows"])
    answers = ComparativeJudgement.objects.filter(trial__dimension__study=study)
    assert answers.filter(repeat=1).count() == 2 * N_PEOPLE
    assert not Trial.objects.filter(dimension__study=study, in_design=True).exists()
    first = simulated["rows"][0]
    stored = answers.filter(participant__external_id="p0").order_by("id").first()
    ids = simulated["ids"]
    assert stored.items == [ids[i] for i in first["items"].split(";")]  # screen order kept
    assert stored.choice == ids[first["choice"]]


def test_importing_the_same_file_again_stores_nothing_twice(simulated):
    again = judgements_file_import(simulated["study"], simulated["path"])
    assert again.created == 0
    assert len(again.notices) == len(simulated["rows"])


def test_bad_rows_are_named_and_nothing_is_written(simulated, tmp_path):
    study = simulated["study"]
    before = ComparativeJudgement.objects.count()
    bad = _write(tmp_path / "bad.csv", [
        {"participant": "q1", "dimension": "appeal", "items": "art-00;art-01", "choice": "art-00", "positions": "1"},
        {"participant": "q1", "dimension": "appeal", "items": "art-00;art-01;art-02", "choice": "art-00"},
        {"participant": "q1", "dimension": "odd", "items": "art-00;art-01;art-02", "choice": "art-09"},
        {"participant": "q1", "dimension": "appeal", "items": "art-03;art-04", "choice": "art-03", "positions": "2"},
        {"participant": "q1", "dimension": "nope", "items": "art-03;art-04", "choice": "art-03"},
    ])
    with pytest.raises(ImportFailed) as refused:
        judgements_file_import(study, bad)
    problems = {(e.row, e.field) for e in refused.value.errors}
    assert problems == {(2, "items"), (3, "choice"), (4, "positions"), (5, "dimension")}
    assert "a pairwise trial shows 2 artworks, got 3" in str(refused.value)
    assert ComparativeJudgement.objects.count() == before


def test_export_writes_the_file_it_was_imported_from(simulated):
    exported = list(csv.DictReader(comparative_judgements_csv(simulated["study"]).splitlines()))
    wanted = [(r["participant"], r["dimension"], r["items"], r["choice"]) for r in simulated["rows"]]
    assert sorted((r["participant"], r["dimension"], r["items"], r["choice"]) for r in exported) == sorted(wanted)
    pairwise = [r for r in exported if r["dimension"] == "appeal"]
    assert all(r["positions"] == str(r["items"].split(";").index(r["choice"]) + 1) for r in pairwise)


def test_bradley_terry_recovers_the_latent_ranking_with_covering_intervals(simulated):
    section = simulated["report"]["comparative"]["appeal"]
    truth = {name: simulated["theta"][i] for i, name in enumerate(simulated["names"])}
    scores = section["humans"]["scores"]
    estimated = np.array([s["theta"] for s in scores])
    latent = np.array([truth[s["artwork"]] for s in scores])  # artworks by their external ids
    rho = np.corrcoef(np.argsort(np.argsort(estimated)), np.argsort(np.argsort(latent)))[0, 1]
    assert rho >= 0.95
    latent -= latent.mean()
    covered = np.mean([s["ci"][0] <= t <= s["ci"][1] for s, t in zip(scores, latent)])
    assert covered >= 0.8  # 95% intervals: about 19 of 20
    assert section["humans"]["split_half"]["value"] >= 0.8
    assert section["humans"]["consistency"]["n_repeats"] == 2 * N_PEOPLE


def test_a_model_near_the_truth_sits_above_the_human_noise_ceiling(simulated):
    model = simulated["report"]["comparative"]["appeal"]["models"]["near-truth"]
    agreement = model["trial_agreement"]
    assert agreement["value"] > agreement["ceiling"]
    assert agreement["rank"] == 1
    assert model["spearman"]["value"] >= 0.9 and model["spearman"]["ci"][0] >= 0.8


def test_the_bundle_holds_the_comparative_judgements_file(simulated):
    bundle = study_bundle(Study.objects.get(pk=simulated["study"].pk))
    with zipfile.ZipFile(io.BytesIO(bundle.data)) as archive:
        manifest = json.loads(archive.read("comparative-sim/manifest.json"))
        text = archive.read("comparative-sim/comparative_judgements.csv").decode("utf-8")
    listed = {f["name"]: f for f in manifest["files"]}
    assert listed["comparative_judgements.csv"]["rows"] == len(simulated["rows"])
    assert text == comparative_judgements_csv(simulated["study"])


def test_triplet_rsa_of_the_embedding_model_is_high(simulated):
    section = simulated["report"]["comparative"]["odd"]
    model = section["models"]["near-truth"]
    assert model["rsa"]["value"] >= 0.5
    assert model["rsa"]["ci"][0] > 0
    assert model["trial_agreement"]["value"] > section["humans"]["noise_ceiling"]["value"]


def test_the_dashboard_and_the_html_report_show_scores_the_model_among_the_people_and_rsa(simulated, client):
    client.force_login(simulated["study"].owner)
    page = client.get(reverse("alignment:dashboard", args=[simulated["study"].slug])).content.decode()
    html = report_html(simulated["report"])
    for text in (page, html):
        assert "Comparative judgements" in text
        assert 'data-kind="comparative-scores"' in text and 'data-kind="comparative-rsa"' in text
        assert text.count('class="model-dot"') == 2  # near-truth, on each of the two dimensions
        assert "art-00" in text  # the scores name artworks by external id
    if os.environ.get("ARTALIGN_SCREENSHOTS"):  # to look at (see tests/conftest.py's shots)
        Path(os.environ["ARTALIGN_SCREENSHOTS"], "comparative-report.html").write_text(html, encoding="utf-8")


def test_the_same_answers_and_options_give_the_same_comparative_section(simulated):
    again = report_build(simulated["study"], ReportOptions(n_boot=200, seed=1))
    assert again["comparative"] == simulated["report"]["comparative"]
    assert len(again["comparative"]["appeal"]["answers_sha256"]) == 64
