"""Comparative dimensions (pairwise, best_worst, triplet): their study-file fields, the balanced
trial design, the claim of trials by sessions, and the participant's answers.

A comparative dimension is judged in trials of 2-5 artworks instead of one artwork at a time. Its
study-file entry may say (all optional; kept in Dimension.extra):

- `size`: artworks per best_worst trial, 3-5 (default 4); pairwise is 2, triplet 3;
- `appearances`: trials each artwork appears in (default 4, at least 2: see `design_tuples`);
- `repeats`: trials each session is shown a second time, later, to measure consistency (default 2);
- `adaptive`: true (pairwise, best_worst): among trials of equal load, those whose outcome is least
  certain now come first (`trial_uncertainty_ranks`);
- `aspect`: for a triplet, what similarity is about ("style", "content"), shown with the question;
- `prompts` (and `negative_prompts`): texts for the model's score of an artwork on the dimension
  (pairwise, best_worst); for a triplet, `labels` with `prompts` give the aspect's scores.

Trials are claimed like artworks (`assignment.py`): the least judged first, `FOR NO KEY UPDATE SKIP
LOCKED`, a fresh check that what was locked is still the least loaded, and holds that expire. A
session gets `items_per_session` trials (or fewer) and then `repeats` of them again, in a new
screen order. Every screen order is drawn at random per row and stored.
"""
from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Case, CharField, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import MD5, Cast, Coalesce, Concat
from django.utils import timezone

from .assignment import CLAIM_ATTEMPTS, HOLD, AssignmentBusy
from .models import Artwork, ComparativeJudgement, Dimension, Session, Study, Trial, TrialAssignment
from .questions import study_dimensions
from .values import COMPARATIVE_KINDS

SIZES = {"pairwise": (2, 2), "triplet": (3, 3), "best_worst": (3, 5)}
DEFAULT_SIZE = {"pairwise": 2, "triplet": 3, "best_worst": 4}
DEFAULT_APPEARANCES = 4
DEFAULT_REPEATS = 2
MAX_APPEARANCES = 100
EXTRA_FIELDS = ("size", "appearances", "repeats", "aspect", "negative_prompts", "adaptive")
RENEW_AFTER = timedelta(minutes=1)  # as crowd.RENEW_AFTER: holds renewed on a serve at most this often


def is_comparative(kind: str) -> bool:
    return kind in COMPARATIVE_KINDS


def trial_size(dimension: Dimension) -> int:
    return int(dimension.extra.get("size") or DEFAULT_SIZE[dimension.kind])


# The study file ------------------------------------------------------------------------------------
def _whole(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def comparative_dimension_problems(kind: str, fields: dict, labels: Sequence[str]) -> list[str]:
    """What a comparative dimension's own fields get wrong (empty: nothing). `fields`: its entry."""
    problems = []
    low, high = SIZES[kind]
    size = fields.get("size")
    if size is not None and not _whole(size, low, high):
        problems.append(f"field 'size': a {kind} trial shows {low if low == high else f'{low} to {high}'} artworks,"
                        f" got {size!r}")
    if fields.get("appearances") is not None and not _whole(fields["appearances"], 2, MAX_APPEARANCES):
        problems.append(f"field 'appearances': a whole number from 2 to {MAX_APPEARANCES} (each artwork's trials;"
                        " 2 keeps the comparison graph connected), got " + repr(fields["appearances"]))
    if fields.get("repeats") is not None and not _whole(fields["repeats"], 0, 50):
        problems.append(f"field 'repeats': a whole number from 0 to 50, got {fields['repeats']!r}")
    if fields.get("aspect") is not None and (kind != "triplet" or not isinstance(fields["aspect"], str)):
        problems.append("field 'aspect': text, and only for a triplet dimension")
    if fields.get("adaptive") is not None and (not isinstance(fields["adaptive"], bool) or kind == "triplet"):
        problems.append("field 'adaptive': true or false, for a pairwise or best_worst dimension")
    negative = fields.get("negative_prompts")
    if negative is not None and (not isinstance(negative, list) or not all(isinstance(p, str) for p in negative)):
        problems.append("field 'negative_prompts': a list of texts")
    if labels and kind != "triplet":
        problems.append(f"field 'labels': a {kind} dimension has no labels (its answer is an artwork)")
    return problems


# The design (pure) -----------------------------------------------------------------------------------
def design_tuples(n: int, size: int, appearances: int, seed: int) -> list[tuple[int, ...]]:
    """A balanced, connected design over artworks 0..n-1: tuples of `size`, each artwork in
    `appearances` of them (exactly when `size` divides n, else a few in one more per round).

    Each round cuts a random cyclic order of the artworks into consecutive blocks of `size`. The
    second round cuts the first round's order shifted by one place, so each of its blocks overlaps
    two neighbouring blocks of the first: the comparison graph (artworks linked when in one tuple)
    is connected from two rounds on. Later rounds draw fresh orders; a tuple already in the design
    is drawn again (one set of artworks is one trial). Tuples are sorted; the list is in design order.
    """
    if size < 2 or n < size:
        raise ValueError(f"a design of {size}-tuples needs at least {size} artworks, got {n}")
    if appearances < 2:
        raise ValueError("at least 2 appearances per artwork keep the comparison graph connected")
    rng = random.Random(seed)
    order = list(range(n))
    rng.shuffle(order)
    blocks = -(-n // size)
    seen: set[tuple[int, ...]] = set()
    design: list[tuple[int, ...]] = []

    def cut(sequence: list[int], start: int) -> list[tuple[int, ...]]:
        return [tuple(sorted(sequence[(start + b * size + t) % n] for t in range(size))) for b in range(blocks)]

    for round_ in range(appearances):
        for _ in range(50):
            if round_ < 2:
                tuples = cut(order, round_)
            else:
                fresh = list(range(n))
                rng.shuffle(fresh)
                tuples = cut(fresh, 0)
            new = [t for t in dict.fromkeys(tuples) if t not in seen]
            if len(new) == len(tuples) or round_ < 2 or n <= size + 1:
                break
        seen.update(new)
        design += new
    if not design_connected(n, design):  # pragma: no cover - the construction above guarantees it
        raise ValueError("the design's comparison graph is not connected")
    return design


def design_connected(n: int, tuples: Sequence[Sequence[int]]) -> bool:
    """Whether every artwork 0..n-1 is linked to every other through tuples (union-find)."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for t in tuples:
        for other in t[1:]:
            parent[root(other)] = root(t[0])
    return len({root(i) for i in range(n)}) <= 1


def trial_key(artwork_ids: Sequence[int]) -> str:
    return ";".join(str(i) for i in sorted(artwork_ids))


def comparative_dimensions(study_id: int) -> list[Dimension]:
    return list(Dimension.objects.filter(study_id=study_id, kind__in=COMPARATIVE_KINDS).order_by("position", "id"))


def study_is_comparative(study: Study) -> bool:
    return any(d.kind in COMPARATIVE_KINDS for d in study_dimensions(study))


def trials_design(dimension: Dimension) -> int:
    """Make the dimension's design over the study's artworks with an image, once; returns how many
    trials it has. Taken under the dimension's row lock, so two first sessions make it once."""
    with transaction.atomic():
        Dimension.objects.select_for_update().get(pk=dimension.pk)
        existing = Trial.objects.filter(dimension=dimension, in_design=True).count()
        if existing:
            return existing
        ids = sorted(Artwork.objects.filter(study_id=dimension.study_id).exclude(image="").values_list("id", flat=True))
        size = trial_size(dimension)
        if len(ids) < size:
            return 0
        appearances = int(dimension.extra.get("appearances") or DEFAULT_APPEARANCES)
        tuples = design_tuples(len(ids), size, appearances, seed=dimension.pk)
        keys = [trial_key([ids[i] for i in t]) for t in tuples]
        known = set(Trial.objects.filter(dimension=dimension, key__in=keys).values_list("key", flat=True))
        Trial.objects.filter(dimension=dimension, key__in=known).update(in_design=True)
        Trial.objects.bulk_create(Trial(dimension=dimension, artworks=[ids[i] for i in t], key=key)
                                  for t, key in zip(tuples, keys) if key not in known)
        return len(keys)


def comparative_judged_keys(study: Study) -> set[str]:
    """Keys of the study's dimensions that hold trial answers."""
    return set(ComparativeJudgement.objects.filter(trial__dimension__study=study)
               .values_list("trial__dimension__key", flat=True).distinct())


def comparative_progress(study: Study) -> dict[int, tuple[int, int]]:
    """Per comparative dimension (id): (first answers given, design trials x the study's target)."""
    dimension_ids = list(Dimension.objects.filter(study=study, kind__in=COMPARATIVE_KINDS).values_list("id", flat=True))
    if not dimension_ids:
        return {}
    answers = dict(ComparativeJudgement.objects.filter(trial__dimension__study=study, repeat=0)
                   .values("trial__dimension").annotate(n=Count("id")).values_list("trial__dimension", "n"))
    trials = dict(Trial.objects.filter(dimension__study=study, dimension__kind__in=COMPARATIVE_KINDS, in_design=True)
                  .values("dimension").annotate(n=Count("id")).values_list("dimension", "n"))
    return {d: (answers.get(d, 0), trials.get(d, 0) * study.target_judgements_per_item) for d in dimension_ids}


# Claiming trials ------------------------------------------------------------------------------------
def trial_load_filter(now: datetime) -> Q:
    """Trial assignments that count towards a trial's load: first showings done, or held and not expired."""
    return Q(repeat=0) & (Q(status="done") | Q(status="held", held_until__gt=now))


def trial_loads(trial_ids: list[int], now: datetime) -> dict[int, int]:
    counts = dict(TrialAssignment.objects.filter(trial_load_filter(now), trial_id__in=trial_ids)
                  .values("trial").annotate(n=Count("id")).values_list("trial", "n"))
    return {trial_id: counts.get(trial_id, 0) for trial_id in trial_ids}


def _candidates(session: Session, now: datetime, uncertain: dict[int, int] | None = None) -> QuerySet[Trial]:
    """Design trials this session has not had, least loaded first; among equal loads the most
    uncertain first where the dimension is adaptive (`uncertain`: trial id -> rank, 0 the most), then
    by seeded hash."""
    load = (TrialAssignment.objects.filter(trial_load_filter(now), trial=OuterRef("pk"))
            .order_by().values("trial").annotate(n=Count("id")).values("n"))
    priority = (Case(*(When(pk=pk, then=Value(rank)) for pk, rank in uncertain.items()),
                     default=Value(len(uncertain)), output_field=IntegerField()) if uncertain else Value(0))
    return (Trial.objects.filter(dimension__study_id=session.study_id, in_design=True)
            .exclude(id__in=TrialAssignment.objects.filter(session=session).values("trial"))
            .annotate(load=Coalesce(Subquery(load, output_field=IntegerField()), 0), priority=priority,
                      tiebreak=MD5(Concat(Cast("id", CharField()), Value(f":{session.seed}"))))
            .order_by("load", "priority", "tiebreak", "id"))


def trial_uncertainty_ranks(dimensions: list[Dimension]) -> dict[int, int]:
    """For the adaptive dimensions (`adaptive: true`): their design trials ranked by how uncertain
    their outcome is now, 0 the most. An artwork's current score is its smoothed share of wins,
    (wins + 1) / (comparisons + 2), over the implied pairs of the answers so far (best-worst: the
    best over each other, each other over the worst); a trial's uncertainty is the spread of its
    artworks' scores (closest first). The balance of loads comes first: this only orders trials
    of equal load, so the claims' guarantees hold."""
    adaptive = [d.pk for d in dimensions if d.extra.get("adaptive") and d.kind != "triplet"]
    if not adaptive:
        return {}
    wins: dict[int, int] = {}
    seen: dict[int, int] = {}
    for items, choice in ComparativeJudgement.objects.filter(trial__dimension_id__in=adaptive).values_list(
            "items", "choice"):
        best, worst = (choice[0], choice[1]) if isinstance(choice, list) else (choice, None)
        for item in items:
            if item != best:
                wins[best] = wins.get(best, 0) + 1
                seen[best], seen[item] = seen.get(best, 0) + 1, seen.get(item, 0) + 1
            if worst is not None and item not in (best, worst):
                wins[item] = wins.get(item, 0) + 1
                seen[item], seen[worst] = seen.get(item, 0) + 1, seen.get(worst, 0) + 1
    score = {a: (wins.get(a, 0) + 1) / (n + 2) for a, n in seen.items()}
    spread = {pk: max(score.get(a, 0.5) for a in artworks) - min(score.get(a, 0.5) for a in artworks)
              for pk, artworks in Trial.objects.filter(dimension_id__in=adaptive, in_design=True)
              .values_list("id", "artworks")}
    return {pk: rank for rank, pk in enumerate(sorted(spread, key=lambda pk: (spread[pk], pk)))}


def _still_lowest(candidates: QuerySet[Trial], rows: list[Trial], now: datetime) -> bool:
    if not rows:
        return True
    highest = max(trial_loads([t.id for t in rows], now).values())
    return not candidates.exclude(id__in=[t.id for t in rows]).filter(load__lt=highest).exists()


def trials_allocate(session: Session) -> int:
    """Give the session its trials and their repeats, once; returns how many it has. As
    `assignment.assignments_allocate`: raises AssignmentBusy when others keep the free trials locked."""
    study = session.study
    dimensions = comparative_dimensions(session.study_id)
    for dimension in dimensions:
        trials_design(dimension)
    repeats = max((int(d.extra.get("repeats", DEFAULT_REPEATS)) for d in dimensions), default=0)
    uncertain = trial_uncertainty_ranks(dimensions)
    for attempt in range(CLAIM_ATTEMPTS):
        now = timezone.now()
        with transaction.atomic():
            Session.objects.select_for_update(no_key=True).get(pk=session.pk)
            if TrialAssignment.objects.filter(session=session).exists():
                return TrialAssignment.objects.filter(session=session).count()
            candidates = _candidates(session, now, uncertain)
            wanted = min(study.items_per_session, candidates.count())
            if wanted == 0:
                return 0
            rows = list(candidates.select_for_update(skip_locked=True, no_key=True, of=("self",))[:wanted])
            if len(rows) == wanted and _still_lowest(candidates, rows, now):
                _trial_assignments_create(session, rows, min(repeats, len(rows)), now)
                return len(rows) + min(repeats, len(rows))
        time.sleep(random.uniform(0.002, 0.01) * (attempt + 1))
    raise AssignmentBusy("all free trials are being assigned to other participants; please retry")


def _trial_assignments_create(session: Session, trials: list[Trial], repeats: int, now: datetime) -> None:
    """Trials in a seeded random order, then `repeats` of them again (each at least a few trials
    after its first showing); every showing draws its own screen order."""
    rng = random.Random(f"{session.seed}:trials")
    order = sorted(trials, key=lambda t: t.id)
    rng.shuffle(order)
    again = rng.sample(order[: max(repeats, len(order) - 2)], repeats) if repeats else []
    shown = [(trial, 0) for trial in order] + [(trial, 1) for trial in again]
    held_until = now + HOLD
    TrialAssignment.objects.bulk_create(
        TrialAssignment(session=session, trial=trial, repeat=repeat, position=position,
                        order=rng.sample(list(trial.artworks), len(trial.artworks)), held_until=held_until)
        for position, (trial, repeat) in enumerate(shown, start=1))


# The participant's trials -----------------------------------------------------------------------------
@dataclass(frozen=True)
class TrialItem:
    """The trial to show now, its dimension, and the session's progress."""
    assignment: TrialAssignment
    dimension: Dimension
    progress: dict


def session_next_trial(session: Session) -> TrialItem | None:
    """The first trial still held (its holds renewed at most once a minute, served_at set once);
    None when judging is over (the session completed) or nothing could be given yet."""
    if session.phase != Session.Phase.JUDGING:
        return None
    if not TrialAssignment.objects.filter(session=session).exists():
        trials_allocate(session)
    rows = list(TrialAssignment.objects.filter(session=session).select_related("trial__dimension")
                .order_by("position"))
    held = [a for a in rows if a.status == "held"]
    now = timezone.now()
    if not held:
        if rows:
            Session.objects.filter(pk=session.pk, phase=Session.Phase.JUDGING).update(
                phase=Session.Phase.COMPLETED, completed_at=now)
            session.refresh_from_db()
        return None
    current = held[0]
    if min(a.held_until for a in held) < now + HOLD - RENEW_AFTER:
        TrialAssignment.objects.filter(session=session, status="held").update(held_until=now + HOLD)
    if current.served_at is None:
        TrialAssignment.objects.filter(pk=current.pk, served_at__isnull=True).update(served_at=now)
        current.served_at = now
    done = sum(a.status == "done" for a in rows)
    total = done + len(held)
    return TrialItem(current, current.trial.dimension, {"done": done, "total": total, "position": done + 1})


class TrialRefused(Exception):
    """An answer the session cannot take; `message` is shown to the participant, nothing is stored."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


def trial_choice_parse(kind: str, order: list[int], choice, best=None, worst=None):
    """The stored choice from the screen slots the participant picked (0-based): an artwork id, or
    [best, worst]; TrialRefused saying why not."""
    def slot(raw, what: str) -> int:
        try:
            index = int(raw)
        except (TypeError, ValueError):
            raise TrialRefused(f"The answer did not say which artwork is {what}; nothing was saved.") from None
        if not 0 <= index < len(order):
            raise TrialRefused(f"There is no artwork {index + 1} in this trial; nothing was saved.")
        return order[index]
    if kind == "best_worst":
        best_id, worst_id = slot(best, "the most"), slot(worst, "the least")
        if best_id == worst_id:
            raise TrialRefused("The most and the least cannot be the same artwork; nothing was saved.")
        return [best_id, worst_id]
    return slot(choice, "chosen")


def trial_answer_record(session: Session, assignment_id, fields: dict, client_ms: int | None = None) -> str:
    """Store the answer to one of the session's trials: 'stored', or 'repeat' for an exact
    resubmission. TrialRefused, storing nothing, for a trial not the session's (409), a malformed
    answer (400), a different answer to a trial already answered (409), a session no longer judging."""
    try:
        assignment_id = int(assignment_id)
    except (TypeError, ValueError):
        raise TrialRefused("The form did not say which trial it answers; nothing was saved.") from None
    now = timezone.now()
    with transaction.atomic():
        phase = Session.objects.select_for_update(no_key=True).values_list("phase", flat=True).get(pk=session.pk)
        assignment = (TrialAssignment.objects.filter(session=session, pk=assignment_id)
                      .select_related("trial__dimension").first())
        if assignment is None:
            raise TrialRefused("This trial is not one of yours; nothing was saved.", 409)
        kind = assignment.trial.dimension.kind
        choice = trial_choice_parse(kind, assignment.order, fields.get("choice"), fields.get("best"),
                                    fields.get("worst"))
        if assignment.status == "done":
            stored = ComparativeJudgement.objects.filter(participant_id=session.participant_id,
                                                         trial_id=assignment.trial_id, repeat=assignment.repeat)
            if stored.filter(choice=choice).exists():
                return "repeat"
            raise TrialRefused("You have already answered this trial; your first answer is kept.", 409)
        if assignment.status != "held" or phase != Session.Phase.JUDGING:
            raise TrialRefused("This session is no longer taking answers; nothing was saved.", 409)
        response_ms = int((now - assignment.served_at).total_seconds() * 1000) if assignment.served_at else None
        try:
            with transaction.atomic():
                ComparativeJudgement.objects.create(
                    participant_id=session.participant_id, trial_id=assignment.trial_id, session=session,
                    repeat=assignment.repeat, items=assignment.order, choice=choice, response_ms=response_ms,
                    client_ms=client_ms, created_at=now)
        except IntegrityError:
            raise TrialRefused("You have already answered this trial; your first answer is kept.", 409) from None
        TrialAssignment.objects.filter(pk=assignment.pk, status="held").update(status="done", completed_at=now)
        if not TrialAssignment.objects.filter(session=session, status="held").exists():
            Session.objects.filter(pk=session.pk, phase=Session.Phase.JUDGING).update(
                phase=Session.Phase.COMPLETED, completed_at=now)
    session.refresh_from_db()
    return "stored"


def trial_image_artwork(session: Session | None, assignment_id: int, slot: int) -> Artwork | None:
    """The artwork in screen slot `slot` of one of this session's trials; None if there is none."""
    if session is None:
        return None
    order = (TrialAssignment.objects.filter(session=session, pk=assignment_id)
             .values_list("order", flat=True).first())
    if order is None or not 0 <= slot < len(order):
        return None
    return Artwork.objects.filter(pk=order[slot], study_id=session.study_id).exclude(image="").first()
