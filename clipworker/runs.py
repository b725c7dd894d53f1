"""CLIP runs as the researcher pages and the API see them: start one (as `run_clip` does) and read
its progress. The work itself is `clipworker.services`; torch is imported only when a run starts.
"""
from django.conf import settings
from django.utils import timezone

from annotations.models import Study

from .models import ClipRun

STAND_IN_NOTE = "stand-in model, random weights: its answers mean nothing"
# clipworker.model.STAND_IN_NAME, repeated so that pages need not import torch (a test keeps them equal).
STAND_IN_NAME = "artalign/tiny-clip"


class RunRefused(Exception):
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
    from .model import ModelUnavailable
    from .services import BrokerUnavailable, clip_for, cliprun_start

    model_name = model_name.strip()
    if model_name not in settings.CLIP_MODELS:
        raise RunRefused(f"that model is not offered here; choose one of: {', '.join(clip_models_offered())}")
    try:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            clip_for(model_name)
        return cliprun_start(study, model_name, batch_size=batch_size)
    except (ModelUnavailable, BrokerUnavailable) as exc:
        raise RunRefused(str(exc)) from None


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
