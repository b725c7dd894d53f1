"""Uploaded files into the import services: the same `artworks_import` and `judgements_import` the
commands call, on copies of the uploads in a private folder (the services read paths).

An upload of more than IMPORT_ASYNC_ROWS rows or IMPORT_ASYNC_BYTES bytes is not imported within
its request, which would hold a web worker (and the participants it serves) for minutes: an
`ImportJob` keeps its files in VAR_DIR/imports/ until a task on the default queue has imported them
(`import_job_run`), and the upload page and the API poll the job's progress. With eager tasks (the
embedded profile) the task runs before the request answers, as a small upload does.
"""
import logging
import shutil
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .imports import ImportResult, Progress, artworks_import, judgements_import
from .models import ImportJob, Study
from .tables import ImportFailed, RowError

logger = logging.getLogger("artalign.imports")
TABLE_SUFFIXES = (".csv", ".parquet")
PROGRESS_EVERY_S = 0.5  # how often a running job writes its row count (the page polls every few seconds)


def _save(upload, folder: Path, stem: str, suffixes: tuple[str, ...], field: str) -> Path:
    suffix = Path(upload.name or "").suffix.lower()
    if suffix not in suffixes:
        raise ImportFailed([RowError(0, field, f"{upload.name!r}: expected a {' or '.join(suffixes)} file")])
    path = folder / f"{stem}{suffix}"  # never the uploaded name: it could point anywhere
    with path.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return path


def _as_uploaded(exc: ImportFailed, folder: Path) -> ImportFailed:
    """The errors with each saved file named by its upload field, and no server path in them."""
    by_path = {str(path): path.stem for path in folder.iterdir()}
    return ImportFailed([RowError(e.row, by_path.get(e.field, e.field), e.reason.replace(f"{folder}/", ""))
                         for e in exc.errors], exc.total)


def _uploads_folder() -> Path:
    """A new private folder (mode 0700) under VAR_DIR/imports/, where web and worker processes meet."""
    root = Path(settings.VAR_DIR) / "imports"
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="upload-", dir=root))


def _rows_estimate(path: Path) -> int:
    """Data rows of a table, counted without parsing it (a CSV's line breaks, a parquet's footer):
    enough to decide where an import runs, never trusted as the import's figure."""
    if path.suffix == ".parquet":
        try:
            return pq.ParquetFile(path).metadata.num_rows
        except Exception:  # unreadable: the import reports why
            return 0
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
    return max(0, lines - 1)


def _is_large(table: Path, folder: Path) -> bool:
    size = sum(path.stat().st_size for path in folder.iterdir())
    return size > settings.IMPORT_ASYNC_BYTES or _rows_estimate(table) > settings.IMPORT_ASYNC_ROWS


def _import(kind: str, study: Study, folder: Path, options: dict, progress: Progress | None = None) -> ImportResult:
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
        return judgements_import(study, tables[0], create_artworks=options.get("create_artworks", False),
                                 skip_bad_rows=options.get("skip_bad_rows", False), progress=progress)
    except ImportFailed as exc:
        raise _as_uploaded(exc, folder) from None


def _upload(study: Study, kind: str, files: dict, options: dict, user) -> ImportResult | ImportJob:
    folder = _uploads_folder()
    handed_to_job = False
    try:
        table = None
        for field, (upload, suffixes) in files.items():
            if upload:
                path = _save(upload, folder, field, suffixes, field)
                table = table or path
        if not _is_large(table, folder):
            return _import(kind, study, folder, options)
        job = _job_start(study, kind, folder, options, user)
        handed_to_job = True
        return job
    finally:
        if not handed_to_job:
            shutil.rmtree(folder, ignore_errors=True)


def artworks_upload(study: Study, manifest, images=None, *, url_column: str = "url", defer_download: bool = False,
                    skip_bad_rows: bool = False, user=None) -> ImportResult | ImportJob:
    """Import an uploaded manifest (CSV or parquet) with an optional uploaded ZIP of images; a large
    upload returns a queued (eagerly: finished) ImportJob instead of the result.

    Raises ImportFailed with the rows' problems (nothing written) unless skip_bad_rows.
    """
    return _upload(study, ImportJob.Kind.ARTWORKS,
                   {"manifest": (manifest, TABLE_SUFFIXES), "images": (images, (".zip",))},
                   {"url_column": url_column or "url", "defer_download": defer_download,
                    "skip_bad_rows": skip_bad_rows}, user)


def judgements_upload(study: Study, upload, *, create_artworks: bool = False, skip_bad_rows: bool = False,
                      user=None) -> ImportResult | ImportJob:
    """Import an uploaded judgements CSV; a large one returns an ImportJob, as `artworks_upload` does."""
    return _upload(study, ImportJob.Kind.JUDGEMENTS, {"judgements": (upload, (".csv",))},
                   {"create_artworks": create_artworks, "skip_bad_rows": skip_bad_rows}, user)


def _job_start(study: Study, kind: str, folder: Path, options: dict, user) -> ImportJob:
    """Record the job and queue its task once the row is committed; ImportFailed (and no job, no
    files) if the broker does not take it."""
    with transaction.atomic():
        job = ImportJob.objects.create(study=study, kind=kind, options={**options, "folder": folder.name},
                                       created_by=user if user and user.is_authenticated else None)
        transaction.on_commit(lambda: _job_enqueue(job))
    job.refresh_from_db()
    return job


def _job_enqueue(job: ImportJob) -> None:
    from .tasks import import_job_import

    try:
        import_job_import.delay(job.pk)
    except Exception as exc:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise  # in-process: the task's own error, not a broker problem
        shutil.rmtree(_job_folder(job), ignore_errors=True)
        job.delete()
        reason = f"cannot queue the import: the broker did not accept it ({type(exc).__name__}); nothing was imported"
        raise ImportFailed([RowError(0, job.kind, f"{reason}, try again")]) from exc


def _job_folder(job: ImportJob) -> Path:
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
    folder = _job_folder(job)
    outcome: dict = {"status": ImportJob.Status.FAILED}
    try:
        result = _import(job.kind, job.study, folder, job.options, progress=_progress_saver(job))
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


def row_errors_json(errors: list[RowError]) -> list[dict]:
    return [{"row": e.row, "field": e.field, "reason": e.reason} for e in errors]


def import_result_json(result: ImportResult) -> dict:
    """An import's result as the API answers it (and a job stores it)."""
    return {"created": result.created, "notices": result.notices, "skipped": row_errors_json(result.skipped),
            "skipped_total": result.skipped_total}
