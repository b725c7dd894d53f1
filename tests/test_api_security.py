"""Least privilege on the REST API, over every URL pattern of config/api_urls.py (a new endpoint is
covered as soon as it is routed): an annotator's browser and anonymous visitors get nothing; a
researcher who is not a member gets 404 on every study-scoped endpoint, as if the study did not
exist, and cannot reach another study's runs, reports or members through a study of their own; a
viewer gets 403 on every write and changes nothing. Also: request bodies over the size limits are
refused (400/413), never a 500.

The cast: `owner` owns "perception" (artworks, judgements, a stand-in run, the viewer, a report);
`viewer` may read it; `outsider` is a researcher who owns another study, "elsewhere"; `annotator` is a
crowd participant's browser that entered the study through its link (a session, never a login)."""
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from alignment.models import ReportJob
from alignment.reports import ReportOptions, report_create
from annotations.models import Artwork, ImportJob, Judgement, Study, StudyMember
from annotations.studies import study_create, study_template_load
from clipworker.models import ClipRun, Prediction
from config import api_urls
from tests.conftest import perception_study, researcher
from tests.researcher_cast import aligned_study, api_clients, viewer_of

pytestmark = pytest.mark.long  # scheduled first under pytest-xdist (tests/conftest.py)

METHODS = ("get", "post", "put", "patch", "delete")
PUBLIC = {"token"}  # POST username and password: open to all, and gives nothing without them


def api_routes() -> list[tuple[str, list[str], list[str]]]:
    """(name, path parameters, HTTP methods the view implements) for every route of the API."""
    routes = []
    for pattern in api_urls.urlpatterns:
        view = pattern.callback.view_class
        routes.append((pattern.name, list(pattern.pattern.converters), [m for m in METHODS if hasattr(view, m)]))
    return routes


ROUTES = api_routes()
CALLS = [(name, method) for name, _, methods in ROUTES for method in methods]
STUDY_SCOPED = [(name, method) for name, params, methods in ROUTES if "slug" in params for method in methods]
STUDY_WRITES = [(name, method) for name, method in STUDY_SCOPED if method != "get"]
STUDY_READS = [(name, method) for name, method in STUDY_SCOPED if method == "get"]


@pytest.fixture(scope="module")
def cast_media(module_db, tmp_path_factory, clip_cache) -> Path:
    """The cast and its studies, built once for the module (module_db; each test's writes rolled back)."""
    folder = tmp_path_factory.mktemp("api-security")
    # A fast hash: the cast's passwords are not what is tested here.
    with override_settings(MEDIA_ROOT=folder / "media", VAR_DIR=clip_cache,
                           PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        study = perception_study()
        study.owner = researcher("owner")
        study.save()
        aligned_study(study, folder, n=6)
        Study.objects.filter(pk=study.pk).update(status="open")
        viewer_of(study, researcher("viewer"))
        study_create(study_template_load("clip-art-perception"), "elsewhere", owner=researcher("outsider"))
        # a finished import, for the import-detail route
        ImportJob.objects.create(study=study, kind=ImportJob.Kind.ARTWORKS, status=ImportJob.Status.DONE)
        ReportJob.objects.create(study=study, options={}, status=ReportJob.Status.FAILED)  # report-job-detail
        report_create(study, ReportOptions(n_boot=20, min_stratum_items=3))  # for the endpoints that read one
    return folder / "media"


@pytest.fixture
def cast(cast_media, db, settings, clip_cache):
    settings.MEDIA_ROOT, settings.VAR_DIR = cast_media, clip_cache
    study, elsewhere = Study.objects.get(slug="perception"), Study.objects.get(slug="elsewhere")
    users = {name: get_user_model().objects.get(username=name) for name in ("owner", "viewer", "outsider")}
    return api_clients(study, **users), study, elsewhere


@pytest.fixture
def report(cast):
    """The stored report (made once with the cast: computing it costs half a second)."""
    return cast[1].alignment_reports.get()


def url_of(name: str, study: Study) -> str:
    """The route filled in with things of `study` that exist, so that only access decides the answer."""
    run = study.clip_runs.order_by("id").first()
    report = study.alignment_reports.order_by("id").first()
    job = study.import_jobs.order_by("id").first()
    report_job = study.report_jobs.order_by("id").first()
    known = {"slug": study.slug, "run_id": run.pk if run else 1, "username": "viewer",
             "report_id": str(report.pk) if report else "latest", "dimension": "origin", "kind": "judgements",
             "job_id": job.pk if job else 1, "report_job_id": report_job.pk if report_job else 1}
    return reverse(f"api:{name}", kwargs={param: known[param] for param in PARAMS[name]})


PARAMS = {name: params for name, params, _ in ROUTES}


def state() -> tuple:
    """Everything a write could change."""
    study = Study.objects.get(slug="perception")
    return (study.status, study.title, study.extra, list(study.dimensions.values_list("key", "question", "labels")),
            sorted(StudyMember.objects.values_list("study__slug", "user__username", "role")),
            Study.objects.count(), Artwork.objects.count(), Judgement.objects.count(),
            sorted(ClipRun.objects.values_list("id", "status")), Prediction.objects.count(),
            study.alignment_reports.count())


def test_every_path_parameter_of_the_api_has_a_value_here():
    """A new kind of path parameter needs a real value in `url_of`, or the tests below would not run."""
    known = {"slug", "run_id", "username", "report_id", "dimension", "kind", "job_id", "report_job_id"}
    assert {param for _, params, _ in ROUTES for param in params} <= known
    assert len(CALLS) >= 30 and len(STUDY_WRITES) >= 9


@pytest.mark.parametrize("name, method", CALLS + [(name, "options") for name, _, _ in ROUTES if name not in PUBLIC])
def test_an_annotator_and_an_anonymous_visitor_get_nothing_from_any_endpoint(cast, name, method):
    clients, study, _ = cast
    url, before = url_of(name, study), state()
    for who in ("annotator", "anonymous"):
        response = getattr(clients[who], method)(url, {}, format="json")
        if name in PUBLIC:
            assert response.status_code == 400 and "token" not in response.json(), who
            continue
        assert response.status_code == 401 and response["WWW-Authenticate"] == "Token", (who, response.status_code)
        body = response.content.decode()
        for secret in (study.slug, study.title, "art-00", "person-1", "crowd-1", "tiny-clip"):
            assert secret not in body, (who, secret)
    assert state() == before


@pytest.mark.parametrize("name, method", STUDY_SCOPED)
def test_a_researcher_who_is_not_a_member_gets_404_as_if_the_study_did_not_exist(cast, name, method):
    clients, study, _ = cast
    outsider, before = clients["outsider"], state()
    response = getattr(outsider, method)(url_of(name, study), {}, format="json")
    assert response.status_code == 404
    missing = getattr(outsider, method)(url_of(name, study).replace("/perception/", "/no-such-study/"), {},
                                        format="json")
    assert (missing.status_code, missing.content) == (404, response.content)
    assert state() == before


@pytest.mark.parametrize("name, method", STUDY_WRITES)
def test_a_viewer_gets_403_on_every_write_and_changes_nothing(cast, name, method):
    clients, study, _ = cast
    before = state()
    response = getattr(clients["viewer"], method)(url_of(name, study), {}, format="json")
    assert response.status_code == 403, response.content
    assert state() == before


@pytest.mark.parametrize("name, method", STUDY_READS)
def test_a_viewer_reads_every_study_endpoint(cast, report, name, method):
    clients, study, _ = cast
    assert clients["viewer"].get(url_of(name, study)).status_code == 200


def test_a_researcher_reaches_no_run_report_or_member_of_another_study_through_their_own(cast, report):
    clients, study, elsewhere = cast
    outsider = clients["outsider"]
    own = f"/api/studies/{elsewhere.slug}"
    run = study.clip_runs.get()
    before = state()
    assert outsider.get(f"{own}/").status_code == 200  # their own study works
    job = study.import_jobs.get()
    for url in (f"{own}/clip-runs/{run.pk}/", f"{own}/clip-runs/{run.pk}/failures/", f"{own}/reports/{report.pk}/",
                f"{own}/imports/{job.pk}/"):
        assert outsider.get(url).status_code == 404, url
    assert outsider.post(f"{own}/clip-runs/{run.pk}/cancel/").status_code == 404
    assert outsider.delete(f"{own}/members/viewer/").status_code == 404  # the viewer of "perception"
    for url in (f"{own}/artworks/", f"{own}/judgements/", f"{own}/predictions/", f"{own}/participants/"):
        assert outsider.get(url).json()["count"] == 0, url
    assert state() == before


def test_a_list_of_studies_shows_a_researcher_only_their_own(cast):
    clients, _, _ = cast
    assert [s["slug"] for s in clients["outsider"].get("/api/studies/").json()["results"]] == ["elsewhere"]
    assert [s["slug"] for s in clients["viewer"].get("/api/studies/").json()["results"]] == ["perception"]


# Request bodies over the limits ------------------------------------------------------------------------
def test_a_json_body_over_the_upload_limit_is_refused_and_nothing_is_computed(cast):
    clients, study, _ = cast
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    before = study.alignment_reports.count(), study.report_jobs.count()
    response = clients["owner"].post(f"/api/studies/{study.slug}/reports/",
                                     json.dumps({"n_boot": 10, "padding": padding}), content_type="application/json")
    assert response.status_code in (400, 413)
    assert (study.alignment_reports.count(), study.report_jobs.count()) == before


def test_a_form_body_over_the_upload_limit_is_refused(cast):
    clients, study, _ = cast
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = clients["owner"].put(f"/api/studies/{study.slug}/spec/", f"yaml={padding}",
                                    content_type="application/x-www-form-urlencoded")
    assert response.status_code in (400, 413)


def test_an_upload_over_the_request_limit_is_refused_before_it_is_read(cast, settings):
    clients, study, _ = cast
    settings.REQUEST_MAX_BYTES = 64 * 1024  # the same check as the default 1 GiB, on a small file
    manifest = SimpleUploadedFile("m.csv", b"id,url\n" + b"a,http://example.org/a.png\n" * 4000)
    response = clients["owner"].post(f"/api/studies/{study.slug}/artworks/", {"manifest": manifest},
                                     format="multipart")
    assert response.status_code == 413
    assert study.artworks.count() == 6
