"""Celery tasks of the `default` queue: thin wrappers around the annotations services."""
from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import IntegrityError, InterfaceError, OperationalError

from .import_jobs import import_job_run
from .opening import study_deferred_images_fetch


@shared_task(acks_late=True, reject_on_worker_lost=True, retry_backoff=True, max_retries=5,
             autoretry_for=(OperationalError, InterfaceError, IntegrityError))
def study_images_fetch(study_id: int) -> None:
    """Fetch a study's deferred downloads and open it if that was asked for. Idempotent: a redelivered
    or doubled task skips what has its image (IntegrityError: two URLs of one image stored at once;
    the retry names the twin)."""
    try:
        study_deferred_images_fetch(study_id)
    except SoftTimeLimitExceeded:
        # Thousands of slow URLs outlast one task's time limit: every image fetched is committed, so
        # a fresh task goes on from where this one stopped.
        study_images_fetch.delay(study_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def import_job_import(job_id: int) -> None:
    """Import an upload too large for its request (import_jobs.import_job_run records the outcome and
    removes the files). No automatic retry: a failure is the job's answer, listed on the upload page."""
    import_job_run(job_id)
