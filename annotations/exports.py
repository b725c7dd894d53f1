"""Exports of what people answered, as CSV that spreadsheets open safely and `import_judgements`
reads back: the judgements in long form, the participants and the attention checks.

Exclusions: every table says, per row, whether the participant is excluded under the one rule set
(`annotations.exclusions`, the report's): `excluded`, `exclusion_rules` (rule names joined by ';')
and `exclusion_reasons` (a JSON list, one reason per rule, in the same order), so a CSV analysed
elsewhere drops exactly who the report drops. `exclusion_reason` stays the flag's own stored reason
(`Participant.exclusion_reason`). The rules are the study's unless given (the bundle passes its
report's).

Formula injection: a text cell starting with = + - @ tab or CR is prefixed with a single quote, so a
spreadsheet shows it as text; numbers (e.g. -0.5) are left as they are. Ids and labels that start with
such a character therefore come back with the quote on re-import (none of the template's do).
"""
import csv
import json
import math
from collections.abc import Iterable, Iterator

from .exclusions import Exclusion, ExclusionRules, study_exclusions
from .models import AttentionCheck, Judgement, Study

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
JUDGEMENT_COLUMNS = ("participant", "artwork", "dimension", "value", "severity", "response_ms", "client_ms",
                     "created_at", "shown", "session", "excluded", "exclusion_reason", "exclusion_rules",
                     "exclusion_reasons")
PARTICIPANT_COLUMNS = ("participant", "source", "expertise", "excluded", "exclusion_reason", "created_at",
                       "exclusion_rules", "exclusion_reasons", "median_response_ms", "attention_pass_rate")
CHECK_COLUMNS = ("participant", "artwork", "dimension", "kind", "expected", "answer", "passed", "response_ms",
                 "answered_at", "excluded", "exclusion_rules", "exclusion_reasons")


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


def _rule_cells(decision: Exclusion) -> tuple:
    """exclusion_rules and exclusion_reasons: empty for a participant who is kept."""
    return (";".join(decision.rules) or None), (list(decision.reasons) or None)


def judgements_rows(study: Study, rules: ExclusionRules | None = None) -> Iterator[tuple]:
    """One row per participant × artwork × dimension (JUDGEMENT_COLUMNS), exclusions under `rules`
    (default: the study's)."""
    decided = study_exclusions(study, rules)
    judgements = (Judgement.objects.filter(dimension__study=study)
                  .select_related("participant", "artwork", "dimension")
                  .order_by("participant__external_id", "artwork__external_id", "dimension__position", "id"))
    for j in judgements.iterator(chunk_size=2000):
        yield (j.participant.external_id, j.artwork.external_id, j.dimension.key, judgement_value_text(j.value),
               j.severity, j.response_ms, j.client_ms, j.created_at.isoformat(), j.shown or None, j.session_id,
               decided[j.participant_id].excluded, j.participant.exclusion_reason,
               *_rule_cells(decided[j.participant_id]))


def participants_rows(study: Study, rules: ExclusionRules | None = None) -> Iterator[tuple]:
    """One row per participant (PARTICIPANT_COLUMNS) with the figures the rules looked at."""
    decided = study_exclusions(study, rules)
    for p in study.participants.order_by("external_id"):
        d = decided[p.pk]
        yield (p.external_id, p.source, p.expertise or None, d.excluded, p.exclusion_reason, p.created_at.isoformat(),
               *_rule_cells(d), d.median_response_ms, d.attention_pass_rate)


def attention_rows(study: Study, rules: ExclusionRules | None = None) -> Iterator[tuple]:
    """One row per attention check shown (CHECK_COLUMNS), with its participant's exclusion."""
    decided = study_exclusions(study, rules)
    checks = (AttentionCheck.objects.filter(participant__study=study)
              .select_related("participant", "assignment__artwork", "dimension")
              .order_by("participant__external_id", "id"))
    for c in checks:
        yield (c.participant.external_id, c.assignment.artwork.external_id, c.dimension.key, c.kind,
               judgement_value_text(c.expected), judgement_value_text(c.answer) if c.answer is not None else None,
               c.passed, c.response_ms, c.answered_at.isoformat() if c.answered_at else None,
               decided[c.participant_id].excluded, *_rule_cells(decided[c.participant_id]))
