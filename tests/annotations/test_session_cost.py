"""What one submission from the judging page costs the database, and the browser's session cookie.

The judging page sends one request per artwork; its cost sets how many annotators a server takes
(`python -m bench.load` measures it). The count below is of statements sent, savepoints
included (the test runs inside a transaction; in production those two are BEGIN and COMMIT).
"""
from django.urls import reverse

from annotations import crowd
from annotations.crowd import session_next_assignment
from annotations.crowd_views import COOKIE_PREFIX
from annotations.models import Assignment, Judgement
from tests.annotations.crowd_cast import answers_valid, form_data, session_judging_http, study_open

# Per submission: the session (with its study), the study's dimensions, the session's lock, its
# assignments, the judgements (one insert), the assignment done, the next one served: 7, plus the
# transaction's savepoint and its release.
MAX_QUERIES_PER_SUBMISSION = 9


def test_a_submission_from_the_judging_page_costs_a_few_queries_whatever_the_number_of_dimensions(
        client, study, django_assert_max_num_queries):
    study_open(study, artworks=8, items_per_session=4, attention_check_rate=0)
    session = session_judging_http(client, study)
    judge = reverse("annotations:session_judge", args=[study.slug])
    for _ in range(3):
        assignment = session_next_assignment(session)
        data = form_data(assignment, answers_valid(session, assignment))
        with django_assert_max_num_queries(MAX_QUERIES_PER_SUBMISSION):
            response = client.post(judge, data, HTTP_X_REQUESTED_WITH="fetch")
        assert response.status_code == 200 and 'name="artwork"' in response.content.decode()
    assert Judgement.objects.filter(session=session).count() == 3 * study.dimensions.count()


def test_the_session_cookie_is_signed_http_only_and_sent_only_to_the_study(client, study):
    study_open(study, artworks=4, items_per_session=2, attention_check_rate=0)
    session_judging_http(client, study)
    cookie = client.cookies[f"{COOKIE_PREFIX}{study.pk}"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["path"] == reverse("annotations:session_entry", args=[study.slug])
    assert ":" in cookie.value  # value:signature


def test_a_forged_session_cookie_reaches_no_session(client, study):
    study_open(study, artworks=6, items_per_session=2, attention_check_rate=0)
    victim = session_judging_http(client, study, "victim")
    client.cookies.clear()
    client.cookies[f"{COOKIE_PREFIX}{study.pk}"] = str(victim.pk)  # the id without a valid signature
    assignment = session_next_assignment(victim)
    response = client.post(reverse("annotations:session_judge", args=[study.slug]),
                           form_data(assignment, answers_valid(victim, assignment)), HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 400 and "session could not be found" in response.content.decode()
    image = client.get(reverse("annotations:session_image", args=[study.slug, assignment.pk]))
    assert image.status_code == 404
    assert not Judgement.objects.exists()


# The questionnaire's answer and the judging page it leads to: the session read twice (one per
# request), the phase moved and the background stored (savepoint, two updates, release), the session's
# assignments read, the first one marked served. No allocation: it was made after the instructions.
MAX_QUERIES_QUESTIONNAIRE_TO_JUDGING = 8


def test_the_artworks_are_allocated_after_the_instructions_so_the_judging_page_only_reads_them(
        client, study, django_assert_max_num_queries):
    study_open(study, artworks=8, items_per_session=4, attention_check_rate=0)
    entry = reverse("annotations:session_entry", args=[study.slug])
    client.get(entry, {"PROLIFIC_PID": "p1"})
    client.post(entry + "consent/", {"choice": "agree"})
    assert not Assignment.objects.exists()
    response = client.post(entry + "instructions/")
    assert response.status_code == 302
    held = Assignment.objects.filter(session__participant__external_id="p1", status=Assignment.Status.HELD)
    assert held.count() == 4 and not held.filter(served_at__isnull=False).exists()
    with django_assert_max_num_queries(MAX_QUERIES_QUESTIONNAIRE_TO_JUDGING):
        page = client.post(entry + "questionnaire/", {"q-art_training": "some", "q-museum_visits": "yearly"},
                           follow=True)
    assert 'name="artwork"' in page.content.decode()
    assert held.filter(served_at__isnull=False).count() == 1


def test_an_allocation_that_fails_after_the_instructions_is_made_by_the_judging_page(
        client, study, monkeypatch, caplog):
    study_open(study, artworks=8, items_per_session=4, attention_check_rate=0)
    entry = reverse("annotations:session_entry", args=[study.slug])
    client.get(entry, {"PROLIFIC_PID": "p1"})
    client.post(entry + "consent/", {"choice": "agree"})
    with monkeypatch.context() as patched:
        patched.setattr(crowd, "assignments_allocate", lambda session: 1 / 0)
        response = client.post(entry + "instructions/")
    assert response.status_code == 302 and not Assignment.objects.exists()
    assert "allocating session" in caplog.text and "ZeroDivisionError" in caplog.text
    page = client.post(entry + "questionnaire/", {"q-art_training": "some", "q-museum_visits": "yearly"},
                       follow=True)
    assert 'name="artwork"' in page.content.decode() and Assignment.objects.count() == 4
