"""What a judgement's value may be, per kind of dimension. Pure functions, no database."""
import math

ITEM_KINDS = ("single", "multi", "binary", "rating")  # answered one artwork at a time
COMPARATIVE_KINDS = ("pairwise", "best_worst", "triplet")  # answered as trials of 2-5 artworks (comparative.py)
KINDS = ITEM_KINDS + COMPARATIVE_KINDS
LEVELS = ("nominal", "ordinal", "interval", "ratio")
DEFAULT_LEVEL = {"single": "nominal", "multi": "nominal", "binary": "nominal", "rating": "interval",
                 "pairwise": "interval", "best_worst": "interval", "triplet": "nominal"}


def _match_label(labels: list[str], raw: str) -> str:
    text = str(raw).strip()
    if text in labels:
        return text
    folded = {label.casefold(): label for label in labels}
    if text.casefold() in folded:
        return folded[text.casefold()]
    raise ValueError(f"{text!r} is not one of the labels ({', '.join(labels)})")


def parse_value(kind: str, labels: list[str], scale_min: int | None, scale_max: int | None, raw):
    """Canonical value of `raw` for a dimension, or ValueError with the reason.

    single/binary -> the label as spelled in the dimension (matched case-insensitively);
    multi -> the list of labels in the dimension's order (`raw` is a list or a ';'-separated string;
    empty means no tag applies); rating -> a number within [scale_min, scale_max].
    """
    if kind in ("single", "binary"):
        if raw is None or str(raw).strip() == "":
            raise ValueError("empty value")
        return _match_label(labels, raw)
    if kind == "multi":
        parts = raw if isinstance(raw, (list, tuple)) else str(raw or "").split(";")
        chosen = {_match_label(labels, part) for part in parts if str(part).strip()}
        return [label for label in labels if label in chosen]
    if kind == "rating":
        try:
            number = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{raw!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"{raw!r} is not a finite number")
        if not scale_min <= number <= scale_max:
            raise ValueError(f"{raw!r} is outside the scale {scale_min}-{scale_max}")
        return int(number) if number.is_integer() else number
    raise ValueError(f"unknown dimension kind {kind!r}")
