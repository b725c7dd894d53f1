"""The database restarts in the middle of a session (gunicorn, PostgreSQL): nothing accepted is lost.

A restart ends every client connection, which is what pg_terminate_backend does to the server's
kept-open connection here (the shared PostgreSQL itself is not stopped). With connection health
checks (the default) the next request reconnects and the submission succeeds; without them it
gets a 503 that says to send again, and sending again succeeds.
"""
import random

import pytest
from django.db import connection

from annotations.models import Judgement
from bench.load import item_parse
from tests.annotations.crowd_cast import study_open
from tests.conftest import require
from tests.servers import Browser, gunicorn_serving, server_database_url

pytestmark = [pytest.mark.services, pytest.mark.filterwarnings("ignore::ResourceWarning")]


def database_now():
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def terminate_server_connections(since) -> int:
    """Ends the connections opened since `since` (the server's): not the test process's own, which under
    pytest-xdist may include one kept from an earlier test on this worker (a browser test's)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_start >= %s",
                       [since])
        return sum(1 for (killed,) in cursor.fetchall() if killed)


def judge(browser, slug: str, item):
    return browser.request(f"/s/{slug}/judge/", item.form, headers={"X-Requested-With": "fetch"})


@pytest.mark.parametrize("health_checks", ["true", "false"])
def test_after_a_database_restart_the_next_submission_succeeds_or_asks_to_send_again_and_nothing_is_lost(
        transactional_db, study, tmp_path, collected_static, settings, health_checks):
    require(connection.vendor == "postgresql", "the server shares the test database: set DATABASE_URL to PostgreSQL")
    study_open(study, artworks=6, items_per_session=4, attention_check_rate=0)
    rng = random.Random(0)
    started = database_now()
    with gunicorn_serving(tmp_path, collected_static, settings.MEDIA_ROOT, DATABASE_URL=server_database_url(),
                          DB_CONN_MAX_AGE="600", DB_CONN_HEALTH_CHECKS=health_checks) as base:
        browser = Browser(base)
        entry = f"/s/{study.slug}/"
        status, page, _ = browser.request(entry, params={"PROLIFIC_PID": "restart-1"})
        for step, data in (("consent/", {"choice": "agree"}), ("instructions/", {}),
                           ("questionnaire/", {"q-art_training": "none", "q-museum_visits": "never"})):
            token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
            status, page, _ = browser.request(entry + step, {**data, "csrfmiddlewaretoken": token})
            assert status == 200
        accepted = []
        for _ in range(2):
            item = item_parse(page, rng)
            status, page, _ = judge(browser, study.slug, item)
            assert status == 200
            accepted.append(item.artwork)

        assert terminate_server_connections(started) >= 1  # the server's kept connection is gone

        item = item_parse(page, rng)
        status, text, headers = judge(browser, study.slug, item)
        if health_checks == "true":
            assert status == 200
        else:
            assert status == 503 and headers["Retry-After"] == "5"
            assert "database is unavailable for a moment" in text and "send them again" in text
            status, text, _ = judge(browser, study.slug, item)  # the participant sends again
            assert status == 200
        accepted.append(item.artwork)
        status, _, _ = browser.request("/healthz")
        assert status == 200

    stored = Judgement.objects.filter(participant__external_id="restart-1")
    assert sorted(set(stored.values_list("artwork_id", flat=True))) == sorted(accepted)
    assert stored.count() == len(accepted) * study.dimensions.count()
