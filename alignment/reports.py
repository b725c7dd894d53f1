"""Alignment reports: the one place that turns database rows into arrays, then builds and stores the report.

`report_build(study, options)` reads a study's judgements, expert labels, aggregated shares and CLIP
predictions, applies the exclusion rules, and returns the report as a JSON-ready dict (shape:
docs/report-schema.md); `report_create` also stores it as a `Report`. The content holds no timestamp
or row id: the same inputs and options give byte-identical JSON (`report_json`).

Codes: single and binary labels become their index in `Dimension.labels` (an ordinal dimension's
order is its labels' order); a multi-label judgement becomes one 0/1 answer per tag; ratings stay
numbers. Artworks (units) and participants (raters) are ordered by external id, so the numbers do not
depend on insertion order or on the database.
"""
from __future__ import annotations

import hashlib
import json
import math
import platform
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from importlib.metadata import PackageNotFoundError, version

import numpy as np
from django.db import transaction

from annotations.exclusions import study_exclusion_rules
from annotations.models import AttentionCheck, Dimension, ExpertLabel, Judgement, Study
from clipworker.models import ClipRun, Prediction

from .dimension import DimensionArrays, dimension_report
from .exclusions import exclusions_apply
from .figures import TIES_SEED, ModelArrays, SubDimension, json_ready
from .models import Report

SCHEMA = "artalign-alignment-report/1"
ARTWORK_STRATA = ("origin", "style", "period", "generator")
STATS_PACKAGES = ("numpy", "scipy", "scikit-learn", "krippendorff")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class ReportOptions:
    seed: int = 0  # 0..SEED_MAX
    n_boot: int = 1000
    # The exclusion rules' parameters; None: the study's rule (study file `exclusions`), 0: off. A
    # built report records the values it used (never None for exclude_fast_ms).
    exclude_fast_ms: int | None = None  # participants whose median response time is below this
    min_attention_pass: float | None = None  # exclude below this attention-check pass rate
    min_stratum_items: int = 10


# numpy's generators take non-negative seeds; a report's seed is stored in a BigIntegerField.
SEED_MAX = 2**63 - 1


class NothingToReport(ValueError):
    """The study has neither judgements nor aggregated shares to report on."""


def _sha256(rows) -> str:
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


def _number(raw) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return math.nan
    return value if math.isfinite(value) else math.nan


def _versions() -> dict:
    found = {}
    for name in STATS_PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found | {"python": platform.python_version()}


# Rows -> arrays ----------------------------------------------------------------------------------------
class _Coder:
    """How one dimension's stored values become numbers (see the module docstring)."""

    def __init__(self, dim: Dimension):
        self.dim = dim
        self.index = {label: i for i, label in enumerate(dim.labels)}
        if dim.kind == "rating":
            self.categories = [str(v) for v in range(dim.scale_min, dim.scale_max + 1)]
        elif dim.kind == "multi":
            self.categories = ["no", "yes"]
        else:
            self.categories = list(dim.labels)
        numeric = [_number(label) for label in dim.labels]
        self.values = (np.array(numeric) if dim.labels and all(map(math.isfinite, numeric))
                       else np.arange(1.0, len(dim.labels) + 1))
        positive = dim.extra.get("positive_label", dim.labels[1] if dim.kind == "binary" else None)
        self.positive = self.index.get(positive) if dim.kind == "binary" else (1 if dim.kind == "multi" else None)

    def code(self, value) -> float | list[float]:
        """A stored value as a code (or per-tag 0/1 list for multi); NaN if it does not fit."""
        if self.dim.kind == "multi":
            chosen = set(value) if isinstance(value, list) else set()
            return [float(tag in chosen) for tag in self.dim.labels]
        if self.dim.kind == "rating":
            return _number(value)
        return float(self.index.get(value, math.nan)) if isinstance(value, str) else math.nan


def _model_key(name: str, revision: str, method: str, several_revisions: bool) -> str:
    key = f"{name}@{revision or 'imported'}" if several_revisions else name
    return key if method == Prediction.Method.ZERO_SHOT else f"{key} ({method})"


def _prediction_arrays(coder: _Coder, rows: list[dict], unit_index: dict[int, int], n: int):
    """(label, score, probs) arrays over units for one model, per sub-dimension (tags for multi)."""
    dim, k = coder.dim, len(coder.categories)
    n_subs = len(dim.labels) if dim.kind == "multi" else 1
    label = np.full((n_subs, n), np.nan)
    score = np.full((n_subs, n), np.nan)
    probs = np.full((n_subs, n, k), np.nan)
    probs_complete = True
    for row in rows:
        u = unit_index[row["artwork_id"]]
        p = row["probs"] if isinstance(row["probs"], dict) else {}
        if dim.kind == "multi":
            tags = set(row["label"]) if isinstance(row["label"], list) else None
            for t, tag in enumerate(dim.labels):
                pt = _number(p.get(tag))
                probs[t, u] = (1 - pt, pt)
                score[t, u] = pt
                if tags is not None:
                    label[t, u] = float(tag in tags)
                elif math.isfinite(pt):
                    label[t, u] = float(pt >= 0.5)
        elif dim.kind == "rating":
            point = np.array([_number(p.get(c)) for c in coder.categories])
            probs_complete &= bool(np.isfinite(point).all())
            probs[0, u] = point
            expected = _number(row["expected"])
            if not math.isfinite(expected) and np.isfinite(point).all() and point.sum() > 0:
                expected = float(point @ np.array([float(c) for c in coder.categories]) / point.sum())
            score[0, u] = expected
            if math.isfinite(expected):
                label[0, u] = min(max(round(expected), dim.scale_min), dim.scale_max)
        else:
            point = np.array([_number(p.get(c)) for c in coder.categories])
            probs[0, u] = point
            chosen = coder.code(row["label"])
            label[0, u] = chosen if math.isfinite(chosen) or not np.isfinite(point).all() else float(np.argmax(point))
            if coder.positive is not None:
                score[0, u] = point[coder.positive]
            elif dim.level != "nominal" and np.isfinite(point).all() and point.sum() > 0:
                positions = np.arange(k, dtype=float) if dim.level == "ordinal" else coder.values
                score[0, u] = float(point @ positions / point.sum())
    return label, score, (probs if probs_complete else None)


def _truth_field(dim: Dimension) -> str | None:
    return dim.extra.get("truth_field", "origin" if dim.key == "origin" and dim.kind != "rating" else None)


def _dimension_arrays(dim: Dimension, data: dict, models: dict) -> DimensionArrays:
    """Arrays of one dimension from the study's loaded rows (see `_load`)."""
    coder = _Coder(dim)
    judgements = [j for j in data["judgements"] if j["dimension_id"] == dim.id]
    predictions = [p for p in data["predictions"] if p["dimension_id"] == dim.id]
    experts = {e["artwork_id"]: e["value"] for e in data["experts"] if e["dimension_id"] == dim.id}
    share_field, share_label = dim.extra.get("human_share_field"), dim.extra.get("human_share_label")
    artworks = data["artworks"]
    shares_by_artwork = {}
    if share_field:
        shares_by_artwork = {a: _number(art["metadata"].get(share_field)) for a, art in artworks.items()
                             if isinstance(art["metadata"], dict) and share_field in art["metadata"]}
        shares_by_artwork = {a: v for a, v in shares_by_artwork.items() if math.isfinite(v)}
    truth_field = _truth_field(dim)
    truth = dict(experts)
    sources = {"expert_labels": len(experts)} if experts else {}
    if truth_field:
        extra = {}
        for a, art in artworks.items():
            if a not in experts and art.get(truth_field):
                try:
                    extra[a] = dim.parse_value(art[truth_field])
                except ValueError:
                    pass
        truth |= extra
        if extra:
            sources[f"artwork.{truth_field}"] = len(extra)
    used = ({j["artwork_id"] for j in judgements} | {p["artwork_id"] for p in predictions} | set(truth)
            | set(shares_by_artwork))
    units = sorted(used, key=lambda a: artworks[a]["external_id"])
    unit_index = {a: i for i, a in enumerate(units)}
    raters = sorted({j["participant_id"] for j in judgements}, key=lambda p: data["participants"][p]["external_id"])
    rater_index = {p: i for i, p in enumerate(raters)}
    n_subs = len(dim.labels) if dim.kind == "multi" else 1
    matrix = np.full((n_subs, len(raters), len(units)), np.nan)
    unfit = 0
    for j in judgements:
        code = coder.code(j["value"])
        if isinstance(code, float) and not math.isfinite(code):
            unfit += 1
        matrix[:, rater_index[j["participant_id"]], unit_index[j["artwork_id"]]] = code
    reference = np.full((n_subs, len(units)), np.nan)
    for a, value in truth.items():
        reference[:, unit_index[a]] = coder.code(value)
    unit_ids = [artworks[a]["external_id"] for a in units]
    rater_ids = [data["participants"][p]["external_id"] for p in raters]
    by_model = defaultdict(list)
    for p in predictions:
        by_model[p["model_key"]].append(p)
    per_model = {key: _prediction_arrays(coder, rows, unit_index, len(units)) for key, rows in sorted(by_model.items())}
    subs = []
    for s in range(n_subs):
        sub_models = [ModelArrays(key, models[key], label[s], score[s], None if probs is None else probs[s])
                      for key, (label, score, probs) in per_model.items()]
        subs.append(SubDimension(
            key=dim.labels[s] if dim.kind == "multi" else dim.key, level=dim.level, categories=coder.categories,
            rating=dim.kind == "rating", data=matrix[s], raters=rater_ids, units=unit_ids, experts=reference[s],
            models=sub_models, values=coder.values if dim.kind in ("single", "binary") else None,
            positive=coder.positive))
    expertise_keys = sorted({k for p in raters for k in data["participants"][p]["expertise"]})
    arrays = DimensionArrays(
        key=dim.key, kind=dim.kind, level=dim.level,
        labels=list(dim.labels) if dim.kind == "multi" else coder.categories,
        scale={"min": dim.scale_min, "max": dim.scale_max} if dim.kind == "rating" else None, subs=subs,
        unit_groups={f: [str(artworks[a][f] or "") for a in units] for f in ARTWORK_STRATA},
        rater_groups={f"expertise.{k}": [_group_value(data["participants"][p]["expertise"].get(k)) for p in raters]
                      for k in expertise_keys},
        truth_sources=sources,
        positive_label=dim.labels[coder.positive] if dim.kind == "binary" and coder.positive is not None else None,
    )
    if unfit:
        arrays.notes.append(f"{unfit} judgement(s) with a value outside the dimension's labels were left out")
    if share_field and not shares_by_artwork:
        arrays.notes.append(f"no artwork has a numeric metadata field {share_field!r} (the dimension's"
                            " human_share_field): no shares section")
    elif share_field:
        arrays.share_field, arrays.share_label = share_field, share_label
        arrays.shares = np.array([shares_by_artwork.get(a, math.nan) for a in units])
        arrays.share_scores = _share_scores(share_label, by_model, unit_index, len(units))
        if share_label not in coder.categories and share_label not in dim.labels:
            arrays.notes.append(f"human_share_label {share_label!r} is not one of the labels:"
                                " models have no score for it")
    return arrays


def _group_value(value) -> str:
    if value is None or value == "":
        return ""
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else str(value)


def _share_scores(label: str, by_model: dict, unit_index: dict[int, int], n: int) -> dict:
    scores = {}
    for key, rows in sorted(by_model.items()):
        score = np.full(n, np.nan)
        for row in rows:
            p = row["probs"] if isinstance(row["probs"], dict) else {}
            score[unit_index[row["artwork_id"]]] = _number(p.get(label))
        scores[key] = (f"P({label})", score)
    return scores


# Loading and the report --------------------------------------------------------------------------------
def _load(study: Study) -> dict:
    artworks = {a["id"]: a for a in study.artworks.values("id", "external_id", "metadata", *ARTWORK_STRATA)}
    participants = {p["id"]: p for p in study.participants.values(
        "id", "external_id", "expertise", "excluded", "exclusion_reason")}
    for p in participants.values():
        p["expertise"] = p["expertise"] if isinstance(p["expertise"], dict) else {}
    judgements = list(Judgement.objects.filter(dimension__study=study).values(
        "participant_id", "artwork_id", "dimension_id", "session_id", "value", "response_ms"))
    experts = list(ExpertLabel.objects.filter(dimension__study=study).values(
        "artwork_id", "dimension_id", "value", "is_gold"))
    predictions = list(Prediction.objects.filter(dimension__study=study).values(
        "artwork_id", "dimension_id", "model_name", "revision", "method", "probs", "label", "expected",
        "prompts_hash", "run_id"))
    checks = list(AttentionCheck.objects.filter(participant__study=study, passed__isnull=False)
                  .order_by("id").values("participant_id", "kind", "passed"))
    return {"artworks": artworks, "participants": participants, "judgements": judgements,
            "experts": experts, "predictions": predictions, "attention_checks": checks}


def _models(study: Study, predictions: list[dict]) -> dict[str, dict]:
    """Model key -> what it is; sets `model_key` on each prediction row."""
    revisions = defaultdict(set)
    for p in predictions:
        revisions[p["model_name"]].add(p["revision"])
    groups = defaultdict(list)
    for p in predictions:
        p["model_key"] = _model_key(p["model_name"], p["revision"], p["method"], len(revisions[p["model_name"]]) > 1)
        groups[p["model_key"]].append(p)
    runs = {r["id"]: r for r in ClipRun.objects.filter(study=study).values(
        "id", "model_name", "revision", "is_stand_in")}
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
    return models


def _inputs(data: dict, dims: dict, models: dict, excluded: set[int], options: ReportOptions) -> dict:
    arts, people = data["artworks"], data["participants"]
    judgement_rows = sorted([people[j["participant_id"]]["external_id"], arts[j["artwork_id"]]["external_id"],
                             dims[j["dimension_id"]].key, j["value"], j["response_ms"]] for j in data["judgements"])
    prediction_rows = sorted([arts[p["artwork_id"]]["external_id"], dims[p["dimension_id"]].key, p["model_name"],
                              p["revision"], p["method"], p["probs"], p["label"], p["expected"], p["prompts_hash"]]
                             for p in data["predictions"])
    expert_rows = sorted([arts[e["artwork_id"]]["external_id"], dims[e["dimension_id"]].key, e["value"]]
                         for e in data["experts"])
    share_fields = sorted({d.extra["human_share_field"] for d in dims.values() if d.extra.get("human_share_field")})
    share_rows = sorted([a["external_id"], f, a["metadata"].get(f)] for a in arts.values() for f in share_fields
                        if isinstance(a["metadata"], dict) and f in a["metadata"])
    used = [j for j in data["judgements"] if j["participant_id"] not in excluded]
    return {
        "judgements": {"count": len(data["judgements"]), "used": len(used), "sha256": _sha256(judgement_rows)},
        "expert_labels": {"count": len(expert_rows), "sha256": _sha256(expert_rows)},
        "shares": {"fields": share_fields, "count": len(share_rows), "sha256": _sha256(share_rows)},
        "predictions": {"count": len(prediction_rows), "sha256": _sha256(prediction_rows)},
        "models": [{"key": key} | meta for key, meta in models.items()],
        "seed": options.seed,
        "n_boot": options.n_boot,
        "versions": _versions(),
    }


def report_build(study: Study, options: ReportOptions = ReportOptions(), progress: Progress | None = None) -> dict:
    """The report of a study as a JSON-ready dict (NaN as None); raises NothingToReport."""
    say = progress or (lambda message: None)
    study_rules = study_exclusion_rules(study)
    rules = study_exclusion_rules(study, options.exclude_fast_ms, options.min_attention_pass)
    options = replace(options, exclude_fast_ms=rules.too_fast_ms, min_attention_pass=rules.min_attention_pass)
    dims = {d.id: d for d in study.dimensions.order_by("position", "key")}
    say("loading judgements, expert labels and predictions")
    data = _load(study)
    share_fields = {d.extra["human_share_field"] for d in dims.values() if d.extra.get("human_share_field")}
    has_shares = any(isinstance(a["metadata"], dict) and share_fields & a["metadata"].keys()
                     for a in data["artworks"].values())
    if not data["judgements"] and not has_shares:
        raise NothingToReport(
            f"study {study.slug!r} has no judgements and no aggregated human shares: import judgements "
            "(import_judgements) or artworks whose metadata holds a dimension's human_share_field")
    models = _models(study, data["predictions"])
    exclusions, attention, excluded = exclusions_apply(data, rules,
                                                       "study" if rules == study_rules else "report options")
    inputs = _inputs(data, dims, models, excluded, options)
    data["judgements"] = [j for j in data["judgements"] if j["participant_id"] not in excluded]
    sections = {}
    for number, dim in enumerate(dims.values(), start=1):
        say(f"dimension {number}/{len(dims)}: {dim.key}")
        arrays = _dimension_arrays(dim, data, models)
        sections[dim.key] = dimension_report(arrays, models, n_boot=options.n_boot, seed=options.seed,
                                             min_stratum_items=options.min_stratum_items)
    report = {
        "schema": SCHEMA,
        "study": {"slug": study.slug, "title": study.title},
        "options": asdict(options) | {"ci_level": 0.95, "ties": "random", "ties_seed": TIES_SEED},
        "inputs": inputs,
        "exclusions": exclusions,
        "attention_checks": attention,
        "dimensions": sections,
    }
    return json_ready(report)


def report_json(content: dict) -> str:
    """The report as JSON text: stable key order as built, no NaN (a NaN would be a bug: it raises)."""
    return json.dumps(content, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def report_create(study: Study, options: ReportOptions = ReportOptions(), progress: Progress | None = None) -> Report:
    """Build the report and store it as a `Report` row."""
    content = report_build(study, options, progress)
    text = report_json(content)
    with transaction.atomic():
        return Report.objects.create(study=study, seed=options.seed, n_boot=options.n_boot, content_json=text,
                                     inputs=content["inputs"],
                                     content_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())
