"""Attention checks: inserted at the study's rate, answered apart from judgements, and acted on."""
import pytest
from django.urls import reverse

from annotations.crowd import judgement_record, session_next_assignment
from annotations.models import Assignment, AttentionCheck, ExpertLabel, Judgement, Participant, Session, Study
from annotations.questions import item_questions
from tests.annotations.crowd_cast import answers_valid, form_data, session_judging, study_open


def wrong_answer(session, assignment) -> dict:
    """A valid answer that is not the one the check asks for."""
    (question,) = item_questions(session, assignment)
    expected = assignment.attention_check.expected
    other = next(o.value for o in question.options if o.value not in (str(expected), expected))
    return {question.key: [other]}


def next_check(session):
    """Judge plain items until the session's next item is a check; return it."""
    while not (assignment := session_next_assignment(session)).is_attention_check:
        judgement_record(session, assignment.artwork_id, answers_valid(session, assignment))
    return assignment


@pytest.fixture
def checked_study(study):
    return study_open(study, artworks=10, items_per_session=4, attention_check_rate=0.25, questionnaire=False,
                      attention_fail_limit=1)


def test_checks_are_inserted_at_the_study_rate_and_never_first(checked_study):
    for i in range(5):
        session = session_judging(checked_study, f"p{i}")
        session_next_assignment(session)
        assignments = list(Assignment.objects.filter(session=session).order_by("position"))
        checks = [a for a in assignments if a.is_attention_check]
        assert len(assignments) == 5 and len(checks) == 1
        assert checks[0].position > 1
        assert checks[0].artwork_id not in {a.artwork_id for a in assignments if not a.is_attention_check}


def test_an_instructed_check_says_which_answer_to_give_and_asks_only_that_question(client, checked_study):
    client.get(reverse("annotations:session_entry", args=[checked_study.slug]), {"participant": "p1"})
    session = session_judging(checked_study, "p1")
    check = next_check(session)
    page = client.get(reverse("annotations:session_entry", args=[checked_study.slug])).content.decode()
    assert check.attention_check.instruction in page and "Attention check: for this question, please" in page
    assert page.count('<fieldset class="question') == 1


def test_a_passed_check_is_stored_as_a_check_and_never_as_a_judgement(checked_study):
    session = session_judging(checked_study, "p1")
    check = next_check(session)
    judged_before = Judgement.objects.count()
    assert judgement_record(session, check.artwork_id, answers_valid(session, check), client_ms=900) == "stored"
    stored = AttentionCheck.objects.get(assignment=check)
    assert (stored.passed, stored.answer, stored.client_ms) == (True, stored.expected, 900)
    assert stored.response_ms is not None and stored.answered_at is not None
    assert Judgement.objects.count() == judged_before
    assert not Judgement.objects.filter(artwork_id=check.artwork_id).exists()
    assert not Participant.objects.get().excluded


def test_failing_the_limit_only_flags_the_participant_when_the_study_says_flag(checked_study):
    session = session_judging(checked_study, "p1")
    check = next_check(session)
    judgement_record(session, check.artwork_id, wrong_answer(session, check))
    participant = Participant.objects.get()
    assert participant.excluded and participant.exclusion_reason == "failed 1 attention check"
    assert AttentionCheck.objects.get().passed is False
    session.refresh_from_db()
    assert session.phase in (Session.Phase.JUDGING, Session.Phase.COMPLETED)
    while (assignment := session_next_assignment(session)) is not None:
        judgement_record(session, assignment.artwork_id, answers_valid(session, assignment))
    session.refresh_from_db()
    assert session.phase == Session.Phase.COMPLETED


def test_failing_the_limit_ends_the_session_when_the_study_says_end(client, study):
    study_open(study, artworks=12, items_per_session=4, attention_check_rate=0.5, questionnaire=False,
               attention_fail_limit=2, attention_fail_action=Study.FailAction.END)
    client.get(reverse("annotations:session_entry", args=[study.slug]), {"participant": "p1"})
    session = session_judging(study, "p1")
    first = next_check(session)
    judgement_record(session, first.artwork_id, wrong_answer(session, first))
    session.refresh_from_db()
    assert session.phase == Session.Phase.JUDGING, "one failure is below the limit of two"
    second = next_check(session)
    response = client.post(reverse("annotations:session_judge", args=[study.slug]),
                           form_data(second, wrong_answer(session, second)), follow=True)
    assert "This session has ended" in response.content.decode() and "completion-code" not in response.content.decode()
    session.refresh_from_db()
    assert session.phase == Session.Phase.TERMINATED
    assert not Assignment.objects.filter(session=session, status=Assignment.Status.HELD).exists()
    assert Participant.objects.get().exclusion_reason == "failed 2 attention checks"


def test_a_gold_item_checks_the_answer_against_the_expert_label(study):
    study_open(study, artworks=10, items_per_session=4, attention_check_rate=0.25, questionnaire=False)
    gold = study.artworks.last()
    ExpertLabel.objects.create(artwork=gold, dimension=study.dimensions.get(key="origin"), value="ai", is_gold=True)
    session = session_judging(study, "p1")
    check = next_check(session)
    assert check.artwork_id == gold.pk
    assert (check.attention_check.kind, check.attention_check.expected, check.attention_check.instruction) == (
        "gold", "ai", "")
    judgement_record(session, check.artwork_id, {"origin": ["human"]})
    assert AttentionCheck.objects.get().passed is False


def test_a_repeated_check_answer_gets_the_same_answer_and_stores_nothing_more(checked_study):
    session = session_judging(checked_study, "p1")
    check = next_check(session)
    answers = answers_valid(session, check)
    assert judgement_record(session, check.artwork_id, answers) == "stored"
    assert judgement_record(session, check.artwork_id, answers) == "repeat"
    assert AttentionCheck.objects.filter(answered_at__isnull=False).count() == 1
