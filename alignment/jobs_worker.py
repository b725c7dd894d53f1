"""The worker side of a report computed off the request (`jobs` is the web side): claim the
job, build and store the report with progress per dimension, or fail it with the reason."""
from __future__ import annotations

import logging
import re

from django.db.models import F
from django.utils import timezone

from annotations.errors import Refused

from .models import ReportJob
from .reports import ReportOptions, report_create

logger = logging.getLogger(__name__)
STEP_RE = re.compile(r"^dimension (\d+)/(\d+)")
ACTIVE = (ReportJob.Status.QUEUED, ReportJob.Status.RUNNING)


def report_job_compute(job_id: int) -> None:
    """The task's work: claim the job (queued, or running when a lost worker's task is redelivered),
    build and store the report, record progress per dimension; a refusal or error fails the job with
    its reason. A job already finished is left alone (a duplicate delivery)."""
    claimed = ReportJob.objects.filter(pk=job_id, status__in=ACTIVE).update(
        status=ReportJob.Status.RUNNING, started_at=timezone.now(), stage="starting", error="")
    if not claimed:
        return
    job = ReportJob.objects.select_related("study").get(pk=job_id)

    def progress(message: str) -> None:
        found = STEP_RE.match(message)
        step, steps = (int(found.group(1)), int(found.group(2))) if found else (0, 0)
        ReportJob.objects.filter(pk=job_id).update(stage=message[:200], step=step, steps=steps)

    try:
        report = report_create(job.study, ReportOptions(**job.options), progress)
    except Refused as exc:
        report_job_fail(job_id, exc.errors and "; ".join(exc.errors) or str(exc))
        return
    except Exception as exc:
        logger.error("report job %s failed", job_id, exc_info=exc)
        report_job_fail(job_id, f"the report failed: {type(exc).__name__}: {exc}")
        raise
    ReportJob.objects.filter(pk=job_id).update(status=ReportJob.Status.DONE, report=report, stage="stored",
                                               step=F("steps"), finished_at=timezone.now())


def report_job_fail(job_id: int, reason: str) -> None:
    ReportJob.objects.filter(pk=job_id, status__in=ACTIVE).update(
        status=ReportJob.Status.FAILED, error=reason[:2000], finished_at=timezone.now())
