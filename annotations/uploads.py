"""Uploaded files into the import services (the web side): the same `artworks_import` and
`judgements_import` the commands call, on copies of the uploads in a private folder (the services
read paths); the import itself, in the request or in a job's task, is `import_jobs`.

An upload of more than IMPORT_ASYNC_ROWS rows or IMPORT_ASYNC_BYTES bytes is not imported within
its request, which would hold a web worker (and the participants it serves) for minutes: an
`ImportJob` keeps its files in VAR_DIR/imports/ until a task on the default queue has imported them
(`import_jobs.import_job_run`), and the upload page and the API poll the job's progress. With eager tasks (the
embedded profile) the task runs before the request answers, as a small upload does.
"""
import shutil
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
from django.conf import settings
from django.db import transaction

from .import_jobs import import_job_folder, uploaded_import
from .imports import ImportResult
from .models import ImportJob, Study
from .tables import ImportFailed, RowError
from .tasks import import_job_import

TABLE_SUFFIXES = (".csv", ".parquet")


def _save(upload, folder: Path, stem: str, suffixes: tuple[str, ...], field: str) -> Path:
    suffix = Path(upload.name or "").suffix.lower()
    if suffix not in suffixes:
        raise ImportFailed([RowError(0, field, f"{upload.name!r}: expected a {' or '.join(suffixes)} file")])
    path = folder / f"{stem}{suffix}"  # never the uploaded name: it could point anywhere
    with path.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return path


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
            return uploaded_import(kind, study, folder, options)
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
    try:
        import_job_import.delay(job.pk)
    except Exception as exc:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise  # in-process: the task's own error, not a broker problem
        shutil.rmtree(import_job_folder(job), ignore_errors=True)
        job.delete()
        reason = f"cannot queue the import: the broker did not accept it ({type(exc).__name__}); nothing was imported"
        raise ImportFailed([RowError(0, job.kind, f"{reason}, try again")]) from exc
