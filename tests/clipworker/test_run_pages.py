"""CLIP run pages: start a run for a chosen model, watch it, cancel it, read its failures."""
import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils.html import escape

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


def test_a_model_that_cannot_be_had_is_refused_and_no_run_is_created(client, owner, owned):
    client.force_login(owner)
    response = client.post(reverse("clipworker:run_start", args=[owned.slug]),
                           {"model_name": "/nonexistent/clip-folder"}, follow=True)
    assert "The run was not started" in response.content.decode()
    assert not ClipRun.objects.exists()


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
