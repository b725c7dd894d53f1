"""The report's `exclusions` and `attention_checks` sections.

Who is excluded, and why, is decided by `annotations.exclusions.exclusions_decide` (the one rule set
that the participants page and every export use too); this module only lays the decisions out as
the report prints them. Attention checks are stored apart from judgements, so they never count in
agreement figures.
"""
from __future__ import annotations

from collections import defaultdict

from annotations.exclusions import ExclusionRules, exclusions_decide

from .rows import StudyRows


def exclusions_apply(rows: StudyRows, rules: ExclusionRules, rules_from: str,
                     competence: dict[int, float] | None = None) -> tuple[dict, dict, set[int]]:
    """(exclusions section, attention_checks section, excluded participant ids) of the loaded rows;
    `rules_from` says where the rules' parameters came from ("study" or "report options");
    `competence` feeds the low_competence rule (`report_competence.participants_competence`)."""
    people = rows.participants
    decided = exclusions_decide(people, rows.judgements, rows.attention_checks, rules, competence)
    excluded = {pid for pid, d in decided.items() if d.excluded}
    listed = [{"participant": d.participant, "rules": list(d.rules), "reasons": list(d.reasons),
               "n_judgements": d.n_judgements, "median_response_ms": d.median_response_ms,
               "attention_pass_rate": d.attention_pass_rate}
              for d in sorted((decided[pid] for pid in excluded), key=lambda d: d.participant)]
    exclusions = {
        "rules": rules.described(),
        "rules_from": rules_from,
        "n_participants": len(listed),
        "n_judgements": sum(d.n_judgements for d in decided.values() if d.excluded),
        "participants": listed,
    }
    checks = defaultdict(list)
    by_kind = defaultdict(list)
    for check in rows.attention_checks:
        checks[check["participant_id"]].append(bool(check["passed"]))
        by_kind[check["kind"]].append(bool(check["passed"]))
    all_checks = [ok for results in checks.values() for ok in results]
    attention = {
        "n_checks": len(all_checks),
        "n_passed": sum(all_checks),
        "pass_rate": sum(all_checks) / len(all_checks) if all_checks else None,
        "n_participants_checked": len(checks),
        "n_participants_failing_any": sum(1 for results in checks.values() if not all(results)),
        "by_kind": {kind: {"n_checks": len(r), "n_passed": sum(r)} for kind, r in sorted(by_kind.items())},
    }
    return exclusions, attention, excluded
