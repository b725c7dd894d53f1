"""import_predictions (issue 16, item 1): model outputs computed elsewhere, through the command and the API."""
import hashlib
import io
import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from clipworker.models import Prediction, PredictionImport
from tests.conftest import perception_study, researcher

PEOPLE = ["p1", "p2", "p3", "p4", "p5"]
ARTWORKS = [f"a{i}" for i in range(8)]


def _judgements(tmp_path):
    # artwork a_i: the first i % 5 + 1 people say ai, the rest human (origin); aesthetic ratings
    lines = ["participant,artwork,dimension,value"]
    for i, art in enumerate(ARTWORKS):
        for j, person in enumerate(PEOPLE):
            lines.append(f"{person},{art},origin,{'ai' if j <= i % 5 else 'human'}")
            lines.append(f"{person},{art},aesthetic,{1 + (i + j) % 7}")
    path = tmp_path / "judgements.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _predictions(tmp_path, rows: list[str], name="preds.csv"):
    path = tmp_path / name
    path.write_text("model,artwork,dimension,label,p,value\n" + "\n".join(rows) + "\n")
    return path


def _good_rows() -> list[str]:
    rows = []
    for i, art in enumerate(ARTWORKS):
        p_ai = (i % 5 + 1) / 5 * 0.9 + 0.05
        rows += [f"judge-llm,{art},origin,ai,{p_ai:.6f},", f"judge-llm,{art},origin,human,{1 - p_ai:.6f},",
                 f"judge-llm,{art},aesthetic,,,{1 + i % 6 + 0.25}"]
    return rows


@pytest.fixture(scope="module")
def imported(module_db, tmp_path_factory):
    """A study made only of imported judgements (no images), with one imported model and its report."""
    tmp_path = tmp_path_factory.mktemp("preds")
    study = perception_study("imported-only")
    call_command("import_judgements", study.slug, str(_judgements(tmp_path)), "--create-artworks", stdout=io.StringIO())
    preds = _predictions(tmp_path, _good_rows())
    out = io.StringIO()
    call_command("import_predictions", study.slug, str(preds), stdout=out)
    exact = [f"exact-shares,{art},origin,{label},{p}" for i, art in enumerate(ARTWORKS)
             for label, p in (("ai", (i % 5 + 1) / 5), ("human", 1 - (i % 5 + 1) / 5))]
    call_command("import_predictions", study.slug, str(_predictions(tmp_path, exact, name="exact.csv")),
                 stdout=io.StringIO())
    report = tmp_path / "report.json"
    call_command("alignment_report", study.slug, "--format", "json", "--out", str(report), "--bootstrap", "200",
                 stdout=io.StringIO())
    return study, preds, out.getvalue(), json.loads(report.read_text())


def test_imported_predictions_are_stored_with_the_files_sha256(imported, db):
    study, preds, out, _ = imported
    assert "predictions: 16 imported" in out
    stored = Prediction.objects.filter(dimension__study=study, model_name="judge-llm")
    assert stored.count() == 16 and set(stored.values_list("method", flat=True)) == {"imported"}
    source = PredictionImport.objects.get(study=study, model_name="judge-llm")
    assert source.sha256 == hashlib.sha256(preds.read_bytes()).hexdigest()
    a3 = stored.get(artwork__external_id="a3", dimension__key="origin")
    assert a3.probs == pytest.approx({"ai": 0.77, "human": 0.23}) and a3.label == "ai"
    rating = stored.get(artwork__external_id="a3", dimension__key="aesthetic")
    assert rating.expected == 4.25 and rating.label == 4


def test_a_study_of_imported_judgements_gets_the_imported_models_figures(imported, db):
    study, preds, _, report = imported
    origin = report["dimensions"]["origin"]["models"]["judge-llm"]
    # P(ai) = 0.05 + 0.9 x (share of the 5 people voting ai): the same order as the votes, and the
    # same side of 1/2 as the majority on every artwork
    assert origin["vs_majority"]["n"] == 8
    assert origin["vs_majority"]["accuracy"] == 1.0
    assert origin["vs_human_mean"]["spearman"]["value"] == pytest.approx(1.0)
    assert origin["method"] == "imported" and origin["is_stand_in"] is None
    sha256 = hashlib.sha256(preds.read_bytes()).hexdigest()
    assert origin["imported_from"] == [{"sha256": sha256, "file": "preds.csv"}]
    assert "judge-llm" in report["dimensions"]["aesthetic"]["models"]
    described = {m["key"]: m for m in report["inputs"]["models"]}
    assert described["judge-llm"]["imported_from"][0]["sha256"] == sha256


def test_a_model_that_outputs_the_vote_shares_is_perfectly_calibrated_in_the_report(imported, db):
    *_, report = imported
    calibration = report["dimensions"]["origin"]["calibration"]["models"]["exact-shares"]
    shares = np.array([(i % 5 + 1) / 5 for i in range(8)])
    entropy = -np.mean(shares * np.log(shares) + np.where(shares < 1, (1 - shares) * np.log(1 - shares + 1e-300), 0))
    assert calibration["n"] == 8
    assert calibration["vs_votes"]["ece"]["value"] == pytest.approx(0.0, abs=1e-12)
    assert calibration["vs_votes"]["nll"]["value"] == pytest.approx(entropy, abs=1e-9)
    assert calibration["votes_entropy"] == pytest.approx(entropy, abs=1e-9)
    assert sum(b["n"] for b in calibration["reliability"]) == 8
    judge = report["dimensions"]["origin"]["calibration"]["models"]["judge-llm"]
    assert judge["vs_votes"]["nll"]["value"] > calibration["vs_votes"]["nll"]["value"]


BAD = [
    ("judge-llm,a0,origin,robot,1.0,", 1, "label", "'robot' is not one of the labels of 'origin'"),
    ("judge-llm,a1,origin,ai,0.7,\njudge-llm,a1,origin,human,0.2,", 3, "p", "sum to 0.9, not 1 within 0.001"),
    ("judge-llm,a2,origin,ai,-0.1,", 4, "p", "-0.1 is negative"),
    ("judge-llm,a3,colour,red,1.0,", 5, "dimension", "the study has no dimension 'colour'"),
    ("judge-llm,ghost,origin,ai,1.0,", 6, "artwork", "no artwork 'ghost' in the study"),
]


def test_bad_rows_are_refused_with_row_field_and_reason_and_nothing_is_written(imported, db, tmp_path):
    study, *_ = imported
    before = Prediction.objects.filter(dimension__study=study).count()
    path = _predictions(tmp_path, [row for row, *_ in BAD], name="bad.csv")
    with pytest.raises(CommandError) as error:
        call_command("import_predictions", study.slug, str(path), "--model-name", "other")
    message = str(error.value)
    for _, row, field, reason in BAD:
        assert f"row {row}, field {field!r}: " in message and reason in message
    assert Prediction.objects.filter(dimension__study=study).count() == before
    assert not PredictionImport.objects.filter(model_name="other").exists()


def test_skip_bad_rows_imports_the_good_groups_only(imported, db, tmp_path):
    study, *_ = imported
    rows = ["m2,a0,origin,ai,0.6,", "m2,a0,origin,human,0.4,", "m2,a1,origin,ai,0.6,", "m2,a1,origin,human,0.6,"]
    call_command("import_predictions", study.slug, str(_predictions(tmp_path, rows)), "--skip-bad-rows",
                 stdout=io.StringIO(), stderr=io.StringIO())
    assert list(Prediction.objects.filter(model_name="m2").values_list("artwork__external_id", flat=True)) == ["a0"]


def test_model_name_names_a_file_without_a_model_column_and_unknown_artworks_can_be_created(imported, db, tmp_path):
    study, *_ = imported
    path = tmp_path / "nomodel.csv"
    path.write_text("artwork,dimension,label,p\nnew-1,origin,ai,0.9\nnew-1,origin,human,0.1\n")
    call_command("import_predictions", study.slug, str(path), "--model-name", "detector", "--create-artworks",
                 stdout=io.StringIO())
    stored = Prediction.objects.get(model_name="detector")
    assert stored.artwork.external_id == "new-1" and not stored.artwork.image


def test_the_api_imports_a_predictions_upload_for_the_owner_only(imported, db, client, tmp_path):
    study, *_ = imported
    study.owner = researcher("pred-owner")
    study.save(update_fields=["owner"])
    client.force_login(researcher("pred-outsider"))
    path = _predictions(tmp_path, ["api-model,a0,origin,ai,0.25,", "api-model,a0,origin,human,0.75,"])
    with path.open("rb") as handle:
        assert client.post(f"/api/studies/{study.slug}/predictions/", {"file": handle}).status_code == 404
    client.force_login(study.owner)
    path = _predictions(tmp_path, ["api-model,a0,origin,ai,0.25,", "api-model,a0,origin,human,0.75,"])
    with path.open("rb") as handle:
        answer = client.post(f"/api/studies/{study.slug}/predictions/", {"file": handle})
    assert answer.status_code == 201, answer.content
    assert answer.json()["created"] == 1
    assert Prediction.objects.get(model_name="api-model").label == "human"
    bad = _predictions(tmp_path, ["api-model,a0,origin,ai,2,"], name="bad.csv")
    with bad.open("rb") as handle:
        refused = client.post(f"/api/studies/{study.slug}/predictions/", {"file": handle})
    assert refused.status_code == 400
    assert refused.json()["errors"][0] == {"row": 1, "field": "p", "reason": "2 is above 1"}


def test_the_html_report_draws_each_models_reliability_diagram(imported, db):
    from alignment.render_report import report_html

    *_, report = imported
    html = report_html(report)
    assert html.count('data-kind="reliability"') == 2  # judge-llm and exact-shares on origin
    assert "exact-shares" in html and "ECE (votes)" in html
