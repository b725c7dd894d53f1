"""A session belongs to the person who started it: the browser that started it, the Prolific
submission (STUDY_ID + SESSION_ID) it was started for, or its resume code continue it; a participant
id alone never does, and a refused attempt changes nothing of the real participant's session."""
import re

import pytest
from django.test import Client
from django.urls import reverse

from annotations.crowd import RESUME_ALPHABET, session_next_assignment
from annotations.models import Assignment, Judgement, Participant, Session
from tests.annotations.crowd_cast import answers_valid, form_data, study_open

PID = "5f8a1b2c3d4e5f6a7b8c9d0e"
PROLIFIC = {"PROLIFIC_PID": PID, "STUDY_ID": "study-77", "SESSION_ID": "sess-1"}
BACKGROUND = {"q-art_training": "some", "q-museum_visits": "yearly"}


@pytest.fixture
def open_study(study):
    return study_open(study, artworks=6, items_per_session=3, attention_check_rate=0)


def url(name: str, study) -> str:
    return reverse(f"annotations:{name}", args=[study.slug])


def judging_with_one_answer(client, study, params=PROLIFIC) -> Session:
    """`client` starts a session, walks to judging and answers one artwork through the pages."""
    client.get(url("session_entry", study), params)
    client.post(url("session_consent", study), {"choice": "agree"})
    client.post(url("session_instructions", study))
    client.post(url("session_questionnaire", study), BACKGROUND)
    session = Session.objects.get()
    assignment = session_next_assignment(session)
    client.post(url("session_judge", study), form_data(assignment, answers_valid(session, assignment)))
    return session


def state(session: Session) -> tuple:
    """Everything a stranger could spoil: phase, answers, consent (the phase), holds, background."""
    session = Session.objects.get(pk=session.pk)
    return (session.phase, session.completed_at, session.participant.expertise,
            sorted(Judgement.objects.filter(session=session).values_list("artwork_id", "dimension_id", "value")),
            sorted(Assignment.objects.filter(session=session).values_list("artwork_id", "status", "held_until")))


def artwork_shown(page: str) -> str | None:
    found = re.search(r'name="artwork" value="(\d+)"', page)
    return found and found.group(1)


@pytest.mark.parametrize("params", [
    {"participant": PID},
    {**PROLIFIC, "SESSION_ID": "sess-2"},
    {**PROLIFIC, "STUDY_ID": "another-study"},
    {"PROLIFIC_PID": PID},
], ids=["participant link", "other SESSION_ID", "other STUDY_ID", "PROLIFIC_PID alone"])
def test_another_browser_cannot_resume_a_prolific_session_by_its_id(client, open_study, params):
    session = judging_with_one_answer(client, open_study)
    before = state(session)

    stranger = Client()
    response = stranger.get(url("session_entry", open_study), params)
    page = response.content.decode()
    assert response.status_code == 403 and "started in another browser" in page
    assert artwork_shown(page) is None and session.resume_code not in page
    assert '<label for="resume-code-input">Resume code</label>' in page and 'name="resume"' in page
    # Nor can the stranger act on the session through the steps' forms: the browser holds no session.
    assert stranger.post(url("session_consent", open_study), {"choice": "decline"}).status_code == 400
    assignment = session_next_assignment(session)
    assert stranger.post(url("session_judge", open_study),
                         form_data(assignment, answers_valid(session, assignment))).status_code == 400
    assert state(session) == before
    assert Participant.objects.count() == Session.objects.count() == 1


def test_a_stranger_cannot_decline_consent_for_someone_who_has_not_answered_yet(client, open_study):
    client.get(url("session_entry", open_study), PROLIFIC)
    session = Session.objects.get()
    stranger = Client()
    assert stranger.get(url("session_entry", open_study), {"participant": PID}).status_code == 403
    stranger.post(url("session_consent", open_study), {"choice": "decline"})
    assert Session.objects.get().phase == Session.Phase.CONSENT
    response = client.post(url("session_consent", open_study), {"choice": "agree"}, follow=True)
    assert "How this works" in response.content.decode()
    assert Session.objects.get(pk=session.pk).phase == Session.Phase.INSTRUCTIONS


def test_the_browser_that_started_the_session_resumes_it_with_or_without_the_link(client, open_study):
    session = judging_with_one_answer(client, open_study)
    current = str(session_next_assignment(session).artwork_id)
    for params in ({}, PROLIFIC, {"PROLIFIC_PID": PID}, {"participant": PID}):
        response = client.get(url("session_entry", open_study), params)
        assert response.status_code == 200 and artwork_shown(response.content.decode()) == current, params


def test_a_fresh_browser_with_the_same_study_and_session_ids_resumes_the_prolific_session(client, open_study):
    session = judging_with_one_answer(client, open_study)
    current = session_next_assignment(session)
    phone = Client()
    response = phone.get(url("session_entry", open_study), PROLIFIC)
    assert response.status_code == 200 and artwork_shown(response.content.decode()) == str(current.artwork_id)
    answered = phone.post(url("session_judge", open_study), form_data(current, answers_valid(session, current)))
    assert answered.status_code == 302
    assert Judgement.objects.filter(session=session).values("artwork").distinct().count() == 2


def test_a_fresh_browser_resumes_with_the_resume_code_typed_into_the_form(client, open_study):
    session = judging_with_one_answer(client, open_study, {"participant": "expert-7"})
    current = str(session_next_assignment(session).artwork_id)
    laptop = Client()
    refused = laptop.get(url("session_entry", open_study), {"participant": "expert-7"}).content.decode()
    action = re.search(r'<form method="get" action="([^"]+)"', refused).group(1)
    typed = f" {session.resume_code[:4].lower()}-{session.resume_code[4:]} "  # as a person might type it
    response = laptop.get(action, {"resume": typed})
    assert response.status_code == 200 and artwork_shown(response.content.decode()) == current
    assert laptop.get(url("session_entry", open_study)).status_code == 200  # the browser now holds it


def test_the_resume_link_opens_the_session_in_any_browser(client, open_study):
    session = judging_with_one_answer(client, open_study)
    page = client.get(url("session_entry", open_study)).content.decode()
    link = re.search(r'href="(http://testserver/s/[^"]+\?resume=[^"]+)"', page).group(1)
    response = Client().get(link)
    assert response.status_code == 200
    assert artwork_shown(response.content.decode()) == str(session_next_assignment(session).artwork_id)


def test_a_wrong_resume_code_is_refused_plainly_and_changes_nothing(client, open_study):
    session = judging_with_one_answer(client, open_study)
    before = state(session)
    wrong = "".join(reversed(session.resume_code)) if session.resume_code[::-1] != session.resume_code else "22222222"
    for code in (wrong, "short", PID):
        response = Client().get(url("session_entry", open_study), {"resume": code})
        page = response.content.decode()
        assert response.status_code == 403 and "Resume code not recognised" in page
        assert "does not belong to a session of this study" in page and artwork_shown(page) is None
    # A code is only good with the participant id it belongs to.
    other = Client()
    other.get(url("session_entry", open_study), {"participant": "someone-else"})
    assert Client().get(url("session_entry", open_study),
                        {"participant": "someone-else", "resume": session.resume_code}).status_code == 403
    assert state(session) == before


def test_wrong_codes_count_against_the_address_not_against_the_participant(client, open_study, rates):
    rates(new_session="4/hour", annotator="9/min")
    session = judging_with_one_answer(client, open_study)  # 5 of the session's 9 requests
    guesser = Client()
    for code in ("AAAAAAAA", "BBBBBBBB", "CCCCCCCC"):  # 3 guesses after the session's own start: 4 from 127.0.0.1
        assert guesser.get(url("session_entry", open_study), {"resume": code}).status_code == 403
    for params in ({"resume": session.resume_code}, {"participant": PID}):
        refused = guesser.get(url("session_entry", open_study), params)
        assert refused.status_code == 429 and "Please slow down" in refused.content.decode()
    # The real participant's own rate is untouched by all of that.
    for _ in range(4):
        assert client.get(url("session_entry", open_study)).status_code == 200


def test_a_session_without_prolific_ids_needs_its_resume_code_in_another_browser(client, open_study):
    client.get(url("session_entry", open_study), {"PROLIFIC_PID": PID})  # the platform sent no STUDY_ID/SESSION_ID
    session = Session.objects.get()
    assert Client().get(url("session_entry", open_study), {"PROLIFIC_PID": PID}).status_code == 403
    assert Client().get(url("session_entry", open_study), {"resume": session.resume_code}).status_code == 200


def test_every_session_gets_its_own_short_unambiguous_resume_code(open_study):
    for i in range(20):
        Client().get(url("session_entry", open_study), {"participant": f"p{i}"}, REMOTE_ADDR=f"10.0.0.{i}")
    codes = list(Session.objects.values_list("resume_code", flat=True))
    assert len(codes) == 20 and len(set(codes)) == 20
    assert all(len(code) == 8 and set(code) <= set(RESUME_ALPHABET) for code in codes)
    assert not set(RESUME_ALPHABET) & set("0O1I")


def test_the_resume_code_is_on_every_participant_page(client, open_study):
    entry = url("session_entry", open_study)
    pages = [client.get(entry, PROLIFIC)]
    session = Session.objects.get()
    pages.append(client.post(url("session_consent", open_study), {"choice": "agree"}, follow=True))
    pages.append(client.post(url("session_instructions", open_study), follow=True))
    pages.append(client.post(url("session_questionnaire", open_study), {"q-art_training": "some"}))  # refused: a page
    pages.append(client.post(url("session_questionnaire", open_study), BACKGROUND, follow=True))
    session.refresh_from_db()
    while (assignment := session_next_assignment(session)) is not None:
        pages.append(client.post(url("session_judge", open_study),
                                 form_data(assignment, answers_valid(session, assignment)), follow=True))
        session.refresh_from_db()
    assert session.phase == Session.Phase.COMPLETED
    link = f"http://testserver{entry}?resume={session.resume_code}"
    titles = []
    for response in pages:
        page = response.content.decode()
        assert f'<strong id="resume-code">{session.resume_code}</strong>' in page, page[:300]
        assert f'href="{link}"' in page
        titles.append(re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S).group(1).strip())
    assert "Thank you!" in titles
