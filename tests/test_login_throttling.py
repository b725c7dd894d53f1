"""Login throttling (django-axes): wrong passwords lock out an address and a username on the site
login, the admin login and the API's token endpoint; a locked-out login is refused without checking
the password (429, Retry-After) until the cool-off; participants' pages keep answering meanwhile."""
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.urls import reverse
from rest_framework.test import APIClient

from tests.annotations.crowd_cast import study_open

TOKEN = "/api/auth/token/"


@pytest.fixture
def limits(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(seconds=60)
    return settings


def cool_off_passes(limits) -> None:
    """The clock moves on past the cool-off: the recorded failures become that much older."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - limits.AXES_COOLOFF_TIME - timedelta(seconds=1))


def token_request(password: str, username: str = "owner", address: str = "203.0.113.7"):
    return APIClient().post(TOKEN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_wrong_token_requests_lock_out_until_the_cool_off_while_participants_are_served(limits, owner, study, client):
    study_open(study, artworks=2)
    # The third failure reaches the limit: its own answer already says so.
    assert [token_request("wrong").status_code for _ in range(3)] == [400, 400, 429]

    refused = token_request("owner-pass-1")  # the right password, from the locked-out address
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert "Too many failed logins" in refused.json()["detail"] and "token" not in refused.json()

    participant = client.get(reverse("annotations:session_entry", args=[study.slug]), {"PROLIFIC_PID": "p1"},
                             REMOTE_ADDR="203.0.113.7")
    assert participant.status_code == 200

    assert token_request("owner-pass-1").status_code == 429  # still locked a moment later
    cool_off_passes(limits)
    assert token_request("owner-pass-1").json()["token"]


def test_a_username_is_locked_out_from_every_address(limits, owner):
    for i in range(3):
        token_request("wrong", address=f"198.51.100.{i}")
    assert token_request("owner-pass-1", address="198.51.100.99").status_code == 429
    # Another user from a fresh address is not affected.
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("other", password="other-pass-1")
    assert token_request("other-pass-1", username="other", address="198.51.100.98").status_code == 200


def test_an_address_is_locked_out_for_every_username(limits, owner):
    for name in ("alice", "bob", "carol"):
        token_request("wrong", username=name)
    assert token_request("owner-pass-1").status_code == 429
    assert token_request("owner-pass-1", address="192.0.2.1").status_code == 200


@pytest.mark.parametrize("login_url", ["/accounts/login/", "/admin/login/"])
def test_the_login_pages_lock_out_with_a_clear_message(limits, owner, client, login_url):
    for _ in range(2):
        page = client.post(login_url, {"username": "owner", "password": "wrong"})
        assert page.status_code == 200  # the form again, with Django's own message
    assert client.post(login_url, {"username": "owner", "password": "wrong"}).status_code == 429
    locked = client.post(login_url, {"username": "owner", "password": "owner-pass-1"})
    assert locked.status_code == 429 and locked["Retry-After"] == "60"
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session
