"""Request rates of the annotator site (DRF's throttle): a participant who sends too fast, or an
address that starts too many sessions, gets 429 with Retry-After and nothing is stored; other
participants, including ones on the same address, go on."""
import logging
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from annotations.crowd import session_next_assignment
from annotations.models import Judgement, Participant
from annotations.throttles import AnnotatorThrottle, throttle_cache_check, throttle_wait
from tests.annotations.crowd_cast import answers_valid, form_data, session_judging_http, study_open
from tests.conftest import require, worker_redis_url
from tests.servers import Browser, gunicorn_serving

ENTRY_STEPS = 3  # consent, instructions, questionnaire (the first entry counts as a new session)


@pytest.fixture
def open_study(study):
    return study_open(study, artworks=8, items_per_session=6, attention_check_rate=0)


def judge(client, study, session, **request):
    assignment = session_next_assignment(session)
    return client.post(reverse("annotations:session_judge", args=[study.slug]),
                       form_data(assignment, answers_valid(session, assignment)), **request)


def entry(client, study, participant: str, **request):
    return client.get(reverse("annotations:session_entry", args=[study.slug]), {"PROLIFIC_PID": participant}, **request)


def stored(session) -> int:
    return Judgement.objects.filter(session=session).count()


def test_a_participant_over_the_rate_gets_429_with_retry_after_and_the_answer_is_not_stored(
        client, open_study, rates, monkeypatch):
    rates(annotator=f"{ENTRY_STEPS + 2}/min")
    session = session_judging_http(client, open_study)
    for _ in range(2):
        assert judge(client, open_study, session, HTTP_X_REQUESTED_WITH="fetch").status_code == 200
    before = stored(session)

    response = judge(client, open_study, session, HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["Content-Type"].startswith("text/plain") and "Please wait" in response.content.decode()
    assert stored(session) == before

    plain = judge(client, open_study, session)  # the page without its script gets a page
    assert plain.status_code == 429 and "Please slow down" in plain.content.decode()

    later = AnnotatorThrottle.timer() + 61
    monkeypatch.setattr(AnnotatorThrottle, "timer", staticmethod(lambda: later))
    assert judge(client, open_study, session, HTTP_X_REQUESTED_WITH="fetch").status_code == 200
    assert stored(session) == before + open_study.dimensions.count()


def test_participants_on_the_same_address_have_a_rate_each(client, open_study, rates):
    rates(annotator=f"{ENTRY_STEPS + 1}/min")
    first = session_judging_http(client, open_study, "lab-1")
    judge(client, open_study, first)
    assert judge(client, open_study, first).status_code == 429

    neighbour, other = Client(), None
    other = session_judging_http(neighbour, open_study, "lab-2")  # same REMOTE_ADDR (127.0.0.1)
    assert judge(neighbour, open_study, other).status_code == 302 and stored(other) > 0


def test_an_address_that_starts_too_many_sessions_is_refused_and_no_participant_is_created(open_study, rates):
    rates(new_session="2/hour")
    first = Client()
    assert entry(first, open_study, "p1").status_code == 200
    assert entry(Client(), open_study, "p2").status_code == 200

    response = entry(Client(), open_study, "p3")
    assert response.status_code == 429 and "Please slow down" in response.content.decode()
    assert 60 < int(response["Retry-After"]) <= 3600 and "minutes" in response.content.decode()
    assert not Participant.objects.filter(external_id="p3").exists()

    assert entry(first, open_study, "p1").status_code == 200  # resuming (in the same browser) is not a new session
    assert entry(Client(), open_study, "p4", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert Participant.objects.count() == 3


def test_behind_one_proxy_the_forwarded_address_counts_and_without_one_a_forged_header_does_not(
        open_study, rates, settings):
    rates(new_session="1/hour")
    forged = {"HTTP_X_FORWARDED_FOR": "203.0.113.1"}
    assert entry(Client(), open_study, "p1", **forged).status_code == 200
    assert entry(Client(), open_study, "p2", HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 429

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    cache.clear()
    assert entry(Client(), open_study, "p3", HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.1").status_code == 200
    assert entry(Client(), open_study, "p4", HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.2").status_code == 200
    assert entry(Client(), open_study, "p5", HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 429


def test_images_count_against_the_participants_rate(client, open_study, rates):
    rates(annotator=f"{ENTRY_STEPS + 1}/min")
    session = session_judging_http(client, open_study)
    image = reverse("annotations:session_image", args=[open_study.slug, session_next_assignment(session).pk])
    assert client.get(image).status_code == 200
    assert client.get(image).status_code == 429


def test_when_the_cache_is_down_participants_are_not_held_up(client, open_study, rates, settings, caplog):
    rates(annotator=f"{ENTRY_STEPS}/min")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:9/0", "OPTIONS": {"socket_connect_timeout": 1}}}
    with caplog.at_level(logging.WARNING, logger="artalign.throttle"):
        session = session_judging_http(client, open_study)
        response = judge(client, open_study, session, HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 200 and stored(session) == open_study.dimensions.count()
    assert "cache unreachable, request let through" in caplog.text


def test_deploy_check_warns_when_rates_are_counted_per_process(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [w.id for w in throttle_cache_check(None)] == ["annotations.W001"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:6379/1"}}
    assert throttle_cache_check(None) == []


@pytest.mark.services
def test_gunicorn_workers_share_one_count_through_redis(transactional_db, study, tmp_path, collected_static, settings):
    """Four worker processes, CACHE_URL on Redis: the participant gets the rate once, not once per worker."""
    from django.db import connection

    from tests.servers import server_database_url

    require(connection.vendor == "postgresql", "the server shares the test database: set DATABASE_URL to PostgreSQL")
    cache_url = worker_redis_url(second=True)  # this worker's, not a broker's: the test empties it
    require(bool(cache_url), "TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/15)")
    settings.CACHES = {"default": {"BACKEND": "config.cache.KeptClientRedisCache", "LOCATION": cache_url}}
    cache.clear()
    study_open(study, artworks=4, items_per_session=2, attention_check_rate=0)
    with gunicorn_serving(tmp_path, collected_static, settings.MEDIA_ROOT, workers=4,
                          DATABASE_URL=server_database_url(), CACHE_URL=cache_url, THROTTLE_ANNOTATOR="5/min") as base:
        browser = Browser(base)
        statuses = [browser.request(f"/s/{study.slug}/", params={"PROLIFIC_PID": "fast"})[0] for _ in range(12)]
    assert statuses == [200] * (1 + 5) + [429] * 6  # the first request is a new session, then 5 a minute
    session_id = Participant.objects.get(external_id="fast").session.pk
    key = cache.make_and_validate_key(f"throttle_annotator_{session_id}.times")
    assert redis.Redis.from_url(cache_url).zcard(key) == 5


def test_on_redis_requests_sent_at_once_are_each_counted_once(settings, rates, monkeypatch):
    """CACHE_URL's cache counts with one atomic script: 30 requests of one session at once, at 10 a
    minute, let exactly 10 through (a read-then-write count lets more through), and the refused
    ones are told to wait until the oldest counted request leaves the minute."""
    cache_url = worker_redis_url(second=True)
    require(bool(cache_url), "TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/15)")
    settings.CACHES = {"default": {"BACKEND": "config.cache.KeptClientRedisCache", "LOCATION": cache_url}}
    cache.clear()
    cache.set("throttle_annotator_session-1", [0.0])  # DRF's count, left from before: not in the way
    rates(annotator="10/min")
    with ThreadPoolExecutor(10) as pool:
        waits = list(pool.map(lambda _: throttle_wait("annotator", None, "session-1"), range(30)))
    refused = [wait for wait in waits if wait is not None]
    assert len(refused) == 20 and all(55 <= wait <= 60 for wait in refused)
    assert throttle_wait("annotator", None, "session-2") is None  # another session has its own count

    later = AnnotatorThrottle.timer() + 61
    monkeypatch.setattr(AnnotatorThrottle, "timer", staticmethod(lambda: later))
    assert throttle_wait("annotator", None, "session-1") is None
