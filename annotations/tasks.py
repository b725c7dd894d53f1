"""Celery tasks of the `default` queue: thin wrappers around the annotations services."""
from celery import shared_task
from django.db import IntegrityError, InterfaceError, OperationalError

from .editing import study_deferred_images_fetch


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError, InterfaceError, IntegrityError),
             retry_backoff=True, max_retries=5)
def study_images_fetch(study_id: int) -> None:
    """Fetch a study's deferred downloads and open it if that was asked for. Idempotent: a redelivered
    or doubled task skips what has its image (IntegrityError: two URLs of one image stored at once;
    the retry names the twin)."""
    study_deferred_images_fetch(study_id)
