"""Alignment reports, the service: load → code → build → store.

`report_build(study, options)` reads a study's rows once (`loader.study_rows`), decides the
exclusions, codes each dimension's arrays (`coding.dimension_arrays`) and builds its section
(`report_sections.dimension_report`), and returns the report as a JSON-ready dict (shape:
docs/report-schema.md); `report_create` also stores it as a `Report`. The content holds no timestamp
or row id: the same inputs and options give byte-identical JSON (`report_json`). Rendering it (HTML,
CSV, SVG) is `render_report`'s and `render_svg`'s; the dashboard's pages are `dashboard`'s.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

from django.db import transaction

from annotations.errors import Refused
from annotations.exclusions import study_exclusion_rules
from annotations.models import Study
from annotations.values import COMPARATIVE_KINDS

from .coding import dimension_arrays
from .loader import comparative_rows, study_dimensions, study_embeddings, study_rows
from .models import Report
from .report_comparative import comparative_sections
from .report_competence import competence_methods, competence_options, crowd_sections, participants_competence
from .report_embedding import embedding_maps
from .report_exclusions import exclusions_apply
from .report_figures import TIES_SEED, json_ready
from .report_prompts import prompt_sensitivity_section
from .report_sections import dimension_report, inputs_section

SCHEMA = "artalign-alignment-report/1"
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


class NothingToReport(Refused, ValueError):
    """The study has neither judgements nor aggregated shares to report on."""


def report_build(study: Study, options: ReportOptions = ReportOptions(), progress: Progress | None = None) -> dict:
    """The report of a study as a JSON-ready dict (NaN as None); raises NothingToReport."""
    say = progress or (lambda message: None)
    study_rules = study_exclusion_rules(study)
    rules = study_exclusion_rules(study, options.exclude_fast_ms, options.min_attention_pass)
    options = replace(options, exclude_fast_ms=rules.too_fast_ms, min_attention_pass=rules.min_attention_pass)
    dims = study_dimensions(study)
    say("loading judgements, expert labels and predictions")
    rows = study_rows(study)
    compared = comparative_rows(study)
    share_fields = {d.extra["human_share_field"] for d in dims.values() if d.extra.get("human_share_field")}
    has_shares = any(isinstance(a["metadata"], dict) and share_fields & a["metadata"].keys()
                     for a in rows.artworks.values())
    if not rows.judgements and not has_shares and not compared["answers"]:
        raise NothingToReport(
            f"study {study.slug!r} has no judgements and no aggregated human shares: import judgements "
            "(import_judgements) or artworks whose metadata holds a dimension's human_share_field")
    competence = participants_competence(dims, rows, rules)  # None unless the study has a competence rule
    rules_from = "study" if rules == study_rules else "report options"
    exclusions, attention, excluded = exclusions_apply(rows, rules, rules_from, competence)
    methods = competence_methods(study.extra, rules)
    inputs = inputs_section(rows, dims, excluded, seed=options.seed, n_boot=options.n_boot)
    rows = rows.without(excluded)
    sections = {}
    for number, dim in enumerate((d for d in dims.values() if d.kind not in COMPARATIVE_KINDS), start=1):
        say(f"dimension {number}/{len(dims)}: {dim.key}")
        arrays = dimension_arrays(dim, rows)
        sections[dim.key] = dimension_report(arrays, rows.models, n_boot=options.n_boot,
                                             seed=options.seed, min_stratum_items=options.min_stratum_items)
        sections[dim.key] |= crowd_sections(dim, arrays, rows, methods, seed=options.seed)
        sections[dim.key]["prompt_sensitivity"] = prompt_sensitivity_section(dim, arrays, rows)
    report = {
        "schema": SCHEMA,
        "study": {"slug": study.slug, "title": study.title},
        "options": asdict(options) | {"ci_level": 0.95, "ties": "random", "ties_seed": TIES_SEED}
        | competence_options(rules, exclusions),
        "inputs": inputs,
        "exclusions": exclusions,
        "attention_checks": attention,
        "dimensions": sections,
        "comparative": comparative_sections(compared, excluded, n_boot=options.n_boot, seed=options.seed),
        "embedding_maps": embedding_maps(study_embeddings(study), rows, dims),
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
