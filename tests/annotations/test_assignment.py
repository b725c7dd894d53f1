"""Which artworks a session gets: least judged first, each once per person, safe under concurrency."""
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from annotations.assignment import AssignmentBusy, artwork_loads, assignments_allocate
from annotations.crowd import session_next_assignment
from annotations.models import Artwork, Assignment, AttentionCheck, ExpertLabel, Judgement, Session
from tests.annotations.crowd_cast import artworks_add, session_finish, session_judging, study_open
from tests.conftest import require

# One allocation with checks of both kinds: the session's lock, the loads, the gold labels, the claim (none on
# SQLite), the loads again, the dimensions (unless this process holds them: questions.study_dimensions), the
# two inserts: 8, plus BEGIN and COMMIT (here a savepoint and its release). Whatever the number of artworks:
# loads are read in one query, not per artwork.
MAX_STATEMENTS_PER_ALLOCATION = 10


def allocate(study, external_id: str) -> Session:
    session = session_judging(study, external_id)
    session_next_assignment(session)
    return session


def loads(study) -> list[int]:
    ids = list(study.artworks.values_list("id", flat=True))
    return list(artwork_loads(ids, timezone.now()).values())


def artworks_of(session) -> list[int]:
    return list(Assignment.objects.filter(session=session).order_by("position").values_list("artwork_id", flat=True))


@pytest.fixture
def small_study(study):
    return study_open(study, artworks=7, items_per_session=3, target_judgements_per_item=3, attention_check_rate=0,
                      questionnaire=False)


def test_each_session_receives_the_least_judged_artworks(small_study):
    first, second = allocate(small_study, "p1"), allocate(small_study, "p2")
    assert not set(artworks_of(first)) & set(artworks_of(second))
    third = allocate(small_study, "p3")
    untouched = (set(small_study.artworks.values_list("id", flat=True))
                 - set(artworks_of(first)) - set(artworks_of(second)))
    assert untouched <= set(artworks_of(third))  # the one artwork nobody had comes first
    assert sorted(loads(small_study)) == [1, 1, 1, 1, 1, 2, 2]


def test_loads_stay_within_one_of_each_other_as_sessions_arrive(small_study):
    for i in range(12):
        session = allocate(small_study, f"p{i}")
        assert len(set(artworks_of(session))) == 3
        assert max(loads(small_study)) - min(loads(small_study)) <= 1


def test_every_artwork_reaches_its_target_before_any_goes_past(small_study):
    for i in range(7):  # 7 sessions x 3 items = 7 artworks x target 3
        session_finish(session_judging(small_study, f"p{i}"))
    per_artwork = Counter(Judgement.objects.filter(dimension__key="style").values_list("artwork_id", flat=True))
    assert sorted(per_artwork.values()) == [3] * 7
    session_finish(session_judging(small_study, "late"))
    per_artwork = Counter(Judgement.objects.filter(dimension__key="style").values_list("artwork_id", flat=True))
    assert sorted(per_artwork.values()) == [3, 3, 3, 3, 4, 4, 4]


def test_the_order_is_random_per_participant_and_reproducible_from_the_stored_seed(study):
    study_open(study, artworks=12, items_per_session=12, attention_check_rate=0)
    orders = {tuple(artworks_of(allocate(study, f"p{i}"))) for i in range(4)}
    assert len(orders) == 4  # 12! orders: four people do not share one
    session = Session.objects.get(participant__external_id="p0")
    before = artworks_of(session)
    Assignment.objects.filter(session=session).delete()
    session_next_assignment(session)
    assert artworks_of(session) == before


def test_an_allocation_costs_a_few_statements_with_gold_and_instructed_checks(study, django_assert_max_num_queries):
    study_open(study, artworks=8, items_per_session=4, attention_check_rate=0.5, questionnaire=False)
    gold = study.artworks.order_by("id").first()
    ExpertLabel.objects.create(artwork=gold, dimension=study.dimensions.get(key="origin"), value="ai", is_gold=True)
    session = session_judging(study, "p1")
    with django_assert_max_num_queries(MAX_STATEMENTS_PER_ALLOCATION):
        assert assignments_allocate(session) == 6
    kinds = AttentionCheck.objects.filter(assignment__session=session).values_list("kind", flat=True)
    assert sorted(kinds) == [AttentionCheck.Kind.GOLD, AttentionCheck.Kind.INSTRUCTED]


def test_nobody_gets_an_artwork_twice_and_the_database_refuses_it(small_study):
    session = allocate(small_study, "p1")
    assert len(artworks_of(session)) == len(set(artworks_of(session))) == 3
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(session=session, artwork_id=artworks_of(session)[0], position=99,
                                  held_until=timezone.now())


def test_an_abandoned_session_gives_its_artworks_back_when_its_holds_expire(small_study):
    artworks_add(small_study, 2, start=100)  # 9 artworks: three sessions of 3 hold them all
    abandoned = allocate(small_study, "gone")
    allocate(small_study, "p2"), allocate(small_study, "p3")
    assert sorted(loads(small_study)) == [1] * 9
    Assignment.objects.filter(session=abandoned).update(held_until=timezone.now() - timedelta(seconds=1))
    assert sorted(loads(small_study)) == [0, 0, 0] + [1] * 6
    newcomer = allocate(small_study, "p4")
    assert set(artworks_of(newcomer)) == set(artworks_of(abandoned))


def test_an_active_session_keeps_its_holds_renewed_each_time_it_is_served(small_study):
    session = allocate(small_study, "p1")
    Assignment.objects.filter(session=session).update(held_until=timezone.now() + timedelta(seconds=5))
    session_next_assignment(session)
    holds = Assignment.objects.filter(session=session).values_list("held_until", flat=True)
    assert all(hold > timezone.now() + timedelta(minutes=20) for hold in holds)


def test_a_returning_participant_whose_holds_expired_continues_with_the_same_artwork(small_study):
    session = allocate(small_study, "p1")
    current = session_next_assignment(session)
    Assignment.objects.filter(session=session).update(held_until=timezone.now() - timedelta(hours=2))
    assert session_next_assignment(session).pk == current.pk


def test_artworks_without_an_image_are_never_assigned(small_study):
    Artwork.objects.create(study=small_study, external_id="imageless")
    for i in range(4):
        given = Artwork.objects.filter(assignments__session=allocate(small_study, f"p{i}"))
        assert "imageless" not in given.values_list("external_id", flat=True)


def test_a_session_gets_every_artwork_once_when_the_study_has_fewer_than_a_session_asks_for(study):
    study_open(study, artworks=2, items_per_session=5, attention_check_rate=0)
    session = allocate(study, "p1")
    assert len(artworks_of(session)) == 2
    session_finish(session)
    session.refresh_from_db()
    assert session.phase == Session.Phase.COMPLETED


@pytest.mark.django_db(transaction=True)
def test_many_sessions_started_at_once_fill_every_artwork_to_its_target_and_no_further(study):
    """PostgreSQL, one connection per thread: 16 artworks x target 3 = 12 sessions x 4 items."""
    require(connection.vendor == "postgresql", "the concurrency test needs PostgreSQL (DATABASE_URL)")
    study_open(study, artworks=16, items_per_session=4, target_judgements_per_item=3, attention_check_rate=0,
               questionnaire=False)
    sessions = [session_judging(study, f"p{i:02d}") for i in range(12)]
    start, problems = threading.Barrier(len(sessions)), []

    def run(session, finish: bool):
        try:
            start.wait()
            session_finish(session) if finish else session_next_assignment(session)
        except Exception as exc:  # noqa: BLE001 - reported below
            problems.append(repr(exc))
        finally:
            connections.close_all()

    for finish in (False, True):  # first all allocate at once (holds), then all judge at once
        threads = [threading.Thread(target=run, args=(s, finish)) for s in sessions]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert problems == []
        assert sorted(loads(study)) == [3] * 16, "holds alone already spread the artworks evenly"

    judged = Judgement.objects.filter(dimension__key="style")
    assert sorted(Counter(judged.values_list("artwork_id", flat=True)).values()) == [3] * 16
    pairs = list(judged.values_list("participant_id", "artwork_id"))
    assert len(pairs) == len(set(pairs)) == 48  # no participant saw an artwork twice
    assert all(s.phase == Session.Phase.COMPLETED for s in Session.objects.all())


@pytest.mark.django_db(transaction=True)
def test_a_claim_never_skips_past_a_less_judged_artwork_that_another_claim_has_locked(study):
    """Another claim holds the least-judged artwork locked (and may yet let it go): taking the next one
    would leave loads two apart, so the claim checks again and retries, and while the lock lasts the
    participant is asked to retry. Once the lock is gone, the least-judged artwork is theirs."""
    require(connection.vendor == "postgresql", "row locks need PostgreSQL (DATABASE_URL)")
    study_open(study, artworks=2, items_per_session=1, target_judgements_per_item=3, attention_check_rate=0,
               questionnaire=False)
    first = allocate(study, "p1")
    [free] = set(study.artworks.values_list("id", flat=True)) - set(artworks_of(first))
    session = session_judging(study, "p2")
    locked, release = threading.Event(), threading.Event()

    def hold_lock():  # what a concurrent claim's SELECT ... FOR NO KEY UPDATE does to the row
        try:
            with transaction.atomic():
                Artwork.objects.select_for_update(no_key=True).get(pk=free)
                locked.set()
                release.wait(60)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(30)
        with pytest.raises(AssignmentBusy):
            session_next_assignment(session)
        assert sorted(loads(study)) == [0, 1] and artworks_of(session) == []
    finally:
        release.set()
        holder.join()
    assert session_next_assignment(session).artwork_id == free
    assert sorted(loads(study)) == [1, 1]
