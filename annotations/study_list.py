"""The study list's rows: what a researcher of Prolific or Label Studio expects to see per study
(artworks, participants completed and in progress, % of the target, last activity, status), with a
fixed number of queries whatever the number of studies."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, QuerySet

from .models import Artwork, Judgement, Session, Study

IN_PROGRESS = (Session.Phase.CONSENT, Session.Phase.INSTRUCTIONS, Session.Phase.QUESTIONNAIRE,
               Session.Phase.JUDGING)


def study_list_rows(studies: QuerySet[Study]) -> list[dict[str, Any]]:
    """One row per study: {"study", "artworks", "completed", "in_progress", "percent", "last_activity"}.

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
            "target": target,
            "last_activity": max(times) if times else None,
        })
    return rows
