"""CLIP's predictions as a long CSV: one row per artwork × dimension × model × label, with that
label's probability (so every label's probability is kept; pivot on `label` for a wide table)."""
from collections.abc import Iterator

from annotations.exports import judgement_value_text
from annotations.models import Study

from .models import ClipRun, Prediction

PREDICTION_COLUMNS = ("artwork", "dimension", "model_name", "revision", "method", "stand_in", "run",
                      "chosen", "expected", "label", "probability", "prompts_hash")


def _position(dimension, label: str) -> tuple:
    """Labels in the dimension's order (scale points in order), whatever order the database kept."""
    order = dimension.labels if dimension.kind != "rating" else [
        str(v) for v in range(dimension.scale_min, dimension.scale_max + 1)]
    return (order.index(label), "") if label in order else (len(order), label)


def predictions_rows(study: Study) -> Iterator[tuple]:
    stand_in_runs = set(ClipRun.objects.filter(study=study, is_stand_in=True).values_list("id", flat=True))
    predictions = (Prediction.objects.filter(dimension__study=study).select_related("artwork", "dimension")
                   .order_by("artwork__external_id", "dimension__position", "model_name", "revision", "method"))
    for p in predictions.iterator(chunk_size=2000):
        flag = p.run_id in stand_in_runs
        probs = p.probs if isinstance(p.probs, dict) else {}
        if not probs and p.expected is not None:  # a score without labels: a comparative dimension's
            yield (p.artwork.external_id, p.dimension.key, p.model_name, p.revision, p.method, flag, p.run_id,
                   "", p.expected, "", "", p.prompts_hash)
        for label, probability in sorted(probs.items(), key=lambda item: _position(p.dimension, item[0])):
            yield (p.artwork.external_id, p.dimension.key, p.model_name, p.revision, p.method, flag, p.run_id,
                   judgement_value_text(p.label), p.expected, label, probability, p.prompts_hash)
