"""One exclusion rule set: the report, every export (alone and in the bundle) and the participants
page and API drop the same participants, for the same reasons, under the study's rules."""
import csv
import io
import json
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from alignment.bundle import export_file, study_bundle
from alignment.reports import ReportOptions, report_create
from annotations.editing import study_spec_dump, study_update
from annotations.exclusions import ExclusionRules, exclusions_decide
from annotations.models import Assignment, AttentionCheck, Participant, Session
from annotations.studies import StudySpecError, study_create, study_template_load
from tests.researcher_cast import PEOPLE, aligned_study

QUICK = {"n_boot": 20, "min_stratum_items": 100}
CHECKS = {PEOPLE[0]: [True, False], PEOPLE[1]: [True, True], "speedy": [False], "flagged": [True]}


@pytest.fixture
def judged(study, owner, tmp_path):
    """6 artworks judged by 6 people, a too-fast one (every response 150 ms) and a flagged one, and
    answered attention checks (CHECKS: who passed which)."""
    study.owner = owner
    study.save()
    aligned_study(study, tmp_path, n=6, predictions=False)
    origin, now = study.dimensions.get(key="origin"), timezone.now()
    for person, results in CHECKS.items():
        participant = Participant.objects.get(study=study, external_id=person)
        session = Session.objects.create(study=study, participant=participant, seed=1, phase="completed")
        for position, passed in enumerate(results):
            assignment = Assignment.objects.create(session=session, artwork=study.artworks.all()[position],
                                                   position=90 + position, status="done", completed_at=now,
                                                   is_attention_check=True)
            AttentionCheck.objects.create(assignment=assignment, participant=participant, dimension=origin,
                                          kind="instructed", expected="ai", answer="ai" if passed else "human",
                                          passed=passed, answered_at=now)
    return study


def _from_report(report: dict) -> dict:
    return {p["participant"]: (tuple(p["rules"]), tuple(p["reasons"])) for p in report["exclusions"]["participants"]}


def _from_csv(data: bytes) -> dict:
    """Participant -> (rules, reasons) of the excluded, as an analyst reads the CSV; every row of one
    participant must say the same."""
    said = {}
    for row in csv.DictReader(io.StringIO(data.decode("utf-8"))):
        rules = tuple(row["exclusion_rules"].split(";")) if row["exclusion_rules"] else ()
        reasons = tuple(json.loads(row["exclusion_reasons"])) if row["exclusion_reasons"] else ()
        assert (row["excluded"] == "true") == bool(rules) and len(rules) == len(reasons), row
        assert said.setdefault(row["participant"], (rules, reasons)) == (rules, reasons), row["participant"]
    return {person: decision for person, decision in said.items() if decision[0]}


def _from_rows(rows: list[dict]) -> dict:
    return {r["participant"]: (tuple(r["exclusion_rules"]), tuple(r["exclusion_reasons"])) for r in rows
            if r["excluded"]}


def _bundle(study) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(study_bundle(study).data))
    return {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}


def _everyone_says(study, client, api) -> dict:
    """Compute a report with the study's rules, export, and check that the bundle's report and CSVs,
    the single exports, the participants API and the progress page decide alike; returns the decision."""
    report_create(study, ReportOptions(**QUICK))
    files = _bundle(study)
    decided = _from_report(json.loads(files["report.json"]))
    assert _from_csv(files["judgements.csv"]) == decided
    assert _from_csv(files["participants.csv"]) == decided
    assert _from_csv(files["attention_checks.csv"]) == {p: d for p, d in decided.items() if p in CHECKS}
    for kind in ("judgements", "participants"):
        assert _from_csv(export_file(study, kind).data) == decided, kind
    listed = api.get(f"/api/studies/{study.slug}/participants/").json()["results"]
    assert len(listed) == len(PEOPLE) + 2 and _from_rows(listed) == decided
    page = client.get(reverse("annotations:study_progress_json", args=[study.slug])).json()
    assert _from_rows(page["participants"]) == decided
    return decided


def _rules_set(study, **rules) -> None:
    """Edit the study file's `exclusions` as a researcher does (the study file editor's service)."""
    spec = study_spec_dump(study)
    spec["exclusions"] = rules
    study_update(study, spec)


@pytest.fixture
def viewers(judged, owner, client):
    client.force_login(owner)
    api = APIClient()
    api.force_authenticate(owner)
    return client, api


def test_the_bundles_report_and_csvs_exclude_the_same_people_for_the_same_reasons(judged, viewers):
    decided = _everyone_says(judged, *viewers)
    assert decided == {
        "flagged": (("flagged",), ("failed 2 attention checks",)),
        "speedy": (("too_fast",), ("median response time 150 ms is below 500 ms",)),
    }


def test_the_studys_rules_move_the_report_exports_and_page_together(judged, viewers):
    # speedy's median is exactly 150 ms: at the threshold is not below it, so speedy is kept.
    _rules_set(judged, too_fast_ms=150, min_attention_pass=None)
    assert set(_everyone_says(judged, *viewers)) == {"flagged"}
    _rules_set(judged, too_fast_ms=151, min_attention_pass=None)
    assert _everyone_says(judged, *viewers)["speedy"] == (
        ("too_fast",), ("median response time 150 ms is below 151 ms",))
    _rules_set(judged, too_fast_ms=0, min_attention_pass=0.75)
    assert _everyone_says(judged, *viewers) == {
        "flagged": (("flagged",), ("failed 2 attention checks",)),
        PEOPLE[0]: (("attention",), ("passed 1 of 2 attention checks",)),
        "speedy": (("attention",), ("passed 0 of 1 attention checks",)),
    }
    report = judged.alignment_reports.order_by("-id").first().content
    assert report["exclusions"]["rules"]["too_fast"] is None
    assert report["exclusions"]["rules"]["attention"] == {"pass_rate_below": 0.75}
    assert report["exclusions"]["rules_from"] == "study"


def test_a_report_with_other_rules_records_them_and_its_bundle_follows_them(judged):
    report = report_create(judged, ReportOptions(exclude_fast_ms=0, **QUICK)).content
    assert report["options"]["exclude_fast_ms"] == 0 and report["exclusions"]["rules_from"] == "report options"
    files = _bundle(judged)
    assert _from_csv(files["judgements.csv"]) == _from_report(report) == {
        "flagged": (("flagged",), ("failed 2 attention checks",))}
    manifest = json.loads(files["manifest.json"])
    assert manifest["exclusions"]["rules"]["too_fast"] is None and manifest["exclusions"]["from"].startswith("report")
    # A single export follows the study's rules, which still drop the too-fast participant.
    assert "speedy" in _from_csv(export_file(judged, "judgements").data)


@pytest.mark.parametrize("times, excluded", [([400, 500, 600], False), ([400, 600], False), ([400, 599], True)])
def test_a_median_exactly_at_the_threshold_is_kept(times, excluded):
    people = {1: {"external_id": "p", "excluded": False, "exclusion_reason": ""}}
    judgements = [{"participant_id": 1, "response_ms": ms} for ms in times]
    decided = exclusions_decide(people, judgements, [], ExclusionRules(too_fast_ms=500))
    assert decided[1].excluded is excluded


@pytest.mark.parametrize("rules, message", [
    ("fast", "field 'exclusions': expected a mapping"),
    ({"too_fast_ms": -1}, "field 'exclusions.too_fast_ms': expected a whole number of milliseconds"),
    ({"too_fast_ms": "500"}, "got '500'"),
    ({"min_attention_pass": 1.5}, "field 'exclusions.min_attention_pass': expected a pass rate between 0 and 1"),
    ({"too_fast": 500}, "unknown rule parameter 'too_fast'"),
])
def test_a_study_file_with_bad_exclusion_rules_is_refused_with_a_clear_message(db, rules, message):
    with pytest.raises(StudySpecError) as refused:
        study_create(study_template_load("clip-art-perception") | {"exclusions": rules}, "bad-rules")
    assert any(message in error for error in refused.value.errors), refused.value.errors
