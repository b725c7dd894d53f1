"""Importing uploaded files (the worker side of uploads): in the request for a small upload, or in a
job's task on the default queue for a large one (`import_job_run`, which records the outcome as the
request would have answered it and removes the files)."""
import logging
import shutil
import time
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from .comparative_import import judgements_file_import
from .imports import ImportResult, Progress, artworks_import
from .models import ImportJob, Study
from .tables import ImportFailed, RowError, row_errors_json

logger = logging.getLogger("artalign.imports")
PROGRESS_EVERY_S = 0.5  # how often a running job writes its row count (the page polls every few seconds)


def _as_uploaded(exc: ImportFailed, folder: Path) -> ImportFailed:
    """The errors with each saved file named by its upload field, and no server path in them."""
    by_path = {str(path): path.stem for path in folder.iterdir()}
    return ImportFailed([RowError(e.row, by_path.get(e.field, e.field), e.reason.replace(f"{folder}/", ""))
                         for e in exc.errors], exc.total)


def uploaded_import(kind: str, study: Study, folder: Path, options: dict,
                    progress: Progress | None = None) -> ImportResult:
    """The import service for `kind`, on the files saved in `folder`."""
    tables = [path for path in folder.iterdir() if path.stem in ("manifest", "judgements")]
    if not tables:
        raise ImportFailed([RowError(0, kind, "the uploaded files are gone (was VAR_DIR cleaned?); upload again")])
    try:
        if kind == ImportJob.Kind.ARTWORKS:
            images = folder / "images.zip"
            return artworks_import(study, tables[0], images=images if images.exists() else None,
                                   url_column=options.get("url_column") or "url",
                                   defer_download=options.get("defer_download", False),
                                   skip_bad_rows=options.get("skip_bad_rows", False), progress=progress)
        return judgements_file_import(study, tables[0], create_artworks=options.get("create_artworks", False),
                                 skip_bad_rows=options.get("skip_bad_rows", False), progress=progress)
    except ImportFailed as exc:
        raise _as_uploaded(exc, folder) from None


def import_job_folder(job: ImportJob) -> Path:
    return Path(settings.VAR_DIR) / "imports" / Path(job.options.get("folder", "")).name


def _progress_saver(job: ImportJob) -> Progress:
    last = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal last
        if done == total or time.monotonic() - last >= PROGRESS_EVERY_S:
            ImportJob.objects.filter(pk=job.pk).update(rows_done=done, rows_total=total)
            last = time.monotonic()

    return progress


def import_job_run(job_id: int) -> ImportJob:
    """Import a job's files, record the outcome as the request would have answered it, remove the files.

    Idempotent: a finished job is left as it is; one redelivered after its worker died runs again
    from its files (an import writes its rows in one transaction, so nothing of the lost run is stored).
    """
    job = ImportJob.objects.select_related("study").get(pk=job_id)
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
        return job
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    folder = import_job_folder(job)
    outcome: dict = {"status": ImportJob.Status.FAILED}
    try:
        result = uploaded_import(job.kind, job.study, folder, job.options, progress=_progress_saver(job))
    except ImportFailed as exc:
        outcome.update(errors=row_errors_json(exc.errors), errors_total=exc.total)
    except SoftTimeLimitExceeded:
        outcome.update(errors=row_errors_json([RowError(0, job.kind, "the import took longer than a task may"
                                                                     " (CELERY_TASK_SOFT_TIME_LIMIT); nothing was"
                                                                     " imported: upload it in parts")]),
                       errors_total=1)
    except Exception:
        logger.exception("import job %s failed", job.pk)
        outcome.update(errors=row_errors_json([RowError(0, job.kind, "the import failed unexpectedly (the error"
                                                                     " is logged); nothing was imported")]),
                       errors_total=1)
    else:
        outcome.update(status=ImportJob.Status.DONE, result=import_result_json(result))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if outcome["status"] == ImportJob.Status.DONE:
        outcome["rows_done"] = F("rows_total")  # every row was seen (notices skip the progress call)
    ImportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now(), **outcome)
    job.refresh_from_db()
    return job


def import_result_json(result: ImportResult) -> dict:
    """An import's result as the API answers it (and a job stores it)."""
    return {"created": result.created, "notices": result.notices, "skipped": row_errors_json(result.skipped),
            "skipped_total": result.skipped_total}
