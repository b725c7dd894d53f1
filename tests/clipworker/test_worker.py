"""A real `celery worker` process on Redis, sharing the test database (PostgreSQL) with the test."""
import os
import subprocess
import sys
import time

import pytest
from django.core.management import call_command
from django.db import connection

from clipworker.model import STAND_IN_NAME
from clipworker.models import ClipRun, Prediction
from clipworker.runs import cliprun_start
from config.celery import app
from tests.conftest import PROJECT_ROOT, require, worker_redis_url
from tests.factories import write_csv, write_image

pytestmark = pytest.mark.services


def redis_url() -> str:
    url = worker_redis_url()
    require(bool(url), "TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/15)")
    import redis

    try:
        redis.Redis.from_url(url).flushdb()  # no stale tasks from an earlier, interrupted run
    except redis.ConnectionError as exc:
        require(False, f"Redis at {url} is not reachable: {exc}")
    return url


def use_broker(url: str, eager: bool) -> None:
    app.conf.update(broker_url=url, task_always_eager=eager)
    app._pool = None  # producers made earlier in this process point at the old broker
    app.amqp._producer_pool = None


@pytest.fixture
def worker(transactional_db, settings, clip_cache, tmp_path):
    require(connection.vendor == "postgresql", "the worker test shares the database: set DATABASE_URL to PostgreSQL")
    broker = redis_url()
    db = connection.settings_dict
    env = {**os.environ, "CELERY_BROKER_URL": broker, "VAR_DIR": str(clip_cache),
           "MEDIA_ROOT": str(settings.MEDIA_ROOT),
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    saved = app.conf.broker_url, app.conf.task_always_eager
    use_broker(broker, eager=False)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = broker
    settings.VAR_DIR = clip_cache
    with open(tmp_path / "worker.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "clip", "-c", "1", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "-l", "info"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log)
        try:
            yield process
        finally:
            process.terminate()
            process.wait(timeout=30)
            use_broker(*saved)


def wait_for(run: ClipRun, worker, timeout: float = 180) -> ClipRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status not in ("queued", "running"):
            return run
        assert worker.poll() is None, "the celery worker exited"
        time.sleep(0.5)
    pytest.fail(f"run did not finish in {timeout}s: {run.done}/{run.total} ({run.status})")


def test_a_real_worker_scores_every_artwork_and_dimension_once_and_a_rerun_adds_none(study, worker, tmp_path, settings):
    folder = tmp_path / "images"
    rows = [{"file": write_image(folder, f"w{i}.png", (30 * i, 90, 200 - 20 * i)).name} for i in range(5)]
    call_command("import_artworks", study.slug, "--manifest", str(write_csv(tmp_path / "m.csv", rows)),
                 "--images", str(folder))
    settings.CLIP_TASK_ARTWORKS = 2  # three tasks for five artworks
    run = wait_for(cliprun_start(study, STAND_IN_NAME), worker)
    assert (run.status, run.done, run.failed, run.is_stand_in) == ("done", 5, 0, True), list(
        run.failures.values_list("reason", flat=True))
    pairs = list(Prediction.objects.values_list("artwork", "dimension"))
    assert len(pairs) == len(set(pairs)) == 5 * 7
    rerun = wait_for(cliprun_start(study, STAND_IN_NAME), worker)
    assert rerun.status == "done" and Prediction.objects.count() == 5 * 7
