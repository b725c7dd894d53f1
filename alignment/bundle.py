"""Exports: single files (judgements, predictions, participants CSV; the report as JSON or HTML) and
the reproducible bundle, a ZIP of all of them with a manifest.json saying what each file is, its row
count and sha256, and the inputs of the report it holds. Pages, the API and `export_study` call these.

Every table marks who is excluded under the one rule set (`annotations.exclusions`): a single file
with the study's rules, the bundle with the rules its report was computed with, so the bundle's
CSVs and its report.json always drop the same participants for the same reasons.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass

from django.utils import timezone

from annotations.comparative_import import comparative_count, comparative_judgements_csv
from annotations.editing import study_spec_yaml
from annotations.errors import Refused
from annotations.exclusions import ExclusionRules, study_exclusion_rules
from annotations.exports import (
    CHECK_COLUMNS,
    JUDGEMENT_COLUMNS,
    PARTICIPANT_COLUMNS,
    attention_rows,
    csv_write,
    judgements_rows,
    participants_rows,
)
from annotations.models import Study
from clipworker.exports import PREDICTION_COLUMNS, predictions_rows

from .export_competence import crowd_tables
from .loader import report_latest

BUNDLE_SCHEMA = "artalign-bundle/1"
KINDS = ("judgements", "predictions", "participants", "attention-checks", "report-json", "report-html", "bundle")


class NoReport(Refused, LookupError):
    """The study has no stored report to export; compute one first."""

    status = 404


@dataclass
class ExportFile:
    name: str
    content_type: str
    data: bytes
    rows: int | None = None
    description: str = ""


def _csv(name: str, columns, rows, description: str) -> ExportFile:
    buffer = io.StringIO()
    count = csv_write(buffer, columns, rows)
    return ExportFile(name, "text/csv; charset=utf-8", buffer.getvalue().encode("utf-8"), count, description)


def export_file(study: Study, kind: str, rules: ExclusionRules | None = None) -> ExportFile:
    """One export by kind (see KINDS); NoReport for a report kind when none is stored. The tables
    mark exclusions under `rules` (default: the study's)."""
    if kind == "judgements":
        return _csv("judgements.csv", JUDGEMENT_COLUMNS, judgements_rows(study, rules),
                    "every judgement, one row per participant × artwork × dimension; import_judgements reads it")
    if kind == "predictions":
        return _csv("predictions.csv", PREDICTION_COLUMNS, predictions_rows(study),
                    "CLIP's predictions, one row per artwork × dimension × model × label with its probability")
    if kind == "participants":
        return _csv("participants.csv", PARTICIPANT_COLUMNS, participants_rows(study, rules),
                    "participants: source, background answers (JSON), exclusion, its rules and reasons")
    if kind == "attention-checks":
        return _csv("attention_checks.csv", CHECK_COLUMNS, attention_rows(study, rules),
                    "attention checks (never counted as judgements): expected and given answer, passed, exclusion")
    if kind in ("report-json", "report-html"):
        report = report_latest(study)
        if report is None:
            raise NoReport(f"study {study.slug!r} has no stored report: compute one first")
        if kind == "report-json":
            return ExportFile("report.json", "application/json", report.content_json.encode("utf-8"), None,
                              f"alignment report {report.pk} exactly as stored (schema docs/report-schema.md)")
        from .dashboard import report_html_of  # the statistics stack (scipy): only when a report is rendered

        return ExportFile("report.html", "text/html; charset=utf-8",
                          report_html_of(study, report.content).encode("utf-8"), None,
                          f"alignment report {report.pk}, self-contained HTML (inline CSS and SVG)")
    if kind == "bundle":
        return study_bundle(study)
    raise ValueError(f"unknown export {kind!r}; one of {', '.join(KINDS)}")


def study_bundle(study: Study) -> ExportFile:
    """The reproducible bundle: the study file, every CSV, the latest report (JSON and HTML) and a
    manifest.json. Without a stored report the manifest says so and the report files are left out.
    The CSVs mark exclusions with the report's rules (the study's without a report)."""
    report = report_latest(study)
    rules = ExclusionRules.from_options(report.content["options"]) if report else study_exclusion_rules(study)
    files = [ExportFile("study.yaml", "application/yaml", study_spec_yaml(study).encode("utf-8"), None,
                        "the study file: create_study --from-file study.yaml --slug NEW makes the same study")]
    files += [export_file(study, kind, rules)
              for kind in ("judgements", "predictions", "participants", "attention-checks")]
    if comparative_count(study):
        files.append(ExportFile("comparative_judgements.csv", "text/csv; charset=utf-8",
                                comparative_judgements_csv(study).encode("utf-8"), comparative_count(study),
                                "comparative answers (pairwise, best-worst, triplet), one row per trial answer;"
                                " import_judgements reads it"))
    files += [_csv(*table) for table in crowd_tables(study, report.content if report else None, rules)]
    if report is not None:
        files += [export_file(study, "report-json"), export_file(study, "report-html")]
    manifest = {
        "schema": BUNDLE_SCHEMA,
        "study": {"slug": study.slug, "title": study.title},
        "created_at": timezone.now().isoformat(),
        "files": [{"name": f.name, "description": f.description, "rows": f.rows, "bytes": len(f.data),
                   "sha256": hashlib.sha256(f.data).hexdigest()} for f in files],
        "report": None if report is None else {
            "id": report.pk, "created_at": report.created_at.isoformat(), "content_sha256": report.content_sha256,
            "seed": report.seed, "n_boot": report.n_boot, "options": report.content["options"],
            "inputs": report.inputs},
        "note": None if report is not None else "no stored report: compute one, then export again",
        "exclusions": {"rules": rules.described(),
                       "from": f"report {report.pk}'s options" if report else "the study's rules"},
        "reproduce": [
            "manage.py create_study --from-file study.yaml --slug NEW",
            "manage.py import_judgements NEW judgements.csv --create-artworks",
            "manage.py import_judgements NEW comparative_judgements.csv --create-artworks (when present)",
            "manage.py alignment_report NEW --seed SEED --bootstrap N_BOOT (the report's options)",
        ],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for f in files:
            archive.writestr(f"{study.slug}/{f.name}", f.data)
        archive.writestr(f"{study.slug}/manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    return ExportFile("bundle.zip", "application/zip", buffer.getvalue(), None,
                      "study file, judgements, predictions, participants, attention checks, report, manifest")
