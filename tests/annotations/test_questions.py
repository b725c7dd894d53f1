"""What a participant is shown for a question: labels under their display names (the stored value
unchanged), and a counter that says how many artworks and attention checks the session has."""
from django.urls import reverse

from annotations.crowd import session_next_assignment
from annotations.editing import study_spec_dump, study_update
from annotations.models import AttentionCheck, Dimension, Judgement, Session, Study
from annotations.questions import dimension_question
from tests.annotations.crowd_cast import answers_valid, form_data, session_judging_http, study_open

DISPLAY = {"ai": "AI-generated", "human": "Made by a person"}


def displayed(study, key: str, names: dict) -> Dimension:
    dimension = study.dimensions.get(key=key)
    dimension.extra = {**dimension.extra, "display": names}
    dimension.save()
    return dimension


def test_labels_are_shown_by_their_display_name_and_stored_as_the_label(client, study):
    study_open(study, artworks=3, items_per_session=2, attention_check_rate=0)
    displayed(study, "origin", DISPLAY)
    session = session_judging_http(client, study)
    entry = reverse("annotations:session_entry", args=[study.slug])
    page = client.get(entry).content.decode()
    assert '<span class="text">AI-generated</span>' in page and '<span class="text">Made by a person</span>' in page
    assert 'name="d-origin" value="ai"' in page and ">ai<" not in page

    assignment = session_next_assignment(session)
    answers = answers_valid(session, assignment) | {"origin": ["ai"]}
    response = client.post(entry + "judge/", form_data(assignment, answers))
    assert response.status_code == 302
    origin = Judgement.objects.get(session=session, dimension__key="origin")
    assert origin.value == "ai"
    assert origin.shown["labels"] == ["human", "ai"] and origin.shown["display"] == DISPLAY


def test_questions_edited_while_the_study_is_open_are_asked_as_edited_from_the_next_page_on(client, study):
    """Each web process keeps a study's questions by its questions version: a saved dimension
    (admin, code) or an edited study file moves it."""
    study_open(study, artworks=3, items_per_session=2, attention_check_rate=0)
    session = session_judging_http(client, study)
    entry = reverse("annotations:session_entry", args=[study.slug])
    assert "Made by a person" not in client.get(entry).content.decode()

    displayed(study, "origin", DISPLAY)
    assert '<span class="text">Made by a person</span>' in client.get(entry).content.decode()

    spec = study_spec_dump(study)
    origin = next(d for d in spec["dimensions"] if d["key"] == "origin")
    origin["question"] = "Who made this picture, a person or a machine?"
    study_update(Study.objects.get(pk=study.pk), spec)
    assert "Who made this picture, a person or a machine?" in client.get(entry).content.decode()
    assignment = session_next_assignment(session)
    client.post(entry + "judge/", form_data(assignment, answers_valid(session, assignment)))
    shown = Judgement.objects.get(session=session, dimension__key="origin").shown
    assert shown["question"] == "Who made this picture, a person or a machine?"


def test_a_display_name_is_not_an_answer(client, study):
    study_open(study, artworks=3, items_per_session=2, attention_check_rate=0)
    displayed(study, "origin", DISPLAY)
    session = session_judging_http(client, study)
    assignment = session_next_assignment(session)
    answers = answers_valid(session, assignment) | {"origin": ["AI-generated"]}
    response = client.post(reverse("annotations:session_judge", args=[study.slug]), form_data(assignment, answers))
    assert response.status_code == 400 and not Judgement.objects.filter(session=session).exists()


def test_an_instructed_check_and_a_follow_up_name_the_answer_as_it_is_shown(study):
    origin = displayed(study, "origin", DISPLAY)
    check = AttentionCheck(instruction="Attention check: for this question, please choose \u201cai\u201d.")
    question = dimension_question(origin, Session(seed=1), artwork_id=1, check=check)
    assert question.instruction == "Attention check: for this question, please choose \u201cAI-generated\u201d."
    assert question.shown["instruction"] == question.instruction

    deformation = displayed(study, "deformation", {"yes": "Yes, I see some"})
    severity = dimension_question(deformation, Session(seed=1), artwork_id=1).severity
    assert (severity.when, severity.when_text) == ("yes", "Yes, I see some")


def test_a_display_that_is_not_a_mapping_shows_the_labels_as_they_are(study):
    origin = displayed(study, "origin", ["AI-generated"])
    question = dimension_question(origin, Session(seed=1), artwork_id=1)
    assert [o.text for o in question.options] == ["human", "ai"] and "display" not in question.shown


def test_the_counter_says_how_many_artworks_and_attention_checks_the_session_has(client, study):
    study_open(study, artworks=6, items_per_session=2, attention_check_rate=0.5)
    session_judging_http(client, study)
    page = client.get(reverse("annotations:session_entry", args=[study.slug])).content.decode()
    assert "Artwork <span class=\"count\">1 / 3</span>" in page
    assert "3 in all: 2 artworks to judge and 1 attention check" in page
