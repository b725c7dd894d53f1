"""Selectors for a study's progress: judgements against the target, per dimension and per artwork,
and each participant's time, attention checks, agreement with the others and exclusion: decided by
the one rule set (`annotations.exclusions`, with the study's rules), so the page says what the report
and the exports say, plus warnings that no rule acts on (low agreement, failed checks).

Everything is computed from stored rows on each call (cheap enough to poll every few seconds); the
agreement here is a quick live figure, not the report's leave-one-out kappa (see alignment).
"""
import statistics
from collections import Counter, defaultdict

from django.db.models import Count, Max, Min

from .comparative import comparative_progress
from .exclusions import study_exclusions
from .models import Judgement, Participant, Session, Study

AGREEMENT_MARGIN = 0.25  # flagged when this far below the participants' median agreement
MIN_COMPARED = 5


def study_progress(study: Study) -> dict:
    """Judgements against the target: overall, per dimension, and people per artwork (a histogram)."""
    target = study.target_judgements_per_item
    artwork_ids = list(study.artworks.values_list("id", flat=True))
    judges = dict(Judgement.objects.filter(artwork__study=study).values("artwork")
                  .annotate(n=Count("participant", distinct=True)).values_list("artwork", "n"))
    per_artwork = [judges.get(a, 0) for a in artwork_ids]
    top = max([target, *per_artwork]) if artwork_ids else target
    histogram = Counter(per_artwork)
    by_dimension = dict(Judgement.objects.filter(dimension__study=study).values("dimension")
                        .annotate(n=Count("id")).values_list("dimension", "n"))
    wanted = len(artwork_ids) * target
    compared = comparative_progress(study)  # a comparative dimension: first answers against its trials' target
    counts = {d.pk: compared.get(d.pk, (by_dimension.get(d.pk, 0), wanted))
              for d in study.dimensions.order_by("position", "id")}
    dimensions = [{"key": d.key, "judgements": counts[d.pk][0], "target": counts[d.pk][1],
                   "percent": _percent(*counts[d.pk])} for d in study.dimensions.order_by("position", "id")]
    covered = sum(min(n, target) for n in per_artwork)
    phases = Counter(Session.objects.filter(study=study).values_list("phase", flat=True))
    return {
        "status": study.status,
        "target_per_artwork": target,
        "n_artworks": len(artwork_ids),
        "judgements": sum(d["judgements"] for d in dimensions),
        "judgements_target": sum(d["target"] for d in dimensions),
        "artwork_judges": covered,
        "artwork_judges_target": wanted,
        "percent": _percent(covered, wanted),
        "artworks_at_target": sum(n >= target for n in per_artwork),
        "dimensions": dimensions,
        "histogram": [{"judges": k, "artworks": histogram.get(k, 0)} for k in range(top + 1)],
        "sessions": {phase: phases.get(phase, 0) for phase in Session.Phase.values},
        "participants": study.participants.count(),
    }


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def _agreement(study: Study) -> dict[int, tuple[float, int]]:
    """Per participant: (share of answers that match the other people's, answers compared).

    Single and binary: the answer is one of the others' most frequent answers on that artwork;
    ratings: within one scale point of the others' mean; multi-label: the share of tags on which the
    participant sides with the others' majority.
    """
    rows = list(Judgement.objects.filter(dimension__study=study).values_list(
        "participant_id", "artwork_id", "dimension_id", "dimension__kind", "value"))
    votes: dict[tuple, list] = defaultdict(list)
    for participant, artwork, dimension, _, value in rows:
        votes[(artwork, dimension)].append((participant, value))
    scores: dict[int, list[float]] = defaultdict(list)
    for participant, artwork, dimension, kind, value in rows:
        others = [v for p, v in votes[(artwork, dimension)] if p != participant]
        if others:
            scores[participant].append(_matches(kind, value, others))
    return {p: (sum(s) / len(s), len(s)) for p, s in scores.items()}


def _matches(kind: str, value, others: list) -> float:
    if kind == "rating":
        numbers = [float(v) for v in others if isinstance(v, (int, float))]
        return float(isinstance(value, (int, float)) and bool(numbers)
                     and abs(float(value) - sum(numbers) / len(numbers)) <= 1)
    if kind == "multi":
        tags = set().union(*[set(v) for v in others if isinstance(v, list)], set(value or []))
        if not tags:
            return 1.0
        sided = 0
        for tag in tags:
            share = sum(tag in (v or []) for v in others) / len(others)
            sided += (tag in (value or [])) == (share >= 0.5) or share == 0.5
        return sided / len(tags)
    counts = Counter(str(v) for v in others)
    return float(counts.get(str(value), 0) == max(counts.values()))


def participants_progress(study: Study) -> list[dict]:
    """One row per participant: session, time spent, judgements, attention checks, live agreement
    with the others; `excluded` with `exclusion_rules` and `exclusion_reasons` as the report decides
    them (the study's rules), `warnings` that no rule acts on, and `likely_exclusion` with `reasons`:
    the two together (the page's flag)."""
    sessions = {s.participant_id: s for s in Session.objects.filter(study=study)}
    judged = {row["participant"]: row for row in Judgement.objects.filter(participant__study=study)
              .values("participant").annotate(n=Count("id"), artworks=Count("artwork", distinct=True),
                                              first=Min("created_at"), last=Max("created_at"))}
    decided = study_exclusions(study)
    agreement = _agreement(study)
    comparable = [share for share, n in agreement.values() if n >= MIN_COMPARED]
    median_agreement = statistics.median(comparable) if comparable else None
    rows = []
    for participant in Participant.objects.filter(study=study).order_by("created_at", "id"):
        session = sessions.get(participant.pk)
        stats = judged.get(participant.pk, {})
        started = session.started_at if session else stats.get("first")
        ended = (session.completed_at if session and session.completed_at else None) or stats.get("last")
        decision = decided[participant.pk]
        share, n_compared = agreement.get(participant.pk, (None, 0))
        failed = decision.attention_checks - decision.attention_passed
        warnings = []
        if failed and "attention" not in decision.rules:
            warnings.append(f"failed {failed} of {decision.attention_checks} attention checks")
        if (share is not None and median_agreement is not None and n_compared >= MIN_COMPARED
                and share < median_agreement - AGREEMENT_MARGIN):
            warnings.append(f"agrees with the others on {share:.0%} of answers (median {median_agreement:.0%})")
        reasons = [*decision.reasons, *warnings]
        rows.append({
            "participant": participant.external_id,
            "source": participant.source,
            "phase": session.phase if session else "imported",
            "started_at": started,
            "time_spent_s": round((ended - started).total_seconds()) if started and ended else None,
            "judgements": stats.get("n", 0),
            "artworks": stats.get("artworks", 0),
            "median_response_ms": decision.median_response_ms,
            "attention_checks": decision.attention_checks,
            "attention_passed": decision.attention_passed,
            "agreement": None if share is None else round(share, 3),
            "agreement_n": n_compared,
            "excluded": decision.excluded,
            "exclusion_reason": participant.exclusion_reason,
            "exclusion_rules": list(decision.rules),
            "exclusion_reasons": list(decision.reasons),
            "warnings": warnings,
            "likely_exclusion": bool(reasons),
            "reasons": reasons,
        })
    return rows
