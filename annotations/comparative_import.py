"""The comparative judgements file (design.md, "Interfaces"): import and export.

One row per trial answer: `participant,dimension,items,choice`, optionally `response_ms`,
`created_at`, `positions`. `items` are the artworks' external ids shown, `;`-separated in screen
order (2 for pairwise, 3 for triplet, 3-5 for best_worst); `choice` is the chosen artwork's id
(pairwise: the more X; triplet: the odd one out) or `best;worst`. `positions`, when given, is the
chosen artwork's place on screen counted from 1 (`best;worst` places for best-worst): a check that
the row says what was on screen; the export writes it. A participant's answers to one set of
artworks are numbered in file order (0 the first, 1 the repeat...); importing the same file again
stores nothing twice. As every import: all rows are checked first and nothing is written if one is
bad, unless bad rows are to be skipped; each problem names its row, field and reason.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
from django.db import transaction
from django.utils import timezone

from .comparative import SIZES, trial_key
from .imports import ImportResult, Progress, answer_timing, judgements_import
from .models import Artwork, ComparativeJudgement, Participant, Study, Trial
from .tables import ImportFailed, RowError, RowErrors, read_table
from .values import COMPARATIVE_KINDS

COLUMNS = ("participant", "dimension", "items", "choice", "response_ms", "created_at", "positions")


def is_comparative_file(path: Path | str) -> bool:
    """Whether a CSV's header is the comparative judgements file's (it has `items` and `choice`)."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        return False
    try:
        header = pd.read_csv(path, nrows=0, dtype=str, encoding="utf-8-sig").columns
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError):
        return False  # the judgements import names the problem
    columns = {str(c).strip() for c in header}
    return {"items", "choice"} <= columns


def judgements_file_import(study: Study, path, **options) -> ImportResult:
    """`import_judgements`'s one entry: a comparative judgements file, else the long judgements file."""
    if is_comparative_file(path):
        return comparative_judgements_import(study, path, **options)
    return judgements_import(study, path, **options)


def _ids(text: str) -> list[str]:
    return [part.strip() for part in str(text).split(";")]


def comparative_judgements_import(study: Study, path, *, create_artworks: bool = False, skip_bad_rows: bool = False,
                                  progress: Progress | None = None) -> ImportResult:
    """Import a comparative judgements file (module docstring); participants are created as needed,
    trials met for the first time are stored outside the design (never assigned to sessions)."""
    rows = read_table(path, required=("participant", "dimension", "items", "choice"))
    dims = {d.key: d for d in study.dimensions.filter(kind__in=COMPARATIVE_KINDS)}
    all_dims = set(study.dimensions.values_list("key", flat=True))
    artworks = dict(study.artworks.values_list("external_id", "id"))
    stored = {(p, d, key, r): c for p, d, key, r, c in ComparativeJudgement.objects.filter(
        trial__dimension__study=study).values_list("participant__external_id", "trial__dimension__key",
                                                   "trial__key", "repeat", "choice")}
    errors, result, ready, new_artworks, notices = RowErrors(), ImportResult(), [], {}, []
    times: dict[tuple, int] = {}
    now = timezone.now()
    for number, row in enumerate(rows, start=1):
        row_errors: list[RowError] = []
        participant, dim_key = str(row["participant"]), str(row["dimension"])
        if not participant:
            row_errors.append(RowError(number, "participant", "empty"))
        elif len(participant) > 255:
            row_errors.append(RowError(number, "participant", "longer than 255 characters"))
        dim = dims.get(dim_key)
        if dim is None:
            reason = (f"{dim_key!r} is not a comparative dimension (pairwise, best_worst, triplet)"
                      if dim_key in all_dims else f"the study has no dimension {dim_key!r} (comparative: "
                      f"{', '.join(dims) or 'none'})")
            row_errors.append(RowError(number, "dimension", reason))
        items = _ids(row["items"])
        if any(not i for i in items):
            row_errors.append(RowError(number, "items", "an empty artwork id (write ids separated by ';')"))
        elif len(set(items)) != len(items):
            row_errors.append(RowError(number, "items", "an artwork appears twice in one trial"))
        elif dim is not None:
            low, high = SIZES[dim.kind]
            if not low <= len(items) <= high:
                size = str(low) if low == high else f"{low} to {high}"
                row_errors.append(RowError(number, "items", f"a {dim.kind} trial shows {size} artworks, got"
                                                            f" {len(items)}"))
        for item in items:
            if item and item not in artworks:
                if create_artworks and len(item) <= 255:
                    new_artworks.setdefault(item, number)
                else:
                    row_errors.append(RowError(number, "items", f"no artwork {item[:80]!r} in the study"
                                                                " (--create-artworks creates image-less ones)"))
        choice = _ids(row["choice"])
        wanted = 2 if dim is not None and dim.kind == "best_worst" else 1
        if dim is not None and len(choice) != wanted:
            what = "'best;worst', two ids" if wanted == 2 else "one artwork id"
            row_errors.append(RowError(number, "choice", f"a {dim.kind} answer is {what}, got {row['choice']!r}"))
        elif dim is not None and any(c not in items for c in choice):
            row_errors.append(RowError(number, "choice", f"{row['choice']!r} is not among the items shown"))
        elif wanted == 2 and choice[0] == choice[1]:
            row_errors.append(RowError(number, "choice", "the best and the worst are the same artwork"))
        positions = str(row.get("positions", ""))
        if positions and not row_errors:
            expected = ";".join(str(items.index(c) + 1) for c in choice)
            if positions.replace(" ", "") != expected:
                row_errors.append(RowError(number, "positions", f"{positions!r} does not match the choice's places"
                                                                f" among the items ({expected})"))
        response_ms, created_at = answer_timing(row, number, now, row_errors)
        if progress:
            progress(number, len(rows))
        if row_errors:
            errors.extend(row_errors)
            continue
        assert dim is not None
        set_key = (participant, dim_key, frozenset(items))
        repeat = times.get(set_key, 0)
        times[set_key] = repeat + 1
        ready.append((number, participant, dim, items, choice, repeat, response_ms, created_at))
    if errors and not skip_bad_rows:
        raise ImportFailed(errors.listed, errors.total)
    result.skipped, result.skipped_total = errors.listed, errors.total
    with transaction.atomic():
        needed = sorted({i for r in ready for i in r[3]} & new_artworks.keys())
        created = Artwork.objects.bulk_create(
            Artwork(study=study, external_id=external_id, metadata={"created_by": "import_judgements"})
            for external_id in needed)
        artworks.update({a.external_id: a.id for a in created})
        trials = _trials_for(ready, artworks)
        participants = _participants_for(study, {r[1] for r in ready})
        new, late_errors = [], []
        for number, participant, dim, items, choice, repeat, ms, created_at in ready:
            ids = [artworks[i] for i in items]
            stored_choice = [artworks[c] for c in choice] if dim.kind == "best_worst" else artworks[choice[0]]
            key = (participant, dim.key, trial_key(ids), repeat)
            if key in stored:
                if stored[key] == stored_choice:
                    notices.append(f"row {number}: already stored with the same choice")
                else:
                    late_errors.append(RowError(number, "choice", "this participant's answer to this trial is already"
                                                                  " stored with another choice; answers are not"
                                                                  " changed by import"))
                continue
            new.append(ComparativeJudgement(participant_id=participants[participant],
                                            trial_id=trials[(dim.pk, trial_key(ids))], repeat=repeat, items=ids,
                                            choice=stored_choice, response_ms=ms, created_at=created_at))
        if late_errors and not skip_bad_rows:
            transaction.set_rollback(True)
            raise ImportFailed(late_errors)
        ComparativeJudgement.objects.bulk_create(new)
    result.skipped += late_errors
    result.skipped_total += len(late_errors)
    result.notices = notices
    if created:
        result.notices.append(f"created {len(created)} image-less artwork(s) for unknown ids")
    result.created = len(new)
    return result


def _trials_for(ready: list[tuple], artworks: dict[str, int]) -> dict[tuple[int, str], int]:
    """(dimension id, trial key) -> trial id, creating the trials not yet stored (outside the design)."""
    wanted = {(r[2].pk, trial_key([artworks[i] for i in r[3]])): sorted(artworks[i] for i in r[3]) for r in ready}
    dimension_ids = {d for d, _ in wanted}
    existing = {(d, k): pk for d, k, pk in Trial.objects.filter(dimension_id__in=dimension_ids)
                .values_list("dimension_id", "key", "id")}
    Trial.objects.bulk_create(Trial(dimension_id=d, key=k, artworks=ids, in_design=False)
                              for (d, k), ids in wanted.items() if (d, k) not in existing)
    return {(d, k): pk for d, k, pk in Trial.objects.filter(dimension_id__in=dimension_ids)
            .values_list("dimension_id", "key", "id")}


def _participants_for(study: Study, external_ids: set[str]) -> dict[str, int]:
    existing = dict(study.participants.filter(external_id__in=external_ids).values_list("external_id", "id"))
    Participant.objects.bulk_create(Participant(study=study, external_id=pid, source=Participant.Source.IMPORT)
                                    for pid in sorted(external_ids - existing.keys()))
    return dict(study.participants.filter(external_id__in=external_ids).values_list("external_id", "id"))


def comparative_judgements_rows(study: Study, participants=None) -> list[dict]:
    """The study's comparative answers as the file's rows (COLUMNS), in the order they were given;
    `participants`: only these participant ids (e.g. without the excluded)."""
    answers = ComparativeJudgement.objects.filter(trial__dimension__study=study)
    if participants is not None:
        answers = answers.filter(participant_id__in=participants)
    external = dict(study.artworks.values_list("id", "external_id"))
    rows = []
    for p, d, items, choice, ms, created in answers.order_by("created_at", "id").values_list(
            "participant__external_id", "trial__dimension__key", "items", "choice", "response_ms", "created_at"):
        chosen = choice if isinstance(choice, list) else [choice]
        rows.append({"participant": p, "dimension": d, "items": ";".join(external[i] for i in items),
                     "choice": ";".join(external[c] for c in chosen), "response_ms": "" if ms is None else ms,
                     "created_at": created.isoformat(), "positions": ";".join(str(items.index(c) + 1) for c in chosen)})
    return rows


def comparative_count(study: Study) -> int:
    """How many comparative answers the study holds."""
    return ComparativeJudgement.objects.filter(trial__dimension__study=study).count()


def comparative_judgements_csv(study: Study, participants=None) -> str:
    """The comparative judgements file as CSV text (header only when there are none)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(comparative_judgements_rows(study, participants))
    return out.getvalue()
