"""Import services: artworks from a manifest, judgements from a long CSV.

Each import validates every row first and writes nothing if any row is bad (all errors are
reported at once, each naming row, field and reason), unless the caller asks to skip bad rows.
The management commands, and later the REST API and dashboard, call these functions.
"""
import http.client
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone as dj_timezone
from django.utils.dateparse import parse_datetime

from .derivatives import artwork_derivatives_attach
from .images import ImageInfo, ImageProblem, fetch_url, inspect_image, open_images
from .models import Artwork, Dimension, ExpertLabel, Judgement, Participant, Study
from .tables import LISTED_ERRORS, ImportFailed, RowError, RowErrors, apply_overrides, read_table

ARTWORK_FIELDS = ("title", "artist", "year", "style", "period", "school", "genre", "origin",
                  "generator", "prompt", "source", "license")
ORIGINS = {"human": "human", "ai": "ai", "human-made": "human", "ai-generated": "ai", "": ""}
YEAR_RE = re.compile(r"\d{3,4}")
MAX_RESPONSE_MS = 2**31 - 1  # the largest PositiveIntegerField on PostgreSQL (almost 25 days)
Progress = Callable[[int, int], None]


@dataclass
class ImportResult:
    created: int = 0
    notices: list[str] = field(default_factory=list)
    skipped: list[RowError] = field(default_factory=list)  # the first LISTED_ERRORS
    skipped_total: int = 0


@dataclass
class _Prepared:
    row: int
    external_id: str
    fields: dict
    experts: dict  # Dimension -> value
    data: bytes | None = None
    info: ImageInfo | None = None
    url: str = ""


class _Notices(list):
    """Notices, the first LISTED_ERRORS of them and then one line counting the rest."""

    more = 0

    def append(self, notice: str) -> None:
        if len(self) < LISTED_ERRORS:
            super().append(notice)
        else:
            self.more += 1

    def final(self) -> list[str]:
        return list(self) + ([f"... and {self.more} more note(s)"] if self.more else [])


def _finish(errors: RowErrors, skip_bad_rows: bool, result: ImportResult) -> None:
    if errors and not skip_bad_rows:
        raise ImportFailed(errors.listed, errors.total)
    result.skipped, result.skipped_total = errors.listed, errors.total


def _totals_problem(total_bytes: int, total_pixels: int) -> str:
    """Why an import's images together are too much (IMPORT_MAX_TOTAL_*), or ""."""
    if total_bytes > settings.IMPORT_MAX_TOTAL_BYTES:
        return (f"the images of this import hold {total_bytes:,} bytes uncompressed, over the limit of"
                f" {settings.IMPORT_MAX_TOTAL_BYTES:,} for one import (IMPORT_MAX_TOTAL_BYTES); import them in parts")
    if total_pixels > settings.IMPORT_MAX_TOTAL_PIXELS:
        return (f"the images of this import have {total_pixels:,} pixels together, over the limit of"
                f" {settings.IMPORT_MAX_TOTAL_PIXELS:,} for one import (IMPORT_MAX_TOTAL_PIXELS); import them in parts")
    return ""


def _totals_check(rows: list[dict], reader, set_values: dict, mapping: dict) -> None:
    """Refuse the whole import, before any image is decoded, if the images its rows name are too
    much together: sizes from the ZIP's directory or the folder, pixels from the image headers."""
    if reader is None:
        return
    names = {str(apply_overrides(raw, set_values, mapping).get("file", "")) for raw in rows} - {""}
    total_bytes = total_pixels = 0
    for name in names:
        size, pixels = reader.measure(name)
        total_bytes, total_pixels = total_bytes + size, total_pixels + pixels
    if problem := _totals_problem(total_bytes, total_pixels):
        raise ImportFailed([RowError(0, "images", problem)])


def _check_mapping(rows: list[dict], mapping: dict[str, str]) -> None:
    if rows:
        missing = [RowError(0, column, f"--map {f}={column}: no such column") for f, column in mapping.items()
                   if column not in rows[0]]
        if missing:
            raise ImportFailed(missing)


def _check_length(model, field: str, value: str, number: int, errors: list[RowError], column: str = "") -> None:
    """A row error if `value` is longer than the model field holds (PostgreSQL would refuse the write)."""
    limit = model._meta.get_field(field).max_length
    if limit and len(value) > limit:
        errors.append(RowError(number, column or field, f"{len(value)} characters; at most {limit}"))


def artwork_fields(row: dict, number: int, errors: list[RowError]) -> tuple[dict, dict]:
    """The Artwork fields and free-form metadata of one manifest row (errors appended, not raised)."""
    fields = {name: str(row.get(name, "")) for name in ARTWORK_FIELDS}
    for name in ARTWORK_FIELDS:
        if name != "origin":  # checked below as one of ORIGINS
            _check_length(Artwork, name, fields[name], number, errors)
    origin = fields["origin"].strip().casefold()
    if origin not in ORIGINS:
        errors.append(RowError(number, "origin", f"{fields['origin']!r} is not 'human' or 'ai'"))
    fields["origin"] = ORIGINS.get(origin, "")
    years = [int(y) for y in YEAR_RE.findall(fields["year"])]
    if years:
        fields["year_start"], fields["year_end"] = years[0], years[-1]
        if years[-1] < years[0]:
            errors.append(RowError(number, "year", f"{fields['year']!r}: the range ends before it starts"))
    skip = set(ARTWORK_FIELDS) | {"id", "file", "url"}
    metadata = {key: value for key, value in row.items()
                if key not in skip and not key.startswith("expert_") and value != "" and not hasattr(value, "shape")}
    return fields, metadata


def expert_labels(row: dict, number: int, dims: dict[str, Dimension], errors: list[RowError]) -> dict:
    """The `expert_<dimension>` columns of one manifest row as {dimension: value} (errors appended)."""
    labels = {}
    for column, raw in row.items():
        if not column.startswith("expert_") or raw == "":
            continue
        dim = dims.get(column.removeprefix("expert_"))
        if dim is None:
            errors.append(RowError(number, column, f"the study has no dimension {column.removeprefix('expert_')!r}"
                                                   f" (dimensions: {', '.join(dims)})"))
            continue
        try:
            labels[dim] = dim.parse_value(raw)
        except ValueError as exc:
            errors.append(RowError(number, column, str(exc)))
    return labels


def _read_image(prepared: _Prepared, row: dict, images, url_column: str, defer: bool) -> bytes | None:
    name = str(row.get("file", ""))
    if name:
        if images is None:
            raise ImageProblem("the row names a file but no --images folder or ZIP was given")
        return images.read(name)
    prepared.url = str(row.get(url_column, ""))
    if not prepared.url:
        raise ImageProblem(f"the row has neither 'file' nor '{url_column}'")
    limit = Artwork._meta.get_field("image_url").max_length
    if len(prepared.url) > limit:
        raise ImageProblem(f"the URL has {len(prepared.url)} characters; at most {limit}")
    if defer:
        return None
    try:
        return fetch_url(prepared.url, timeout=settings.IMPORT_URL_TIMEOUT_S, max_bytes=settings.IMPORT_MAX_IMAGE_BYTES)
    except http.client.HTTPException:  # e.g. BadStatusLine: no OSError, so fetch_url lets it through
        raise ImageProblem("cannot fetch the URL: the server's answer is not HTTP") from None


def artworks_import(
    study: Study,
    manifest,
    *,
    images=None,
    url_column: str = "url",
    set_values: dict | None = None,
    mapping: dict | None = None,
    defer_download: bool = False,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import a manifest (CSV or parquet): images from a folder, a ZIP or URLs, checked and deduplicated.

    A row whose image has the same sha256 as an earlier row or a stored artwork, or whose id is
    already in the study, is reported as a notice and not stored twice. The images together are
    bounded (IMPORT_MAX_TOTAL_BYTES, IMPORT_MAX_TOTAL_PIXELS: from the ZIP's directory and the
    headers before any is decoded, then as they are read), and each is written to storage as soon
    as it is checked, so that one image at a time is held in memory; if the import fails, the files
    it wrote are removed again and no row is written.
    """
    set_values, mapping = set_values or {}, mapping or {}
    rows = read_table(manifest, one_of=("file", url_column))
    _check_mapping(rows, mapping)
    try:
        reader = open_images(images, settings.IMPORT_MAX_IMAGE_BYTES)
    except ImageProblem as exc:
        raise ImportFailed([RowError(0, "--images", str(exc))]) from None
    _totals_check(rows, reader, set_values, mapping)
    dims = {d.key: d for d in study.dimensions.all()}
    stored_ids = set(study.artworks.values_list("external_id", flat=True))
    stored_shas = dict(study.artworks.exclude(sha256="").values_list("sha256", "external_id"))
    errors, result, ready, seen_ids, seen_shas = RowErrors(), ImportResult(), [], {}, {}
    notices, written, total_bytes, total_pixels = _Notices(), [], 0, 0
    try:
        for number, raw in enumerate(rows, start=1):
            row = apply_overrides(raw, set_values, mapping)
            row_errors: list[RowError] = []
            external_id = str(row.get("id") or row.get("file") or row.get(url_column) or "")
            _check_length(Artwork, "external_id", external_id, number, row_errors, column="id")
            fields, metadata = artwork_fields(row, number, row_errors)
            prepared = _Prepared(number, external_id, {**fields, "metadata": metadata},
                                 expert_labels(row, number, dims, row_errors))
            image_column = "file" if row.get("file") else url_column
            try:
                prepared.data = _read_image(prepared, row, reader, url_column, defer_download)
                if prepared.data is not None:
                    total_bytes += len(prepared.data)
                    prepared.info = inspect_image(prepared.data, max_pixels=settings.IMPORT_MAX_IMAGE_PIXELS)
                    total_pixels += prepared.info.width * prepared.info.height
            except ImageProblem as exc:
                row_errors.append(RowError(number, image_column, str(exc)))
            if problem := _totals_problem(total_bytes, total_pixels):  # URLs, or files changed since the check
                raise ImportFailed([RowError(0, "images" if reader else url_column, problem)])
            if external_id in seen_ids:
                row_errors.append(RowError(number, "id", f"{external_id!r} repeats row {seen_ids[external_id]}"))
            if row_errors:
                errors.extend(row_errors)
            elif external_id in stored_ids:
                notices.append(f"row {number}: {external_id!r} is already in the study; not imported again")
            elif prepared.info and (prepared.info.sha256 in seen_shas or prepared.info.sha256 in stored_shas):
                first = seen_shas.get(prepared.info.sha256) or f"stored artwork {stored_shas[prepared.info.sha256]!r}"
                notices.append(f"row {number}: same image (sha256 {prepared.info.sha256[:12]}) as {first};"
                               " not stored twice")
            else:
                if prepared.info:
                    seen_shas[prepared.info.sha256] = f"row {number}"
                if skip_bad_rows or not errors:  # once a row is bad, the import will fail: store no more
                    try:
                        ready.append(_artwork_prepare(study, prepared, written))
                    except ImageProblem as exc:
                        errors.extend([RowError(number, image_column, str(exc))])
            prepared.data = None  # one image in memory at a time
            seen_ids.setdefault(external_id, number)
            if progress:
                progress(number, len(rows))
        _finish(errors, skip_bad_rows, result)
        _store_artworks(ready)
    except BaseException:
        for name in written:
            default_storage.delete(name)
        raise
    result.created, result.notices = len(ready), notices.final()
    return result


def _artwork_prepare(study: Study, item: _Prepared, written: list[str]) -> tuple[Artwork, dict]:
    """The unsaved artwork of a checked row, its image and derivatives written to storage already
    (their names appended to `written`: the caller removes them if the import fails)."""
    artwork = Artwork(study=study, external_id=item.external_id, image_url=item.url, **item.fields)
    if item.info:
        mine = []
        try:
            _attach_image(artwork, item.data, item.info)
            mine.append(artwork.image.name)
            mine += artwork_derivatives_attach(artwork, item.data)
        except BaseException:  # a skipped row leaves no file behind
            for name in mine:
                default_storage.delete(name)
            raise
        written += mine
    return artwork, item.experts


def _store_artworks(ready: list[tuple[Artwork, dict]]) -> None:
    """The rows, in one transaction (their files are in storage already)."""
    with transaction.atomic():
        Artwork.objects.bulk_create([artwork for artwork, _ in ready])
        ExpertLabel.objects.bulk_create(
            ExpertLabel(artwork=artwork, dimension=dim, value=value, source="manifest")
            for artwork, experts in ready for dim, value in experts.items()
        )


def _attach_image(artwork: Artwork, data: bytes, info: ImageInfo) -> None:
    # Content-addressed names: the same bytes always land in the same file.
    artwork.image.save(f"{info.sha256}{info.extension}", ContentFile(data), save=False)
    artwork.sha256, artwork.file_size = info.sha256, info.size
    artwork.width, artwork.height = info.width, info.height


def artwork_ensure_image(artwork: Artwork) -> Artwork:
    """Fetch a deferred download now; raises ImageProblem saying why it cannot be had."""
    if artwork.image or not artwork.image_url:
        if not artwork.image:
            raise ImageProblem(f"artwork {artwork.external_id!r} has no image and no URL")
        return artwork
    data = fetch_url(artwork.image_url, timeout=settings.IMPORT_URL_TIMEOUT_S,
                     max_bytes=settings.IMPORT_MAX_IMAGE_BYTES)
    artwork_image_store(artwork, data, inspect_image(data, max_pixels=settings.IMPORT_MAX_IMAGE_PIXELS))
    return artwork


def artwork_image_store(artwork: Artwork, data: bytes, info: ImageInfo) -> None:
    """Store checked bytes as the artwork's image, as an import stores them, for images fetched later."""
    _attach_image(artwork, data, info)
    artwork_derivatives_attach(artwork, data)
    artwork.save(update_fields=["image", "sha256", "file_size", "width", "height", "display_image", "thumbnail"])


def _parse_created_at(raw: str) -> datetime:
    parsed = parse_datetime(raw)
    if parsed is None:
        raise ValueError(f"{raw!r} is not an ISO 8601 date-time")
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    try:
        parsed.astimezone(UTC)  # how it is stored; e.g. 0001-01-01T00:00+01:00 falls before year 1
    except OverflowError:
        raise ValueError(f"{raw!r} is out of the range of dates that can be stored") from None
    return parsed


def answer_timing(row: dict, number: int, now: datetime, row_errors: list[RowError]) -> tuple[int | None, datetime]:
    """An answer row's `response_ms` (None when empty) and `created_at` (`now` when empty), as every
    judgements file gives them; a bad one adds its error to `row_errors`."""
    response_ms = str(row.get("response_ms", ""))
    if response_ms and not response_ms.isdecimal():  # isdigit() takes "²", which int() refuses
        row_errors.append(RowError(number, "response_ms", f"{response_ms!r} is not a whole number of ms"))
    elif response_ms and int(response_ms) > MAX_RESPONSE_MS:
        row_errors.append(RowError(number, "response_ms", f"{response_ms} ms is more than {MAX_RESPONSE_MS}"))
    created_at = now
    if row.get("created_at"):
        try:
            created_at = _parse_created_at(str(row["created_at"]))
        except ValueError as exc:
            row_errors.append(RowError(number, "created_at", str(exc)))
    return (int(response_ms) if response_ms.isdecimal() else None), created_at


def judgements_import(
    study: Study, path, *, create_artworks: bool = False, skip_bad_rows: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import long-format judgements: participant,artwork,dimension,value[,response_ms,created_at].

    Participants are created as needed (source "import"). A judgement already stored with the
    same value is a notice; with a different value it is an error (a judgement is never changed).
    """
    rows = read_table(path, required=("participant", "artwork", "dimension", "value"))
    dims = {d.key: d for d in study.dimensions.all()}
    artworks = dict(study.artworks.values_list("external_id", "id"))
    stored = {
        (p, a, d): v for p, a, d, v in Judgement.objects.filter(dimension__study=study).values_list(
            "participant__external_id", "artwork__external_id", "dimension__key", "value")
    }
    errors, result, ready, seen, new_artworks, notices = RowErrors(), ImportResult(), [], {}, {}, _Notices()
    now = dj_timezone.now()
    for number, row in enumerate(rows, start=1):
        row_errors = []
        for column in ("participant", "artwork", "dimension"):
            if not str(row[column]):
                row_errors.append(RowError(number, column, "empty"))
        _check_length(Participant, "external_id", str(row["participant"]), number, row_errors, column="participant")
        _check_length(Artwork, "external_id", str(row["artwork"]), number, row_errors, column="artwork")
        dim = dims.get(row["dimension"])
        if row["dimension"] and dim is None:
            row_errors.append(RowError(number, "dimension", f"the study has no dimension {row['dimension']!r}"
                                                           f" (dimensions: {', '.join(dims)})"))
        if row["artwork"] and row["artwork"] not in artworks:
            if create_artworks:
                new_artworks.setdefault(row["artwork"], number)
            else:
                row_errors.append(RowError(number, "artwork", f"no artwork {row['artwork']!r} in the study"
                                                             " (--create-artworks creates image-less ones)"))
        value = None
        if dim is not None:
            try:
                value = dim.parse_value(row["value"])
            except ValueError as exc:
                row_errors.append(RowError(number, "value", f"{exc} for dimension {dim.key!r} ({dim.kind})"))
        response_ms, created_at = answer_timing(row, number, now, row_errors)
        key = (str(row["participant"]), str(row["artwork"]), str(row["dimension"]))
        if key in seen:
            row_errors.append(RowError(number, "value", f"a second judgement for the same participant, artwork and"
                                                        f" dimension (first in row {seen[key]})"))
        elif key in stored and not row_errors:
            if stored[key] != value:
                row_errors.append(RowError(number, "value", f"already stored as {stored[key]!r}; judgements are"
                                                            " not changed by import"))
            else:
                notices.append(f"row {number}: already stored with the same value")
                seen[key] = number
                continue
        seen.setdefault(key, number)
        if row_errors:
            errors.extend(row_errors)
        else:
            ready.append((key, value, response_ms, created_at))
        if progress:
            progress(number, len(rows))
    _finish(errors, skip_bad_rows, result)
    with transaction.atomic():
        needed = sorted({key[1] for key, *_ in ready} & new_artworks.keys())
        created = Artwork.objects.bulk_create(
            Artwork(study=study, external_id=external_id, metadata={"created_by": "import_judgements"})
            for external_id in needed
        )
        artworks.update({a.external_id: a.id for a in created})
        participants = _participants_for(study, {key[0] for key, *_ in ready})
        Judgement.objects.bulk_create(
            Judgement(participant_id=participants[p], artwork_id=artworks[a], dimension=dims[d], value=value,
                      response_ms=ms, created_at=created_at)
            for (p, a, d), value, ms, created_at in ready
        )
    result.notices = notices.final()
    if created:
        result.notices.append(f"created {len(created)} image-less artwork(s) for unknown ids")
    result.created = len(ready)
    return result


def _participants_for(study: Study, external_ids: set[str]) -> dict[str, int]:
    existing = dict(study.participants.filter(external_id__in=external_ids).values_list("external_id", "id"))
    Participant.objects.bulk_create(
        Participant(study=study, external_id=pid, source=Participant.Source.IMPORT)
        for pid in sorted(external_ids - existing.keys())
    )
    return dict(study.participants.filter(external_id__in=external_ids).values_list("external_id", "id"))
