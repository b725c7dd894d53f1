"""Comparative trials: the balanced design, claims by sessions (least judged first, safe under
concurrency, holds that expire), repeats, and the participant's answers."""
import threading
from collections import Counter

import pytest
from django.db import connection, connections
from django.utils import timezone

from annotations.comparative import (
    TrialRefused,
    design_connected,
    design_tuples,
    session_next_trial,
    trial_answer_record,
    trial_loads,
    trials_design,
)
from annotations.editing import StudyChangeRefused, study_update
from annotations.models import (
    ComparativeJudgement,
    Dimension,
    Participant,
    Session,
    Study,
    Trial,
    TrialAssignment,
)
from annotations.progress import study_progress
from annotations.studies import study_create
from tests.annotations.crowd_cast import artworks_add, session_judging
from tests.conftest import require


@pytest.mark.parametrize("n, size, appearances", [(20, 2, 4), (21, 3, 3), (10, 4, 2), (7, 2, 5), (5, 5, 3)])
def test_the_design_is_balanced_connected_and_repeats_no_tuple(n, size, appearances):
    tuples = design_tuples(n, size, appearances, seed=n)
    assert all(len(set(t)) == size for t in tuples)
    assert len(set(tuples)) == len(tuples)
    assert design_connected(n, tuples)
    counts = Counter(i for t in tuples for i in t)
    if n % size == 0 and n > size + 1:
        assert set(counts.values()) == {appearances}
    else:
        assert len(counts) == n and max(counts.values()) - min(counts.values()) <= appearances


def test_a_design_of_one_round_would_not_be_connected_so_it_is_refused():
    with pytest.raises(ValueError, match="connected"):
        design_tuples(10, 2, 1, seed=0)
    assert not design_connected(4, [(0, 1), (2, 3)])


def comparative_study(slug: str, kind: str = "pairwise", artworks: int = 8, **fields) -> Study:
    question = "Which is the odd one out?" if kind == "triplet" else "Which is more appealing?"
    dimension = {"key": "appeal", "kind": kind, "question": question, "appearances": 2,
                 "repeats": fields.pop("repeats", 1)}
    if kind == "best_worst":
        dimension["size"] = 4
    study = study_create({"title": slug, "questionnaire": False, "dimensions": [dimension]}, slug)
    Study.objects.filter(pk=study.pk).update(**{"status": "open", "completion_code": "C0DE42", **fields})
    study.refresh_from_db()
    artworks_add(study, artworks)
    return study


def trials_finish(session, slot: int = 0) -> int:
    done = 0
    while (item := session_next_trial(session)) is not None:
        fields = {"best": 0, "worst": 1} if item.dimension.kind == "best_worst" else {"choice": slot}
        trial_answer_record(session, item.assignment.pk, fields)
        session.refresh_from_db()
        done += 1
    return done


def design_loads(study) -> list[int]:
    ids = list(Trial.objects.filter(dimension__study=study, in_design=True).values_list("id", flat=True))
    return sorted(trial_loads(ids, timezone.now()).values())


@pytest.fixture
def pairwise(db):
    return comparative_study("pairs", items_per_session=3, target_judgements_per_item=2)


def test_sessions_get_the_least_judged_trials_and_a_repeat_later_in_a_new_order(pairwise):
    first = session_judging(pairwise, "p1")
    item = session_next_trial(first)
    rows = list(TrialAssignment.objects.filter(session=first).order_by("position"))
    assert [r.repeat for r in rows] == [0, 0, 0, 1]
    repeated = rows[-1]
    assert repeated.trial_id in {r.trial_id for r in rows[:3]}
    assert all(sorted(r.order) == r.trial.artworks for r in rows)  # the order is the trial's artworks, shuffled
    assert item.assignment.pk == rows[0].pk
    assert Trial.objects.filter(dimension__study=pairwise, in_design=True).count() == 8  # 8 artworks x 2 / 2
    second = session_judging(pairwise, "p2")
    session_next_trial(second)
    mine = {r.trial_id for r in rows}
    theirs = set(TrialAssignment.objects.filter(session=second).values_list("trial_id", flat=True))
    assert not mine & theirs
    assert design_loads(pairwise) == [0, 0, 1, 1, 1, 1, 1, 1]  # repeats do not count


def test_answers_are_stored_by_screen_slot_with_the_order_shown_and_the_session_completes(pairwise):
    session = session_judging(pairwise, "p1")
    item = session_next_trial(session)
    assert trial_answer_record(session, item.assignment.pk, {"choice": "1"}) == "stored"
    stored = ComparativeJudgement.objects.get(participant=session.participant)
    assert stored.items == item.assignment.order and stored.choice == item.assignment.order[1]
    assert stored.response_ms is not None and stored.repeat == 0
    assert trial_answer_record(session, item.assignment.pk, {"choice": "1"}) == "repeat"  # a double click
    with pytest.raises(TrialRefused) as changed:
        trial_answer_record(session, item.assignment.pk, {"choice": "0"})
    assert changed.value.status == 409
    assert trials_finish(session) == 3
    session.refresh_from_db()
    assert session.phase == Session.Phase.COMPLETED
    answers = ComparativeJudgement.objects.filter(participant=session.participant)
    assert sorted(answers.values_list("repeat", flat=True)) == [0, 0, 0, 1]


@pytest.mark.parametrize("fields, reason", [
    ({"choice": "2"}, "There is no artwork 3"), ({"choice": "x"}, "did not say"), ({}, "did not say")])
def test_a_malformed_answer_is_refused_and_nothing_is_stored(pairwise, fields, reason):
    session = session_judging(pairwise, "p1")
    item = session_next_trial(session)
    with pytest.raises(TrialRefused, match=reason):
        trial_answer_record(session, item.assignment.pk, fields)
    assert not ComparativeJudgement.objects.exists()


def test_another_sessions_trial_is_refused(pairwise):
    mine, theirs = session_judging(pairwise, "p1"), session_judging(pairwise, "p2")
    item = session_next_trial(theirs)
    with pytest.raises(TrialRefused) as refused:
        trial_answer_record(mine, item.assignment.pk, {"choice": 0})
    assert refused.value.status == 409


def test_best_worst_stores_both_and_refuses_the_same_artwork_twice(db):
    study = comparative_study("bw", kind="best_worst", items_per_session=2)
    session = session_judging(study, "p1")
    item = session_next_trial(session)
    assert len(item.assignment.order) == 4
    with pytest.raises(TrialRefused, match="cannot be the same"):
        trial_answer_record(session, item.assignment.pk, {"best": 2, "worst": 2})
    trial_answer_record(session, item.assignment.pk, {"best": 2, "worst": 0})
    order = item.assignment.order
    assert ComparativeJudgement.objects.get().choice == [order[2], order[0]]


def test_an_abandoned_sessions_trials_are_free_again_once_its_holds_expire(pairwise):
    gone = session_judging(pairwise, "gone")
    session_next_trial(gone)
    TrialAssignment.objects.filter(session=gone).update(held_until=timezone.now())
    assert design_loads(pairwise) == [0] * 8


@pytest.mark.django_db(transaction=True)
def test_many_sessions_at_once_bring_every_trial_to_its_target_and_none_more_than_one_over(db):
    """PostgreSQL, one connection per thread: 8 design pairs x target 3 = 6 sessions x 4 trials; a
    seventh session puts 4 of them one over."""
    require(connection.vendor == "postgresql", "the concurrency test needs PostgreSQL (DATABASE_URL)")
    study = comparative_study("crowd", items_per_session=4, target_judgements_per_item=3, repeats=1)
    sessions = [session_judging(study, f"p{i:02d}") for i in range(7)]
    start, problems = threading.Barrier(len(sessions)), []

    def run(session, finish: bool):
        try:
            start.wait()
            trials_finish(session) if finish else session_next_trial(session)
        except Exception as exc:  # noqa: BLE001 - reported below
            problems.append(repr(exc))
        finally:
            connections.close_all()

    for finish in (False, True):  # all claim at once (holds), then all answer at once
        threads = [threading.Thread(target=run, args=(s, finish)) for s in sessions]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert problems == []
        assert design_loads(study) == [3, 3, 3, 3, 4, 4, 4, 4]
    answers = ComparativeJudgement.objects.filter(trial__dimension__study=study)
    first = Counter(answers.filter(repeat=0).values_list("trial_id", flat=True))
    assert sorted(first.values()) == [3, 3, 3, 3, 4, 4, 4, 4]
    keys = list(answers.values_list("participant_id", "trial_id", "repeat"))
    assert len(keys) == len(set(keys)) == 7 * 5  # 4 trials and 1 repeat each, nothing judged twice
    assert all(s.phase == Session.Phase.COMPLETED for s in Session.objects.filter(study=study))


def test_progress_counts_first_answers_against_the_design_trials_target(pairwise):
    session = session_judging(pairwise, "p1")
    trials_finish(session)
    [appeal] = study_progress(pairwise)["dimensions"]
    assert appeal == {"key": "appeal", "judgements": 3, "target": 8 * 2, "percent": 18.8}  # the repeat not counted


def test_an_adaptive_dimension_gives_the_trials_whose_outcome_is_least_certain_first(db):
    study = comparative_study("adaptive", artworks=6, items_per_session=3, repeats=0)
    Dimension.objects.filter(study=study).update(extra={"appearances": 2, "repeats": 0, "adaptive": True})
    trials_design(Dimension.objects.get(study=study))  # 6 artworks in a cycle of 6 pairs
    settled = Trial.objects.filter(dimension__study=study).order_by("id").first()
    x, y = settled.artworks
    for i in range(5):  # five people: x beats y every time, so x's and y's scores are clear
        person = Participant.objects.create(study=study, external_id=f"earlier-{i}")
        ComparativeJudgement.objects.create(participant=person, trial=settled, items=[x, y], choice=x,
                                            created_at=timezone.now())
    session = session_judging(study, "next")
    session_next_trial(session)
    given = [a.trial.artworks for a in TrialAssignment.objects.filter(session=session)]
    assert len(given) == 3 and not any({x, y} & set(pair) for pair in given)  # the three pairs of unknowns


def test_a_dimension_with_trial_answers_cannot_be_removed_or_change_its_kind(pairwise):
    session = session_judging(pairwise, "p1")
    item = session_next_trial(session)
    trial_answer_record(session, item.assignment.pk, {"choice": 0})
    spec = {"title": "pairs", "dimensions": [{"key": "appeal", "kind": "triplet", "question": "Odd one out?"}]}
    with pytest.raises(StudyChangeRefused, match="the kind cannot change"):
        study_update(pairwise, spec)
    spec["dimensions"] = [{"key": "other", "kind": "pairwise", "question": "Which?"}]
    with pytest.raises(StudyChangeRefused, match="cannot be removed"):
        study_update(pairwise, spec)
    assert ComparativeJudgement.objects.count() == 1
