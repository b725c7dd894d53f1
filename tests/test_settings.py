import os
import subprocess
import sys

from tests.conftest import PROJECT_ROOT


def settings_in_subprocess(**env) -> subprocess.CompletedProcess:
    """Import the settings module fresh, with exactly these environment variables set."""
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL")}
    code = "import config.settings as s; print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER)"
    return subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env={**clean, **env},
                          capture_output=True, text=True)


def test_the_embedded_default_is_sqlite_with_eager_celery(tmp_path):
    result = settings_in_subprocess(VAR_DIR=str(tmp_path))
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True"]


def test_database_and_broker_urls_select_postgresql_and_a_real_queue(tmp_path):
    result = settings_in_subprocess(VAR_DIR=str(tmp_path), DATABASE_URL="postgres://u@127.0.0.1:5432/db",
                                    CELERY_BROKER_URL="redis://127.0.0.1:6379/0")
    assert result.stdout.split() == ["django.db.backends.postgresql", "False"]


def test_secret_key_is_required_when_debug_is_off(tmp_path):
    result = settings_in_subprocess(VAR_DIR=str(tmp_path), DEBUG="false")
    assert result.returncode != 0 and "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_a_bad_boolean_fails_loudly_naming_the_variable(tmp_path):
    result = settings_in_subprocess(VAR_DIR=str(tmp_path), DEBUG="maybe")
    assert result.returncode != 0 and "DEBUG='maybe'" in result.stderr


def test_a_bad_request_rate_fails_loudly_naming_the_variable(tmp_path):
    result = settings_in_subprocess(VAR_DIR=str(tmp_path), THROTTLE_ANNOTATOR="fast")
    assert result.returncode != 0 and "THROTTLE_ANNOTATOR='fast': expected a rate such as 120/min" in result.stderr


def test_a_cache_url_that_is_not_redis_fails_loudly(tmp_path):
    result = settings_in_subprocess(VAR_DIR=str(tmp_path), CACHE_URL="memcached://127.0.0.1:11211")
    assert result.returncode != 0 and "CACHE_URL='memcached://127.0.0.1:11211': expected a Redis URL" in result.stderr
