import os
import subprocess
import sys

import pytest

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


@pytest.mark.parametrize("env, message", [
    ({"DEBUG": "false"}, "SECRET_KEY must be set when DEBUG is off"),
    ({"DEBUG": "maybe"}, "DEBUG='maybe'"),
    ({"THROTTLE_ANNOTATOR": "fast"}, "THROTTLE_ANNOTATOR='fast': expected a rate such as 120/min"),
    ({"CACHE_URL": "memcached://127.0.0.1:11211"}, "CACHE_URL='memcached://127.0.0.1:11211': expected a Redis URL"),
])
def test_a_bad_or_missing_setting_fails_loudly_naming_the_variable(tmp_path, env, message):
    result = settings_in_subprocess(VAR_DIR=str(tmp_path), **env)
    assert result.returncode != 0 and message in result.stderr
