"""A CLIP run's stored state, written from both sides of a run: its progress counted from stored rows
(`cliprun_refresh`: the web side when a run has nothing to score, the worker after each batch) and
its failure (`cliprun_fail`: the task of a batch that raised). No torch here.
"""
import logging

from django.utils import timezone

from .catalog import ModelUnavailable
from .models import ClipRun, Prediction

logger = logging.getLogger(__name__)


def cliprun_fail(run_id: int, exc: BaseException) -> None:
    """Mark a queued or running run failed with the reason, logging the traceback.

    A batch that raised for a reason no single artwork explains (a bug, a model that cannot be
    loaded, a time limit) would otherwise leave its run "running" for ever.
    """
    logger.error("CLIP run %s failed", run_id, exc_info=exc)
    reason = str(exc) if isinstance(exc, ModelUnavailable) else f"a batch failed: {type(exc).__name__}: {exc}"
    ClipRun.objects.filter(pk=run_id, status__in=[ClipRun.Status.QUEUED, ClipRun.Status.RUNNING]).update(
        status=ClipRun.Status.FAILED, error=reason[:2000], finished_at=timezone.now())


def cliprun_refresh(run: ClipRun) -> ClipRun:
    """Progress from what is stored (so a redelivered batch never counts twice); finish when complete."""
    done = Prediction.objects.filter(run=run).values("artwork").distinct().count()
    failed = run.failures.count()
    ClipRun.objects.filter(pk=run.pk).update(done=done, failed=failed)
    if done + failed >= run.total:
        ClipRun.objects.filter(pk=run.pk, status__in=[ClipRun.Status.QUEUED, ClipRun.Status.RUNNING]).update(
            status=ClipRun.Status.DONE, finished_at=timezone.now())
    run.refresh_from_db()
    return run
