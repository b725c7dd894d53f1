"""Imports bounded as a whole (issue 13, item 2): totals per import, one image in memory at a time,
capped error lists, and large uploads imported by a task with progress on the page and in the API."""
import io
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotations.imports import artworks_import
from annotations.models import Artwork, ImportJob
from annotations.studies import study_create, study_template_load
from annotations.tables import ImportFailed
from tests.annotations.crowd_cast import study_open
from tests.clipworker.test_worker import redis_url
from tests.conftest import PROJECT_ROOT, require
from tests.factories import write_csv
from tests.servers import Browser, gunicorn_serving, server_database_url

MB = 1024 * 1024


@pytest.fixture(autouse=True)
def var_in_tmp(settings, tmp_path):
    """Uploads wait in VAR_DIR/imports: this test's own, so that what it finds there is its own."""
    settings.VAR_DIR = tmp_path / "var"


def stored_png(i: int, side: int = 1000) -> bytes:
    """A PNG stored without compression (3 MB at 1000 px): a ZIP shrinks it to a few kB, the shape of
    the ZIP bomb that stays within every per-file limit. Each `i` gives a different image."""
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (i % 256, 60 + i // 256, 30)).save(buffer, "PNG", compress_level=0)
    return buffer.getvalue()


def bomb_zip(path: Path, n: int, side: int = 1000) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for i in range(n):
            archive.writestr(f"b{i}.png", stored_png(i, side))
    return path


def bomb_manifest(path: Path, n: int) -> Path:
    return write_csv(path, [{"id": f"a{i}", "file": f"b{i}.png"} for i in range(n)])


def media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def peak_traced(func) -> tuple[object, int]:
    """func()'s outcome (or the exception it raised) and the peak of Python allocations meanwhile."""
    tracemalloc.start()
    try:
        try:
            outcome = func()
        except Exception as exc:  # noqa: BLE001 - the caller asserts on it
            outcome = exc
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# Totals per import ---------------------------------------------------------------------------------
def test_a_zip_bomb_of_compressible_pngs_is_refused_on_its_total_before_any_is_decoded(study, tmp_path, settings):
    settings.IMPORT_MAX_TOTAL_BYTES = 40 * MB
    archive = bomb_zip(tmp_path / "bomb.zip", 20)  # 20 x 3 MB = 60 MB of PNG in a ZIP of a few hundred kB
    assert archive.stat().st_size < MB and all(i.file_size < settings.IMPORT_MAX_IMAGE_BYTES
                                                for i in zipfile.ZipFile(archive).infolist())
    outcome, peak = peak_traced(lambda: artworks_import(study, bomb_manifest(tmp_path / "m.csv", 20), images=archive))
    assert isinstance(outcome, ImportFailed), outcome
    assert [str(e) for e in outcome.errors] == [
        f"file, field 'images': the images of this import hold {20 * len(stored_png(0)):,} bytes uncompressed, over"
        " the limit of 41,943,040 for one import (IMPORT_MAX_TOTAL_BYTES); import them in parts"]
    assert not Artwork.objects.exists() and media_files(settings) == []
    print(f"\nZIP bomb refused on the total: peak Python allocations {peak / MB:.1f} MiB")
    assert peak < 5 * MB  # sizes from the directory, pixels from headers: no image read whole


def test_too_many_pixels_together_are_refused_from_the_headers(study, tmp_path, settings):
    settings.IMPORT_MAX_TOTAL_PIXELS = 30_000_000
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(10):  # 4 Mpx each, a few kB as a file: under every per-file limit
        Image.new("1", (2000, 2000), i % 2).save(folder / f"b{i}.png", optimize=True)
    with pytest.raises(CommandError) as error:
        call_command("import_artworks", study.slug, "--manifest", str(bomb_manifest(tmp_path / "m.csv", 10)),
                     "--images", str(folder))
    assert ("the images of this import have 40,000,000 pixels together, over the limit of 30,000,000 for one import"
            " (IMPORT_MAX_TOTAL_PIXELS)") in str(error.value)
    assert not Artwork.objects.exists() and media_files(settings) == []


def test_images_within_the_totals_are_stored_one_at_a_time(study, tmp_path, settings):
    n, size = 12, len(stored_png(0))
    archive = bomb_zip(tmp_path / "ok.zip", n)
    outcome, peak = peak_traced(lambda: artworks_import(study, bomb_manifest(tmp_path / "m.csv", n), images=archive))
    assert outcome.created == n and study.artworks.filter(display_image__gt="").count() == n
    print(f"\n{n} images of {size / MB:.1f} MB imported: peak Python allocations {peak / MB:.1f} MiB"
          f" (all their bytes: {n * size / MB:.0f} MiB)")
    assert peak < n * size / 3  # a few images' worth at most, never all of them


def test_a_bad_row_after_stored_images_removes_their_files_and_stores_nothing(study, tmp_path, settings):
    archive = bomb_zip(tmp_path / "ok.zip", 3, side=64)
    manifest = write_csv(tmp_path / "m.csv", [{"id": f"a{i}", "file": f"b{i}.png", "origin": "human"} for i in range(3)]
                         + [{"id": "bad", "file": "b0.png", "origin": "robot"}])
    with pytest.raises(ImportFailed) as error:
        artworks_import(study, manifest, images=archive)
    assert [e.row for e in error.value.errors] == [4]
    assert not Artwork.objects.exists() and media_files(settings) == []


# Error lists capped --------------------------------------------------------------------------------
def bad_rows_csv(n: int, huge_cell: bool = False) -> bytes:
    """n rows each with one error (origin 'robot'); deferred URLs, so no image is fetched."""
    rows = [f"a{i},http://images.example.org/{i}.png,robot" for i in range(n)]
    if huge_cell:
        rows[0] = f"a0,http://images.example.org/0.png,{'x' * MB}"
    return ("id,url,origin\n" + "\n".join(rows) + "\n").encode()


@pytest.fixture
def owner_api(study, owner):
    study.owner = owner
    study.save()
    client = APIClient()
    client.force_authenticate(owner)
    return client


def test_the_api_lists_the_first_1000_errors_and_counts_the_rest_in_a_bounded_answer(owner_api, study, settings):
    settings.IMPORT_ASYNC_ROWS = 10_000
    response = owner_api.post(f"/api/studies/{study.slug}/artworks/",
                              {"manifest": SimpleUploadedFile("m.csv", bad_rows_csv(2500, huge_cell=True)),
                               "defer_download": True}, format="multipart")
    assert response.status_code == 400
    assert len(response.data["errors"]) == 1000 and response.data["errors_total"] == 2500
    assert response.data["errors"][1] == {"row": 2, "field": "origin", "reason": "'robot' is not 'human' or 'ai'"}
    assert response.data["errors"][0]["reason"].endswith("…") and len(response.data["errors"][0]["reason"]) <= 301
    print(f"\n2,500 bad rows (one with a 1 MB cell): a {len(response.content) / 1000:.0f} kB answer")
    assert len(response.content) < 200_000 and not Artwork.objects.exists()


def test_the_command_and_the_page_list_the_first_1000_errors_and_count_the_rest(client, owner, study, tmp_path,
                                                                                settings):
    settings.IMPORT_ASYNC_ROWS = 10_000
    (tmp_path / "m.csv").write_bytes(bad_rows_csv(1500))
    with pytest.raises(CommandError) as error:
        call_command("import_artworks", study.slug, "--manifest", str(tmp_path / "m.csv"), "--defer-download")
    lines = str(error.value).splitlines()
    assert lines[0] == "1500 problem(s); nothing was imported:" and lines[-1].strip() == "... and 500 more"
    assert len(lines) == 1002 and lines[1000].strip() == "row 1000, field 'origin': 'robot' is not 'human' or 'ai'"

    study.owner = owner
    study.save()
    client.force_login(owner)
    response = client.post(reverse("annotations:study_upload", args=[study.slug]),
                           {"which": "artworks", "manifest": SimpleUploadedFile("m.csv", bad_rows_csv(1500)),
                            "defer_download": "on"})
    page = response.content.decode()
    assert response.status_code == 400 and "Nothing was imported: 1500 problems." in page
    assert page.count('class="row-error"') == 1000 and "1500 problems in all: the first 1000 are listed" in page
    assert not Artwork.objects.exists()


# Large uploads run as a task -----------------------------------------------------------------------
def images_zip_upload(n: int) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(n):
            image = io.BytesIO()
            Image.new("RGB", (48, 32), (i * 9 % 256, 100, 200)).save(image, "PNG")
            archive.writestr(f"n{i}.png", image.getvalue())
    return SimpleUploadedFile("images.zip", buffer.getvalue())


def manifest_upload(n: int, origin: str = "human") -> SimpleUploadedFile:
    rows = "".join(f"n{i},n{i}.png,{origin}\n" for i in range(n))
    return SimpleUploadedFile("m.csv", f"id,file,origin\n{rows}".encode())


def test_a_large_upload_answers_202_with_a_job_that_reaches_done_and_stores_the_artworks(
        owner_api, study, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_ASYNC_ROWS = 10
    with django_capture_on_commit_callbacks(execute=True):  # eager tasks: the task runs once the job is committed
        response = owner_api.post(f"/api/studies/{study.slug}/artworks/",
                                  {"manifest": manifest_upload(25), "images": images_zip_upload(25)},
                                  format="multipart")
    assert response.status_code == 202, response.data
    assert response["Location"] == response.data["url"] and response.data["kind"] == "artworks"
    job = owner_api.get(response.data["url"])
    assert job.status_code == 200
    assert (job.data["status"], job.data["rows_done"], job.data["rows_total"]) == ("done", 25, 25)
    assert job.data["result"] == {"created": 25, "notices": [], "skipped": [], "skipped_total": 0}
    assert study.artworks.filter(display_image__gt="").count() == 25
    assert not any((Path(settings.VAR_DIR) / "imports").iterdir()), "the job's files are removed when it ends"


def test_a_large_upload_with_bad_rows_fails_its_job_with_the_errors_capped_and_stores_nothing(
        owner_api, study, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_ASYNC_ROWS = 10
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_api.post(f"/api/studies/{study.slug}/artworks/",
                                  {"manifest": SimpleUploadedFile("m.csv", bad_rows_csv(1200)), "defer_download": True},
                                  format="multipart")
    assert response.status_code == 202
    job = owner_api.get(response.data["url"]).data
    assert job["status"] == "failed" and job["result"] is None
    assert len(job["errors"]) == 1000 and job["errors_total"] == 1200
    assert not Artwork.objects.exists()
    assert not any((Path(settings.VAR_DIR) / "imports").iterdir())


def test_the_upload_page_shows_a_large_import_as_a_job_that_updates_itself(
        client, owner, study, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_ASYNC_ROWS = 10
    study.owner = owner
    study.save()
    client.force_login(owner)
    upload = reverse("annotations:study_upload", args=[study.slug])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(upload, {"which": "artworks", "manifest": manifest_upload(12),
                                        "images": images_zip_upload(12)})
    job = ImportJob.objects.get(study=study)
    assert response.status_code == 302 and response["Location"] == f"{upload}?job={job.pk}"
    page = client.get(response["Location"]).content.decode()
    poll_url = reverse("annotations:study_import_json", args=[study.slug, job.pk])
    assert "Imported 12 artworks." in page and f'data-poll="{poll_url}"' in page
    poll = client.get(reverse("annotations:study_import_json", args=[study.slug, job.pk])).json()
    assert poll["active"] is False and poll["status"] == "done" and "Imported 12 artworks." in poll["html"]
    assert job.created_by == owner and study.artworks.count() == 12

    ImportJob.objects.filter(pk=job.pk).update(status="running", rows_done=5, rows_total=12, finished_at=None)
    poll = client.get(reverse("annotations:study_import_json", args=[study.slug, job.pk])).json()
    assert poll["active"] is True and "Importing: 5 of 12 rows checked." in poll["html"]


def test_another_studys_job_is_not_found(client, owner, outsider, study, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_ASYNC_ROWS = 10
    owner_api = APIClient()
    owner_api.force_authenticate(owner)
    study.owner = owner
    study.save()
    with django_capture_on_commit_callbacks(execute=True):
        url = owner_api.post(f"/api/studies/{study.slug}/artworks/", {"manifest": manifest_upload(12),
                             "images": images_zip_upload(12)}, format="multipart").data["url"]
    other = APIClient()
    other.force_authenticate(outsider)
    assert other.get(url).status_code == 404
    client.force_login(outsider)
    job = ImportJob.objects.get()
    assert client.get(reverse("annotations:study_import_json", args=[study.slug, job.pk])).status_code == 404


# In the production profile: gunicorn, PostgreSQL, Redis and a real worker ----------------------------
def multipart(fields: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = "artalign-test-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
             f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n"
             for name, (filename, data) in fields.items()]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def timed(func) -> tuple[object, float]:
    start = time.monotonic()
    outcome = func()
    return outcome, time.monotonic() - start


@pytest.fixture
def default_worker(transactional_db, settings, tmp_path):
    """A `celery worker` on the default queue sharing the test database, VAR_DIR (tmp_path/var, as
    gunicorn_serving's) and MEDIA_ROOT with the servers this test starts."""
    require(connection.vendor == "postgresql", "the worker shares the test database: set DATABASE_URL to PostgreSQL")
    broker = redis_url()
    env = {**os.environ, "CELERY_BROKER_URL": broker, "DATABASE_URL": server_database_url(),
           "VAR_DIR": str(tmp_path / "var"), "MEDIA_ROOT": str(settings.MEDIA_ROOT)}
    with open(tmp_path / "worker.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default", "-c", "1", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "-l", "info"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log, start_new_session=True)
    try:
        yield broker, process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


@pytest.mark.services
@pytest.mark.alone  # timed: no other test runs meanwhile
def test_participants_are_answered_within_a_second_while_a_worker_imports_a_large_upload(
        study, owner, default_worker, tmp_path, collected_static, settings):
    broker, worker = default_worker
    study_open(study, artworks=4, items_per_session=2, attention_check_rate=0)
    target = study_create(study_template_load("clip-art-perception"), "uploads", owner=owner)
    token = Token.objects.create(user=owner).key
    n = 30  # over IMPORT_ASYNC_ROWS (20): a job for the worker
    images = io.BytesIO()
    with zipfile.ZipFile(images, "w") as archive:
        for i in range(n):  # 1024x768 gradients: quick to send, a real decode and re-encode each
            image = io.BytesIO()
            Image.linear_gradient("L").resize((1024, 768)).convert("RGB").point(lambda v, i=i: (v + i) % 256).save(
                image, "PNG")
            archive.writestr(f"n{i}.png", image.getvalue())
    body, content_type = multipart({"manifest": ("m.csv", manifest_upload(n).read()),
                                    "images": ("images.zip", images.getvalue())})
    latencies, answers, stop = [], [], threading.Event()

    with gunicorn_serving(tmp_path, collected_static, settings.MEDIA_ROOT, workers=2,
                          DATABASE_URL=server_database_url(), CELERY_BROKER_URL=broker, IMPORT_ASYNC_ROWS="20") as base:
        def enter(i: int) -> float:
            start = time.monotonic()
            status, page, _ = Browser(base).request(f"/s/{study.slug}/", params={"PROLIFIC_PID": f"p{i}"})
            answers.append(status == 200 and "Do you agree to take part?" in page)
            return time.monotonic() - start

        def participants():
            i = 0
            while not stop.is_set():
                latencies.append(enter(i))
                i += 1
                time.sleep(0.2)

        # Both web workers answer once before the clock starts: a process's first request loads the
        # views and opens its database connection, which is start-up, not load.
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(enter, range(-4, 0)))
        crowd = threading.Thread(target=participants, daemon=True)
        crowd.start()
        api = Browser(base)
        auth = {"Authorization": f"Token {token}"}
        request = urllib.request.Request(f"{base}/api/studies/{target.slug}/artworks/", data=body, method="POST",
                                         headers={**auth, "Content-Type": content_type})
        (status, answer), upload_s = timed(lambda: (lambda r: (r.status, json.loads(r.read())))(
            urllib.request.urlopen(request, timeout=60)))
        assert status == 202 and answer["status"] in ("queued", "running", "done"), answer
        deadline, job = time.monotonic() + 240, answer
        while job["status"] in ("queued", "running"):
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
            assert time.monotonic() < deadline, f"the import did not finish: {job}"
            time.sleep(0.5)
            status, text, _ = api.request(answer["url"].removeprefix(base), headers=auth)
            job = json.loads(text)
        stop.set()
        crowd.join(timeout=30)

    assert (job["status"], job["rows_done"], job["rows_total"], job["result"]["created"]) == ("done", n, n, n), job
    assert target.artworks.filter(display_image__gt="").count() == n
    assert not any((tmp_path / "var" / "imports").iterdir()), "the job's files are removed when it ends"
    took = (datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(job["created_at"])).total_seconds()
    print(f"\nupload of {len(body) / MB:.1f} MB answered 202 in {upload_s:.2f} s; the worker imported {n} images in"
          f" {took:.1f} s; {len(latencies)} participant requests meanwhile: median"
          f" {statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
    assert len(latencies) >= 5 and all(answers) and max(latencies) < 1.0
