"""CLIP run pages: start a run for a chosen model, watch it, cancel it, read its failures."""
import re

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils.html import escape
from rest_framework.test import APIClient

from annotations.models import Artwork
from clipworker import model as clip_model
from clipworker.models import ClipRun
from clipworker.runs import STAND_IN_NAME
from tests.annotations.crowd_cast import artworks_add
from tests.researcher_cast import viewer_of


@pytest.fixture
def owned(study, owner, settings, clip_cache):
    settings.VAR_DIR = clip_cache
    study.owner = owner
    study.save()
    artworks_add(study, 3)
    return study


def test_the_pages_name_the_stand_in_as_the_model_module_does():
    assert STAND_IN_NAME == clip_model.STAND_IN_NAME


def test_a_stand_in_run_started_from_the_page_finishes_and_says_it_is_a_stand_in(client, owner, owned):
    client.force_login(owner)
    page = client.get(reverse("clipworker:run_list", args=[owned.slug])).content.decode()
    assert "openai/clip-vit-large-patch14-336" in page and STAND_IN_NAME in page  # default and stand-in offered
    response = client.post(reverse("clipworker:run_start", args=[owned.slug]), {"model_name": STAND_IN_NAME})
    run = ClipRun.objects.get(study=owned)
    assert response.status_code == 302 and response["Location"] == reverse("clipworker:run_detail",
                                                                           args=[owned.slug, run.pk])
    assert run.status == "done" and run.done == 3 and run.is_stand_in
    detail = client.get(response["Location"]).content.decode()
    assert "stand-in model, random weights" in detail and "3 scored, 0 failed of 3" in detail
    assert 'data-active="false"' in detail
    data = client.get(reverse("clipworker:run_progress_json", args=[owned.slug, run.pk])).json()
    assert data["status"] == "done" and data["percent"] == 100.0 and data["is_stand_in"] and not data["active"]
    assert data["throughput"] > 0 and "stand-in model, random weights" in data["html"]
    listing = client.get(reverse("clipworker:run_list", args=[owned.slug])).content.decode()
    assert "stand-in model, random weights" in listing


def test_an_artwork_that_cannot_be_read_is_listed_with_its_reason(client, owner, owned):
    broken = Artwork(study=owned, external_id="broken.png")
    broken.image.save("broken.png", ContentFile(b"not an image at all"), save=False)
    broken.save()
    client.force_login(owner)
    client.post(reverse("clipworker:run_start", args=[owned.slug]), {"model_name": STAND_IN_NAME})
    run = ClipRun.objects.get(study=owned)
    assert (run.done, run.failed) == (3, 1)
    page = client.get(reverse("clipworker:run_detail", args=[owned.slug, run.pk])).content.decode()
    assert "broken.png" in page and escape(run.failures.get().reason) in page


REFUSED = "that model is not offered here; choose one of: artalign/tiny-clip, openai/clip-vit-large-patch14-336"


def test_a_server_path_or_unlisted_model_is_refused_alike_on_the_page_and_the_api_whether_or_not_it_exists(
        client, owner, owned, tiny_folder):
    names = ["/etc", "/tmp", "/nonexistent/clip-folder", str(tiny_folder),  # a real checkpoint, but not listed
             f"{tiny_folder}/../tiny-clip", "~/models", "someone/unlisted-clip", "openai/clip-vit-base-patch32 "]
    client.force_login(owner)
    api = APIClient()
    api.force_authenticate(owner)
    for name in names:
        page = client.post(reverse("clipworker:run_start", args=[owned.slug]), {"model_name": name}, follow=True)
        assert re.findall(r"The run was not started: [^<]*", page.content.decode()) == [
            f"The run was not started: {REFUSED}"], name
        response = api.post(f"/api/studies/{owned.slug}/clip-runs/", {"model_name": name}, format="json")
        assert (response.status_code, response.json()) == (400, {"errors": [REFUSED]}), name
    assert not ClipRun.objects.exists()


def test_the_page_offers_the_operators_models_by_name_and_runs_a_listed_folder(client, owner, owned, settings,
                                                                              tiny_folder):
    settings.CLIP_MODELS = {"Tiny, from a folder": str(tiny_folder), STAND_IN_NAME: STAND_IN_NAME}
    settings.CLIP_MODEL = str(tiny_folder)
    client.force_login(owner)
    page = client.get(reverse("clipworker:run_list", args=[owned.slug])).content.decode()
    assert re.findall(r'<option value="([^"]*)"( selected)?>', page) == [
        ("Tiny, from a folder", " selected"), (STAND_IN_NAME, "")]
    assert str(tiny_folder) not in page  # the folder stays the operator's business
    client.post(reverse("clipworker:run_start", args=[owned.slug]), {"model_name": "Tiny, from a folder"})
    run = ClipRun.objects.get(study=owned)
    assert (run.model_name, run.status, run.done, run.is_stand_in) == ("Tiny, from a folder", "done", 3, True)


def test_a_queued_run_polls_and_can_be_cancelled(client, owner, owned):
    run = ClipRun.objects.create(study=owned, model_name="some/model", total=3)
    client.force_login(owner)
    page = client.get(reverse("clipworker:run_detail", args=[owned.slug, run.pk])).content.decode()
    assert 'data-active="true"' in page and "Cancel the run" in page
    assert client.get(reverse("clipworker:run_progress_json", args=[owned.slug, run.pk])).json()["active"] is True
    client.post(reverse("clipworker:run_cancel", args=[owned.slug, run.pk]))
    run.refresh_from_db()
    assert run.status == "cancelled"


def test_a_viewer_sees_runs_but_cannot_start_or_cancel_them(client, outsider, owned):
    run = ClipRun.objects.create(study=owned, model_name="some/model", total=3)
    viewer_of(owned, outsider)
    client.force_login(outsider)
    assert client.get(reverse("clipworker:run_detail", args=[owned.slug, run.pk])).status_code == 200
    assert client.post(reverse("clipworker:run_start", args=[owned.slug]),
                       {"model_name": STAND_IN_NAME}).status_code == 403
    assert client.post(reverse("clipworker:run_cancel", args=[owned.slug, run.pk])).status_code == 403
    assert ClipRun.objects.get().status == "queued"


def test_an_outsider_gets_404_on_a_run(client, outsider, owned):
    run = ClipRun.objects.create(study=owned, model_name="some/model", total=3)
    client.force_login(outsider)
    assert client.get(reverse("clipworker:run_detail", args=[owned.slug, run.pk])).status_code == 404
    assert client.get(reverse("clipworker:run_progress_json", args=[owned.slug, run.pk])).status_code == 404
