import os
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT


def settings_in_subprocess(**env) -> subprocess.CompletedProcess:
    """Import the settings module fresh, with exactly these environment variables set."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DEBUG", "SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL")}
    code = "import config.settings as s; print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER)"
    return subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env={**clean, **env},
                          capture_output=True, text=True)


def test_the_embedded_default_is_sqlite_with_eager_celery(tmp_path):
    result = settings_in_subprocess(VAR_DIR=str(tmp_path), DEBUG="true")
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True"]


def test_debug_is_off_unless_set_so_an_unset_environment_needs_a_secret_key(tmp_path):
    result = settings_in_subprocess(VAR_DIR=str(tmp_path))
    assert result.returncode != 0 and "SECRET_KEY must be set when DEBUG is off" in result.stderr
    code = "import config.settings as s; print(s.DEBUG, s.SECURE_SSL_REDIRECT)"
    clean = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    keyed = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                           env={**clean, "VAR_DIR": str(tmp_path), "SECRET_KEY": "k" * 50})
    assert keyed.stdout.split() == ["False", "True"]


def test_make_demo_runs_with_debug_on():
    clean = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    rules = subprocess.run(["make", "-n", "-p", "demo"], cwd=PROJECT_ROOT, env=clean, capture_output=True, text=True)
    assert "demo: DEBUG = true" in rules.stdout.splitlines()


def test_database_and_broker_urls_select_postgresql_and_a_real_queue(tmp_path):
    result = settings_in_subprocess(VAR_DIR=str(tmp_path), DEBUG="true", DATABASE_URL="postgres://u@127.0.0.1:5432/db",
                                    CELERY_BROKER_URL="redis://127.0.0.1:6379/0")
    assert result.stdout.split() == ["django.db.backends.postgresql", "False"]


@pytest.mark.parametrize("env, message", [
    ({"DEBUG": "false"}, "SECRET_KEY must be set when DEBUG is off"),
    ({"DEBUG": "maybe"}, "DEBUG='maybe'"),
    ({"THROTTLE_ANNOTATOR": "fast"}, "THROTTLE_ANNOTATOR='fast': expected a rate such as 120/min"),
    ({"CACHE_URL": "memcached://127.0.0.1:11211"}, "CACHE_URL='memcached://127.0.0.1:11211': expected a Redis URL"),
    ({"LOG_LEVEL": "loud"}, "LOG_LEVEL='LOUD': expected DEBUG, INFO"),
    ({"CELERY_TASK_TIME_LIMIT": "1000"},
     "CELERY_TASK_SOFT_TIME_LIMIT=1500, CELERY_TASK_TIME_LIMIT=1000: expected 0 < soft < hard"),
])
def test_a_bad_or_missing_setting_fails_loudly_naming_the_variable(tmp_path, env, message):
    result = settings_in_subprocess(VAR_DIR=str(tmp_path), **{"DEBUG": "true", **env})
    assert result.returncode != 0 and message in result.stderr


def test_a_hard_time_limit_over_the_visibility_timeout_is_a_deploy_warning(settings):
    from clipworker.checks import time_limit_check

    assert time_limit_check(None) == []
    settings.CELERY_TASK_TIME_LIMIT = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert [w.id for w in time_limit_check(None)] == ["clipworker.W001"]
