"""Computing a report from the dashboard in real headless Chromium with a real `celery worker`: the
button returns at once (the job waits in the broker: no worker runs yet), the page shows the job
queued and polls it; once a worker is started the task stores the report and the page shows it by
itself, without the researcher reloading."""
import os
import subprocess
import sys
import time

import pytest
from django.db import connection

from alignment.models import Report, ReportJob
from tests.clipworker.test_worker import redis_url, use_broker
from tests.conftest import PROJECT_ROOT, perception_study, require, researcher
from tests.researcher_cast import aligned_study
from tests.servers import server_database_url

pytestmark = [pytest.mark.browser, pytest.mark.services]


@pytest.fixture
def broker(transactional_db, settings):
    """Tasks go to Redis (TEST_REDIS_URL) instead of running inside the request."""
    require(connection.vendor == "postgresql", "the worker shares the test database: set DATABASE_URL to PostgreSQL")
    url = redis_url()
    saved = settings.CELERY_TASK_ALWAYS_EAGER, settings.CELERY_BROKER_URL
    from config.celery import app

    before = app.conf.broker_url, app.conf.task_always_eager
    use_broker(url, eager=False)
    settings.CELERY_TASK_ALWAYS_EAGER, settings.CELERY_BROKER_URL = False, url
    yield url
    use_broker(*before)
    settings.CELERY_TASK_ALWAYS_EAGER, settings.CELERY_BROKER_URL = saved


def worker_start(url: str, log_path) -> subprocess.Popen:
    env = {**os.environ, "CELERY_BROKER_URL": url, "DATABASE_URL": server_database_url()}
    with open(log_path, "w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default", "-c", "1", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "-l", "info"], cwd=PROJECT_ROOT, env=env, stdout=log,
            stderr=subprocess.STDOUT)


def test_computing_a_report_returns_at_once_and_the_report_appears_when_the_task_finishes(
        chromium, live_server, broker, settings, tmp_path, shots):
    settings.MEDIA_ROOT = tmp_path / "media"
    study = perception_study()
    study.owner = researcher("owner")
    study.save()
    aligned_study(study, tmp_path, n=6, predictions=False)
    page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("owner")
    page.get_by_label("Password").fill("owner-pass-1")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Studies").wait_for()
    page.goto(f"{live_server.url}/studies/{study.slug}/alignment/")
    page.get_by_text("No report yet").wait_for()

    started = time.monotonic()
    page.get_by_role("button", name="Compute report").click()
    status = page.locator("#report-job-status")
    status.wait_for()
    answered_s = time.monotonic() - started
    assert status.inner_text() == "queued" and answered_s < 5, answered_s
    assert not Report.objects.exists() and page.locator("#report-meta").count() == 0
    shots.take(page, "report-queued.png", full_page=True)

    worker = worker_start(broker, tmp_path / "worker.log")
    try:
        page.locator("#report-meta").wait_for(timeout=90_000)  # the panel polled, saw it done, reloaded
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    job = ReportJob.objects.get()
    report = Report.objects.get()
    assert job.status == "done" and job.report == report and job.started_at is not None
    assert f"Report {report.pk}" in page.locator("#report-meta").inner_text()
    assert page.locator("#report-job").count() == 0 and errors == []
    shots.take(page, "report-done.png", full_page=True)
