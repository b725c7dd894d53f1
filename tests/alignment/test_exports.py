"""Exports: safe CSV cells, the judgements and predictions tables, the bundle, and its re-import."""
import csv
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from alignment.bundle import export_file, study_bundle
from alignment.reports import ReportOptions, report_build
from annotations.exports import csv_cell
from annotations.models import Participant, Study
from tests.researcher_cast import STAND_IN, reported_study_build, viewer_of

FAST = ReportOptions(n_boot=50, min_stratum_items=4)


@pytest.fixture(scope="module")
def exported_media(module_db, tmp_path_factory) -> Path:
    """The study with its owner, judged, predicted and reported: built once for the module (module_db),
    each test's writes rolled back."""
    return reported_study_build(tmp_path_factory.mktemp("exports"), FAST)


@pytest.fixture
def exported(exported_media, db, settings):
    settings.MEDIA_ROOT = exported_media
    return Study.objects.get(slug="perception")


def _rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


@pytest.mark.parametrize("raw, cell", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("-0.5", "-0.5"), ("+1", "+1"), (-0.5, "-0.5"), (3, "3"), ("baroque", "baroque"), (None, ""), (True, "true"),
    ("-inf", "'-inf"), (["a", "b"], '["a","b"]'),
])
def test_csv_cells_that_a_spreadsheet_would_run_are_quoted_and_numbers_are_not(raw, cell):
    assert csv_cell(raw) == cell


def test_the_judgements_csv_has_one_row_per_judgement_with_timing_screen_and_exclusion(exported):
    rows = _rows(export_file(exported, "judgements").data)
    assert len(rows) == 12 * 7 * 8
    assert list(rows[0]) == ["participant", "artwork", "dimension", "value", "severity", "response_ms", "client_ms",
                             "created_at", "shown", "session", "excluded", "exclusion_reason", "exclusion_rules",
                             "exclusion_reasons"]
    flagged = [r for r in rows if r["participant"] == "flagged"]
    assert all(r["excluded"] == "true" and r["exclusion_reason"] == "failed 2 attention checks"
               and r["exclusion_rules"] == "flagged" for r in flagged)
    speedy = [r for r in rows if r["participant"] == "speedy"]
    assert all(r["excluded"] == "true" and r["exclusion_rules"] == "too_fast" and r["exclusion_reason"] == ""
               for r in speedy)
    assert json.loads(speedy[0]["exclusion_reasons"]) == ["median response time 150 ms is below 500 ms"]
    assert {(r["excluded"], r["exclusion_rules"]) for r in rows if r["participant"] not in ("flagged", "speedy")} \
        == {("false", "")}
    content = [r for r in rows if r["dimension"] == "content" and ";" in r["value"]]
    assert content, "multi-label values are joined with ';'"
    assert {r["response_ms"] for r in rows if r["participant"] == "speedy"} == {"150"}


def test_a_participant_id_that_looks_like_a_formula_is_neutralised(exported):
    Participant.objects.filter(study=exported, external_id="speedy").update(external_id="=cmd()")
    rows = _rows(export_file(exported, "judgements").data)
    assert "'=cmd()" in {r["participant"] for r in rows} and "=cmd()" not in {r["participant"] for r in rows}


def test_the_predictions_csv_keeps_every_labels_probability_and_marks_the_stand_in(exported):
    rows = _rows(export_file(exported, "predictions").data)
    style = [r for r in rows if r["dimension"] == "style" and r["artwork"] == "art-000"]
    labels = exported.dimensions.get(key="style").labels
    assert [r["label"] for r in style] == labels
    assert abs(sum(float(r["probability"]) for r in style) - 1) < 1e-6
    assert {r["model_name"] for r in rows} == {STAND_IN} and {r["stand_in"] for r in rows} == {"true"}


def test_the_bundle_holds_every_file_with_its_sha256_and_the_report_inputs(exported):
    bundle = study_bundle(exported)
    archive = zipfile.ZipFile(io.BytesIO(bundle.data))
    manifest = json.loads(archive.read("perception/manifest.json"))
    names = [f["name"] for f in manifest["files"]]
    long = [f"long/{d.key}.csv" for d in exported.dimensions.order_by("position", "key")]  # task,worker,label
    assert names == ["study.yaml", "judgements.csv", "predictions.csv", "participants.csv", "attention_checks.csv",
                     *long, "report.json", "report.html"]
    for entry in manifest["files"]:
        data = archive.read(f"perception/{entry['name']}")
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["bytes"]
        assert entry["description"]
    assert {f["name"]: f["rows"] for f in manifest["files"]}["judgements.csv"] == 12 * 7 * 8
    report = exported.alignment_reports.get()
    assert manifest["report"]["inputs"] == report.inputs
    assert manifest["report"]["content_sha256"] == report.content_sha256
    assert archive.read("perception/report.json").decode() == report.content_json
    html = archive.read("perception/report.html").decode()
    assert "<svg" in html and "<script" not in html and "http://" not in html.replace("http://www.w3.org", "")


def test_without_a_report_the_bundle_says_so(exported):
    exported.alignment_reports.all().delete()
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(study_bundle(exported).data)).read("perception/manifest.json"))
    assert manifest["report"] is None and "no stored report" in manifest["note"]
    assert "report.json" not in [f["name"] for f in manifest["files"]]


def test_the_exported_judgements_reimport_into_a_new_study_with_the_same_report_numbers(exported, tmp_path):
    archive = zipfile.ZipFile(io.BytesIO(study_bundle(exported).data))
    archive.extractall(tmp_path / "bundle")
    folder = tmp_path / "bundle" / "perception"
    call_command("create_study", "--from-file", str(folder / "study.yaml"), "--slug", "again", stdout=io.StringIO())
    call_command("import_judgements", "again", str(folder / "judgements.csv"), "--create-artworks",
                 stdout=io.StringIO())
    again = Study.objects.get(slug="again")
    # The flags travel in the export's own columns (import_judgements does not read them); the other
    # rules are the study's, which study.yaml carries.
    for row in _rows((folder / "judgements.csv").read_bytes()):
        if "flagged" in row["exclusion_rules"].split(";"):
            Participant.objects.filter(study=again, external_id=row["participant"]).update(
                excluded=True, exclusion_reason=row["exclusion_reason"])
    first, second = report_build(exported, FAST), report_build(again, FAST)
    assert second["inputs"]["judgements"] == first["inputs"]["judgements"]
    assert second["exclusions"] == first["exclusions"]
    for key, dim in first["dimensions"].items():
        assert second["dimensions"][key]["humans"]["alpha"] == dim["humans"]["alpha"], key
        for tag, figures in (dim["humans"].get("tags") or {}).items():
            assert second["dimensions"][key]["humans"]["tags"][tag]["alpha"] == figures["alpha"], (key, tag)
        assert second["dimensions"][key]["humans"]["leave_one_out"] == dim["humans"]["leave_one_out"], key


def test_export_study_writes_the_bundle(exported, tmp_path):
    out = tmp_path / "b.zip"
    call_command("export_study", "perception", "--out", str(out), stdout=io.StringIO())
    assert "perception/manifest.json" in zipfile.ZipFile(out).namelist()
    call_command("export_study", "perception", "--what", "judgements", "--out", str(tmp_path / "j.csv"),
                 stdout=io.StringIO())
    assert (tmp_path / "j.csv").read_text().startswith("participant,artwork,dimension,value")


def test_a_viewer_downloads_exports_and_an_outsider_gets_404(client, exported, outsider, django_user_model):
    viewer = django_user_model.objects.create_user("viewer", password="viewer-pass-1")
    viewer_of(exported, viewer)
    client.force_login(viewer)
    assert client.get(reverse("alignment:exports", args=["perception"])).status_code == 200
    response = client.get(reverse("alignment:export_download", args=["perception", "bundle"]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="perception-bundle.zip"'
    assert client.get(reverse("alignment:export_download", args=["perception", "nonsense"])).status_code == 404
    client.force_login(outsider)
    assert client.get(reverse("alignment:export_download", args=["perception", "judgements"])).status_code == 404
