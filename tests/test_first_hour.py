"""The operator's and researcher's first hour without a browser (issue 15): the account command, the
health probe whatever its Host, and the study list's columns. The browser path is
tests/test_first_hour_browser.py."""
import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from annotations.models import Artwork, Judgement, Participant, Session
from annotations.study_list import study_list_rows


def test_health_answers_a_probe_by_ip_or_localhost_and_other_pages_still_check_the_host(client, db, settings):
    settings.ALLOWED_HOSTS = ["artalign.example.org"]
    for host in ("10.0.0.7", "localhost", "10.0.0.7:8000", "[::1]"):
        response = client.get("/healthz", HTTP_HOST=host)
        assert (response.status_code, response.json()) == (200, {"database": "ok"}), host
    assert client.get("/accounts/login/", HTTP_HOST="10.0.0.7").status_code == 400  # host validation elsewhere


@pytest.fixture
def researcher_env(monkeypatch):
    for name in ("RESEARCHER_USERNAME", "RESEARCHER_PASSWORD", "RESEARCHER_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO())  # not a terminal: no prompt
    return monkeypatch


def test_create_researcher_reads_the_environment_and_makes_an_admin_only_when_asked(db, researcher_env):
    researcher_env.setenv("RESEARCHER_USERNAME", "alice")
    researcher_env.setenv("RESEARCHER_PASSWORD", "a-long-Password-42")
    out = io.StringIO()
    call_command("create_researcher", "--email", "alice@example.org", stdout=out)
    alice = get_user_model().objects.get(username="alice")
    assert alice.check_password("a-long-Password-42") and alice.email == "alice@example.org"
    assert not alice.is_staff and not alice.is_superuser and "created researcher 'alice'" in out.getvalue()
    with pytest.raises(CommandError, match="exists already: pass --update"):
        call_command("create_researcher")
    researcher_env.setenv("RESEARCHER_PASSWORD", "another-long-Password-43")
    call_command("create_researcher", "--update", "--admin", stdout=io.StringIO())
    alice.refresh_from_db()
    assert alice.check_password("another-long-Password-43") and alice.is_staff and alice.is_superuser


@pytest.mark.parametrize(("env", "message"), [
    ({}, "no username: pass --username or set RESEARCHER_USERNAME"),
    ({"RESEARCHER_USERNAME": "bob"}, "no password: set RESEARCHER_PASSWORD"),
    ({"RESEARCHER_USERNAME": "bob", "RESEARCHER_PASSWORD": "bob"}, "'bob' not created: .*too short"),
    ({"RESEARCHER_USERNAME": "bob smith", "RESEARCHER_PASSWORD": "a-long-Password-42"}, "'bob smith' not created"),
])
def test_create_researcher_refuses_what_is_missing_or_weak_and_creates_nothing(db, researcher_env, env, message):
    for name, value in env.items():
        researcher_env.setenv(name, value)
    with pytest.raises(CommandError, match=message):
        call_command("create_researcher")
    assert not get_user_model().objects.exists()


def test_the_study_list_counts_artworks_people_the_target_and_last_activity(client, study, owner):
    study.owner, study.target_judgements_per_item = owner, 2
    study.save()
    artworks = [Artwork.objects.create(study=study, external_id=f"a{i}") for i in range(3)]
    dimension = study.dimensions.get(key="origin")
    now = timezone.now()
    for i, phase in enumerate(["completed", "completed", "judging", "consent", "declined"]):
        participant = Participant.objects.create(study=study, external_id=f"p{i}")
        session = Session.objects.create(study=study, participant=participant, phase=phase, seed=i,
                                         completed_at=now if phase == "completed" else None)
        if i < 3:  # three people judge artwork a0, two of them a1: a0 counts up to the target (2)
            for artwork in artworks[:1 if i == 2 else 2]:
                Judgement.objects.create(participant=participant, artwork=artwork, dimension=dimension,
                                         session=session, value="human", created_at=now - timedelta(minutes=i))
    [row] = study_list_rows(type(study).objects.filter(pk=study.pk))
    assert (row["artworks"], row["completed"], row["in_progress"], row["percent"]) == (3, 2, 2, 67)
    assert row["last_activity"] >= now
    client.force_login(owner)
    page = client.get(reverse("annotations:study_list")).content.decode()
    assert "2 / 2" in page and "67%" in page and "2 people per artwork" in page and ">just now</time>" in page
