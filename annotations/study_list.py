"""The study list's rows: what a researcher of Prolific or Label Studio expects to see per study
(artworks, participants completed and in progress, % of the target, last activity, status), with a
fixed number of queries whatever the number of studies."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, QuerySet
from django.utils import timezone
from django.utils.timesince import timesince

from .models import Artwork, Judgement, Participant, Session, Study

IN_PROGRESS = (Session.Phase.CONSENT, Session.Phase.INSTRUCTIONS, Session.Phase.QUESTIONNAIRE,
               Session.Phase.JUDGING)


def study_list_rows(studies: QuerySet[Study]) -> list[dict[str, Any]]:
    """One row per study: {"study", "artworks", "completed", "in_progress", "imported", "percent", "target",
    "last_activity", "last_activity_text"}; `imported` counts participants whose judgements came from a file
    (no session).

    `percent` is the study progress page's figure: people per artwork, each artwork counted up to the
    study's target, over artworks × target."""
    studies_ = list(studies.select_related("owner").order_by("-created_at"))
    ids = [s.pk for s in studies_]
    artworks = dict(Artwork.objects.filter(study__in=ids).values("study").annotate(n=Count("id"))
                    .values_list("study", "n"))
    phases: dict[int, dict[str, int]] = defaultdict(dict)
    for study_id, phase, n in (Session.objects.filter(study__in=ids).values("study", "phase")
                               .annotate(n=Count("id")).values_list("study", "phase", "n")):
        phases[study_id][phase] = n
    judges: dict[int, list[int]] = defaultdict(list)
    for study_id, n in (Judgement.objects.filter(artwork__study__in=ids).values("artwork__study", "artwork")
                        .annotate(n=Count("participant", distinct=True)).values_list("artwork__study", "n")):
        judges[study_id].append(n)
    imported = dict(Participant.objects.filter(study__in=ids, source=Participant.Source.IMPORT).values("study")
                    .annotate(n=Count("id")).values_list("study", "n"))
    judged = dict(Judgement.objects.filter(artwork__study__in=ids).values("artwork__study")
                  .annotate(last=Max("created_at")).values_list("artwork__study", "last"))
    started = dict(Session.objects.filter(study__in=ids).values("study").annotate(last=Max("started_at"))
                   .values_list("study", "last"))
    rows = []
    for study in studies_:
        target = study.target_judgements_per_item
        wanted = artworks.get(study.pk, 0) * target
        covered = sum(min(n, target) for n in judges.get(study.pk, []))
        times: list[datetime] = [t for t in (judged.get(study.pk), started.get(study.pk)) if t is not None]
        rows.append({
            "study": study, "artworks": artworks.get(study.pk, 0),
            "completed": phases[study.pk].get(Session.Phase.COMPLETED, 0),
            "in_progress": sum(phases[study.pk].get(p, 0) for p in IN_PROGRESS),
            "percent": round(100.0 * covered / wanted) if wanted else 0,
            "target": target, "imported": imported.get(study.pk, 0),
            "last_activity": max(times) if times else None, "last_activity_text": _ago(max(times) if times else None),
        })
    return rows


def _ago(moment: datetime | None) -> str:
    if moment is None:
        return "none yet"
    if (timezone.now() - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment)} ago"
