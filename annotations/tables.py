"""Reading tabular input (CSV, parquet) into rows, and the per-row error every import reports."""
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import Refused


@dataclass(frozen=True)
class RowError:
    """One problem in one row. Rows count from 1 at the first data row (the header is not a row)."""

    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        return f"{where}, field {self.field!r}: {self.reason}"


LISTED_ERRORS = 1000  # what a person reads through; the rest are counted, so an answer stays small
REASON_MAX_CHARS = 300  # a reason may quote a cell, and a cell may be megabytes long


def _short(error: RowError) -> RowError:
    clip = lambda text: text if len(text) <= REASON_MAX_CHARS else text[:REASON_MAX_CHARS] + "…"  # noqa: E731
    return RowError(error.row, clip(error.field), clip(error.reason))


class RowErrors:
    """Row errors as an import collects them: the first LISTED_ERRORS kept (each shortened), all counted."""

    def __init__(self) -> None:
        self.listed: list[RowError] = []
        self.total = 0

    def extend(self, errors: list[RowError]) -> None:
        for error in errors:
            self.total += 1
            if len(self.listed) < LISTED_ERRORS:
                self.listed.append(_short(error))

    def __bool__(self) -> bool:
        return self.total > 0


def row_errors_json(errors: list[RowError]) -> list[dict]:
    return [{"row": e.row, "field": e.field, "reason": e.reason} for e in errors]


class ImportFailed(Refused):
    """The input did not validate; nothing was written. `errors` lists the first LISTED_ERRORS
    problems found (as RowError), `total` counts them all."""

    def __init__(self, errors: list[RowError], total: int = 0):
        listed = [_short(e) for e in errors[:LISTED_ERRORS]]
        self.total = max(total, len(errors))
        shown = "\n  ".join(str(e) for e in listed)
        more = f"\n  ... and {self.total - len(listed)} more" if self.total > len(listed) else ""
        super().__init__([], f"{self.total} problem(s); nothing was imported:\n  {shown}{more}")
        self.errors = listed  # rows, not text: `answer` says how the API sends them

    def answer(self) -> dict:
        return {"errors": row_errors_json(self.errors), "errors_total": self.total}


def read_table(path: Path | str, *, required: tuple[str, ...] = (), one_of: tuple[str, ...] = ()) -> list[dict]:
    """Rows of a CSV (UTF-8, header first) or parquet file as dicts of plain Python values.

    CSV cells stay text (no type guessing); empty cells and parquet nulls become "".
    Raises ImportFailed naming the missing column(s) or why the file cannot be read.
    """
    path = Path(path)
    try:
        if path.suffix.lower() == ".parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise ImportFailed([RowError(0, str(path), "no such file")]) from None
    except UnicodeDecodeError as exc:
        raise ImportFailed([RowError(0, str(path), f"not UTF-8 text (byte {exc.start}); save it as UTF-8")]) from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise ImportFailed([RowError(0, str(path), f"cannot be read as {path.suffix or 'CSV'}: {exc}")]) from None
    columns = [str(c).strip() for c in frame.columns]
    frame.columns = columns
    errors = [RowError(0, column, "required column is missing") for column in required if column not in columns]
    if one_of and not any(column in columns for column in one_of):
        errors.append(RowError(0, " or ".join(one_of), "one of these columns is required"))
    rows = [{key: plain(value) for key, value in row.items()} for row in frame.to_dict("records")]
    # PostgreSQL stores no NUL character in text or JSON: a clear error here, not a failed write later.
    errors += [RowError(0, repr(column), "a column name contains a NUL character")
               for column in columns if "\x00" in column]
    errors += [RowError(number, key, "contains a NUL character")
               for number, row in enumerate(rows, start=1) for key, value in row.items()
               if isinstance(value, str) and "\x00" in value]
    if errors:
        raise ImportFailed(errors)
    return rows


def plain(value):
    """A cell as a JSON-friendly Python value: text trimmed, NaN and None as ""."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, float) and math.isinf(value):
        return str(value)  # JSON has no infinity
    if isinstance(value, (bool, int, float)):
        return value
    return str(value)


def parse_assignments(pairs: list[str], option: str) -> dict[str, str]:
    """`field=value` pairs from repeatable command options (--set, --map)."""
    parsed = {}
    for pair in pairs or []:
        field, sep, value = pair.partition("=")
        if not sep or not field.strip():
            raise ValueError(f"{option} {pair!r}: expected field=value")
        parsed[field.strip()] = value.strip()
    return parsed


def apply_overrides(row: dict, set_values: dict[str, str], mapping: dict[str, str]) -> dict:
    """The row with --map (field takes another column's value) and --set (fixed value) applied."""
    row = dict(row)
    for field, column in mapping.items():
        row[field] = row.get(column, "")
    row.update(set_values)
    return row
