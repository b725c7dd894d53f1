"""Celery tasks of the `clip` queue: thin wrappers around the worker side (`clipworker.services`).

The web side (`clipworker.runs`) imports this module to queue batches; the worker side, and torch
with it, is imported when a batch runs, in the process that runs it (a worker, or the web process
itself with eager tasks), never when a page merely imports the task.
"""
from celery import shared_task
from django.db import InterfaceError, OperationalError

from .progress import cliprun_fail

RETRIED = (OperationalError, InterfaceError)  # the database away for a moment: the batch is tried again


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, autoretry_for=RETRIED,
             retry_backoff=True, max_retries=5)
def score_batch(self, run_id: int, artwork_ids: list[int]) -> None:
    """Score one batch of a run. Idempotent: a redelivered batch upserts the same rows.

    Any other error fails the run (its reason stored, its traceback logged) before Celery sees it:
    a run is never left "running" by a batch that raised.
    """
    from .services import cliprun_score_batch  # the worker side: torch, loaded where batches run

    try:
        cliprun_score_batch(run_id, artwork_ids)
    except RETRIED:
        raise
    except Exception as exc:
        cliprun_fail(run_id, exc)
        raise
