"""The production profile: DEBUG off, HTTPS-only cookies and redirects, static files from the app,
a health endpoint, and a cap on request bodies."""
import json
import os
import secrets
import subprocess
import sys

import pytest
from django.db import connection
from django.urls import reverse

from annotations.crowd import session_next_assignment
from annotations.models import Judgement
from config.celery import app
from tests.annotations.crowd_cast import answers_valid, form_data, session_judging_http, study_open
from tests.clipworker.test_worker import redis_url, use_broker
from tests.clipworker.test_worker_faults import closed_port
from tests.conftest import PROJECT_ROOT, require
from tests.servers import Browser, gunicorn_serving, server_database_url

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def production_env(tmp_path, **extra) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "CELERY_BROKER_URL", "CACHE_URL")}
    return {**clean, "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "artalign.example.org",
            "VAR_DIR": str(tmp_path), **extra}


def settings_of(tmp_path, names: list[str], **env) -> dict:
    code = (f"import json, config.settings as s; "
            f"print(json.dumps({{n: getattr(s, n, None) for n in {names!r}}}, default=str))")
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=production_env(tmp_path, **env),
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def check_deploy(tmp_path, **env) -> str:
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=PROJECT_ROOT,
                            env=production_env(tmp_path, **env), capture_output=True, text=True)
    return result.stdout + result.stderr


def test_check_deploy_finds_no_security_issue_in_the_production_profile(tmp_path):
    printed = check_deploy(tmp_path)
    assert "(security." not in printed, printed


def test_check_deploy_warns_until_web_processes_share_the_request_counts(tmp_path):
    per_process = check_deploy(tmp_path)
    assert "annotations.W001" in per_process and "CACHE_URL=redis://" in per_process
    assert "System check identified no issues" in check_deploy(tmp_path, CACHE_URL="redis://127.0.0.1:6379/1")


def test_with_debug_off_cookies_are_secure_and_http_only_and_http_redirects_to_https(tmp_path):
    values = settings_of(tmp_path, ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
                                    "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "MIDDLEWARE", "STORAGES"])
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"] and values["SESSION_COOKIE_HTTPONLY"]
    assert values["SECURE_SSL_REDIRECT"] and values["SECURE_HSTS_SECONDS"] >= 3600
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in values["MIDDLEWARE"]
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_the_https_redirect_can_be_turned_off_for_a_plain_http_test_on_loopback(tmp_path):
    values = settings_of(tmp_path, ["SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE"], SECURE_SSL_REDIRECT="false")
    assert values == {"SECURE_SSL_REDIRECT": False, "SESSION_COOKIE_SECURE": True}


def test_secrets_come_from_the_environment_only(tmp_path):
    values = settings_of(tmp_path, ["SECRET_KEY"], SECRET_KEY="from-the-environment-" + "x" * 40)
    assert values["SECRET_KEY"] == "from-the-environment-" + "x" * 40
    source = (PROJECT_ROOT / "config" / "settings.py").read_text()
    assert "insecure-development-key" in source  # the one literal key: refused when DEBUG is off
    result = subprocess.run([sys.executable, "-c", "import config.settings"], cwd=PROJECT_ROOT,
                            env={k: v for k, v in production_env(tmp_path).items() if k != "SECRET_KEY"},
                            capture_output=True, text=True)
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


# The health endpoint ---------------------------------------------------------------------------------
def test_health_says_ok_for_the_database_when_tasks_run_in_process(client, db):
    response = client.get(reverse("health"))
    assert response.status_code == 200 and response.json() == {"database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def health_with_broker(client, settings, url: str):
    """GET /healthz while this process is configured for the broker at `url` (then back)."""
    saved = app.conf.broker_url, app.conf.task_always_eager
    settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER = url, False
    use_broker(url, eager=False)
    try:
        return client.get(reverse("health"))
    finally:
        use_broker(*saved)


def test_health_is_503_naming_the_broker_when_the_broker_is_down(client, db, settings):
    response = health_with_broker(client, settings, f"redis://127.0.0.1:{closed_port()}/0")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "broker": "unavailable", "failed": ["broker"]}
    assert "127.0.0.1" not in response.content.decode()  # reasons go to the log, not to the public


@pytest.mark.services
def test_health_checks_a_reachable_broker(client, db, settings):
    response = health_with_broker(client, settings, redis_url())
    assert response.status_code == 200 and response.json() == {"database": "ok", "broker": "ok"}


def test_health_is_503_naming_the_database_when_it_cannot_be_reached(tmp_path, collected_static):
    with gunicorn_serving(tmp_path, collected_static, tmp_path / "media", healthy=False,
                          DATABASE_URL=f"postgres://nobody@127.0.0.1:{closed_port()}/nothing") as base:
        status, body, _ = Browser(base).request("/healthz")
    assert status == 503 and json.loads(body) == {"database": "unavailable", "failed": ["database"]}


# Request bodies --------------------------------------------------------------------------------------
def test_a_request_body_over_the_limit_is_refused_before_it_is_read(client, db, settings):
    settings.REQUEST_MAX_BYTES = 10_000
    response = client.post(reverse("login"), {"username": "x", "password": "y" * 20_000})
    assert response.status_code == 413 and b"too large" in response.content


def test_a_form_field_over_the_memory_limit_is_refused_and_nothing_is_stored(client, study, settings):
    study_open(study, artworks=4, items_per_session=2, attention_check_rate=0)
    session = session_judging_http(client, study)
    assignment = session_next_assignment(session)
    data = form_data(assignment, answers_valid(session, assignment))
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50_000
    judge = reverse("annotations:session_judge", args=[study.slug])
    response = client.post(judge, {**data, "note": "x" * 100_000}, HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 400 and not Judgement.objects.exists()
    assert client.post(judge, data, HTTP_X_REQUESTED_WITH="fetch").status_code == 200  # the same answers, normal size
    assert Judgement.objects.filter(session=session).count() == study.dimensions.count()


# The whole profile behind gunicorn --------------------------------------------------------------------
@pytest.mark.services
def test_gunicorn_serves_the_production_profile_https_only_with_static_files_and_health(
        transactional_db, study, tmp_path, collected_static, settings):
    require(connection.vendor == "postgresql", "the server shares the test database: set DATABASE_URL to PostgreSQL")
    study_open(study, artworks=2, items_per_session=2, attention_check_rate=0)
    with gunicorn_serving(tmp_path, collected_static, settings.MEDIA_ROOT, DATABASE_URL=server_database_url(),
                          SECURE_SSL_REDIRECT="true", SESSION_COOKIE_SECURE="true", CSRF_COOKIE_SECURE="true",
                          SECURE_PROXY_SSL_HEADER="true") as base:
        plain = Browser(base, follow=False)
        status, _, headers = plain.request(f"/s/{study.slug}/", params={"PROLIFIC_PID": "p1"})
        assert status == 301 and headers["Location"].startswith("https://")
        assert plain.request("/healthz")[0] == 200  # load balancers probe over plain HTTP

        https = {"X-Forwarded-Proto": "https"}  # as the TLS-terminating proxy says
        status, page, headers = plain.request(f"/s/{study.slug}/", params={"PROLIFIC_PID": "p1"}, headers=https)
        assert status == 200 and "Do you agree to take part?" in page
        assert "max-age=" in headers["Strict-Transport-Security"]
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
        cookies = headers.get_all("Set-Cookie")
        assert cookies and all("Secure" in c for c in cookies)
        assert any(c.startswith("artalign_s") and "HttpOnly" in c for c in cookies)

        css = next(part.split('"')[0] for part in page.split('href="')[1:] if part.startswith("/static/"))
        assert ".css" in css and css != "/static/annotations/session.css"  # hashed name from the manifest
        status, body, headers = plain.request(css, headers=https)
        assert status == 200 and "max-age=315360000" in headers["Cache-Control"] and body
