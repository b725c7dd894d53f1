"""Uploaded files into the import services: the same `artworks_import` and `judgements_import` the
commands call, on copies of the uploads in a temporary folder (the services read paths)."""
import tempfile
from pathlib import Path

from .imports import ImportResult, artworks_import, judgements_import
from .models import Study
from .tables import ImportFailed, RowError

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


def _as_uploaded(exc: ImportFailed, folder: Path, names: dict[Path, str]) -> ImportFailed:
    """The errors with each temporary file named by its upload field, and no server path in them."""
    by_path = {str(path): field for path, field in names.items()}
    return ImportFailed([RowError(e.row, by_path.get(e.field, e.field), e.reason.replace(f"{folder}/", ""))
                         for e in exc.errors])


def artworks_upload(study: Study, manifest, images=None, *, url_column: str = "url", defer_download: bool = False,
                    skip_bad_rows: bool = False) -> ImportResult:
    """Import an uploaded manifest (CSV or parquet) with an optional uploaded ZIP of images.

    Raises ImportFailed with every row's problem (nothing written) unless skip_bad_rows.
    """
    with tempfile.TemporaryDirectory(prefix="artalign-upload-") as tmp:
        folder = Path(tmp)
        manifest_path = _save(manifest, folder, "manifest", TABLE_SUFFIXES, "manifest")
        images_path = _save(images, folder, "images", (".zip",), "images") if images else None
        try:
            return artworks_import(study, manifest_path, images=images_path, url_column=url_column or "url",
                                   defer_download=defer_download, skip_bad_rows=skip_bad_rows)
        except ImportFailed as exc:
            raise _as_uploaded(exc, folder, {manifest_path: "manifest", images_path: "images"}) from None


def judgements_upload(study: Study, upload, *, create_artworks: bool = False,
                      skip_bad_rows: bool = False) -> ImportResult:
    with tempfile.TemporaryDirectory(prefix="artalign-upload-") as tmp:
        path = _save(upload, Path(tmp), "judgements", (".csv",), "judgements")
        try:
            return judgements_import(study, path, create_artworks=create_artworks, skip_bad_rows=skip_bad_rows)
        except ImportFailed as exc:
            raise _as_uploaded(exc, Path(tmp), {path: "judgements"}) from None
