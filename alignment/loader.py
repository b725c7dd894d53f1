"""The loader: the first step of alignment's pipeline, and the one module of alignment that reads
the database (load → code → build → render; see alignment/__init__.py).

`study_rows` reads a study's judgements, expert labels, predictions and attention checks once, as
typed rows (`alignment.rows`); the coder, the report builder and the dashboard work on those rows
and never query. The other readers here are the few a page needs besides: the stored report, the
dimensions, the artworks shown as cards.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from annotations.models import Artwork, AttentionCheck, ComparativeJudgement, Dimension, ExpertLabel, Judgement, Study
from annotations.values import COMPARATIVE_KINDS
from clipworker.models import ClipRun, Embedding, Prediction, PredictionImport, StoredProbe

from .models import Report
from .rows import ARTWORK_STRATA, StudyRows


def study_rows(study: Study) -> StudyRows:
    """All rows of a study a report reads (8 queries, whatever the study's size)."""
    artworks = {a["id"]: a for a in study.artworks.values("id", "external_id", "metadata", *ARTWORK_STRATA)}
    participants = {p["id"]: p for p in study.participants.values(
        "id", "external_id", "expertise", "excluded", "exclusion_reason")}
    for p in participants.values():
        p["expertise"] = p["expertise"] if isinstance(p["expertise"], dict) else {}
    judgements = list(Judgement.objects.filter(dimension__study=study).values(
        "participant_id", "artwork_id", "dimension_id", "session_id", "value", "response_ms", "created_at"))
    experts = list(ExpertLabel.objects.filter(dimension__study=study).values(
        "artwork_id", "dimension_id", "value", "is_gold"))
    predictions = list(Prediction.objects.filter(dimension__study=study).values(
        "artwork_id", "dimension_id", "model_name", "revision", "method", "probs", "label", "expected",
        "prompts_hash", "run_id", "source_id", "probe_id", "by_template"))
    checks = list(AttentionCheck.objects.filter(participant__study=study, passed__isnull=False)
                  .order_by("id").values("participant_id", "kind", "passed"))
    models = _models(study, predictions)
    return StudyRows(artworks=artworks, participants=participants, judgements=judgements, experts=experts,
                     predictions=predictions, attention_checks=checks, models=models)


def model_key(name: str, revision: str, method: str, several_revisions: bool) -> str:
    """A model's name in the report: its name, with the revision where the study holds several, and
    the method where it is not zero-shot (imported predictions keep the name their file declares)."""
    key = f"{name}@{revision or 'imported'}" if several_revisions else name
    plain = (Prediction.Method.ZERO_SHOT, Prediction.Method.IMPORTED)
    return key if method in plain else f"{key} ({method})"


def _models(study: Study, predictions: list[dict]) -> dict[str, dict]:
    """Model key -> what it is; sets `model_key` on each prediction row."""
    revisions = defaultdict(set)
    for p in predictions:
        revisions[p["model_name"]].add(p["revision"])
    groups = defaultdict(list)
    for p in predictions:
        p["model_key"] = model_key(p["model_name"], p["revision"], p["method"], len(revisions[p["model_name"]]) > 1)
        groups[p["model_key"]].append(p)
    runs = {r["id"]: r for r in ClipRun.objects.filter(study=study).values(
        "id", "model_name", "revision", "is_stand_in", "scoring")}
    sources = {s["id"]: s for s in PredictionImport.objects.filter(study=study).values("id", "sha256", "file_name")}
    models = {}
    for key, rows in sorted(groups.items()):
        name, revision, method = rows[0]["model_name"], rows[0]["revision"], rows[0]["method"]
        linked = {p["run_id"] for p in rows if p["run_id"] in runs}
        if not linked:
            linked = {r for r, run in runs.items() if (run["model_name"], run["revision"]) == (name, revision)}
        hashes = sorted({p["prompts_hash"] for p in rows})
        models[key] = {"model_name": name, "revision": revision, "method": method,
                       "prompts_hash": hashes[0] if len(hashes) == 1 else hashes,
                       "is_stand_in": any(runs[r]["is_stand_in"] for r in linked) if linked else None,
                       "n_predictions": len(rows)}
        files = sorted({p["source_id"] for p in rows if p["source_id"] in sources})
        if files:  # imported: the file(s) they came from, by sha256
            models[key]["imported_from"] = [{"sha256": sources[f]["sha256"], "file": sources[f]["file_name"]}
                                            for f in files]
        scoring = [runs[r]["scoring"] for r in sorted(linked) if runs[r]["scoring"]]
        if scoring and method == Prediction.Method.ZERO_SHOT:  # the family and how its scores became probabilities
            models[key]["scoring"] = scoring[-1]
        probe_ids = {p["probe_id"] for p in rows if p["probe_id"]}
        if probe_ids:  # a stored probe applied here: held out, trained on another study
            models[key]["probe"] = _probe_meta(min(probe_ids))
    return models


def _probe_meta(probe_id: int) -> dict:
    probe = StoredProbe.objects.filter(pk=probe_id).values(
        "name", "train_study_slug", "embedding_model", "embedding_revision", "dimension_key", "target", "group_by",
        "classes", "C", "n_train", "cv", "sha256").first() or {}
    return {"held_out": True, "trained_on": probe.pop("train_study_slug", None), **probe}


def study_embeddings(study: Study) -> dict[str, tuple[list[int], np.ndarray]]:
    """Model name -> (artwork ids, (n, d) float32 unit rows): one stored embedding per artwork and
    model (the latest of its most common revision), for the report's embedding map (one query)."""
    by_model: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for artwork_id, name, revision, vector in (Embedding.objects.filter(artwork__study=study)
                                               .order_by("artwork_id", "-created_at")
                                               .values_list("artwork_id", "model_name", "revision", "vector")):
        by_model[name][revision].append((artwork_id, vector))
    out = {}
    for name, revisions in sorted(by_model.items()):
        rows = max(revisions.values(), key=len)
        seen: dict[int, bytes] = {}
        for artwork_id, vector in rows:
            seen.setdefault(artwork_id, bytes(vector))
        ids = sorted(seen)
        out[name] = (ids, np.stack([np.frombuffer(seen[i], dtype="<f4") for i in ids]))
    return out


def study_dimensions(study: Study) -> dict[int, Dimension]:
    """Dimension id -> dimension, in the study's order (the report's order)."""
    return {d.id: d for d in study.dimensions.order_by("position", "key")}


def comparative_rows(study: Study) -> dict:
    """What the comparative sections read (alignment.report_comparative): the comparative dimensions,
    their answers, the models' scores on them and, for triplet dimensions, the image embeddings.
    Empty dimensions when the study has none (one query)."""
    dims = list(study.dimensions.filter(kind__in=COMPARATIVE_KINDS).order_by("position", "key"))
    if not dims:
        return {"dimensions": [], "answers": [], "predictions": [], "embeddings": [], "external_ids": {},
                "participant_ids": {}}
    answers = list(ComparativeJudgement.objects.filter(trial__dimension__study=study).order_by("id").values(
        "participant_id", "trial_id", "trial__dimension_id", "repeat", "items", "choice", "response_ms"))
    predictions = list(Prediction.objects.filter(dimension__in=dims).values(
        "artwork_id", "dimension_id", "model_name", "probs", "expected"))
    embeddings = []
    if any(d.kind == "triplet" for d in dims):
        embeddings = [{"artwork_id": a, "model_name": m, "vector": np.frombuffer(bytes(v), dtype="<f4")}
                      for a, m, v in Embedding.objects.filter(artwork__study=study)
                      .order_by("artwork_id", "-created_at").values_list("artwork_id", "model_name", "vector")]
    external_ids = dict(study.artworks.values_list("id", "external_id"))
    participant_ids = dict(study.participants.values_list("id", "external_id"))
    return {"dimensions": dims, "answers": answers, "predictions": predictions, "embeddings": embeddings,
            "external_ids": external_ids, "participant_ids": participant_ids}


def study_dimension(study: Study, key: str) -> Dimension | None:
    return study.dimensions.filter(key=key).first()


def report_latest(study: Study) -> Report | None:
    return study.alignment_reports.order_by("-created_at", "-id").first()


def artworks_by_external_id(study: Study, external_ids: set[str]) -> dict[str, Artwork]:
    """The artworks a page shows as cards (image, title), by external id."""
    return {a.external_id: a for a in study.artworks.filter(external_id__in=external_ids)}
