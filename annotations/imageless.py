"""Truth without images: a manifest whose rows have neither `file` nor `url` (`import_artworks --no-images`).

Each row creates an image-less artwork, or updates the study's artwork of that id, with its fields
(title, style, origin, ...), free-form metadata and `expert_<dimension>` labels, so a study made of
existing data (judgements, predictions, ground truth) is complete without a single image. `id` is
required (there is no file name to fall back on). As every import: all rows are checked first and
nothing is written if one is bad (row, field, reason), unless the caller skips bad rows.
"""
from __future__ import annotations

from django.db import transaction

from .imports import ARTWORK_FIELDS, ImportResult, Progress, artwork_fields, expert_labels
from .models import Artwork, ExpertLabel, Study
from .tables import ImportFailed, RowError, RowErrors, apply_overrides, read_table


def artworks_import_imageless(
    study: Study,
    manifest,
    *,
    set_values: dict | None = None,
    mapping: dict | None = None,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Create or update image-less artworks and their expert labels from a manifest without images."""
    set_values, mapping = set_values or {}, mapping or {}
    rows = read_table(manifest)
    if rows:
        missing = [RowError(0, column, f"--map {f}={column}: no such column") for f, column in mapping.items()
                   if column not in rows[0]]
        if "id" not in rows[0] and "id" not in mapping and "id" not in set_values:
            missing.append(RowError(0, "id", "no such column (a manifest without images needs an id per row)"))
        if missing:
            raise ImportFailed(missing)
    dims = {d.key: d for d in study.dimensions.all()}
    stored = {a.external_id: a for a in study.artworks.all()}
    errors, result = RowErrors(), ImportResult()
    seen: dict[str, int] = {}
    ready: list[tuple[str, dict, dict]] = []
    for number, raw in enumerate(rows, start=1):
        row = apply_overrides(raw, set_values, mapping)
        row_errors: list[RowError] = []
        external_id = str(row.get("id", "")).strip()
        if not external_id:
            row_errors.append(RowError(number, "id", "empty id"))
        elif len(external_id) > Artwork._meta.get_field("external_id").max_length:
            row_errors.append(RowError(number, "id", f"{len(external_id)} characters; at most 255"))
        elif external_id in seen:
            row_errors.append(RowError(number, "id", f"{external_id!r} repeats row {seen[external_id]}"))
        for column in ("file", "url"):
            if row.get(column):
                row_errors.append(RowError(number, column, "--no-images: the manifest names no images"))
        fields, metadata = artwork_fields(row, number, row_errors)
        labels = expert_labels(row, number, dims, row_errors)
        seen.setdefault(external_id, number)
        if row_errors:
            errors.extend(row_errors)
        else:
            ready.append((external_id, {**fields, "metadata": metadata}, labels))
        if progress:
            progress(number, len(rows))
    if errors and not skip_bad_rows:
        raise ImportFailed(errors.listed, errors.total)
    result.skipped, result.skipped_total = errors.listed, errors.total
    updated = 0
    with transaction.atomic():
        new = [Artwork(study=study, external_id=external_id, **fields)
               for external_id, fields, _ in ready if external_id not in stored]
        created = {a.external_id: a for a in Artwork.objects.bulk_create(new)}
        changed = []
        for external_id, fields, _ in ready:
            artwork = stored.get(external_id)
            if artwork is None:
                continue
            given = {name: value for name, value in fields.items() if name in ARTWORK_FIELDS and value != ""}
            given |= {name: fields[name] for name in ("year_start", "year_end") if name in fields}
            for name, value in given.items():
                setattr(artwork, name, value)
            artwork.metadata = {**(artwork.metadata or {}), **fields["metadata"]}
            changed.append(artwork)
        if changed:
            names = sorted({*ARTWORK_FIELDS, "year_start", "year_end", "metadata"})
            Artwork.objects.bulk_update(changed, names, batch_size=500)
            updated = len(changed)
        by_id = {**stored, **created}
        ExpertLabel.objects.bulk_create(
            [ExpertLabel(artwork=by_id[external_id], dimension=dim, value=value, source="manifest")
             for external_id, _, labels in ready for dim, value in labels.items()],
            update_conflicts=True, unique_fields=["artwork", "dimension"], update_fields=["value", "source"],
            batch_size=1000)
    result.created = len(created)
    if updated:
        result.notices.append(f"updated {updated} artwork(s) already in the study (fields and expert labels)")
    return result
