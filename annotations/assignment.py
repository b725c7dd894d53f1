"""Which artworks a session judges: the least-judged first, claimed safely under concurrency.

A session's artworks are allocated once, as its instructions are done (after their answer has been
sent: `crowd.session_allocate_ahead`), or by the judging page if that did not happen: the
`items_per_session` artworks with the lowest load (judgements done plus holds not yet expired), ties
broken by a hash of the session's seed (MD5 of "id:seed") so that sessions spread over tied artworks
differently; one query reads the loads, Python sorts. Taking the k lowest from loads that differ by
at most one keeps them within one of each other, so every artwork reaches the study's target before
any goes past it.

The chosen rows are locked with `SELECT ... WHERE id IN (...) FOR NO KEY UPDATE SKIP LOCKED`
(Label Studio's `next_task`): concurrent sessions take disjoint artworks instead of waiting for each
other; a row another claim has locked is passed over for the next one in the order, as `ORDER BY ...
LIMIT` with SKIP LOCKED would. NO KEY: the lock excludes other claims but not the key-share locks
that foreign-key checks take when a row pointing at the artwork is written (a judgement, an attention
check on a spare artwork); a plain FOR UPDATE would make those wait for the claim, and two claims
each checking the other's artworks deadlock.
A claim then reads every load again (a new statement, so a fresh snapshot taken after its locks)
and checks that what it locked is still the least loaded: a locked row's load is exact (every claim on
an artwork holds its lock until it commits), every other row's is at least what is committed.
A claim that read a stale load, or skipped a row that another session locked and then let go,
fails the check and starts again; so every committed claim took artworks at the lowest load, and
loads stay within one of each other. On SQLite the locks are no-ops; SQLite serialises writers.

Holds last HOLD and are renewed when the session is served (at most once a minute: see
`crowd.RENEW_AFTER`), so an abandoned session's artworks count as free again once its holds expire.
"""
import hashlib
import random
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, F, Func, IntegerField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from .models import Artwork, Assignment, AttentionCheck, Dimension, ExpertLabel, Session
from .questions import study_dimensions

HOLD = timedelta(minutes=30)
CLAIM_ATTEMPTS = 25


class AssignmentBusy(Exception):
    """Every free artwork is being claimed by other sessions right now; try again shortly."""


def load_filter(now: datetime, prefix: str = "") -> Q:
    """Assignments that count towards an artwork's load: done, or held and not expired (`prefix`: the
    path to the assignment, e.g. "assignments__" from an artwork)."""
    def q(**lookups) -> Q:
        return Q(**{prefix + lookup: value for lookup, value in lookups.items()})
    return q(is_attention_check=False) & (
        q(status=Assignment.Status.DONE) | q(status=Assignment.Status.HELD, held_until__gt=now))


def artwork_loads(artwork_ids: list[int], now: datetime) -> dict[int, int]:
    counts = dict(Assignment.objects.filter(load_filter(now), artwork_id__in=artwork_ids)
                  .values("artwork").annotate(n=Count("id")).values_list("artwork", "n"))
    return {artwork_id: counts.get(artwork_id, 0) for artwork_id in artwork_ids}


def _loads_query(session: Session, now: datetime) -> QuerySet:
    """(id, image, load, had) of each artwork of the session's study, `had` counting the session's
    assignments: one query over the study's artworks and their assignments."""
    return (Artwork.objects.filter(study_id=session.study_id).order_by()
            .annotate(load=Count("assignments", filter=load_filter(now, "assignments__")),
                      had=Count("assignments", filter=Q(assignments__session_id=session.pk)))
            .values_list("id", "image", "load", "had"))


def _candidates(rows: Iterable[tuple[int, str, int, int]]) -> tuple[dict[int, int], int]:
    """From `_loads_query`: the load of each artwork with an image the session has not had, and how
    many assignments the session has."""
    loads, had = {}, 0
    for artwork_id, image, load, session_had in rows:
        had += session_had
        if image and not session_had:
            loads[artwork_id] = load
    return loads, had


def _tiebreak(artwork_id: int, seed: int) -> str:
    """Orders tied artworks per session: the MD5 of "id:seed" that the database used to compute, so a
    session's artworks still follow from its stored seed."""
    return hashlib.md5(f"{artwork_id}:{seed}".encode()).hexdigest()


def _claim(order: list[int], wanted: int) -> list[int]:
    """Locks the first `wanted` artworks of `order` that no other claim has locked (ORDER BY their place
    in `order`, SKIP LOCKED, LIMIT); fewer when other claims hold the rest. One statement: topping up
    in batches held the locks over round trips, and 30 sessions starting at once retried ten times as
    often. SQLite has no row locks: the first `wanted`."""
    if connection.vendor != "postgresql":
        return order[:wanted]
    place = Func(RawSQL("%s::bigint[]", (order,)), F("id"), function="array_position", output_field=IntegerField())
    return list(Artwork.objects.filter(id__in=order).exclude(image="").order_by(place)
                .select_for_update(skip_locked=True, no_key=True).values_list("id", flat=True)[:wanted])


def _still_lowest(claimed: list[int], loads: dict[int, int]) -> bool:
    """Whether no other candidate has a lower load than the highest of the claimed rows (loads read afresh)."""
    highest = max(loads[artwork_id] for artwork_id in claimed)
    return all(load >= highest for artwork_id, load in loads.items() if artwork_id not in claimed)


def checks_planned(items: int, rate: float) -> int:
    """Attention checks for a session of `items` artworks: the rate's share, at least one if any."""
    if items == 0 or rate <= 0:
        return 0
    return max(1, round(items * rate))


def assignments_allocate(session: Session) -> int:
    """Give the session its artworks and attention checks, once; returns how many items it has.

    Gold items (artworks with a gold expert label) are set aside for the checks first; the other
    checks are instructed-response questions on spare artworks. Raises AssignmentBusy when other
    sessions keep every free artwork locked for too long.
    """
    study = session.study
    for attempt in range(CLAIM_ATTEMPTS):
        now = timezone.now()
        with transaction.atomic():
            # One allocation per session: a second request waits here for the first to commit; the read
            # below, a statement of its own, then sees its assignments (one statement's subquery would not).
            Session.objects.select_for_update(no_key=True).values_list("pk").get(pk=session.pk)
            query = _loads_query(session, now)
            loads, had = _candidates(query)
            if had:
                return had
            rng = random.Random(f"{session.seed}:checks")
            planned = checks_planned(min(study.items_per_session, len(loads)), study.attention_check_rate)
            gold = _gold_checks(session, planned, rng) if planned else []
            gold_ids = {c["artwork_id"] for c in gold}
            loads = {artwork_id: load for artwork_id, load in loads.items() if artwork_id not in gold_ids}
            wanted = min(study.items_per_session, len(loads))
            if wanted == 0:
                return 0  # checks alone are no work: the session gets nothing until an artwork is free
            rows = _claim(sorted(loads, key=lambda a: (loads[a], _tiebreak(a, session.seed), a)), wanted)
            if len(rows) == wanted:  # the same query run again: a snapshot taken after the locks
                fresh = {a: load for a, load in _candidates(query.all())[0].items() if a not in gold_ids}
                if _still_lowest(rows, fresh):
                    # Instructed checks go on the most-judged spare artworks, which need judges least.
                    spare = sorted(fresh.keys() - set(rows),
                                   key=lambda a: (-fresh[a], _tiebreak(a, session.seed), a))[: planned - len(gold)]
                    dimensions = study_dimensions(study) if spare else []
                    checks = gold + [{"artwork_id": artwork_id, "kind": AttentionCheck.Kind.INSTRUCTED,
                                      **instructed_question(dimensions, rng)} for artwork_id in spare]
                    _assignments_create(session, rows, checks, now)
                    return len(rows) + len(checks)
        # Fewer free rows than wanted (others hold locks), or no longer the lowest: try again shortly.
        time.sleep(random.uniform(0.002, 0.01) * (attempt + 1))
    raise AssignmentBusy("all free artworks are being assigned to other participants; please retry")


def _gold_checks(session: Session, n: int, rng: random.Random) -> list[dict]:
    """Up to n checks on gold items, one per artwork, drawn with the session's seed."""
    gold = list(ExpertLabel.objects.filter(is_gold=True, artwork__study_id=session.study_id,
                                           dimension__kind__in=["single", "binary"])
                .exclude(artwork__image="").select_related("dimension").order_by("artwork_id", "dimension_id"))
    rng.shuffle(gold)
    checks, taken = [], set()
    for label in gold:
        if len(checks) < n and label.artwork_id not in taken:
            taken.add(label.artwork_id)
            checks.append({"artwork_id": label.artwork_id, "kind": AttentionCheck.Kind.GOLD,
                           "dimension": label.dimension, "expected": label.value, "instruction": ""})
    return checks


def instructed_question(dimensions: list[Dimension], rng: random.Random) -> dict:
    """An instructed-response question: one of the study's questions, with the answer to give.

    The answer is drawn at random, so it says nothing about the artwork it is shown with.
    """
    simple = [d for d in dimensions if d.kind in ("single", "binary", "rating")] or dimensions
    dimension = rng.choice(simple)
    if dimension.kind == "rating":
        point = rng.randint(dimension.scale_min, dimension.scale_max)
        return {"dimension": dimension, "expected": point,
                "instruction": f"Attention check: for this question, please choose {point}."}
    label = rng.choice(dimension.labels)
    expected = [label] if dimension.kind == "multi" else label
    verb = "tick only" if dimension.kind == "multi" else "choose"
    return {"dimension": dimension, "expected": expected,
            "instruction": f"Attention check: for this question, please {verb} \u201c{label}\u201d."}


def _assignments_create(session: Session, artwork_ids: list[int], checks: list[dict], now: datetime) -> None:
    """Positions in a seeded random order; checks anywhere but first, so the session opens on art."""
    rng = random.Random(f"{session.seed}:order")
    order = sorted(artwork_ids)
    rng.shuffle(order)
    total = len(order) + len(checks)
    check_positions = rng.sample(range(2, total + 1), len(checks))
    held = {"status": Assignment.Status.HELD, "held_until": now + HOLD}
    items = iter(order)
    check_at = dict(zip(check_positions, checks))
    rows = [Assignment(session=session, artwork_id=check_at[position]["artwork_id"], position=position,
                       is_attention_check=True, **held) if position in check_at
            else Assignment(session=session, artwork_id=next(items), position=position, **held)
            for position in range(1, total + 1)]
    Assignment.objects.bulk_create(rows)  # sets each row's pk (PostgreSQL, SQLite >= 3.35)
    AttentionCheck.objects.bulk_create(
        AttentionCheck(assignment=assignment, participant_id=session.participant_id, dimension=check["dimension"],
                       kind=check["kind"], expected=check["expected"], instruction=check["instruction"])
        for assignment in rows if (check := check_at.get(assignment.position)) is not None)
