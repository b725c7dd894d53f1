"""The annotator's path through a study: entry, consent, instructions, questionnaire, judging, completion."""
import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from annotations.crowd import Identity, session_enter, session_next_assignment
from annotations.models import Assignment, Judgement, Participant, Session, Study
from tests.annotations.crowd_cast import answers_valid, form_data, session_finish, session_judging, study_open
from tests.conftest import require

PROLIFIC = {"PROLIFIC_PID": "5f8a1b2c3d4e5f6a7b8c9d0e", "STUDY_ID": "study-77", "SESSION_ID": "sess-1"}


@pytest.fixture
def open_study(study):
    return study_open(study, artworks=6, items_per_session=3, attention_check_rate=0)


def url(name: str, study: Study) -> str:
    return reverse(f"annotations:{name}", args=[study.slug])


def walk_to_judging(client, study, **params):
    client.get(url("session_entry", study), params or PROLIFIC)
    client.post(url("session_consent", study), {"choice": "agree"})
    client.post(url("session_instructions", study))
    return client.post(url("session_questionnaire", study), {"q-art_training": "degree", "q-museum_visits": "monthly"})


def test_a_prolific_link_starts_a_session_at_consent_and_keeps_the_platform_ids(client, open_study):
    response = client.get(url("session_entry", open_study), PROLIFIC)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Do you agree to take part?" in page and open_study.consent_text[:40] in page
    session = Session.objects.get()
    assert session.phase == Session.Phase.CONSENT
    assert (session.participant.external_id, session.participant.source) == (PROLIFIC["PROLIFIC_PID"], "prolific")
    assert (session.platform_study_id, session.platform_session_id) == ("study-77", "sess-1")


def test_a_returning_prolific_participant_resumes_on_another_device_with_the_same_study_and_session_ids(
        client, open_study):
    walk_to_judging(client, open_study)
    first_item = session_next_assignment(Session.objects.get())
    other_device = Client()
    response = other_device.get(url("session_entry", open_study), PROLIFIC)
    assert response.status_code == 200
    assert f'name="artwork" value="{first_item.artwork_id}"' in response.content.decode()
    assert Session.objects.count() == 1 and Participant.objects.count() == 1


def test_the_browser_session_remembers_the_participant_without_the_link_parameters(client, open_study):
    client.get(url("session_entry", open_study), PROLIFIC)
    client.post(url("session_consent", open_study), {"choice": "agree"})
    response = client.get(url("session_entry", open_study))
    assert response.status_code == 200 and "How this works" in response.content.decode()


def test_a_generic_participant_parameter_identifies_the_person(client, open_study):
    client.get(url("session_entry", open_study), {"participant": "expert-7"})
    assert Participant.objects.get().external_id == "expert-7"
    assert Participant.objects.get().source == "generic"


def test_a_link_without_a_participant_id_says_so_and_creates_nothing(client, open_study):
    response = client.get(url("session_entry", open_study))
    assert response.status_code == 400
    assert "does not say who you are" in response.content.decode()
    assert not Participant.objects.exists()


def test_a_malformed_participant_id_is_refused(client, open_study):
    response = client.get(url("session_entry", open_study), {"PROLIFIC_PID": "<script>"})
    assert response.status_code == 400 and "malformed" in response.content.decode()
    assert not Participant.objects.exists()


def test_a_closed_study_says_so_plainly_and_creates_nothing(client, open_study):
    Study.objects.filter(pk=open_study.pk).update(status="closed")
    response = client.get(url("session_entry", open_study), PROLIFIC)
    assert response.status_code == 403 and "is closed" in response.content.decode()
    assert not Participant.objects.exists()


def test_an_unknown_study_is_not_found(client, db):
    assert client.get("/s/no-such-study/", PROLIFIC).status_code == 404


def test_a_draft_study_answers_as_an_unknown_one_so_guessed_links_reveal_nothing(client, study):
    """A slug guessed before the study opens: same status and page as a slug that does not exist,
    nothing of the study shown, nothing created; on the entry page and on a step's POST."""
    study.title = "Unpublished pilot on Vermeer"
    study.save()
    assert study.status == "draft"
    for path, method in ((url("session_entry", study), client.get), (url("session_consent", study), client.post)):
        unknown = method(path.replace(study.slug, "no-such-study"), PROLIFIC)
        draft = method(path, PROLIFIC)
        assert (draft.status_code, draft.content) == (unknown.status_code, unknown.content) and draft.status_code == 404
        assert "Vermeer" not in draft.content.decode()
    assert not Participant.objects.exists()


def test_declining_consent_ends_the_session_politely_without_assigning_anything(client, open_study):
    client.get(url("session_entry", open_study), PROLIFIC)
    response = client.post(url("session_consent", open_study), {"choice": "decline"}, follow=True)
    assert "You chose not to take part" in response.content.decode()
    assert Session.objects.get().phase == Session.Phase.DECLINED
    assert not Assignment.objects.exists()
    again = client.get(url("session_entry", open_study), PROLIFIC)
    assert "You chose not to take part" in again.content.decode()


def test_consent_instructions_and_questionnaire_lead_to_the_first_artwork(client, open_study):
    response = walk_to_judging(client, open_study)
    assert response.status_code == 302
    participant = Participant.objects.get()
    assert participant.expertise == {"art_training": "degree", "museum_visits": "monthly"}
    page = client.get(url("session_entry", open_study)).content.decode()
    assert '<progress value="0" max="3">' in page and "1 / 3" in page
    assert "Which artistic style is this painting closest to?" in page
    assert Session.objects.get().phase == Session.Phase.JUDGING


def test_a_questionnaire_without_answers_is_refused_and_stores_nothing(client, open_study):
    client.get(url("session_entry", open_study), PROLIFIC)
    client.post(url("session_consent", open_study), {"choice": "agree"})
    client.post(url("session_instructions", open_study))
    response = client.post(url("session_questionnaire", open_study), {"q-art_training": "a lot"})
    assert response.status_code == 400 and "Please choose an answer for" in response.content.decode()
    assert Participant.objects.get().expertise == {}
    assert Session.objects.get().phase == Session.Phase.QUESTIONNAIRE


def test_a_study_without_the_questionnaire_goes_from_instructions_to_judging(client, open_study):
    Study.objects.filter(pk=open_study.pk).update(questionnaire=False)
    client.get(url("session_entry", open_study), PROLIFIC)
    client.post(url("session_consent", open_study), {"choice": "agree"})
    client.post(url("session_instructions", open_study))
    assert Session.objects.get().phase == Session.Phase.JUDGING


def test_a_step_posted_out_of_order_moves_nothing(client, open_study):
    client.get(url("session_entry", open_study), PROLIFIC)
    response = client.post(url("session_questionnaire", open_study),
                           {"q-art_training": "none", "q-museum_visits": "never"})
    assert response.status_code == 302
    assert Session.objects.get().phase == Session.Phase.CONSENT
    assert Participant.objects.get().expertise == {}


def test_posting_without_a_session_is_refused_with_a_message(client, open_study):
    response = client.post(url("session_consent", open_study), {"choice": "agree"})
    assert response.status_code == 400 and "could not be found" in response.content.decode()


def test_judging_every_artwork_shows_the_completion_code_and_sends_the_person_back(client, open_study):
    Study.objects.filter(pk=open_study.pk).update(
        completion_url="https://app.prolific.com/submissions/complete?cc={code}")
    walk_to_judging(client, open_study)
    session = Session.objects.get()
    while (assignment := session_next_assignment(session)) is not None:
        response = client.post(url("session_judge", open_study),
                               form_data(assignment, answers_valid(session, assignment)))
        assert response.status_code == 302
        session.refresh_from_db()
    page = client.get(url("session_entry", open_study)).content.decode()
    assert 'id="completion-code">C0DE42<' in page
    assert 'href="https://app.prolific.com/submissions/complete?cc=C0DE42"' in page
    session.refresh_from_db()
    assert session.phase == Session.Phase.COMPLETED and session.completed_at is not None
    assert Judgement.objects.filter(session=session).count() == 3 * open_study.dimensions.count()


def test_a_completed_participant_sees_the_completion_page_even_after_the_study_closes(client, open_study):
    session_finish(session_judging(open_study, PROLIFIC["PROLIFIC_PID"]))
    Study.objects.filter(pk=open_study.pk).update(status="closed")
    response = client.get(url("session_entry", open_study), {**PROLIFIC, "STUDY_ID": "STUDY", "SESSION_ID": "SESSION"})
    assert response.status_code == 200 and 'id="completion-code">C0DE42<' in response.content.decode()


def test_each_judgement_stores_what_was_shown_and_both_timings(client, open_study):
    walk_to_judging(client, open_study)
    client.get(url("session_entry", open_study))
    session = Session.objects.get()
    assignment = session_next_assignment(session)
    client.post(url("session_judge", open_study),
                form_data(assignment, answers_valid(session, assignment), client_ms="2345"))
    style = Judgement.objects.get(dimension__key="style")
    assert style.shown == {"question": "Which artistic style is this painting closest to?", "kind": "single",
                           "labels": open_study.dimensions.get(key="style").labels}
    assert style.client_ms == 2345 and style.response_ms is not None and style.response_ms >= 0
    assert style.session == session and style.value == "renaissance"
    aesthetic = Judgement.objects.get(dimension__key="aesthetic")
    assert aesthetic.value == 1 and aesthetic.shown["anchors"]["7"] == "very appealing"


def test_the_page_script_gets_the_next_artwork_as_a_fragment_not_a_page(client, open_study):
    walk_to_judging(client, open_study)
    client.get(url("session_entry", open_study))
    session = Session.objects.get()
    first = session_next_assignment(session)
    response = client.post(url("session_judge", open_study), form_data(first, answers_valid(session, first)),
                           HTTP_X_REQUESTED_WITH="fetch")
    fragment = response.content.decode()
    second = session_next_assignment(session)
    assert response.status_code == 200 and "<html" not in fragment
    assert fragment.lstrip().startswith('<section class="item"') and "2 / 3" in fragment
    assert f'name="artwork" value="{second.artwork_id}"' in fragment
    assert second.artwork_id != first.artwork_id


def test_the_last_artwork_sent_by_the_script_answers_with_the_way_to_the_completion_page(client, open_study):
    walk_to_judging(client, open_study)
    session = Session.objects.get()
    for _ in range(3):
        assignment = session_next_assignment(session)
        response = client.post(url("session_judge", open_study),
                               form_data(assignment, answers_valid(session, assignment)), HTTP_X_REQUESTED_WITH="fetch")
    assert response.content.decode() == f'<div data-redirect="{url("session_entry", open_study)}"></div>'


def test_an_artwork_image_is_served_only_to_the_session_it_is_assigned_to(client, open_study):
    walk_to_judging(client, open_study)
    assignment = session_next_assignment(Session.objects.get())
    image_url = reverse("annotations:session_image", args=[open_study.slug, assignment.pk])
    response = client.get(image_url)
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assignment.artwork.refresh_from_db()  # its derivative, made on this first serve
    served = b"".join(response.streaming_content) if response.streaming else response.content
    assert served == assignment.artwork.display_image.open("rb").read()
    assert served != assignment.artwork.image.open("rb").read()
    assert Client().get(image_url).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_same_person_opening_the_link_many_times_at_once_gets_one_session(study):
    """PostgreSQL, one connection per thread: the unique constraints settle simultaneous first visits."""
    require(connection.vendor == "postgresql", "the concurrency test needs PostgreSQL (DATABASE_URL)")
    study_open(study, artworks=2)
    start, sessions, problems = threading.Barrier(8), [], []

    def visit():
        try:
            start.wait()
            sessions.append(session_enter(study, Identity("same-person", "prolific")).pk)
        except Exception as exc:  # noqa: BLE001 - reported below
            problems.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=visit) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert problems == [] and len(set(sessions)) == 1 and len(sessions) == 8
    assert Participant.objects.count() == Session.objects.count() == 1


@pytest.mark.parametrize("query", ["participant=a%00b", "PROLIFIC_PID=p1&STUDY_ID=s%00&SESSION_ID=1"])
def test_a_nul_character_in_the_link_is_refused_and_stores_nothing(client, study, query):
    study.status = "open"
    study.save()
    response = client.get(f"/s/{study.slug}/?{query}")
    assert response.status_code == 400 and b"malformed" in response.content
    assert not study.participants.exists()
