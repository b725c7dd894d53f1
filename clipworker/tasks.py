"""Celery tasks of the `clip` queue: thin wrappers around clipworker.services."""
from celery import shared_task
from django.db import InterfaceError, OperationalError

from .model import ModelUnavailable
from .models import ClipRun
from .services import cliprun_score_batch


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError, InterfaceError),
             retry_backoff=True, max_retries=5)
def score_batch(self, run_id: int, artwork_ids: list[int]) -> None:
    """Score one batch of a run. Idempotent: a redelivered batch upserts the same rows."""
    try:
        cliprun_score_batch(run_id, artwork_ids)
    except ModelUnavailable as exc:
        ClipRun.objects.filter(pk=run_id).update(status=ClipRun.Status.FAILED, error=str(exc))
        raise
