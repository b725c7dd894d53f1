"""Bad input on the judging form: each is refused with a clear message and stores nothing; an exact
repeat gets the same answer as the first time and never a second row."""
import pytest
from django.urls import reverse

from annotations.crowd import session_next_assignment
from annotations.models import Artwork, Judgement, Study
from tests.annotations.crowd_cast import answers_valid, form_data, session_judging, study_open


@pytest.fixture
def judging(client, study):
    """An annotator (client) at their first artwork, and that artwork's assignment."""
    study_open(study, artworks=6, items_per_session=3, attention_check_rate=0)
    client.get(reverse("annotations:session_entry", args=[study.slug]), {"participant": "annotator"})
    session = session_judging(study, "annotator")
    return client, session, session_next_assignment(session)


def judge(client, session, data, **headers):
    return client.post(reverse("annotations:session_judge", args=[session.study.slug]), data, **headers)


def with_answer(session, assignment, key, value):
    answers = answers_valid(session, assignment)
    answers[key] = value if isinstance(value, list) else [value]
    return form_data(assignment, answers)


def test_a_label_that_is_not_one_of_the_dimension_s_labels_is_refused(judging):
    client, session, assignment = judging
    response = judge(client, session, with_answer(session, assignment, "style", "cubismo"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "&#x27;cubismo&#x27; is not one of the labels" in page and "Nothing was saved" in page
    assert not Judgement.objects.exists()


def test_a_rating_outside_the_scale_is_refused(judging):
    client, session, assignment = judging
    response = judge(client, session, with_answer(session, assignment, "aesthetic", "9"), HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/plain")
    assert "'9' is outside the scale 1-7" in response.content.decode()
    assert not Judgement.objects.exists()


def test_a_rating_between_the_points_of_the_scale_is_refused(judging):
    client, session, assignment = judging
    response = judge(client, session, with_answer(session, assignment, "aesthetic", "3.5"),
                     HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 400 and "not a point of the scale 1-7" in response.content.decode()
    assert not Judgement.objects.exists()


def test_a_tag_that_is_not_a_label_of_a_multi_label_question_is_refused(judging):
    client, session, assignment = judging
    response = judge(client, session, with_answer(session, assignment, "content", ["persons", "spaceships"]),
                     HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 400 and "'spaceships' is not one of the labels" in response.content.decode()
    assert not Judgement.objects.exists()


def test_a_missing_answer_is_refused_and_named(judging):
    client, session, assignment = judging
    data = form_data(assignment, answers_valid(session, assignment))
    del data["d-period"]
    response = judge(client, session, data, HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 400
    assert ("Please give one answer to “In which century would you place this painting's style?”"
            in response.content.decode())
    assert not Judgement.objects.exists()


def test_two_answers_to_a_single_choice_question_are_refused(judging):
    client, session, assignment = judging
    response = judge(client, session, with_answer(session, assignment, "scene", ["landscape", "seascape"]),
                     HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 400 and "takes one answer, not 2" in response.content.decode()
    assert not Judgement.objects.exists()


def test_a_judgement_for_an_artwork_not_assigned_to_this_session_is_refused(judging):
    client, session, assignment = judging
    stranger = Artwork.objects.exclude(assignments__session=session).first()
    data = {**form_data(assignment, answers_valid(session, assignment)), "artwork": str(stranger.pk)}
    response = judge(client, session, data)
    assert response.status_code == 409
    assert "This artwork is not one of yours; nothing was saved." in response.content.decode()
    assert not Judgement.objects.exists()


def test_a_judgement_naming_no_artwork_is_refused(judging):
    client, session, assignment = judging
    data = {**form_data(assignment, answers_valid(session, assignment)), "artwork": "first"}
    response = judge(client, session, data, HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 400 and "did not say which artwork" in response.content.decode()
    assert not Judgement.objects.exists()


def test_an_exact_repeat_gets_the_same_answer_as_the_first_time_and_no_second_row(judging):
    client, session, assignment = judging
    data = form_data(assignment, answers_valid(session, assignment))
    first = judge(client, session, data)
    stored = list(Judgement.objects.values_list("id", "value"))
    repeat = judge(client, session, data)
    assert (first.status_code, first["Location"]) == (repeat.status_code, repeat["Location"]) == (
        302, reverse("annotations:session_entry", args=[session.study.slug]))
    assert list(Judgement.objects.values_list("id", "value")) == stored
    assert len(stored) == session.study.dimensions.count()


def test_an_exact_repeat_sent_by_the_script_gets_the_same_next_artwork(judging):
    client, session, assignment = judging
    data = form_data(assignment, answers_valid(session, assignment))
    first = judge(client, session, data, HTTP_X_REQUESTED_WITH="fetch")
    repeat = judge(client, session, data, HTTP_X_REQUESTED_WITH="fetch")
    next_artwork = session_next_assignment(session).artwork_id
    for response in (first, repeat):
        assert response.status_code == 200 and f'name="artwork" value="{next_artwork}"' in response.content.decode()
    assert Judgement.objects.count() == session.study.dimensions.count()


def test_a_repeat_with_different_answers_is_refused_and_the_first_answers_are_kept(judging):
    client, session, assignment = judging
    judge(client, session, with_answer(session, assignment, "style", "baroque"))
    response = judge(client, session, with_answer(session, assignment, "style", "rococo"),
                     HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 409 and "already answered this artwork" in response.content.decode()
    assert list(Judgement.objects.filter(dimension__key="style").values_list("value", flat=True)) == ["baroque"]


def test_deformations_seen_need_a_severity_which_is_stored_beside_the_answer(judging):
    client, session, assignment = judging
    data = with_answer(session, assignment, "deformation", "yes")
    response = judge(client, session, data, HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 400 and "Please give one answer to “How severe?”" in response.content.decode()
    assert not Judgement.objects.exists()
    judge(client, session, {**data, "d-deformation.severity": "4"})
    deformation = Judgement.objects.get(dimension__key="deformation")
    assert (deformation.value, deformation.severity) == ("yes", 4)
    assert Judgement.objects.get(dimension__key="origin").severity is None


def test_a_severity_outside_its_scale_is_refused(judging):
    client, session, assignment = judging
    data = {**with_answer(session, assignment, "deformation", "yes"), "d-deformation.severity": "6"}
    response = judge(client, session, data, HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 400 and "'6' is outside the scale 1-5" in response.content.decode()
    assert not Judgement.objects.exists()


def test_answers_sent_after_the_study_closed_are_refused(judging):
    client, session, assignment = judging
    Study.objects.filter(pk=session.study_id).update(status="closed")
    response = judge(client, session, form_data(assignment, answers_valid(session, assignment)))
    assert response.status_code == 403 and "This study is closed" in response.content.decode()
    assert not Judgement.objects.exists()


def test_answers_for_another_person_s_artwork_cannot_be_sent_from_this_session(judging, study):
    client, session, assignment = judging
    other = session_judging(study, "someone-else")
    theirs = session_next_assignment(other)  # the least judged artworks: none of ours
    response = judge(client, session, form_data(theirs, answers_valid(other, theirs)))
    assert response.status_code == 409 and not Judgement.objects.exists()
