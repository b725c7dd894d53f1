"""Celery tasks of alignment: a report computed off the request (`jobs`)."""
from celery import shared_task
from django.db import InterfaceError, OperationalError

RETRIED = (OperationalError, InterfaceError)  # the database away for a moment: the report is tried again


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=RETRIED, retry_backoff=True, max_retries=3)
def report_job_run(job_id: int) -> None:
    """Build and store the report of one ReportJob. Idempotent: a finished job is not computed again."""
    from .jobs_worker import report_job_compute

    report_job_compute(job_id)
