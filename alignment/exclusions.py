"""Exclusion rules, applied to a study's loaded judgement rows before any figure is computed.

A participant is excluded, with every judgement, when
- flagged: `Participant.excluded` is set (the reason is `exclusion_reason`);
- too fast: the median of their recorded response times is below `exclude_fast_ms` (only for
  participants with response times; 0 turns the rule off);
- attention: their pass rate on attention checks (`AttentionCheck` rows with a result, gold and
  instructed alike) is below `min_attention_pass` (off when None). The crowd site itself flags a
  participant (`excluded`) after the study's limit of failed checks; this rule adds a rate threshold.
Attention checks are stored apart from judgements, so they never count in agreement figures.
"""
from __future__ import annotations

import statistics
from collections import defaultdict


def _attention(data: dict) -> dict[int, list[bool]]:
    """Participant id -> pass/fail of each of their answered attention checks, in id order."""
    results = defaultdict(list)
    for check in data["attention_checks"]:
        results[check["participant_id"]].append(bool(check["passed"]))
    return results


def exclusions_apply(data: dict, exclude_fast_ms: int, min_attention_pass: float | None) -> tuple[dict, dict, set[int]]:
    """(exclusions section, attention_checks section, excluded participant ids)."""
    people = data["participants"]
    times, counts = defaultdict(list), defaultdict(int)
    for j in data["judgements"]:
        counts[j["participant_id"]] += 1
        if j["response_ms"] is not None:
            times[j["participant_id"]].append(j["response_ms"])
    checks = _attention(data)
    listed = []
    for pid in sorted(counts.keys() | checks.keys(), key=lambda p: people[p]["external_id"]):
        person, rules, reasons = people[pid], [], []
        median = statistics.median(times[pid]) if times[pid] else None
        passed = checks.get(pid)
        rate = sum(passed) / len(passed) if passed else None
        if person["excluded"]:
            rules.append("flagged")
            reasons.append(person["exclusion_reason"] or "marked excluded")
        if exclude_fast_ms and median is not None and median < exclude_fast_ms:
            rules.append("too_fast")
            reasons.append(f"median response time {median:g} ms is below {exclude_fast_ms} ms")
        if min_attention_pass is not None and rate is not None and rate < min_attention_pass:
            rules.append("attention")
            reasons.append(f"passed {sum(passed)} of {len(passed)} attention checks")
        if rules:
            listed.append({"participant": person["external_id"], "rules": rules, "reasons": reasons,
                           "n_judgements": counts.get(pid, 0), "median_response_ms": median,
                           "attention_pass_rate": rate})
    listed_ids = {x["participant"] for x in listed}
    excluded = {pid for pid in people if people[pid]["external_id"] in listed_ids}
    all_checks = [ok for results in checks.values() for ok in results]
    exclusions = {
        "rules": {
            "flagged": "Participant.excluded is set",
            "too_fast": {"median_response_ms_below": exclude_fast_ms} if exclude_fast_ms else None,
            "attention": {"pass_rate_below": min_attention_pass} if min_attention_pass is not None else None,
        },
        "n_participants": len(listed),
        "n_judgements": sum(x["n_judgements"] for x in listed),
        "participants": listed,
    }
    by_kind = defaultdict(list)
    for check in data["attention_checks"]:
        by_kind[check["kind"]].append(bool(check["passed"]))
    attention = {
        "n_checks": len(all_checks),
        "n_passed": sum(all_checks),
        "pass_rate": sum(all_checks) / len(all_checks) if all_checks else None,
        "n_participants_checked": len(checks),
        "n_participants_failing_any": sum(1 for results in checks.values() if not all(results)),
        "by_kind": {kind: {"n_checks": len(r), "n_passed": sum(r)} for kind, r in sorted(by_kind.items())},
    }
    return exclusions, attention, excluded
