"""Importing precomputed image embeddings (parquet, or .npy with an id list) under a model name.

Stored L2-normalised, like computed ones, so every scorer treats them alike. With
`create_artworks`, ids that match no artwork become image-less artworks carrying the row's other
columns (style, period, ...), so existing data can be analysed without a single image.
"""
from pathlib import Path

import numpy as np
from django.db import transaction

from annotations.imports import ImportResult, Progress, artwork_fields
from annotations.models import Artwork, Study
from annotations.tables import ImportFailed, RowError, apply_overrides, read_table

from .models import Embedding


def read_npy_rows(npy: Path | str, ids: Path | str, column: str, id_column: str) -> list[dict]:
    """Rows {id_column: id, column: vector} from an (n, d) .npy array and a file of n ids, one a line."""
    try:
        matrix = np.load(npy, allow_pickle=False)
        names = [line.strip() for line in Path(ids).read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError) as exc:
        raise ImportFailed([RowError(0, str(npy), f"cannot be read: {exc}")]) from None
    if matrix.ndim != 2 or len(names) != len(matrix):
        raise ImportFailed([RowError(0, str(npy), f"expected an (n, d) array for {len(names)} ids,"
                                                  f" got shape {matrix.shape}")])
    return [{id_column: name, column: vector} for name, vector in zip(names, matrix)]


def _vector(raw, number: int, column: str, dim: int | None, errors: list[RowError]) -> np.ndarray | None:
    try:
        vector = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        vector = np.empty(0)
    if vector.ndim != 1 or vector.size == 0:
        errors.append(RowError(number, column, "not a list of numbers"))
    elif dim is not None and vector.size != dim:
        errors.append(RowError(number, column, f"{vector.size} values; earlier rows have {dim}"))
    elif not np.isfinite(vector).all():
        errors.append(RowError(number, column, "contains NaN or infinite values"))
    elif not np.linalg.norm(vector) > 0:
        errors.append(RowError(number, column, "is all zeros"))
    else:
        return vector / np.linalg.norm(vector)
    return None


def embeddings_import(
    study: Study,
    rows: list[dict],
    *,
    column: str,
    id_column: str,
    model_name: str,
    create_artworks: bool = False,
    set_values: dict | None = None,
    mapping: dict | None = None,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Store one embedding per row under `model_name`; all or nothing unless skip_bad_rows."""
    if not model_name.strip():
        raise ImportFailed([RowError(0, "--model-name", "a model name is required")])
    if rows:
        missing = [c for c in (column, id_column, *(mapping or {}).values()) if c not in rows[0]]
        if missing:
            raise ImportFailed([RowError(0, c, "no such column") for c in missing])
    artworks = dict(study.artworks.values_list("external_id", "id"))
    stored = set(Embedding.objects.filter(artwork__study=study, model_name=model_name, revision="")
                 .values_list("artwork__external_id", flat=True))
    errors, result, ready, new_artworks, seen, dim = [], ImportResult(), [], {}, {}, None
    for number, raw in enumerate(rows, start=1):
        row_errors = []
        row = apply_overrides(raw, set_values or {}, mapping or {})
        external_id = str(row[id_column])
        vector = _vector(row[column], number, column, dim, row_errors)
        dim = dim or (vector.size if vector is not None else None)
        if not external_id:
            row_errors.append(RowError(number, id_column, "empty id"))
        elif external_id in seen:
            row_errors.append(RowError(number, id_column, f"{external_id!r} repeats row {seen[external_id]}"))
        elif external_id not in artworks:
            if create_artworks:
                fields, metadata = artwork_fields({k: v for k, v in row.items() if k != column}, number, row_errors)
                new_artworks[external_id] = Artwork(study=study, external_id=external_id, metadata=metadata, **fields)
            else:
                row_errors.append(RowError(number, id_column, f"no artwork {external_id!r} in the study"
                                                              " (--create-artworks creates image-less ones)"))
        seen.setdefault(external_id, number)
        if row_errors:
            errors.extend(row_errors)
        elif external_id in stored:
            result.notices.append(f"row {number}: {external_id!r} already has a {model_name} embedding; kept it")
        else:
            ready.append((external_id, vector))
        if progress:
            progress(number, len(rows))
    if errors and not skip_bad_rows:
        raise ImportFailed(errors)
    result.skipped = errors
    with transaction.atomic():
        needed = {external_id for external_id, _ in ready}
        created = Artwork.objects.bulk_create(a for key, a in new_artworks.items() if key in needed)
        artworks.update({a.external_id: a.id for a in created})
        Embedding.objects.bulk_create(
            (Embedding(artwork_id=artworks[external_id], model_name=model_name, revision="", dim=vector.size,
                       vector=Embedding.pack(vector), source=Embedding.Source.IMPORTED)
             for external_id, vector in ready),
            batch_size=500,
        )
    if created:
        result.notices.append(f"created {len(created)} image-less artwork(s)")
    result.created = len(ready)
    return result


def embedding_rows(parquet=None, npy=None, ids=None, *, column: str, id_column: str) -> list[dict]:
    """Rows from either a parquet file or an .npy array plus an id list."""
    if parquet:
        return read_table(parquet, required=(column, id_column))
    return read_npy_rows(npy, ids, column, id_column)
