"""Reports computed off the request (alignment.jobs): the page's and the API's compute call
queue a job; its task stores the report and its progress; a refusal or a failure is the job's state.
Without a broker (tests) the task runs inside the request, so these read a finished job; the browser
test (test_report_jobs_browser) runs a real worker."""
import pytest
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from alignment.jobs import report_job_progress, report_job_start
from alignment.jobs_worker import report_job_compute
from alignment.models import Report, ReportJob
from alignment.reports import ReportOptions
from annotations.models import Study
from tests.conftest import perception_study, researcher
from tests.researcher_cast import aligned_study, viewer_of

QUICK = {"n_boot": 20, "min_stratum_items": 3}


@pytest.fixture(scope="module")
def judged(module_db, tmp_path_factory):
    """A judged study (6 artworks, no predictions), its owner, a viewer and an outsider, and an
    empty study of the same owner: built once for the module."""
    folder = tmp_path_factory.mktemp("report-jobs")
    with override_settings(MEDIA_ROOT=folder / "media",
                           PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        study = perception_study()
        study.owner = researcher("owner")
        study.save()
        aligned_study(study, folder, n=6, predictions=False)
        viewer_of(study, researcher("viewer"))
        researcher("outsider")
        empty = perception_study("empty")
        empty.owner = study.owner
        empty.save()
    return folder / "media"


@pytest.fixture
def study(judged, db, settings):
    settings.MEDIA_ROOT = judged
    return Study.objects.get(slug="perception")


def test_the_compute_button_queues_a_job_whose_task_stores_the_report_and_the_page_shows_it(client, study):
    client.force_login(study.owner)
    response = client.post(reverse("alignment:report_compute", args=[study.slug]),
                           {"seed": 2, "n_boot": 20, "exclude_fast_ms": 0, "min_stratum_items": 3})
    assert response.status_code == 302
    job = ReportJob.objects.get(study=study)
    report = Report.objects.get(study=study)
    assert (job.status, job.report, job.created_by, job.error) == ("done", report, study.owner, "")
    assert job.steps == study.dimensions.count() and job.step == job.steps and job.options["seed"] == 2
    page = client.get(reverse("alignment:dashboard", args=[study.slug]))
    assert page.context["report"] == report and 'id="report-job"' not in page.content.decode()
    progress = client.get(reverse("alignment:report_job_json", args=[study.slug, job.pk])).json()
    assert progress["status"] == "done" and progress["active"] is False and progress["percent"] == 100


def test_a_study_without_judgements_fails_the_job_with_the_reason_on_the_page(client, study):
    empty = Study.objects.get(slug="empty")
    client.force_login(empty.owner)
    page = client.post(reverse("alignment:report_compute", args=[empty.slug]), {"seed": 0, "n_boot": 10,
                       "exclude_fast_ms": 0, "min_stratum_items": 10}, follow=True).content.decode()
    job = ReportJob.objects.get(study=empty)
    assert job.status == "failed" and "has no judgements" in job.error and job.report is None
    assert 'id="report-job"' in page and 'data-active="false"' in page and "has no judgements" in page
    assert not empty.alignment_reports.exists()


def test_a_queued_job_shows_a_polling_panel_and_only_members_read_its_progress(client, study, django_user_model):
    job = ReportJob.objects.create(study=study, options={**QUICK}, stage="")
    client.force_login(study.owner)
    page = client.get(reverse("alignment:dashboard", args=[study.slug])).content.decode()
    url = reverse("alignment:report_job_json", args=[study.slug, job.pk])
    assert f'data-poll="{url}"' in page and 'data-active="true"' in page and "waiting for a worker" in page
    client.force_login(django_user_model.objects.get(username="viewer"))
    assert client.get(url).json()["status"] == "queued"
    client.force_login(django_user_model.objects.get(username="outsider"))
    assert client.get(url).status_code == 404


def test_a_redelivered_job_is_computed_once_and_a_finished_one_is_not_computed_again(study):
    job = ReportJob.objects.create(study=study, options={**QUICK}, status=ReportJob.Status.RUNNING)
    report_job_compute(job.pk)  # its worker was lost mid-run: the redelivered task finishes it
    job.refresh_from_db()
    assert job.status == "done" and Report.objects.filter(study=study).count() == 1
    report_job_compute(job.pk)  # a duplicate delivery
    assert Report.objects.filter(study=study).count() == 1


def test_the_service_records_options_and_progress_says_what_the_panel_shows(study):
    job = report_job_start(study, ReportOptions(seed=7, **QUICK))
    progress = report_job_progress(job)
    assert job.options == {"seed": 7, "n_boot": 20, "exclude_fast_ms": None, "min_attention_pass": None,
                           "min_stratum_items": 3}
    assert {k: progress[k] for k in ("status", "active", "percent", "report")} == {
        "status": "done", "active": False, "percent": 100, "report": job.report_id}
    assert job.report.content["options"]["seed"] == 7


def test_the_api_answers_202_with_the_job_and_its_url_reads_it(study, django_user_model):
    clients = {"owner": APIClient(), "viewer": APIClient()}
    clients["owner"].force_authenticate(study.owner)
    clients["viewer"].force_authenticate(django_user_model.objects.get(username="viewer"))
    response = clients["owner"].post(f"/api/studies/{study.slug}/reports/", QUICK, format="json")
    assert response.status_code == 202 and response["Location"] == response.data["url"]
    job = clients["viewer"].get(response.data["url"]).json()
    assert job["status"] == "done" and job["report"] == Report.objects.get(study=study).pk
    assert clients["viewer"].post(f"/api/studies/{study.slug}/reports/", QUICK, format="json").status_code == 403
