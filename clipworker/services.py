"""The worker side of CLIP runs (torch): score a batch; and probes on stored embeddings. The web side
(create, queue, cancel, progress) is `clipworker.runs`, which never imports this module but through
the task (`clipworker.tasks`), so pages and the API load no torch.

A run is split into batches of artworks, each one Celery task (`clipworker.tasks.score_batch`).
A batch embeds the artworks that have no embedding yet for (model, revision), stores them, and
scores every dimension of the study from the embeddings: one image forward per artwork and model,
a matrix product per dimension. Rerunning a batch upserts, so nothing is created twice.
"""
import http.client
import logging
from collections import Counter
from collections.abc import Iterator

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from annotations.images import ImageProblem
from annotations.imports import artwork_ensure_image
from annotations.models import Artwork, Dimension, Study
from annotations.values import COMPARATIVE_KINDS

from .comparative import comparative_predictions
from .families import run_scoring
from .model import LoadedClip, get_clip
from .models import ArtworkFailure, ClipRun, Embedding, Prediction
from .pipeline import embed_items
from .probe import probe_cross_val
from .progress import cliprun_refresh
from .prompt_variants import score_variants
from .scoring import DimensionSpec, dimension_spec, prompts_hash, score_dimensions

SPEC_EXTRA_FIELDS = ("label_prompts", "pair_prompts", "negative_prompts", "threshold")
PREDICTION_KEY = ["artwork", "dimension", "model_name", "revision", "method"]
ARTWORK_FIELDS = {field.name for field in Artwork._meta.concrete_fields}
# What fetching or opening one artwork's image may raise: that artwork's failure, not the batch's.
# http.client.HTTPException (e.g. BadStatusLine: a server that does not speak HTTP) is no OSError.
IMAGE_ERRORS = (ImageProblem, OSError, ValueError, http.client.HTTPException)

logger = logging.getLogger(__name__)


def dimension_spec_for(dim: Dimension) -> DimensionSpec:
    fields = {"key": dim.key, "kind": dim.kind, "labels": dim.labels, "prompts": dim.prompts,
              "scale_min": dim.scale_min, "scale_max": dim.scale_max, "anchors": dim.anchors}
    fields.update({name: dim.extra[name] for name in SPEC_EXTRA_FIELDS if name in dim.extra})
    return dimension_spec(fields)


def clip_for(model_name: str) -> LoadedClip:
    """The loaded model of a run: a listed name (settings.CLIP_MODELS) loads its checkpoint; any other
    name is a hub id or folder itself (only `run_clip`, the operator's tool, starts runs of those)."""
    return get_clip(settings.CLIP_MODELS.get(model_name, model_name), device=settings.CLIP_DEVICE,
                    cache_dir=settings.VAR_DIR, max_loaded=settings.CLIP_MAX_LOADED_MODELS)


def _image_sources(artworks: list[Artwork], failures: dict[int, str]) -> Iterator[tuple[int, bytes]]:
    """(id, bytes) per artwork, read lazily so only a few batches are in memory at once."""
    for artwork in artworks:
        try:
            artwork_ensure_image(artwork)
            with artwork.image.open("rb") as handle:
                data = handle.read()
        except IMAGE_ERRORS as exc:
            failures[artwork.pk] = _image_failure(artwork, exc)
            continue
        yield artwork.pk, data


def _image_failure(artwork: Artwork, exc: Exception) -> str:
    """The reason a researcher reads: ours (ImageProblem) or a generic one; the details go to the log."""
    if isinstance(exc, ImageProblem):
        return f"cannot read image: {exc}"
    logger.warning("artwork %s: cannot fetch or open its image: %s: %s", artwork.pk, type(exc).__name__, exc)
    if isinstance(exc, http.client.HTTPException):
        return "cannot fetch image: the server's answer is not HTTP"
    return "cannot fetch or open image"


def cliprun_score_batch(run_id: int, artwork_ids: list[int]) -> None:
    """Embed what is missing, score every dimension, upsert predictions, record failures."""
    run = ClipRun.objects.select_related("study").get(pk=run_id)
    if run.status in (ClipRun.Status.CANCELLED, ClipRun.Status.FAILED):
        return
    clip = clip_for(run.model_name)
    ClipRun.objects.filter(pk=run.pk, status=ClipRun.Status.QUEUED).update(
        status=ClipRun.Status.RUNNING, started_at=timezone.now(), revision=clip.revision,
        is_stand_in=clip.is_stand_in, scoring=run_scoring(clip.family))
    vectors = {e.artwork_id: e.array() for e in Embedding.objects.filter(
        artwork_id__in=artwork_ids, model_name=run.model_name, revision__in=[clip.revision, ""])}
    missing = list(Artwork.objects.filter(pk__in=artwork_ids, study=run.study).exclude(pk__in=vectors))
    failures: dict[int, str] = {}
    new = []
    for result in embed_items(clip, _image_sources(missing, failures), batch_size=run.batch_size):
        if result.ok:
            vectors[result.id] = result.embedding
            new.append(Embedding(artwork_id=result.id, model_name=run.model_name, revision=clip.revision,
                                 dim=result.embedding.size, vector=Embedding.pack(result.embedding),
                                 source=Embedding.Source.COMPUTED))
        else:
            failures[result.id] = result.error
    predictions = _zero_shot_predictions(run, clip, vectors)
    with transaction.atomic():
        Embedding.objects.bulk_create(new, ignore_conflicts=True)
        Prediction.objects.bulk_create(predictions, update_conflicts=True, unique_fields=PREDICTION_KEY,
                                       update_fields=["run", "probs", "label", "expected", "prompts_hash",
                                                      "by_template"])
        ArtworkFailure.objects.bulk_create(
            [ArtworkFailure(run=run, artwork_id=pk, reason=reason) for pk, reason in failures.items()],
            ignore_conflicts=True)
    cliprun_refresh(run)


def _zero_shot_predictions(run: ClipRun, clip: LoadedClip, vectors: dict[int, np.ndarray]) -> list[Prediction]:
    if not vectors:
        return []
    dims = list(run.study.dimensions.exclude(kind__in=COMPARATIVE_KINDS))
    compared = comparative_predictions(run, clip, vectors,
                                       list(run.study.dimensions.filter(kind__in=COMPARATIVE_KINDS)))
    if not dims:
        return compared
    specs = [dimension_spec_for(d) for d in dims]
    ids = list(vectors)
    matrix = np.stack([vectors[i] for i in ids])
    scores = score_dimensions(specs, matrix, clip.embed_texts, clip.logit_scale)
    variants = score_variants(specs, matrix, clip.embed_texts, clip.logit_scale)  # each template alone
    hashes = {spec.key: prompts_hash(spec) for spec in specs}
    return [
        Prediction(run=run, artwork_id=artwork_id, dimension=dim, model_name=run.model_name,
                   revision=clip.revision, method=Prediction.Method.ZERO_SHOT, probs=item[dim.key]["probs"],
                   label=item[dim.key]["label"], expected=item[dim.key]["expected"], prompts_hash=hashes[dim.key],
                   by_template=by_template.get(dim.key, {}))
        for artwork_id, item, by_template in zip(ids, scores, variants) for dim in dims
    ] + compared


def _probe_target(artwork: Artwork, dim: Dimension, target: str, experts: dict, majority: dict):
    if target == "expert":
        return experts.get(artwork.pk)
    if target == "majority":
        return majority.get(artwork.pk)
    name = target.removeprefix("field:") if target.startswith("field:") else dim.key
    value = getattr(artwork, name) if name in ARTWORK_FIELDS else artwork.metadata.get(name)
    return value if value not in ("", None) else None


def _human_majority(dim: Dimension) -> dict:
    votes: dict[int, Counter] = {}
    for artwork_id, value in dim.judgements.filter(participant__excluded=False).values_list("artwork_id", "value"):
        votes.setdefault(artwork_id, Counter())[str(value)] += 1
    # Ties are left out: a probe trained on a coin flip would learn noise.
    return {a: c.most_common(1)[0][0] for a, c in votes.items()
            if len(c) == 1 or c.most_common(2)[0][1] > c.most_common(2)[1][1]}


def probe_labels(embeddings: list[Embedding], dim: Dimension, target: str,
                 group_by: str) -> tuple[list, list | None]:
    """(label per embedding's artwork (None = unlabelled), group per artwork or None) for a probe."""
    experts = dict(dim.expert_labels.values_list("artwork_id", "value")) if target == "expert" else {}
    majority = _human_majority(dim) if target == "majority" else {}
    labels = [_probe_target(e.artwork, dim, target, experts, majority) for e in embeddings]
    groups = None
    if group_by:  # an item without a group value is a group of its own
        groups = [_probe_target(e.artwork, dim, f"field:{group_by}", {}, {}) or f"item-{e.artwork_id}"
                  for e in embeddings]
    return labels, groups


def probe_predict(study: Study, model_name: str, dimension_key: str, *, target: str = "expert",
                  group_by: str = "", folds: int = 5, seed: int = 0) -> dict:
    """Cross-validated logistic-regression probe on stored embeddings; stores out-of-fold predictions.

    target: "expert" (expert labels), "majority" (the human majority), "field" (the artwork's field
    named like the dimension, e.g. origin) or "field:NAME" (any artwork field or metadata key).
    group_by: an artwork field or metadata key (e.g. prompt) whose groups never straddle folds.
    """
    dim = study.dimensions.get(key=dimension_key)
    embeddings = list(Embedding.objects.filter(artwork__study=study, model_name=model_name)
                      .select_related("artwork").order_by("artwork_id", "-created_at"))
    if not embeddings:
        raise ValueError(f"no {model_name!r} embeddings in study {study.slug!r}: run CLIP or import_embeddings first")
    revision = Counter(e.revision for e in embeddings).most_common(1)[0][0]
    embeddings = [e for e in embeddings if e.revision == revision]
    labels, groups = probe_labels(embeddings, dim, target, group_by)
    result = probe_cross_val(np.stack([e.array() for e in embeddings]), labels, groups,
                             n_splits=folds, seed=seed)
    classes = [str(c) for c in result["classes"]]
    tag = f"probe:{target}:{group_by or '-'}:{folds}:{seed}"
    predictions = [
        Prediction(artwork=e.artwork, dimension=dim, model_name=model_name, revision=revision,
                   method=Prediction.Method.PROBE, probs=dict(zip(classes, map(float, proba))),
                   label=str(predicted), prompts_hash=tag)
        for e, proba, predicted in zip(embeddings, result["proba"], result["predicted"]) if predicted is not None
    ]
    with transaction.atomic():
        Prediction.objects.filter(dimension=dim, model_name=model_name, method=Prediction.Method.PROBE).delete()
        Prediction.objects.bulk_create(predictions)
    return {key: result[key] for key in ("accuracy", "balanced_accuracy", "auc", "n", "n_per_class", "n_splits")}
