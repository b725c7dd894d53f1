"""The bundle's issue-17 tables: per dimension, a tidy long CSV of the judgements (task, worker,
label: crowd-kit's `fit(df)` and pingouin's `intraclass_corr(data, targets="task", raters="worker",
ratings="label")` read it as is), and, where the report fitted competence, each participant's
competence and each artwork's posterior label distribution.

The long tables drop the participants the report excluded (its rules, `ExclusionRules.from_options`),
like the bundle's other CSVs. Each table is (file name, columns, rows, description); the bundle
writes them (`bundle.study_bundle`).
"""
from __future__ import annotations

from collections.abc import Iterator

from annotations.exclusions import ExclusionRules, exclusions_decide
from annotations.exports import judgement_value_text
from annotations.models import Study

from .loader import study_dimensions, study_rows

Table = tuple[str, list[str], list[list], str]
LONG_KINDS = ("single", "binary", "rating", "multi")


def long_tables(study: Study, rules: ExclusionRules) -> Iterator[Table]:
    rows = study_rows(study)
    decided = exclusions_decide(rows.participants, rows.judgements, rows.attention_checks, rules)
    kept = rows.without({pid for pid, d in decided.items() if d.excluded})
    people, artworks = rows.participants, rows.artworks
    for dim in study_dimensions(study).values():
        if dim.kind not in LONG_KINDS:
            continue
        table = sorted([artworks[j["artwork_id"]]["external_id"], people[j["participant_id"]]["external_id"],
                        judgement_value_text(j["value"])] for j in kept.judgements if j["dimension_id"] == dim.id)
        yield (f"long/{dim.key}.csv", ["task", "worker", "label"], table,
               f"{dim.key}: one row per judgement (task = artwork, worker = participant), excluded participants left"
               " out; crowd-kit and pingouin read it without reshaping")


def competence_tables(content: dict) -> Iterator[Table]:
    for key, section in content.get("dimensions", {}).items():
        competence = section.get("competence")
        if not competence:
            continue
        methods = competence["methods"]
        yield (f"competence/{key}.csv", ["participant", "n_artworks", "leave_one_out", *methods],
               [[p["participant"], p["n_artworks"], p["leave_one_out"], *(p.get(m) for m in methods)]
                for p in competence["participants"]],
               f"{key}: each participant's competence ({', '.join(methods)}) beside leave-one-out agreement")
        posterior = competence["posterior"]
        labels = competence["labels"]
        yield (f"posterior/{key}.csv", ["artwork", "label", "entropy_bits", *(f"p_{label}" for label in labels)],
               [[a["artwork"], a["label"], a["entropy"], *a["probs"]] for a in posterior["artworks"]],
               f"{key}: each artwork's posterior label distribution ({posterior['method']}), its most likely label"
               " and its uncertainty")


def crowd_tables(study: Study, content: dict | None, rules: ExclusionRules) -> list[Table]:
    """Every issue-17 table of the bundle (competence and posterior only with a report)."""
    return [*long_tables(study, rules), *(competence_tables(content) if content else ())]
