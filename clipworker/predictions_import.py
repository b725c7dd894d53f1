"""Importing model outputs computed elsewhere (design.md, "Interfaces": the predictions file).

A predictions file (CSV or parquet, header first) has one row per model, artwork, dimension and label:
`model,artwork,dimension,label,p`, optionally `revision`, `method`, `prompt`. The `p` of one
model × artwork × dimension sum to 1 within SUM_TOLERANCE (single, binary; labels left out count as
0) or are independent per tag (multi). A rating dimension takes either one row per scale point
(label = the point) or one row with `label` empty and `value` (the expected rating).

Every row is checked first and nothing is written if any is bad (row, field, reason), as every
import does. The rows are stored as `Prediction`s with method "imported", under the file's model
name (or `model_name`), each linked to a `PredictionImport` that records the file's sha256: the
report, the dashboard and the exports read them exactly like computed ones.
"""
from __future__ import annotations

import hashlib
import math
import tempfile
from pathlib import Path

from django.db import transaction

from annotations.imports import ImportResult, Progress, artwork_fields
from annotations.models import Artwork, Dimension, Study
from annotations.tables import ImportFailed, RowError, RowErrors, read_table

from .models import Prediction, PredictionImport

SUM_TOLERANCE = 1e-3
COMPARATIVE = {"pairwise", "best_worst", "triplet"}
OPTIONAL = ("revision", "method", "prompt", "value", "p")


def file_sha256(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _number(raw) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _labels(dim: Dimension) -> list[str]:
    if dim.kind == "rating":
        return [str(v) for v in range(int(dim.scale_min or 0), int(dim.scale_max or 0) + 1)]
    return [str(label) for label in dim.labels]


def _check_row(row: dict, number: int, dims: dict[str, Dimension], model_name: str | None,
               errors: list[RowError]) -> tuple[str, Dimension | None, str, float | None, float | None]:
    """(model, dimension, label, p, value) of one row; problems appended to `errors`."""
    model = model_name or str(row.get("model", "")).strip()
    if not model:
        errors.append(RowError(number, "model", "empty model name (or give --model-name)"))
    elif len(model) > Prediction._meta.get_field("model_name").max_length:
        errors.append(RowError(number, "model", "longer than 200 characters"))
    key = str(row.get("dimension", "")).strip()
    dim = dims.get(key)
    if dim is None:
        errors.append(RowError(number, "dimension", f"the study has no dimension {key!r}"
                                                    f" (dimensions: {', '.join(dims)})"))
    elif dim.kind in COMPARATIVE:
        errors.append(RowError(number, "dimension", f"{key!r} is comparative ({dim.kind}): it takes no"
                                                    " per-artwork predictions"))
        dim = None
    label = str(row.get("label", "")).strip()
    p = value = None
    raw_p, raw_value = str(row.get("p", "")).strip(), str(row.get("value", "")).strip()
    if dim is not None and dim.kind == "rating" and not label:
        value = _number(raw_value)
        if value is None:
            errors.append(RowError(number, "value", f"{raw_value!r}: a rating row without a label needs the"
                                                    " expected rating as a number"))
        elif not (dim.scale_min or 0) <= value <= (dim.scale_max or 0):
            errors.append(RowError(number, "value", f"{value:g} is outside the scale"
                                                    f" {dim.scale_min}-{dim.scale_max}"))
        return model, dim, label, p, value
    if dim is not None and label not in _labels(dim):
        what = "scale points" if dim.kind == "rating" else "labels"
        errors.append(RowError(number, "label", f"{label!r} is not one of the {what} of {key!r}:"
                                                f" {', '.join(_labels(dim))}"))
    p = _number(raw_p)
    if p is None:
        errors.append(RowError(number, "p", f"{raw_p!r} is not a number"))
    elif p < 0:
        errors.append(RowError(number, "p", f"{p:g} is negative"))
    elif p > 1:
        errors.append(RowError(number, "p", f"{p:g} is above 1"))
    return model, dim, label, p, value


def _prediction_values(dim: Dimension, probs: dict[str, float],
                       value: float | None) -> tuple[dict, object, float | None]:
    """(probs, label, expected) as computed predictions store them (see scoring.py)."""
    if dim.kind == "multi":
        return probs, sorted((t for t, pt in probs.items() if pt >= 0.5), key=_labels(dim).index), None
    if dim.kind == "rating":
        if value is None and probs:
            full = {c: probs.get(c, 0.0) for c in _labels(dim)}
            value = sum(float(c) * pt for c, pt in full.items()) / max(sum(full.values()), 1e-12)
            probs = full
        return probs, (None if value is None else round(value)), value
    full = {c: probs.get(c, 0.0) for c in _labels(dim)}
    return full, max(full, key=lambda c: full[c]), None


def predictions_import(
    study: Study,
    path: Path | str,
    *,
    model_name: str | None = None,
    create_artworks: bool = False,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
    file_name: str = "",
) -> ImportResult:
    """Import a predictions file into `study`; all or nothing unless skip_bad_rows (then whole
    model × artwork × dimension groups with a bad row are left out)."""
    model_name = (model_name or "").strip() or None
    rows = read_table(path, required=(("artwork", "dimension", "label") if model_name
                                      else ("model", "artwork", "dimension", "label")))
    if rows and "p" not in rows[0] and "value" not in rows[0]:
        raise ImportFailed([RowError(0, "p", "no such column (and no 'value' column for ratings)")])
    if model_name and rows and "model" in rows[0]:
        named = {str(r.get("model", "")).strip() for r in rows} - {""}
        if len(named) > 1:
            raise ImportFailed([RowError(0, "--model-name", f"the file holds {len(named)} models"
                                                            f" ({', '.join(sorted(named))}); --model-name names one")])
    sha256 = file_sha256(path)
    dims = {d.key: d for d in study.dimensions.all()}
    artworks = dict(study.artworks.values_list("external_id", "id"))
    errors, result = RowErrors(), ImportResult()
    groups: dict[tuple[str, str, str], dict] = {}
    new_artworks: dict[str, Artwork] = {}
    for number, row in enumerate(rows, start=1):
        row_errors: list[RowError] = []
        model, dim, label, p, value = _check_row(row, number, dims, model_name, row_errors)
        external_id = str(row.get("artwork", "")).strip()
        if not external_id:
            row_errors.append(RowError(number, "artwork", "empty artwork id"))
        elif external_id not in artworks and external_id not in new_artworks:
            if create_artworks:
                fields, metadata = artwork_fields({}, number, row_errors)
                new_artworks[external_id] = Artwork(study=study, external_id=external_id, metadata=metadata,
                                                    **fields)
            else:
                row_errors.append(RowError(number, "artwork", f"no artwork {external_id!r} in the study"
                                                              " (--create-artworks creates image-less ones)"))
        key = (model, external_id, dim.key if dim else "")
        group = groups.setdefault(key, {"rows": [], "probs": {}, "value": None, "dim": dim, "bad": False,
                                        "revision": str(row.get("revision", "")).strip(),
                                        "method": str(row.get("method", "")).strip()})
        group["rows"].append(number)
        if dim is not None and not row_errors:
            if label and label in group["probs"]:
                row_errors.append(RowError(number, "label", f"{label!r} repeats for {model} × {external_id} ×"
                                                            f" {dim.key}"))
            elif label:
                group["probs"][label] = p
            elif group["value"] is not None:
                row_errors.append(RowError(number, "value", f"a second expected rating for {model} ×"
                                                            f" {external_id} × {dim.key}"))
            else:
                group["value"] = value
            revision = str(row.get("revision", "")).strip()
            if revision != group["revision"]:
                row_errors.append(RowError(number, "revision", f"{revision!r}; earlier rows of {model} give"
                                                               f" {group['revision']!r}"))
        if row_errors:
            group["bad"] = True
            errors.extend(row_errors)
        if progress:
            progress(number, len(rows))
    for (model, external_id, _), group in groups.items():
        dim = group["dim"]
        if group["bad"] or dim is None or dim.kind not in ("single", "binary") or not group["probs"]:
            continue
        total = sum(group["probs"].values())
        if abs(total - 1.0) > SUM_TOLERANCE:
            group["bad"] = True
            rows_text = ", ".join(map(str, group["rows"]))
            errors.extend([RowError(group["rows"][-1], "p", f"the p of {model} × {external_id} × {dim.key}"
                                                            f" (rows {rows_text}) sum to {total:.6g}, not 1"
                                                            f" within {SUM_TOLERANCE:g}")])
    if errors and not skip_bad_rows:
        raise ImportFailed(errors.listed, errors.total)
    result.skipped, result.skipped_total = errors.listed, errors.total
    good = {key: g for key, g in groups.items() if not g["bad"] and g["dim"] is not None}
    with transaction.atomic():
        needed = {external_id for _, external_id, _ in good}
        created = Artwork.objects.bulk_create(a for k, a in new_artworks.items() if k in needed)
        artworks.update({a.external_id: a.id for a in created})
        sources = {}
        for model in sorted({m for m, _, _ in good}):
            methods = sorted({g["method"] for (m, _, _), g in good.items() if m == model} - {""})
            sources[model] = PredictionImport.objects.create(
                study=study, model_name=model, sha256=sha256, file_name=file_name or Path(path).name,
                n_rows=sum(len(g["rows"]) for (m, _, _), g in good.items() if m == model),
                details={"methods": methods})
        predictions = []
        for (model, external_id, _), group in good.items():
            probs, label, expected = _prediction_values(group["dim"], group["probs"], group["value"])
            predictions.append(Prediction(
                artwork_id=artworks[external_id], dimension=group["dim"], model_name=model,
                revision=group["revision"], method=Prediction.Method.IMPORTED, probs=probs, label=label,
                expected=expected, prompts_hash=sha256, source=sources[model]))
        Prediction.objects.bulk_create(
            predictions, batch_size=1000, update_conflicts=True,
            unique_fields=["artwork", "dimension", "model_name", "revision", "method"],
            update_fields=["probs", "label", "expected", "prompts_hash", "source"])
    if created:
        result.notices.append(f"created {len(created)} image-less artwork(s)")
    for model, source in sources.items():
        result.notices.append(f"{model}: predictions imported from sha256 {source.sha256}")
    result.created = len(predictions)
    return result


def predictions_upload(study: Study, upload, *, model_name: str | None = None, create_artworks: bool = False,
                       skip_bad_rows: bool = False) -> ImportResult:
    """`predictions_import` on an uploaded file (the API): copied to a private temporary folder under a
    name of ours (the uploaded name is kept only as the provenance's file name), imported, removed."""
    suffix = Path(upload.name or "").suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ImportFailed([RowError(0, "file", f"{upload.name!r}: expected a .csv or .parquet file")])
    with tempfile.TemporaryDirectory(prefix="predictions-") as folder:
        path = Path(folder) / f"predictions{suffix}"
        with path.open("wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        return predictions_import(study, path, model_name=model_name, create_artworks=create_artworks,
                                  skip_bad_rows=skip_bad_rows, file_name=str(upload.name or "")[:255])
