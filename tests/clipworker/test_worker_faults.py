"""CLIP runs when things go wrong: a worker killed mid-run, two workers sharing a run, the broker down.

Real `celery worker` processes on Redis share the test database (PostgreSQL) with the test, as in
test_worker.py; the stand-in CLIP keeps a batch cheap. A worker lost with its tasks unacknowledged
(tasks are acks_late) leaves them with Redis, which hands them out again after the visibility
timeout: 3 s here (CELERY_VISIBILITY_TIMEOUT), checked every second (CELERY_RESTORE_INTERVAL).
"""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from clipworker.model import STAND_IN_NAME
from clipworker.models import ClipRun, Embedding, Prediction
from clipworker.runs import BrokerUnavailable, cliprun_start
from config.celery import app
from tests.clipworker.test_services import add_deferred_url, break_a_prompt
from tests.clipworker.test_worker import redis_url, use_broker, wait_for
from tests.conftest import PROJECT_ROOT, require
from tests.factories import write_csv, write_image
from tests.servers import not_http_serving

VISIBILITY_TIMEOUT_S = 3


class Workers:
    """Starts `celery worker` processes on the clip queue, each in its own process group."""

    def __init__(self, broker: str, settings, clip_cache: Path, logs: Path):
        db = connection.settings_dict
        self.env = {**os.environ, "CELERY_BROKER_URL": broker, "VAR_DIR": str(clip_cache),
                    "MEDIA_ROOT": str(settings.MEDIA_ROOT), "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT_S),
                    "CELERY_RESTORE_INTERVAL": "1",
                    "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
        self.logs = logs
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str, **env) -> subprocess.Popen:
        log = (self.logs / f"{name}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "clip", "-c", "1", "-n", f"{name}@%h",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"],
            cwd=PROJECT_ROOT, env={**self.env, **env}, stdout=log, stderr=log, start_new_session=True)
        self.processes[name] = process
        return process

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text()

    def wait_ready(self, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while "ready." not in self.log(name):
            assert self.processes[name].poll() is None, f"worker {name} exited:\n{self.log(name)[-2000:]}"
            assert time.monotonic() < deadline, f"worker {name} not ready in {timeout}s"
            time.sleep(0.2)

    def wait_consuming(self, broker_url: str, n: int, timeout: float = 30) -> None:
        """Until n workers are blocked waiting for a task (BRPOP): each then takes one when a run starts."""
        import redis

        client = redis.Redis.from_url(broker_url)
        db = client.connection_pool.connection_kwargs.get("db", 0)
        deadline = time.monotonic() + timeout
        while sum("b" in c.get("flags", "") and int(c.get("db", -1)) == db for c in client.client_list()) < n:
            assert time.monotonic() < deadline, f"fewer than {n} workers waiting for tasks"
            time.sleep(0.1)

    def kill(self, name: str) -> None:
        """SIGKILL the worker and its pool child at once, as if its machine were gone."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def workers(transactional_db, settings, clip_cache, tmp_path):
    require(connection.vendor == "postgresql", "the worker tests share the database: set DATABASE_URL to PostgreSQL")
    broker = redis_url()
    saved = app.conf.broker_url, app.conf.task_always_eager
    use_broker(broker, eager=False)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = broker
    settings.VAR_DIR = clip_cache
    pool = Workers(broker, settings, clip_cache, tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()
        use_broker(*saved)


def add_artworks(study, tmp_path, n: int) -> None:
    folder = tmp_path / "images"
    rows = [{"file": write_image(folder, f"f{i}.png", (25 * i, 120, 230 - 20 * i), (70 + 6 * i, 60)).name}
            for i in range(n)]
    call_command("import_artworks", study.slug, "--manifest", str(write_csv(tmp_path / "m.csv", rows)),
                 "--images", str(folder))


def predictions(run_model: str = STAND_IN_NAME) -> dict:
    return {(artwork, dim): (label, probs) for artwork, dim, label, probs in Prediction.objects.filter(
        model_name=run_model).values_list("artwork__external_id", "dimension__key", "label", "probs")}


def assert_no_two_predictions_per_artwork_dimension_model() -> None:
    keys = list(Prediction.objects.values_list("artwork", "dimension", "model_name", "method"))
    assert len(keys) == len(set(keys))


def test_a_run_completes_when_its_worker_is_killed_mid_batch(study, workers, tmp_path, settings):
    import redis

    add_artworks(study, tmp_path, 6)
    settings.CLIP_TASK_ARTWORKS = 2  # three batches
    workers.start("doomed")
    workers.wait_ready("doomed")
    run = cliprun_start(study, STAND_IN_NAME)
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    deadline = time.monotonic() + 60
    while not broker.hlen("unacked"):  # the worker has taken a batch and not acknowledged it
        assert time.monotonic() < deadline, workers.log("doomed")[-2000:]
        time.sleep(0.02)
    workers.kill("doomed")
    run.refresh_from_db()
    assert run.status in ("queued", "running") and run.done < run.total  # killed mid-run
    workers.start("rescuer")
    run = wait_for(run, workers.processes["rescuer"], timeout=120)
    assert (run.status, run.done, run.failed) == ("done", 6, 0), workers.log("rescuer")[-3000:]
    assert Prediction.objects.count() == 6 * study.dimensions.count()
    assert_no_two_predictions_per_artwork_dimension_model()
    assert Embedding.objects.count() == 6


def test_two_workers_split_a_run_and_give_the_same_predictions_as_one(study, workers, tmp_path, settings):
    add_artworks(study, tmp_path, 6)
    settings.CLIP_TASK_ARTWORKS = 1  # six batches of one artwork: the same batches either way
    # No worker is lost here: a long visibility timeout keeps a batch with the worker that took it,
    # however long a cold worker takes to load the model for its first one.
    patient = {"CELERY_VISIBILITY_TIMEOUT": "600"}
    workers.start("first", **patient)
    workers.wait_ready("first")
    one = wait_for(cliprun_start(study, STAND_IN_NAME), workers.processes["first"])
    assert (one.status, one.done) == ("done", 6)
    alone = predictions()
    Prediction.objects.all().delete()
    Embedding.objects.all().delete()  # the second run embeds every image again

    workers.start("second", **patient)
    workers.wait_ready("second")
    workers.wait_consuming(settings.CELERY_BROKER_URL, 2)
    before = {name: workers.log(name).count("succeeded in") for name in ("first", "second")}
    two = wait_for(cliprun_start(study, STAND_IN_NAME), workers.processes["second"])
    assert (two.status, two.done) == ("done", 6)
    shares = {name: workers.log(name).count("succeeded in") - before[name] for name in ("first", "second")}
    assert sum(shares.values()) >= 6 and all(shares.values()), shares  # both took batches of the run
    together = predictions()
    assert together.keys() == alone.keys() and len(alone) == 6 * study.dimensions.count()
    for key, (label, probs) in alone.items():
        assert together[key][0] == label, key
        assert together[key][1] == pytest.approx(probs, abs=1e-5), key
    assert_no_two_predictions_per_artwork_dimension_model()


def test_a_real_worker_fails_only_the_artwork_whose_server_does_not_speak_http_and_fails_a_run_that_raises(
        study, workers, tmp_path, settings):
    add_artworks(study, tmp_path, 3)
    # No worker is lost here: the default visibility timeout. The server is on loopback: allowed.
    workers.start("fetcher", CELERY_VISIBILITY_TIMEOUT="1800", FETCH_ALLOW_HOSTS="127.0.0.1")
    workers.wait_ready("fetcher")
    with not_http_serving() as base:
        bad = add_deferred_url(study, tmp_path, f"{base}/late.png")
        run = wait_for(cliprun_start(study, STAND_IN_NAME), workers.processes["fetcher"])
    assert (run.status, run.done, run.failed) == ("done", 3, 1), workers.log("fetcher")[-3000:]
    assert run.failures.get().artwork == bad and "fetch" in run.failures.get().reason
    assert Prediction.objects.exclude(artwork=bad).count() == 3 * study.dimensions.count()

    break_a_prompt(study)
    Prediction.objects.all().delete()  # the embeddings stay: the next run only scores
    run = wait_for(cliprun_start(study, STAND_IN_NAME), workers.processes["fetcher"])
    assert run.status == "failed" and run.error == "a batch failed: KeyError: 'nonsense'"
    assert f"CLIP run {run.pk} failed" in workers.log("fetcher") and "Traceback" in workers.log("fetcher")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def broker_down(settings, db):
    """CELERY_BROKER_URL points at a port nothing listens on."""
    url = f"redis://127.0.0.1:{closed_port()}/0"
    saved = app.conf.broker_url, app.conf.task_always_eager
    use_broker(url, eager=False)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = url
    yield url
    use_broker(*saved)


def test_starting_a_run_with_the_broker_down_fails_within_seconds_and_leaves_no_run(study, broker_down, tmp_path,
                                                                                      settings, clip_cache):
    settings.VAR_DIR = clip_cache
    add_artworks(study, tmp_path, 2)
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable, match="cannot queue the CLIP run: the broker at redis://127.0.0.1:"):
        cliprun_start(study, STAND_IN_NAME)
    assert time.monotonic() - started < 15
    assert not ClipRun.objects.exists()
    with pytest.raises(CommandError, match="did not accept it"):
        call_command("run_clip", study.slug, "--model", STAND_IN_NAME, "--no-wait")
    assert not ClipRun.objects.exists()
