"""Opening a study: artworks imported with deferred downloads are fetched on open (from a real HTTP
server on loopback) and then served to participants; a failed download refuses the opening with the
artwork and its reason until the researcher removes it; and no study opens without a real completion
code (page, API and `create_study --open`), unless its study file says `completion: none`.

The cast: `owner` owns the study, `viewer` may read it, a participant's browser is a fresh Client."""
import io
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from annotations.editing import (
    StudyChangeRefused,
    study_deferred_images_fetch,
    study_spec_dump,
    study_status_set,
    study_update,
)
from annotations.imports import artworks_import
from annotations.models import Artwork, Study
from annotations.tasks import study_images_fetch
from tests.annotations.crowd_cast import artworks_add, session_judging_http
from tests.factories import image_bytes, write_csv
from tests.researcher_cast import viewer_of

IMAGE_HOST = "127.0.0.1"  # where the test image server listens (fetches refuse loopback unless allowed)
GOOD = ["a.png", "b.jpg", "c.png"]


@pytest.fixture
def image_server(settings):
    """A real HTTP server on IMAGE_HOST serving small PNG and JPEG images by path (anything else: 404),
    the one address fetches are allowed to reach; `hits` counts the requests per path, `delay` slows
    every answer down."""
    served = {f"/{name}": image_bytes((60 * i, 120, 200 - 50 * i), (64, 48), "PNG" if name.endswith("png") else "JPEG")
              for i, name in enumerate(GOOD)}
    state = SimpleNamespace(hits=Counter(), delay=0.0, served=served)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            state.hits[self.path] += 1
            time.sleep(state.delay)
            data = served.get(self.path)
            if data is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/png" if self.path.endswith("png") else "image/jpeg")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((IMAGE_HOST, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://{IMAGE_HOST}:{server.server_address[1]}"
    settings.FETCH_ALLOW_HOSTS = [f"{IMAGE_HOST}:{server.server_address[1]}"]
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def owned(study, owner):
    """The template study, owned, with a real completion code."""
    Study.objects.filter(pk=study.pk).update(owner=owner, completion_code="C0DE42")
    study.refresh_from_db()
    return study


def deferred(study: Study, server, tmp_path, names=GOOD) -> None:
    """Artworks imported with --defer-download: a URL each, no image yet."""
    rows = [{"id": name.split(".")[0], "url": f"{server.url}/{name}"} for name in names]
    artworks_import(study, write_csv(tmp_path / "manifest.csv", rows), defer_download=True)
    assert not study.artworks.exclude(image="").exists()


def api_as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def open_on_page(client, study: Study) -> str:
    return client.post(reverse("annotations:study_status", args=[study.slug]), {"status": "open"},
                       follow=True).content.decode()


@pytest.mark.django_db(transaction=True)  # the fetch is queued on commit, and runs eagerly here
def test_deferred_images_are_fetched_on_open_and_then_served_to_participants(client, owned, owner, image_server,
                                                                             tmp_path):
    deferred(owned, image_server, tmp_path)
    client.force_login(owner)
    page = open_on_page(client, owned)
    owned.refresh_from_db()
    assert owned.status == "open" and not owned.open_requested and "The study is open" in page
    for artwork in owned.artworks.all():
        sent = image_server.served[f"/{artwork.external_id}.{'jpg' if artwork.external_id == 'b' else 'png'}"]
        assert artwork.image.read() == sent and artwork.file_size == len(sent)
        assert (artwork.width, artwork.height) == (64, 48) and len(artwork.sha256) == 64
        assert artwork.display_image and artwork.thumbnail and artwork.fetch_error == ""
    assert sorted(image_server.hits.values()) == [1, 1, 1]

    participant = Client()
    session = session_judging_http(participant, owned)
    judging = participant.get(reverse("annotations:session_entry", args=[owned.slug]))
    assert judging.status_code == 200 and session.assignments.exists()
    image_url = re.search(rf'/s/{owned.slug}/image/\d+/', judging.content.decode()).group(0)
    response = participant.get(image_url)
    assert response.status_code == 200
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as shown:
        shown.load()
        assert shown.size[0] > 0


@pytest.mark.django_db(transaction=True)
def test_a_failed_download_refuses_the_opening_until_the_researcher_removes_it(owned, owner, image_server, tmp_path):
    deferred(owned, image_server, tmp_path, names=[*GOOD, "gone.png"])
    gone = owned.artworks.get(external_id="gone")
    api = api_as(owner)
    response = api.post(f"/api/studies/{owned.slug}/status/", {"status": "open"}, format="json")
    assert response.status_code == 400
    assert any(f"'gone' (id {gone.pk})" in error and "HTTP 404" in error for error in response.data["errors"])
    assert [(f["id"], f["external_id"]) for f in response.data["failures"]] == [(gone.pk, "gone")]
    assert "HTTP 404" in response.data["failures"][0]["reason"]
    owned.refresh_from_db()
    assert owned.status == "draft" and not owned.open_requested
    assert owned.artworks.exclude(image="").count() == 3, "the images that came are kept"
    gone.refresh_from_db()
    assert "HTTP 404" in gone.fetch_error and not gone.image

    client = Client()
    client.force_login(owner)
    page = client.get(reverse("annotations:study_detail", args=[owned.slug])).content.decode()
    assert "1 of 4 images could not be fetched" in page and gone.fetch_error in page
    client.post(reverse("annotations:study_failed_artworks", args=[owned.slug]))
    assert not owned.artworks.filter(external_id="gone").exists() and owned.artworks.count() == 3
    response = api.post(f"/api/studies/{owned.slug}/status/", {"status": "open"}, format="json")
    assert response.status_code == 200 and response.data["status"] == "open"
    assert image_server.hits["/a.png"] == 1, "what was fetched is not fetched again"


@pytest.mark.django_db(transaction=True)
def test_opening_again_retries_a_download_that_failed(owned, image_server, tmp_path):
    deferred(owned, image_server, tmp_path, names=["a.png", "late.png"])
    with pytest.raises(StudyChangeRefused, match="'late'.*HTTP 404"):
        study_status_set(owned, "open")
    image_server.served["/late.png"] = image_bytes((1, 2, 3))  # the image server is fixed
    study_status_set(owned, "open")
    owned.refresh_from_db()
    assert owned.status == "open" and owned.artworks.get(external_id="late").fetch_error == ""


def test_while_a_worker_fetches_the_page_and_the_api_show_the_progress(owned, owner, image_server, tmp_path,
                                                                       django_capture_on_commit_callbacks):
    deferred(owned, image_server, tmp_path)
    api = api_as(owner)
    with django_capture_on_commit_callbacks() as queued:  # the worker has not taken the task yet
        response = api.post(f"/api/studies/{owned.slug}/status/", {"status": "open"}, format="json")
    assert response.status_code == 202 and response.data["open_requested"] and response.data["status"] == "draft"
    assert {k: response.data["fetch"][k] for k in ("fetching", "total", "fetched", "failed")} == {
        "fetching": True, "total": 3, "fetched": 0, "failed": 0}
    client = Client()
    client.force_login(owner)
    page = client.get(reverse("annotations:study_detail", args=[owned.slug])).content.decode()
    assert "Fetching: 0 of 3 fetched" in page and 'data-active="true"' in page
    assert f'data-poll="{reverse("annotations:study_fetch_json", args=[owned.slug])}"' in page

    study_deferred_images_fetch(owned.pk)  # what the queued task does (here without its on-commit hop)
    assert len(queued) == 1
    poll = client.get(reverse("annotations:study_fetch_json", args=[owned.slug])).json()
    assert poll["active"] is False and poll["fetch"]["fetched"] == 3
    assert api.get(f"/api/studies/{owned.slug}/status/").data["status"] == "open"


@pytest.mark.django_db(transaction=True)
def test_two_urls_of_one_image_store_it_once_and_name_the_twin(owned, image_server, tmp_path):
    image_server.served["/copy.png"] = image_server.served["/a.png"]
    deferred(owned, image_server, tmp_path, names=["a.png", "copy.png"])
    with pytest.raises(StudyChangeRefused, match="'copy'.*same image .* as artwork 'a'"):
        study_status_set(owned, "open")
    assert owned.artworks.exclude(image="").get().external_id == "a"


def worker(study_id: int) -> None:
    """A worker process's share: the task, on its own database connection."""
    try:
        study_images_fetch.delay(study_id)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_the_fetch_task_run_twice_or_at_once_fetches_each_image_once(owned, image_server, tmp_path):
    deferred(owned, image_server, tmp_path)
    Study.objects.filter(pk=owned.pk).update(open_requested=True)
    if connection.vendor == "postgresql":  # two workers at once: SKIP LOCKED shares the artworks out
        image_server.delay = 0.2
        runs = [threading.Thread(target=worker, args=(owned.pk,)) for _ in range(2)]
        for run in runs:
            run.start()
        for run in runs:
            run.join()
    study_images_fetch.delay(owned.pk)  # a redelivered task
    owned.refresh_from_db()
    assert owned.status == "open" and not owned.open_requested
    assert sorted(image_server.hits.values()) == [1, 1, 1]


def test_a_template_study_does_not_open_with_the_placeholder_code_on_the_page_api_or_command(study, owner, db):
    Study.objects.filter(pk=study.pk).update(owner=owner)
    artworks_add(study, 2)
    client = Client()
    client.force_login(owner)
    page = open_on_page(client, study)
    assert "the completion code is still the template&#x27;s placeholder &#x27;CHANGE-ME&#x27;" in page
    assert "completion: none" in page
    response = api_as(owner).post(f"/api/studies/{study.slug}/status/", {"status": "open"}, format="json")
    assert response.status_code == 400 and "placeholder 'CHANGE-ME'" in response.data["errors"][0]
    study.refresh_from_db()
    assert study.status == "draft"
    with pytest.raises(CommandError, match="placeholder 'CHANGE-ME'.*set completion_code"):
        call_command("create_study", "--template", "clip-art-perception", "--slug", "opened", "--open",
                     stdout=io.StringIO())
    assert not Study.objects.filter(slug="opened").exists()


def test_an_empty_code_is_refused_and_completion_none_opens(study, owner, db):
    artworks_add(study, 2)
    spec = study_spec_dump(study) | {"completion_code": ""}
    study_update(study, spec)
    with pytest.raises(StudyChangeRefused, match="the completion code is empty"):
        study_status_set(study, "open")
    study_update(study, spec | {"completion": "none"})
    assert study_status_set(study, "open").status == "open"
    study.refresh_from_db()
    assert study.status == "open"


def test_only_owners_remove_failed_artworks_and_outsiders_see_no_progress(owned, owner, outsider, django_user_model):
    Artwork.objects.create(study=owned, external_id="gone", image_url="http://example.invalid/x.png",
                           fetch_error="cannot fetch: HTTP 404")
    viewer = django_user_model.objects.create_user("viewer", password="viewer-pass-1")
    viewer_of(owned, viewer)
    client = Client()
    client.force_login(viewer)
    assert client.post(reverse("annotations:study_failed_artworks", args=[owned.slug])).status_code == 403
    assert client.get(reverse("annotations:study_fetch_json", args=[owned.slug])).json()["fetch"]["failed"] == 1
    assert owned.artworks.filter(external_id="gone").exists()
    client.force_login(outsider)
    assert client.post(reverse("annotations:study_failed_artworks", args=[owned.slug])).status_code == 404
    assert client.get(reverse("annotations:study_fetch_json", args=[owned.slug])).status_code == 404
    assert owned.artworks.filter(external_id="gone").exists()
