"""`manage.py alignment_report`: the whole path from rows (study file, judgements CSV, embeddings) to a report."""
import json
import re
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from alignment.models import Report
from annotations.models import Artwork
from clipworker.models import Embedding, Prediction

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section F: 4 observers, 12 units,
# values 1-5, "." = missing. Published: nominal 0.743, ordinal 0.815, interval 0.849, ratio 0.797.
KRIPPENDORFF_2011 = {
    "A": "1 2 3 3 2 1 4 1 2 . . .",
    "B": "1 2 3 3 2 2 4 1 2 5 . 3",
    "C": ". 3 3 3 2 3 4 2 2 5 1 .",
    "D": "1 2 3 3 2 4 4 1 2 5 1 .",
}
ONE_DIMENSION_PER_LEVEL = """
title: Krippendorff's worked example
dimensions:
  - {key: as-nominal, kind: single, question: "Which value?", labels: ["1", "2", "3", "4", "5"], level: nominal}
  - {key: as-ordinal, kind: single, question: "Which value?", labels: ["1", "2", "3", "4", "5"], level: ordinal}
  - {key: as-interval, kind: rating, question: "Which value?", scale: {min: 1, max: 5}, level: interval}
  - {key: as-ratio, kind: rating, question: "Which value?", scale: {min: 1, max: 5}, level: ratio}
"""
REAL_COLUMN = "ViT-L/14@336px"


def report(*args) -> str:
    out, err = StringIO(), StringIO()
    call_command("alignment_report", *args, stdout=out, stderr=err)
    return out.getvalue()


@pytest.fixture
def krippendorff_study(db, tmp_path):
    spec = tmp_path / "study.yaml"
    spec.write_text(ONE_DIMENSION_PER_LEVEL, encoding="utf-8")
    call_command("create_study", "--from-file", str(spec), "--slug", "kripp", stdout=StringIO())
    lines = ["participant,artwork,dimension,value"]
    for observer, values in KRIPPENDORFF_2011.items():
        for unit, value in enumerate(values.split(), start=1):
            if value != ".":
                lines += [f"{observer},unit-{unit:02d},{key},{value}"
                          for key in ("as-nominal", "as-ordinal", "as-interval", "as-ratio")]
    judgements = tmp_path / "judgements.csv"
    judgements.write_text("\n".join(lines) + "\n", encoding="utf-8")
    call_command("import_judgements", "kripp", str(judgements), "--create-artworks", stdout=StringIO())
    return "kripp"


def test_imported_krippendorff_example_reports_the_published_alphas_at_all_four_levels(krippendorff_study):
    dims = json.loads(report(krippendorff_study, "--format", "json", "--bootstrap", "200"))["dimensions"]
    published = {"as-nominal": 0.743, "as-ordinal": 0.815, "as-interval": 0.849, "as-ratio": 0.797}
    for key, value in published.items():
        alpha = dims[key]["humans"]["alpha"]
        assert round(alpha["value"], 3) == value, key
        assert alpha["level"] == key.removeprefix("as-")
        assert alpha["ci"][0] < alpha["value"] <= alpha["ci"][1]
    assert dims["as-nominal"]["humans"]["n_judgements"] == 41
    assert dims["as-nominal"]["humans"]["n_pairable_artworks"] == 11


def test_the_report_is_stored_and_written_to_a_file(krippendorff_study, tmp_path):
    out = tmp_path / "report.json"
    assert report(krippendorff_study, "--out", str(out), "--bootstrap", "50", "--seed", "3") == ""
    stored = Report.objects.get(study__slug=krippendorff_study)
    assert out.read_text(encoding="utf-8") == stored.content_json
    assert (stored.seed, stored.n_boot) == (3, 50)


def test_progress_goes_to_stderr_and_json_alone_to_stdout(krippendorff_study):
    out, err = StringIO(), StringIO()
    call_command("alignment_report", krippendorff_study, "--bootstrap", "20", stdout=out, stderr=err)
    json.loads(out.getvalue())
    assert "dimension 4/4: as-ratio" in err.getvalue()


def test_csv_is_a_long_table_with_the_alpha_and_its_interval(krippendorff_study):
    lines = report(krippendorff_study, "--format", "csv", "--bootstrap", "50").splitlines()
    assert lines[0] == "dimension,section,model,stratum,statistic,value,ci_low,ci_high"
    row = next(line.split(",") for line in lines if line.startswith("as-interval,humans,,,alpha,"))
    assert round(float(row[5]), 3) == 0.849 and float(row[6]) < float(row[5]) <= float(row[7])


def test_html_is_self_contained_and_shows_the_alpha(krippendorff_study):
    html = report(krippendorff_study, "--format", "html", "--bootstrap", "50")
    assert html.startswith("<!doctype html>") and "0.849" in html and "<svg" in html
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|<script|<link|<img|src=|@import", html, re.I)


def test_an_unknown_study_is_refused_by_name(db):
    with pytest.raises(CommandError, match="no study 'nowhere'"):
        report("nowhere")


def test_a_study_without_judgements_or_shares_says_what_is_missing(study):
    with pytest.raises(CommandError, match="no judgements and no aggregated human shares.*import_judgements"):
        report(study.slug)


def test_a_bootstrap_of_zero_resamples_is_refused(krippendorff_study):
    with pytest.raises(CommandError, match="--bootstrap must be at least 1"):
        report(krippendorff_study, "--bootstrap", "0")


def _probe_predictions(study) -> None:
    """The human-vs-AI probe's out-of-fold P(human) for every artwork, stored as the worker would."""
    from clipworker.probe import probe_cross_val

    rows = list(Embedding.objects.filter(artwork__study=study, model_name=REAL_COLUMN)
                .select_related("artwork").order_by("artwork__external_id"))
    X = np.stack([e.array() for e in rows])
    y = [e.artwork.origin for e in rows]
    groups = [f"prompt:{e.artwork.prompt}" if e.artwork.origin == "ai" else f"nga:{e.artwork.external_id}"
              for e in rows]
    result = probe_cross_val(X, y, groups, n_splits=5, seed=0)
    classes = list(result["classes"])
    origin = study.dimensions.get(key="origin")
    Prediction.objects.bulk_create(
        Prediction(artwork=e.artwork, dimension=origin, model_name=REAL_COLUMN, method="probe",
                   probs={label: float(p[classes.index(label)]) for label in origin.labels},
                   label=origin.labels[int(np.argmax([p[classes.index(label)] for label in origin.labels]))],
                   prompts_hash="probe:logistic-regression C=1, 5 folds grouped by prompt, seed 0")
        for e, p in zip(rows, result["proba"]))


def test_real_authenticity_shares_correlate_with_the_probes_p_human_per_generator(study, realdata):
    common = ["--column", REAL_COLUMN, "--model-name", REAL_COLUMN, "--create-artworks"]
    call_command("import_embeddings", study.slug, "--parquet", str(realdata / "ai_pastiche.parquet"), *common,
                 "--id-column", "generated_image", "--set", "origin=ai", "--map", "generator=generative_model",
                 stdout=StringIO())
    call_command("import_embeddings", study.slug, "--parquet", str(realdata / "ngd.parquet"), *common,
                 "--id-column", "objectid", "--set", "origin=human", stdout=StringIO())
    assert Artwork.objects.filter(study=study, metadata__has_key="authenticity").count() == 953
    _probe_predictions(study)
    origin = json.loads(report(study.slug, "--bootstrap", "1000"))["dimensions"]["origin"]
    shares = origin["shares"]
    assert (shares["field"], shares["label"], shares["n_artworks"]) == ("authenticity", "human", 953)
    assert "cannot be computed" in shares["note"]
    probe = shares["models"][f"{REAL_COLUMN} (probe)"]
    rho = probe["spearman"]
    assert probe["score"] == "P(human)" and rho["n"] == 953
    # Images that fool people look more human-made to the probe (python -m clipworker.probe_cli: 0.464).
    assert rho["value"] == pytest.approx(0.464, abs=0.02) and 0 < rho["ci"][0] < rho["value"] < rho["ci"][1]
    generators = probe["strata"]["generator"]
    assert len(generators) == 12 and all(g["spearman"]["ci"][0] is not None for g in generators.values())
    assert origin["humans"]["alpha"]["value"] is None and "shares" in origin["humans"]["note"]
    assert origin["models"][f"{REAL_COLUMN} (probe)"]["vs_experts"]["accuracy"] > 0.9  # against Artwork.origin
