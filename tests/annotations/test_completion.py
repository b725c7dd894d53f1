"""Completion is paid for work: a session with nothing to judge is told so and gets no code; the
completion page shows the code and a link back to the platform with it (no timed redirect); a
session ended by failed attention checks gets the study's screen-out code, if it has one."""
import re

import pytest
from django.test import Client
from django.urls import reverse

from annotations.crowd import judgement_record, session_next_assignment
from annotations.models import Artwork, ExpertLabel, Session, Study
from annotations.questions import item_questions
from annotations.studies import PLACEHOLDER_COMPLETION_CODE, study_create, study_template_load
from tests.annotations.crowd_cast import answers_valid, artworks_add, form_data, session_judging, study_open

PROLIFIC_URL = "https://app.prolific.com/submissions/complete?cc={code}"
CODE = "C0DE42"


def url(name: str, study) -> str:
    return reverse(f"annotations:{name}", args=[study.slug])


def walk_to_judging(client, study, participant: str = "p1") -> list:
    """The pages a participant gets up to judging (redirects followed), as responses."""
    return [client.get(url("session_entry", study), {"participant": participant}),
            client.post(url("session_consent", study), {"choice": "agree"}, follow=True),
            client.post(url("session_instructions", study), follow=True),
            client.post(url("session_questionnaire", study), {"q-art_training": "some", "q-museum_visits": "yearly"},
                        follow=True)]


def sessions_completed_without_judgements() -> list[int]:
    return list(Session.objects.filter(phase=Session.Phase.COMPLETED, judgements__isnull=True)
                .values_list("pk", flat=True))


@pytest.fixture
def deferred_study(study):
    """Open, but every artwork is a URL not downloaded yet: nothing can be shown to anyone."""
    study_open(study, artworks=0, items_per_session=3, attention_check_rate=0.2)
    Artwork.objects.bulk_create(Artwork(study=study, external_id=f"remote-{i}", image_url=f"https://example.org/{i}.png")
                                for i in range(4))
    return study


def test_a_session_with_nothing_to_judge_is_told_so_and_gets_no_completion_code(client, deferred_study):
    responses = walk_to_judging(client, deferred_study)
    responses += [client.get(url("session_entry", deferred_study)) for _ in range(2)]
    page = responses[-1].content.decode()
    assert responses[-1].status_code == 200 and "Nothing to judge right now" in page
    assert "come back later" in page and "return the study" in page
    for response in responses:
        assert CODE.encode() not in response.content and b"completion-code" not in response.content
    session = Session.objects.get()
    assert (session.phase, session.completed_at) == (Session.Phase.JUDGING, None)
    assert not session.assignments.exists()
    assert session.resume_code in page  # so that the person can come back, from any device


def test_a_session_that_had_nothing_to_judge_gets_artworks_once_there_are_some(client, deferred_study):
    walk_to_judging(client, deferred_study)
    artworks_add(deferred_study, 3)
    page = client.get(url("session_entry", deferred_study)).content.decode()
    assert 'name="artwork"' in page and "Nothing to judge" not in page
    session = Session.objects.get()
    while (assignment := session_next_assignment(session)) is not None:
        client.post(url("session_judge", deferred_study), form_data(assignment, answers_valid(session, assignment)))
        session.refresh_from_db()
    assert session.phase == Session.Phase.COMPLETED and session.judgements.exists()
    assert f'id="completion-code">{CODE}<' in client.get(url("session_entry", deferred_study)).content.decode()


def test_the_page_script_asking_for_the_next_item_gets_no_code_when_there_is_nothing(client, deferred_study):
    walk_to_judging(client, deferred_study)
    response = client.get(url("session_entry", deferred_study), HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 200 and CODE.encode() not in response.content
    assert Session.objects.get().phase == Session.Phase.JUDGING


def test_attention_checks_alone_are_not_work_a_session_is_given(study):
    """The only artwork with an image is a gold item: it would make a session of one check and no artwork."""
    study_open(study, artworks=1, items_per_session=3, attention_check_rate=0.5, questionnaire=False)
    ExpertLabel.objects.create(artwork=study.artworks.get(), dimension=study.dimensions.get(key="origin"), value="ai",
                               is_gold=True)
    session = session_judging(study, "p1")
    assert session_next_assignment(session) is None
    session.refresh_from_db()
    assert session.phase == Session.Phase.JUDGING and not session.assignments.exists()
    assert sessions_completed_without_judgements() == []


def test_no_session_ever_completes_with_no_judgements(deferred_study):
    for i in range(3):
        client = Client()
        walk_to_judging(client, deferred_study, f"p{i}")
        client.get(url("session_entry", deferred_study))
    assert Session.objects.filter(phase=Session.Phase.JUDGING).count() == 3
    assert sessions_completed_without_judgements() == []


def finish(client, study):
    """Judge every artwork through the pages; the completion page (the response)."""
    walk_to_judging(client, study)
    session = Session.objects.get()
    while (assignment := session_next_assignment(session)) is not None:
        client.post(url("session_judge", study), form_data(assignment, answers_valid(session, assignment)))
        session.refresh_from_db()
    assert session.phase == Session.Phase.COMPLETED
    return client.get(url("session_entry", study))


def test_the_completion_page_shows_the_code_and_a_link_back_with_it_url_encoded(client, study):
    study_open(study, artworks=3, items_per_session=2, attention_check_rate=0, completion_code="AB&C 12",
               completion_url=PROLIFIC_URL)
    response = finish(client, study)
    page = response.content.decode()
    assert 'id="completion-code">AB&amp;C 12<' in page
    assert 'href="https://app.prolific.com/submissions/complete?cc=AB%26C%2012"' in page
    # No timed redirect (WCAG 2.2.1): no meta refresh, no Refresh header, no script of its own.
    assert not re.search(r"http-equiv\s*=\s*[\"']?refresh", page, re.I) and "Refresh" not in response.headers
    assert "<script>" not in page


def test_without_a_completion_url_the_page_shows_the_code_and_sends_nowhere(client, study):
    study_open(study, artworks=3, items_per_session=2, attention_check_rate=0, completion_url="")
    page = finish(client, study).content.decode()
    assert f'id="completion-code">{CODE}<' in page and "You can close this page" in page
    assert "prolific.com" not in page


def end_by_failed_check(client, study) -> str:
    """Start through the pages, fail the session's first attention check; the page shown after it."""
    walk_to_judging(client, study)
    session = Session.objects.get()
    while not (assignment := session_next_assignment(session)).is_attention_check:
        judgement_record(session, assignment.artwork_id, answers_valid(session, assignment))
    (question,) = item_questions(session, assignment)
    expected = {str(v) for v in (assignment.attention_check.expected if isinstance(
        assignment.attention_check.expected, list) else [assignment.attention_check.expected])}
    wrong = next(o.value for o in question.options if o.value not in expected)
    response = client.post(url("session_judge", study), form_data(assignment, {question.key: [wrong]}), follow=True)
    assert Session.objects.get().phase == Session.Phase.TERMINATED
    return response.content.decode()


@pytest.fixture
def ending_study(study):
    return study_open(study, artworks=10, items_per_session=4, attention_check_rate=0.25, questionnaire=False,
                      attention_fail_limit=1, attention_fail_action=Study.FailAction.END, completion_url=PROLIFIC_URL)


def test_a_session_ended_by_failed_checks_gets_the_screen_out_code_and_its_link(client, ending_study):
    Study.objects.filter(pk=ending_study.pk).update(screenout_code="SCREENED OUT&1")
    page = end_by_failed_check(client, ending_study)
    assert "This session has ended" in page and 'id="screenout-code">SCREENED OUT&amp;1<' in page
    assert 'href="https://app.prolific.com/submissions/complete?cc=SCREENED%20OUT%261"' in page
    assert CODE not in page and "completion-code" not in page


def test_without_a_screen_out_code_an_ended_session_sees_no_code_and_no_link(client, ending_study):
    page = end_by_failed_check(client, ending_study)
    assert "This session has ended" in page
    assert CODE not in page and "prolific.com" not in page
    assert 'id="screenout-code"' not in page and 'id="completion-code"' not in page


def test_the_study_file_carries_the_screen_out_code_and_the_template_the_prolific_form(db):
    template = study_template_load("clip-art-perception")
    assert (template["completion_code"], template["completion_url"]) == (PLACEHOLDER_COMPLETION_CODE, PROLIFIC_URL)
    study = study_create({**template, "completion_code": "REAL-1", "screenout_code": "NOPE-2"}, "with-screenout")
    assert (study.completion_code, study.screenout_code) == ("REAL-1", "NOPE-2")

