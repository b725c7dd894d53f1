"""Reports computed off the request: the page's "compute report" and the API's POST queue a
`ReportJob` and return at once; a Celery task (`alignment.tasks.report_job_run`) builds and stores
the report, writing its progress on the job, which the dashboard polls (as a CLIP run's page does).

A study of 1,000 participants x 2,000 artworks x 7 dimensions takes tens of seconds to report on:
as a request it would hold a web worker, and a proxy's timeout would cut it. Without a broker
(`CELERY_TASK_ALWAYS_EAGER`, tests and one-process use) the task runs inside `delay()`, so the job
is finished when `report_job_start` returns.
"""
from __future__ import annotations

from dataclasses import asdict

from django.conf import settings

from annotations.errors import Refused
from annotations.models import Study

from .jobs_worker import ACTIVE
from .models import ReportJob
from .reports import ReportOptions
from .tasks import report_job_run


class ReportQueueRefused(Refused):
    """The report could not be queued (the broker did not take it); no job was kept."""

    status = 503


def report_job_start(study: Study, options: ReportOptions, user=None) -> ReportJob:
    """Record a job for `options` and queue its task; ReportQueueRefused (and no job) if the broker
    does not take it. The row is committed before the task is sent (views run in autocommit), so a
    worker always finds it."""
    job = ReportJob.objects.create(study=study, options=asdict(options),
                                   created_by=user if user is not None and user.is_authenticated else None)
    try:
        report_job_run.delay(job.pk)
    except Exception as exc:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise  # in-process: the task's own error (it has failed the job already)
        job.delete()
        raise ReportQueueRefused(f"cannot queue the report: the broker did not accept it "
                                 f"({type(exc).__name__}); try again") from exc
    job.refresh_from_db()
    return job


def report_job_current(study: Study) -> ReportJob | None:
    """The study's newest job: the dashboard shows its panel while it is queued or running, and its
    reason once it failed (until the next job); a done job's report is the page itself."""
    return study.report_jobs.order_by("-created_at", "-id").first()


def report_job_progress(job: ReportJob) -> dict:
    """The job as the dashboard's panel and the API show it."""
    active = job.status in ACTIVE
    if job.status == ReportJob.Status.DONE:
        percent = 100
    elif job.steps:
        percent = round(100 * max(0, job.step - 1) / job.steps)
    else:
        percent = 0
    return {"id": job.pk, "status": job.status, "active": active, "stage": job.stage, "step": job.step,
            "steps": job.steps, "percent": percent, "error": job.error, "report": job.report_id,
            "created_at": job.created_at, "started_at": job.started_at, "finished_at": job.finished_at}
