"""Failures are written down: with DEBUG off a view that raises logs its traceback to stderr with the
request's id (the X-Request-ID its answer carried); Celery tasks log failures through the same
configuration and every task has time limits; gunicorn's control socket is off unless named."""
import os
import secrets
import subprocess
import sys

from django.urls import path

from config.celery import app
from tests.conftest import PROJECT_ROOT


def broken_view(request):
    raise RuntimeError("the view broke on purpose")


urlpatterns = [path("broken/", broken_view)]  # the URLconf of the subprocess below (ROOT_URLCONF)

REQUEST_IN_PRODUCTION = """
import django
django.setup()
from django.test import Client, override_settings
with override_settings(ROOT_URLCONF="tests.test_logging"):
    response = Client(raise_request_exception=False).get("/broken/")
print(response.status_code, response["X-Request-ID"])
"""


def production_process(code: str, tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE",
                                                              "LOG_LEVEL", "DATABASE_URL")}
    return subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
                          env={**clean, "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50),
                               "VAR_DIR": str(tmp_path), "STATIC_ROOT": str(tmp_path / "static"),
                               "SECURE_SSL_REDIRECT": "false",
                               "ALLOWED_HOSTS": "testserver", "DJANGO_SETTINGS_MODULE": "config.settings", **env})


def test_with_debug_off_a_failing_view_writes_its_traceback_with_the_request_id_to_stderr(tmp_path):
    result = production_process(REQUEST_IN_PRODUCTION, tmp_path)
    status, request_id = result.stdout.split()
    assert status == "500"
    error = next(line for line in result.stderr.splitlines() if "ERROR django.request" in line)
    assert f"[{request_id}]" in error and "Internal Server Error: /broken/" in error
    assert "Traceback (most recent call last)" in result.stderr
    assert 'raise RuntimeError("the view broke on purpose")' in result.stderr


FAILING_TASK = """
import django
django.setup()
from config.celery import app

@app.task(name="tests.fails")
def fails():
    raise ValueError("the task broke on purpose")

app.conf.task_eager_propagates = False
print(fails.apply(task_id="task-0123").id)
"""


def test_a_failing_task_is_logged_with_its_traceback_and_task_id(tmp_path):
    result = production_process(FAILING_TASK, tmp_path)
    assert result.stdout.strip() == "task-0123", result.stderr
    error = next(line for line in result.stderr.splitlines() if "ERROR celery.app.trace" in line)
    assert "[task-0123]" in error and "tests.fails" in error
    assert "ValueError: the task broke on purpose" in result.stderr and "Traceback" in result.stderr


def test_every_registered_task_has_a_soft_and_a_hard_time_limit():
    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert "clipworker.tasks.score_batch" in ours
    for name, task in ours.items():
        soft = task.soft_time_limit or app.conf.task_soft_time_limit
        hard = task.time_limit or app.conf.task_time_limit
        assert soft and hard and soft < hard, name
        assert hard < app.conf.broker_transport_options["visibility_timeout"], name


def test_gunicorn_has_no_shared_control_socket_unless_one_is_named():
    code = ("from gunicorn.config import Config; import runpy; c = Config(); "
            "[c.set(k, v) for k, v in runpy.run_path('config/gunicorn.conf.py').items() if k in c.settings]; "
            "print(c.control_socket_disable, c.control_socket)")
    clean = {k: v for k, v in os.environ.items() if k != "GUNICORN_CONTROL_SOCKET"}

    def run(**env: str) -> list[str]:
        return subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                              env={**clean, **env}, check=True).stdout.split()

    assert run()[0] == "True"
    assert run(GUNICORN_CONTROL_SOCKET="/run/artalign/a.ctl") == ["False", "/run/artalign/a.ctl"]
