"""The web side of CLIP runs: start one (create it and queue its batches), cancel it, read its
progress, as the researcher pages, the API and `run_clip` do. No torch here: the batches' work is
the worker side (`clipworker.services`), reached only through the task (`clipworker.tasks`).
"""
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from annotations.errors import Refused
from annotations.models import Study

from .catalog import STAND_IN_NAME, STAND_IN_NOTE, ModelUnavailable
from .models import ClipRun
from .progress import cliprun_refresh
from .tasks import score_batch

__all__ = ["STAND_IN_NAME", "STAND_IN_NOTE", "BrokerUnavailable", "RunRefused", "cliprun_cancel",
           "cliprun_progress", "cliprun_request", "cliprun_start", "clip_model_default", "clip_models_offered"]


class BrokerUnavailable(RuntimeError):
    """The run's tasks could not be queued; the run was not created."""


class RunRefused(Refused):
    """The run could not be started (model not offered or unavailable, broker down); no run was created."""


def clip_models_offered() -> list[str]:
    """The names of the models a researcher may run: the operator's list (settings.CLIP_MODELS)."""
    return list(settings.CLIP_MODELS)


def clip_model_default() -> str:
    """The listed name of CLIP_MODEL, the model a run uses unless told otherwise (settings lists it)."""
    return next((name for name, source in settings.CLIP_MODELS.items() if settings.CLIP_MODEL in (name, source)),
                settings.CLIP_MODEL)


def cliprun_request(study: Study, model_name: str, *, batch_size: int | None = None) -> ClipRun:
    """Start a zero-shot run of `model_name`, one of the models offered, on every artwork of the study.

    Any other name is refused with the same message, whatever it names: a researcher can neither load
    nor learn about anything on the server outside the operator's list. In-process (eager Celery,
    the embedded default) the model is loaded first, so that a model that cannot be had is refused
    before a run exists, and the run has finished when this returns. With a broker the run is
    queued and its page polls.
    """
    model_name = model_name.strip()
    if model_name not in settings.CLIP_MODELS:
        raise RunRefused(f"that model is not offered here; choose one of: {', '.join(clip_models_offered())}")
    try:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            # In-process this web process is the worker: load the model now (torch), so that one that
            # cannot be had is refused before a run exists.
            from .services import clip_for

            clip_for(model_name)
        return cliprun_start(study, model_name, batch_size=batch_size)
    except (ModelUnavailable, BrokerUnavailable) as exc:
        raise RunRefused(str(exc)) from None


def run_artwork_ids(study: Study, model_name: str) -> list[int]:
    """Artworks a run scores: those with an image (or a URL to fetch) or an embedding of this model."""
    has_source = ~Q(image="") | ~Q(image_url="") | Q(embeddings__model_name=model_name)
    return list(study.artworks.filter(has_source).order_by("id").values_list("id", flat=True).distinct())


def cliprun_start(study: Study, model_name: str, *, batch_size: int | None = None) -> ClipRun:
    """Create a run and queue its batches; BrokerUnavailable (and no run) if they cannot be queued."""
    ids = run_artwork_ids(study, model_name)
    run = ClipRun.objects.create(study=study, model_name=model_name, total=len(ids),
                                 batch_size=batch_size or settings.CLIP_BATCH_SIZE)
    step = settings.CLIP_TASK_ARTWORKS
    try:
        for start in range(0, len(ids), step):
            score_batch.delay(run.pk, ids[start:start + step])
    except Exception as exc:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            # In-process: the batch's own error, which has failed the run already (tasks.score_batch).
            run.refresh_from_db()
            if run.status == ClipRun.Status.FAILED:
                return run
            raise
        run.delete()
        raise BrokerUnavailable(f"cannot queue the CLIP run: the broker at {settings.CELERY_BROKER_URL}"
                                f" did not accept it ({type(exc).__name__}: {exc})") from exc
    if not ids:
        cliprun_refresh(run)
    run.refresh_from_db()
    return run


def cliprun_cancel(run: ClipRun) -> bool:
    """Stop a queued or running run; batches not yet started then do nothing."""
    return bool(ClipRun.objects.filter(pk=run.pk, status__in=[ClipRun.Status.QUEUED, ClipRun.Status.RUNNING])
                .update(status=ClipRun.Status.CANCELLED, finished_at=timezone.now()))


def cliprun_is_stand_in(run: ClipRun) -> bool:
    return run.is_stand_in or run.model_name == STAND_IN_NAME


def cliprun_progress(run: ClipRun) -> dict:
    """What a progress bar needs: counts, percent, throughput (live while running), status."""
    processed = run.done + run.failed
    end = run.finished_at or timezone.now()
    seconds = (end - run.started_at).total_seconds() if run.started_at else None
    rate = processed / seconds if seconds and seconds > 0 and processed else None
    left = run.total - processed
    return {
        "id": run.pk, "model_name": run.model_name, "revision": run.revision, "status": run.status,
        "active": run.status in (ClipRun.Status.QUEUED, ClipRun.Status.RUNNING),
        "is_stand_in": cliprun_is_stand_in(run), "total": run.total, "done": run.done, "failed": run.failed,
        "percent": round(100.0 * processed / run.total, 1) if run.total else 100.0,
        "throughput": round(rate, 2) if rate else None,
        "eta_s": round(left / rate) if rate and left > 0 and run.finished_at is None else None,
        "error": run.error, "created_at": run.created_at, "started_at": run.started_at,
        "finished_at": run.finished_at,
    }
