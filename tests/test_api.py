"""The REST API: every endpoint's permissions (owner, viewer, outsider, anonymous, annotator), then what
each one does. The cast: `owner` owns the study, `viewer` may read it, `outsider` is another researcher,
`annotator` is a crowd participant's browser (a Django session, never a login)."""
import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from alignment.reports import ReportOptions, report_create
from annotations.models import Artwork, Study
from clipworker.models import ClipRun
from clipworker.runs import STAND_IN_NAME
from tests.conftest import perception_study, researcher
from tests.factories import image_bytes
from tests.researcher_cast import aligned_study, api_clients, viewer_of

S = "/api/studies/perception"


@pytest.fixture(scope="module")
def aligned(module_db, tmp_path_factory, clip_cache) -> Path:
    """The open study with its owner, a viewer and an outsider, 8 artworks (4 human, 4 AI) judged and
    predicted, and a report: built once for the module (module_db), each test's writes rolled back."""
    folder = tmp_path_factory.mktemp("api")
    with override_settings(VAR_DIR=clip_cache, MEDIA_ROOT=folder / "media"):
        study = perception_study()
        study.owner = researcher("owner")
        study.save()
        aligned_study(study, folder, n=8)
        Study.objects.filter(pk=study.pk).update(status="open")
        report_create(study, ReportOptions(n_boot=30, min_stratum_items=3))
        viewer_of(study, researcher("viewer"))
        researcher("outsider")
    return folder / "media"


@pytest.fixture
def study(aligned, db, settings, clip_cache):
    settings.VAR_DIR = clip_cache
    settings.MEDIA_ROOT = aligned
    return Study.objects.get(slug="perception")


@pytest.fixture
def owner(study):
    return study.owner


@pytest.fixture
def cast(study, owner, django_user_model):
    return api_clients(study, owner=owner, viewer=django_user_model.objects.get(username="viewer"),
                       outsider=django_user_model.objects.get(username="outsider"))


def _run_id():
    return ClipRun.objects.get().pk


READS = [f"{S}/", f"{S}/spec/", f"{S}/members/", f"{S}/artworks/", f"{S}/judgements/", f"{S}/progress/",
         f"{S}/participants/", f"{S}/clip-runs/", f"{S}/clip-runs/{{run}}/", f"{S}/clip-runs/{{run}}/failures/",
         f"{S}/predictions/", f"{S}/reports/", f"{S}/reports/latest/", f"{S}/alignment/origin/points/",
         f"{S}/exports/judgements/", f"{S}/exports/bundle/"]
WRITES = [("put", f"{S}/spec/", {"yaml": "x: 1"}), ("post", f"{S}/status/", {"status": "closed"}),
          ("post", f"{S}/members/", {"username": "outsider"}), ("delete", f"{S}/members/viewer/", None),
          ("post", f"{S}/artworks/", {}), ("post", f"{S}/judgements/", {}),
          ("post", f"{S}/clip-runs/", {"model_name": STAND_IN_NAME}), ("post", f"{S}/clip-runs/{{run}}/cancel/", None),
          ("post", f"{S}/reports/", {"n_boot": 10})]


READ_RULES = {"owner": 200, "viewer": 200, "outsider": 404, "anonymous": 401, "annotator": 401}
WRITE_RULES = {"viewer": 403, "outsider": 404, "anonymous": 401, "annotator": 401}


def _state():
    study = Study.objects.get(slug="perception")
    return (study.status, study.title, ClipRun.objects.count(), study.alignment_reports.count(),
            list(study.members.values_list("user__username", "role")), study.artworks.count())


@pytest.mark.parametrize("url", READS)
def test_reads_follow_the_study_pages_rules(cast, url):
    url = url.format(run=_run_id())
    got = {who: cast[who].get(url).status_code for who in READ_RULES}
    assert got == READ_RULES


@pytest.mark.parametrize("method, url, payload", WRITES)
def test_writes_are_refused_to_everyone_but_owners_and_change_nothing(cast, method, url, payload):
    url, before = url.format(run=_run_id()), _state()
    got = {who: getattr(cast[who], method)(url, payload, format="json").status_code for who in WRITE_RULES}
    assert got == WRITE_RULES
    assert _state() == before


@pytest.mark.parametrize("url", ["/api/", "/api/studies/", "/api/schema/", "/api/docs/", "/api/redoc/"])
def test_an_annotator_session_and_anonymous_visitors_get_nothing_from_the_api(cast, url):
    for who in ("annotator", "anonymous"):
        response = cast[who].get(url)
        assert response.status_code == 401 and response["WWW-Authenticate"] == 'Token'
        assert b"perception" not in response.content


def test_the_study_list_shows_each_researcher_their_own_studies_with_their_role(cast):
    def listed(who: str) -> list[tuple[str, str]]:
        return [(s["slug"], s["role"]) for s in cast[who].get("/api/studies/").data["results"]]

    assert listed("owner") == [("perception", "owner")]
    assert listed("viewer") == [("perception", "viewer")]
    assert cast["outsider"].get("/api/studies/").data["count"] == 0


def test_a_token_from_username_and_password_opens_the_api(cast, owner):
    anonymous = cast["anonymous"]
    token = anonymous.post("/api/auth/token/", {"username": "owner", "password": "owner-pass-1"}).data["token"]
    assert anonymous.post("/api/auth/token/", {"username": "owner", "password": "wrong"}).status_code == 400
    anonymous.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert anonymous.get(f"{S}/").data["role"] == "owner"


def test_the_schema_and_the_docs_need_no_network(cast):
    schema = cast["owner"].get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert schema["info"]["title"] == "ArtAlign API"
    assert {"/api/studies/{slug}/artworks/", "/api/studies/{slug}/clip-runs/", "/api/studies/{slug}/reports/",
            "/api/studies/{slug}/exports/{kind}/"} <= set(schema["paths"])
    docs = cast["owner"].get("/api/docs/").content.decode()
    assert "swagger-ui" in docs and "/static/drf_spectacular_sidecar/" in docs and "cdn" not in docs.lower()


def test_every_list_is_paginated(cast):
    study = Study.objects.get()
    Artwork.objects.bulk_create(Artwork(study=study, external_id=f"extra-{i}") for i in range(50))
    page = cast["owner"].get(f"{S}/artworks/").data
    assert page["count"] == 58 and len(page["results"]) == 50 and page["next"].endswith("?page=2")
    for url in (f"{S}/members/", f"{S}/judgements/", f"{S}/participants/", f"{S}/clip-runs/", f"{S}/predictions/",
                f"{S}/reports/", "/api/studies/", f"{S}/clip-runs/{_run_id()}/failures/"):
        assert {"count", "next", "previous", "results"} <= set(cast["owner"].get(url).data), url


def test_an_owner_creates_a_study_and_edits_its_study_file(cast):
    client = cast["outsider"]
    response = client.post("/api/studies/", {"slug": "mine", "template": "clip-art-perception"}, format="json")
    assert response.status_code == 201 and response.data["role"] == "owner" and len(response.data["dimensions"]) == 7
    assert "PROLIFIC_PID={{%PROLIFIC_PID%}}" in response.data["participant_link"]
    bad = client.put("/api/studies/mine/spec/", {"yaml": "dimensions: []\nitems_per_session: zero"}, format="json")
    assert bad.status_code == 400 and len(bad.data["errors"]) == 2
    spec = client.get("/api/studies/mine/spec/").data["spec"]
    spec["title"] = "Renamed"
    assert client.put("/api/studies/mine/spec/", {"spec": spec}, format="json").status_code == 200
    assert Study.objects.get(slug="mine").title == "Renamed"
    assert client.post("/api/studies/", {"slug": "x", "spec": {"dimensions": []}}, format="json").status_code == 400


def test_an_artwork_upload_lists_each_bad_row_and_a_good_one_imports(cast):
    client = cast["owner"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(2):
            archive.writestr(f"n{i}.png", image_bytes((10 + 90 * i, 5, 5)))
    rows = b"id,file,origin\nn0,n0.png,human\nn1,n1.png,robot\n"
    response = client.post(f"{S}/artworks/", {"manifest": SimpleUploadedFile("m.csv", rows),
                                              "images": SimpleUploadedFile("i.zip", buffer.getvalue())},
                           format="multipart")
    assert response.status_code == 400
    assert response.data["errors"] == [{"row": 2, "field": "origin", "reason": "'robot' is not 'human' or 'ai'"}]
    response = client.post(f"{S}/artworks/", {"manifest": SimpleUploadedFile("m.csv", rows.replace(b"robot", b"ai")),
                                              "images": SimpleUploadedFile("i.zip", buffer.getvalue())},
                           format="multipart")
    assert response.status_code == 201 and response.data["created"] == 2


def test_an_owner_runs_clip_computes_a_report_and_reads_it(cast):
    client = cast["owner"]
    response = client.post(f"{S}/clip-runs/", {"model_name": STAND_IN_NAME}, format="json")
    assert response.status_code == 201 and response.data["status"] == "done" and response.data["is_stand_in"]
    run = response.data["id"]
    assert client.post(f"{S}/clip-runs/{run}/cancel/").status_code == 409
    assert client.post(f"{S}/clip-runs/", {"model_name": "/no/such/folder"}, format="json").status_code == 400
    predictions = client.get(f"{S}/predictions/?model={STAND_IN_NAME}&dimension=style")
    assert predictions.data["count"] == 8 * 2  # two runs' worth
    response = client.post(f"{S}/reports/", {"n_boot": 20, "min_stratum_items": 3}, format="json")
    assert response.status_code == 202 and response["Location"] == response.data["url"]
    job = client.get(response.data["url"]).data  # without a broker the task ran inside the request
    assert job["status"] == "done" and job["percent"] == 100 and job["error"] == ""
    latest = client.get(f"{S}/reports/latest/").data
    assert latest["id"] == job["report"] and set(latest["content"]["dimensions"]) >= {"style", "origin"}
    points = client.get(f"{S}/alignment/origin/points/?stratum=origin=ai").data
    assert points["stratum"] == "origin=ai" and points["scatters"][0]["points"]
    assert all(p[2] in {f"art-{i:03d}" for i in range(1, 8, 2)} for p in points["scatters"][0]["points"])
    progress = client.get(f"{S}/progress/").data
    assert progress["n_artworks"] == 8 and progress["status"] == "open"


def test_an_owner_closes_the_study_and_manages_viewers(cast):
    client = cast["owner"]
    closed = client.post(f"{S}/status/", {"status": "closed"}, format="json")
    assert closed.status_code == 200 and closed.data["status"] == "closed" and not closed.data["open_requested"]
    assert client.post(f"{S}/status/", {"status": "draft"}, format="json").status_code == 400
    assert client.post(f"{S}/members/", {"username": "outsider", "role": "viewer"}, format="json").status_code == 201
    assert cast["outsider"].get(f"{S}/").data["role"] == "viewer"
    assert client.delete(f"{S}/members/outsider/").status_code == 204
    assert cast["outsider"].get(f"{S}/").status_code == 404
