"""Which artworks a session judges: the least-judged first, claimed safely under concurrency.

A session's artworks are allocated once, when judging starts: the `items_per_session` artworks
with the lowest load (judgements done plus holds not yet expired), ties broken by a hash of the
session's seed so that sessions spread over tied artworks differently. Taking the k lowest from
loads that differ by at most one keeps them within one of each other, so every artwork reaches the
study's target before any goes past it.

Rows are locked with `SELECT ... FOR NO KEY UPDATE SKIP LOCKED` (Label Studio's `next_task`):
concurrent sessions take disjoint artworks instead of waiting for each other. NO KEY: the lock
excludes other claims but not the key-share locks that foreign-key checks take when a row pointing
at the artwork is written (a judgement, an attention check on a spare artwork); a plain FOR UPDATE
would make those wait for the claim, and two claims each checking the other's artworks deadlock.
A claim then checks, reading afresh, that what it locked is still the least loaded: a locked row's
load is exact (every claim on an artwork holds its lock until it commits), every other row's is at
least what is committed.
A claim that read a stale load, or skipped a row that another session locked and then let go,
fails the check and starts again; so every committed claim took artworks at the lowest load, and
loads stay within one of each other. On SQLite the locks are no-ops; SQLite serialises writers.

Holds last HOLD and are renewed when the session is served (at most once a minute: see
`crowd.RENEW_AFTER`), so an abandoned session's artworks count as free again once its holds expire.
"""
import random
import time
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import CharField, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import MD5, Cast, Coalesce, Concat
from django.utils import timezone

from .models import Artwork, Assignment, AttentionCheck, Dimension, ExpertLabel, Session

HOLD = timedelta(minutes=30)
CLAIM_ATTEMPTS = 25


class AssignmentBusy(Exception):
    """Every free artwork is being claimed by other sessions right now; try again shortly."""


def load_filter(now: datetime) -> Q:
    """Assignments that count towards an artwork's load: done, or held and not expired."""
    return Q(is_attention_check=False) & (
        Q(status=Assignment.Status.DONE) | Q(status=Assignment.Status.HELD, held_until__gt=now))


def artwork_loads(artwork_ids: list[int], now: datetime) -> dict[int, int]:
    counts = dict(Assignment.objects.filter(load_filter(now), artwork_id__in=artwork_ids)
                  .values("artwork").annotate(n=Count("id")).values_list("artwork", "n"))
    return {artwork_id: counts.get(artwork_id, 0) for artwork_id in artwork_ids}


def _candidates(session: Session, now: datetime) -> QuerySet[Artwork]:
    """Artworks with an image this session has not had, least loaded first, ties by seeded hash."""
    load = (Assignment.objects.filter(load_filter(now), artwork=OuterRef("pk"))
            .order_by().values("artwork").annotate(n=Count("id")).values("n"))
    return (Artwork.objects.filter(study_id=session.study_id).exclude(image="")
            .exclude(id__in=Assignment.objects.filter(session=session).values("artwork"))
            .annotate(load=Coalesce(Subquery(load, output_field=IntegerField()), 0),
                      tiebreak=MD5(Concat(Cast("id", CharField()), Value(f":{session.seed}"))))
            .order_by("load", "tiebreak", "id"))


def _still_lowest(candidates: QuerySet[Artwork], rows: list[Artwork], now: datetime) -> bool:
    """Whether no other candidate has a lower load than the highest of the locked rows, read afresh."""
    if not rows:
        return True
    highest = max(artwork_loads([a.id for a in rows], now).values())
    return not candidates.exclude(id__in=[a.id for a in rows]).filter(load__lt=highest).exists()


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
            Session.objects.select_for_update(no_key=True).get(pk=session.pk)  # one allocation per session
            if Assignment.objects.filter(session=session).exists():
                return Assignment.objects.filter(session=session).count()
            rng = random.Random(f"{session.seed}:checks")
            planned = checks_planned(min(study.items_per_session, _candidates(session, now).count()),
                                     study.attention_check_rate)
            gold = _gold_checks(session, planned, rng)
            candidates = _candidates(session, now).exclude(id__in=[c["artwork_id"] for c in gold])
            wanted = min(study.items_per_session, candidates.count())
            if wanted == 0:
                return 0  # checks alone are no work: the session gets nothing until an artwork is free
            rows = list(candidates.select_for_update(skip_locked=True, no_key=True)[:wanted])
            if len(rows) == wanted and _still_lowest(candidates, rows, now):
                # Instructed checks go on the most-judged spare artworks, which need judges least.
                spare = candidates.exclude(id__in=[a.id for a in rows]).order_by("-load", "tiebreak", "id")
                dimensions = list(Dimension.objects.filter(study=study).order_by("position", "id"))
                checks = gold + [{"artwork_id": artwork.id, "kind": AttentionCheck.Kind.INSTRUCTED,
                                  **instructed_question(dimensions, rng)} for artwork in spare[: planned - len(gold)]]
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


def _assignments_create(session: Session, artworks: list[Artwork], checks: list[dict], now: datetime) -> None:
    """Positions in a seeded random order; checks anywhere but first, so the session opens on art."""
    rng = random.Random(f"{session.seed}:order")
    order = sorted(artworks, key=lambda a: a.id)
    rng.shuffle(order)
    total = len(order) + len(checks)
    check_positions = rng.sample(range(2, total + 1), len(checks))
    held = {"status": Assignment.Status.HELD, "held_until": now + HOLD}
    items = iter(order)
    check_at = dict(zip(check_positions, checks))
    rows = [Assignment(session=session, artwork_id=check_at[position]["artwork_id"], position=position,
                       is_attention_check=True, **held) if position in check_at
            else Assignment(session=session, artwork=next(items), position=position, **held)
            for position in range(1, total + 1)]
    Assignment.objects.bulk_create(rows)  # sets each row's pk (PostgreSQL, SQLite >= 3.35)
    AttentionCheck.objects.bulk_create(
        AttentionCheck(assignment=assignment, participant_id=session.participant_id, dimension=check["dimension"],
                       kind=check["kind"], expected=check["expected"], instruction=check["instruction"])
        for assignment in rows if (check := check_at.get(assignment.position)) is not None)
