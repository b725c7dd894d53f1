"""CLIP runs through the real code path (tiny stand-in CLIP, eager Celery, the project's database)."""
import os
import subprocess
import sys

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from annotations.models import Artwork
from clipworker.model import STAND_IN_NAME
from clipworker.models import ClipRun, Embedding, Prediction
from clipworker.runs import cliprun_cancel, cliprun_start
from tests.conftest import PROJECT_ROOT
from tests.factories import write_csv, write_image
from tests.servers import not_http_serving


@pytest.fixture
def scored_study(study, tmp_path, settings, clip_cache):
    settings.VAR_DIR = clip_cache  # the stand-in model is built there once per test session
    folder = tmp_path / "images"
    rows = [{"file": write_image(folder, f"img{i}.png", (40 * i, 200 - 30 * i, 90), (80 + 8 * i, 60)).name}
            for i in range(5)]
    call_command("import_artworks", study.slug, "--manifest", str(write_csv(tmp_path / "m.csv", rows)),
                 "--images", str(folder))
    return study




def test_a_run_scores_every_artwork_on_every_dimension_once_and_a_rerun_adds_nothing(scored_study):
    run = cliprun_start(scored_study, STAND_IN_NAME)
    assert (run.status, run.done, run.failed, run.total, run.is_stand_in) == ("done", 5, 0, 5, True)
    assert Prediction.objects.count() == 5 * 7
    assert Embedding.objects.filter(source="computed").count() == 5
    cliprun_start(scored_study, STAND_IN_NAME)
    assert Prediction.objects.count() == 5 * 7 and Embedding.objects.count() == 5


def test_every_label_probability_is_kept(scored_study):
    cliprun_start(scored_study, STAND_IN_NAME)
    style = Prediction.objects.filter(dimension__key="style").first()
    assert set(style.probs) == set(style.dimension.labels)  # jsonb keeps no key order: read labels for order
    assert sum(style.probs.values()) == pytest.approx(1, abs=1e-5)
    assert style.label == max(style.probs, key=style.probs.get)
    aesthetic = Prediction.objects.filter(dimension__key="aesthetic").first()
    assert 1 <= aesthetic.expected <= 7
    content = Prediction.objects.filter(dimension__key="content").first()
    assert set(content.probs) == set(content.dimension.labels) and isinstance(content.label, list)


def test_a_corrupt_image_is_recorded_as_failed_and_the_rest_are_scored(scored_study):
    broken = scored_study.artworks.first()
    with open(broken.image.path, "r+b") as handle:
        handle.truncate(40)
    run = cliprun_start(scored_study, STAND_IN_NAME)
    assert (run.status, run.done, run.failed) == ("done", 4, 1)
    failure = run.failures.get()
    assert failure.artwork == broken and "cannot read image" in failure.reason
    assert not Prediction.objects.filter(artwork=broken).exists()


def add_deferred_url(study, tmp_path, url: str) -> Artwork:
    call_command("import_artworks", study.slug, "--manifest", str(write_csv(tmp_path / "u.csv", [
        {"id": "not-http", "url": url}])), "--defer-download")
    return study.artworks.get(external_id="not-http")


def test_a_deferred_url_whose_server_does_not_speak_http_fails_that_artwork_and_the_rest_are_scored(
        scored_study, tmp_path, settings):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]  # the server is on loopback, which fetches refuse otherwise
    with not_http_serving() as base:
        bad = add_deferred_url(scored_study, tmp_path, f"{base}/late.png")
        run = cliprun_start(scored_study, STAND_IN_NAME)  # one batch holds all six
    assert (run.status, run.done, run.failed, run.total) == ("done", 5, 1, 6)
    failure = run.failures.get()
    assert failure.artwork == bad and "fetch" in failure.reason
    assert "garbage" not in failure.reason and base.split(":")[-1] not in failure.reason
    assert Prediction.objects.exclude(artwork=bad).count() == 5 * 7 and not bad.predictions.exists()


def break_a_prompt(study) -> None:
    """A stored prompt naming a placeholder the scorer does not fill: scoring raises KeyError."""
    study.dimensions.filter(key="style").update(prompts=["a {label} painting in the {nonsense} manner"])


def test_a_batch_that_raises_unexpectedly_fails_the_run_with_the_reason_and_a_logged_traceback(
        scored_study, caplog):
    break_a_prompt(scored_study)
    run = cliprun_start(scored_study, STAND_IN_NAME)
    assert run.status == "failed" and run.finished_at is not None
    assert run.error == "a batch failed: KeyError: 'nonsense'"
    assert not Prediction.objects.exists()
    assert f"CLIP run {run.pk} failed" in caplog.text and "Traceback" in caplog.text


def test_imported_embeddings_are_scored_without_an_image(study, settings, clip_cache, clip):
    settings.VAR_DIR = clip_cache
    artwork = Artwork.objects.create(study=study, external_id="no-image")
    vector = np.random.default_rng(0).normal(size=clip.dim).astype(np.float32)
    Embedding.objects.create(artwork=artwork, model_name=STAND_IN_NAME, revision="", dim=clip.dim,
                             vector=Embedding.pack(vector / np.linalg.norm(vector)), source="imported")
    run = cliprun_start(study, STAND_IN_NAME)
    assert (run.done, run.failed) == (1, 0) and Prediction.objects.filter(artwork=artwork).count() == 7


def test_a_cancelled_run_scores_nothing_more(scored_study):
    run = ClipRun.objects.create(study=scored_study, model_name=STAND_IN_NAME, total=5)
    assert cliprun_cancel(run)
    from clipworker.tasks import score_batch

    score_batch.delay(run.pk, list(scored_study.artworks.values_list("id", flat=True)))
    assert not Prediction.objects.exists()
    assert not cliprun_cancel(run), "cancelling twice changes nothing"


def test_run_clip_command_prints_progress_and_marks_the_stand_in(scored_study, capsys):
    call_command("run_clip", scored_study.slug, "--model", STAND_IN_NAME)
    out = capsys.readouterr().out
    assert "done: 5 scored, 0 failed of 5" in out and "stand-in CLIP" in out


def test_run_clip_with_a_model_that_cannot_be_had_names_it_and_creates_no_run(scored_study, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(CommandError, match="'no-such/clip' is not available"):
        call_command("run_clip", scored_study.slug, "--model", "no-such/clip")
    assert not ClipRun.objects.exists()


def test_run_clip_takes_a_listed_name_or_any_folder_the_operator_names(scored_study, settings, tiny_folder, capsys):
    settings.CLIP_MODELS = {"Tiny": str(tiny_folder)}
    call_command("run_clip", scored_study.slug, "--model", "Tiny")
    call_command("run_clip", scored_study.slug, "--model", str(tiny_folder))  # not listed: the operator's own tool
    assert list(ClipRun.objects.order_by("id").values_list("model_name", "status", "done")) == [
        ("Tiny", "done", 5), (str(tiny_folder), "done", 5)]


def test_run_clip_help_lists_the_offered_models_without_importing_torch(settings):
    code = ("import sys, django; django.setup(); from django.core.management import load_command_class;"
            " print(load_command_class('clipworker', 'run_clip').create_parser('manage.py', 'run_clip').format_help());"
            " print('torch imported:', 'torch' in sys.modules)")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1", "CLIP_MODELS": "L=/srv/clip-l"}
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    help_text = "".join(result.stdout.split())  # argparse wraps lines, even inside hyphenated names
    assert "anyhubidorlocalfolder" in help_text and "now:L,openai/clip-vit-large-patch14-336" in help_text
    assert "torch imported: False" in result.stdout


def test_the_origin_probe_on_the_real_embeddings_beats_chance_by_a_wide_margin(study, realdata, capsys):
    column = "ViT-L/14@336px"
    for name, origin, id_column in [("ai_pastiche", "ai", "generated_image"), ("ngd", "human", "objectid")]:
        call_command("import_embeddings", study.slug, "--parquet", str(realdata / f"{name}.parquet"),
                     "--column", column, "--id-column", id_column, "--model-name", column,
                     "--create-artworks", "--set", f"origin={origin}")
    call_command("run_clip", study.slug, "--model", column, "--method", "probe", "--dimension", "origin",
                 "--target", "field", "--group-by", "prompt")
    out = capsys.readouterr().out
    accuracy = float(out.split("accuracy ")[1].split(",")[0])
    assert accuracy > 0.85, out
    stored = Prediction.objects.filter(method="probe", dimension__key="origin")
    assert stored.count() == 1906 and set(stored.first().probs) == {"ai", "human"}
