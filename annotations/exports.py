"""Exports of what people answered, as CSV that spreadsheets open safely and `import_judgements`
reads back: the judgements in long form, the participants and the attention checks.

Formula injection: a text cell starting with = + - @ tab or CR is prefixed with a single quote, so a
spreadsheet shows it as text; numbers (e.g. -0.5) are left as they are. Ids and labels that start with
such a character therefore come back with the quote on re-import (none of the template's do).
"""
import csv
import json
import math
from collections.abc import Iterable, Iterator

from .models import AttentionCheck, Judgement, Study

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
JUDGEMENT_COLUMNS = ("participant", "artwork", "dimension", "value", "severity", "response_ms", "client_ms",
                     "created_at", "shown", "session", "excluded", "exclusion_reason")
PARTICIPANT_COLUMNS = ("participant", "source", "expertise", "excluded", "exclusion_reason", "created_at")
CHECK_COLUMNS = ("participant", "artwork", "dimension", "kind", "expected", "answer", "passed", "response_ms",
                 "answered_at")


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def csv_cell(value) -> str:
    """One cell as text, neutralised against spreadsheet formulas."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    text = str(value)
    if text.startswith(FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def csv_write(handle, columns: Iterable[str], rows: Iterable[Iterable]) -> int:
    """Write a header and rows of safe cells; returns the number of rows."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
        count += 1
    return count


def judgement_value_text(value) -> str | int | float:
    """A stored value as `import_judgements` reads it: labels as is, tags joined by ';', numbers."""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value


def judgements_rows(study: Study) -> Iterator[tuple]:
    """One row per participant × artwork × dimension (JUDGEMENT_COLUMNS)."""
    judgements = (Judgement.objects.filter(dimension__study=study)
                  .select_related("participant", "artwork", "dimension")
                  .order_by("participant__external_id", "artwork__external_id", "dimension__position", "id"))
    for j in judgements.iterator(chunk_size=2000):
        yield (j.participant.external_id, j.artwork.external_id, j.dimension.key, judgement_value_text(j.value),
               j.severity, j.response_ms, j.client_ms, j.created_at.isoformat(), j.shown or None, j.session_id,
               j.participant.excluded, j.participant.exclusion_reason)


def participants_rows(study: Study) -> Iterator[tuple]:
    for p in study.participants.order_by("external_id"):
        yield (p.external_id, p.source, p.expertise or None, p.excluded, p.exclusion_reason, p.created_at.isoformat())


def attention_rows(study: Study) -> Iterator[tuple]:
    checks = (AttentionCheck.objects.filter(participant__study=study)
              .select_related("participant", "assignment__artwork", "dimension")
              .order_by("participant__external_id", "id"))
    for c in checks:
        yield (c.participant.external_id, c.assignment.artwork.external_id, c.dimension.key, c.kind,
               judgement_value_text(c.expected), judgement_value_text(c.answer) if c.answer is not None else None,
               c.passed, c.response_ms, c.answered_at.isoformat() if c.answered_at else None)
