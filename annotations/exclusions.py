"""The one rule set that decides who is excluded from a study's analysis, and why.

The report, the participants page and API, and every export (judgements, participants, attention
checks, the bundle) call `exclusions_decide`, so a CSV analysed elsewhere drops exactly who the report
drops, with the same rule names and reasons. It works on plain rows, so the report can hand it the
rows it has already loaded and `study_exclusions` can load them for everything else.

A participant is excluded, with every judgement, when
- `flagged`: `Participant.excluded` is set (the reason is `exclusion_reason`); the crowd site sets
  it after the study's limit of failed attention checks, a researcher may set it by hand;
- `too_fast`: the median of their recorded response times is below `too_fast_ms` (strictly below:
  a median exactly at the threshold is kept; participants without response times are never too
  fast; 0 turns the rule off);
- `attention`: their pass rate on answered attention checks is below `min_attention_pass` (off when
  None or 0);
- `low_competence`: their estimated competence (MACE, mean over the categorical dimensions) is below
  `min_competence` (off when None or 0). The competences come from the report
  (`alignment.report_competence`), which hands them in; a stored report keeps who it excluded so
  (`competence_excluded` in its options), and the exports and the dashboard of that report drop
  the same people. Without a report (the participants page, single exports) the rule is not applied.

The rules' parameters are the study's (`exclusions: {too_fast_ms: 500, min_attention_pass: null}`
in the study file, kept in `Study.extra`); a report may be computed with others and records them.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .models import AttentionCheck, Judgement, Study

RULES_FIELD = "exclusions"  # the study file's field, kept in Study.extra


@dataclass(frozen=True)
class ExclusionRules:
    too_fast_ms: int = 500  # median response time below this excludes; 0: off
    min_attention_pass: float | None = None  # attention-check pass rate below this excludes; None or 0: off
    min_competence: float | None = None  # MACE competence below this excludes; None or 0: off
    competence_excluded: frozenset[str] = frozenset()  # a stored report's low_competence decisions

    @classmethod
    def from_options(cls, options: Mapping) -> ExclusionRules:
        """The rules a stored report was computed with (its `options`, always explicit values)."""
        return cls(too_fast_ms=options.get("exclude_fast_ms") or 0,
                   min_attention_pass=options.get("min_attention_pass"), min_competence=options.get("min_competence"),
                   competence_excluded=frozenset(options.get("competence_excluded") or ()))

    def described(self) -> dict:
        """The rules as the report and the bundle's manifest print them (None: the rule is off)."""
        return {
            "flagged": "Participant.excluded is set",
            "too_fast": {"median_response_ms_below": self.too_fast_ms} if self.too_fast_ms else None,
            "attention": {"pass_rate_below": self.min_attention_pass} if self.min_attention_pass else None,
        } | ({"low_competence": {"mace_competence_below": self.min_competence}} if self.min_competence else {})


@dataclass(frozen=True)
class Exclusion:
    """One participant's decision: the rules that exclude them (empty: kept), a reason per rule, and
    the figures the rules looked at."""
    participant: str
    rules: tuple[str, ...]
    reasons: tuple[str, ...]
    n_judgements: int
    median_response_ms: float | None
    attention_checks: int
    attention_passed: int

    @property
    def excluded(self) -> bool:
        return bool(self.rules)

    @property
    def attention_pass_rate(self) -> float | None:
        return self.attention_passed / self.attention_checks if self.attention_checks else None


def exclusion_rules_problems(value) -> list[str]:
    """What is wrong with a study file's `exclusions` field (empty when it is fine or absent)."""
    if value is None:
        return []
    where = f"field {RULES_FIELD!r}"
    if not isinstance(value, dict):
        return [f"{where}: expected a mapping such as {{too_fast_ms: 500, min_attention_pass: null}}"]
    problems = [f"{where}: unknown rule parameter {key!r}; known: too_fast_ms, min_attention_pass, min_competence"
                for key in value if key not in ("too_fast_ms", "min_attention_pass", "min_competence")]
    fast = value.get("too_fast_ms")
    if fast is not None and (isinstance(fast, bool) or not isinstance(fast, int) or fast < 0):
        problems.append(f"field '{RULES_FIELD}.too_fast_ms': expected a whole number of milliseconds,"
                        f" 0 or null to turn the rule off; got {fast!r}")
    rate = value.get("min_attention_pass")
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1):
        problems.append(f"field '{RULES_FIELD}.min_attention_pass': expected a pass rate between 0 and 1,"
                        f" or null to turn the rule off; got {rate!r}")
    competence = value.get("min_competence")
    if competence is not None and (isinstance(competence, bool) or not isinstance(competence, (int, float))
                                   or not 0 <= competence <= 1):
        problems.append(f"field '{RULES_FIELD}.min_competence': expected a competence between 0 and 1,"
                        f" or null to turn the rule off; got {competence!r}")
    return problems


COMPETENCE_FIELD = "competence"  # the study file's switch for the report's competence models (alignment)
COMPETENCE_METHODS = ("dawid_skene", "mace")


def competence_field_problems(value) -> list[str]:
    """What is wrong with a study file's `competence` field: true, false or {methods: [...]}."""
    if value is None or isinstance(value, bool):
        return []
    if (isinstance(value, dict) and set(value) == {"methods"} and isinstance(value["methods"], list)
            and value["methods"] and all(m in COMPETENCE_METHODS for m in value["methods"])):
        return []
    return [f"field {COMPETENCE_FIELD!r}: expected true, false or {{methods: [{', '.join(COMPETENCE_METHODS)}]}}"
            f" (one or both); got {value!r}"]


def study_exclusion_rules(study: Study, too_fast_ms: int | None = None,
                          min_attention_pass: float | None = None) -> ExclusionRules:
    """The study's rules (study file `exclusions`, else the defaults), with any parameter given here
    replacing the study's (None keeps the study's; 0 turns a rule off)."""
    spec = (study.extra or {}).get(RULES_FIELD)
    problems = exclusion_rules_problems(spec)
    if problems:
        raise ValueError(f"study {study.slug!r}: " + "; ".join(problems))
    spec = spec or {}
    fast = spec.get("too_fast_ms", ExclusionRules.too_fast_ms) if too_fast_ms is None else too_fast_ms
    rate = spec.get("min_attention_pass") if min_attention_pass is None else min_attention_pass
    return ExclusionRules(too_fast_ms=fast or 0, min_attention_pass=rate, min_competence=spec.get("min_competence"))


def exclusions_decide(participants: Mapping[int, Mapping], judgements: Iterable[Mapping],
                      attention_checks: Iterable[Mapping], rules: ExclusionRules,
                      competence: Mapping[int, float] | None = None) -> dict[int, Exclusion]:
    """Participant id -> Exclusion, for every participant in `participants`.

    participants: id -> {"external_id", "excluded", "exclusion_reason"}; judgements: rows with
    "participant_id" and "response_ms" (None when not recorded); attention_checks: answered checks
    with "participant_id" and "passed"; competence: participant id -> estimated competence, for the
    `low_competence` rule (None: the rule follows `rules.competence_excluded`).
    """
    counts, times = defaultdict(int), defaultdict(list)
    for j in judgements:
        counts[j["participant_id"]] += 1
        if j["response_ms"] is not None:
            times[j["participant_id"]].append(j["response_ms"])
    checks = defaultdict(list)
    for check in attention_checks:
        checks[check["participant_id"]].append(bool(check["passed"]))
    decided = {}
    for pid, person in participants.items():
        median = statistics.median(times[pid]) if times[pid] else None
        passed = checks[pid]
        found = []
        if person["excluded"]:
            found.append(("flagged", person["exclusion_reason"] or "marked excluded"))
        if rules.too_fast_ms and median is not None and median < rules.too_fast_ms:
            found.append(("too_fast", f"median response time {median:g} ms is below {rules.too_fast_ms} ms"))
        if rules.min_attention_pass and passed and sum(passed) / len(passed) < rules.min_attention_pass:
            found.append(("attention", f"passed {sum(passed)} of {len(passed)} attention checks"))
        if rules.min_competence and competence is not None and competence.get(pid, 1.0) < rules.min_competence:
            found.append(("low_competence", f"MACE competence {competence[pid]:.3f} is below {rules.min_competence:g}"))
        elif rules.min_competence and competence is None and person["external_id"] in rules.competence_excluded:
            found.append(("low_competence", f"MACE competence below {rules.min_competence:g} in the report"))
        decided[pid] = Exclusion(participant=person["external_id"], rules=tuple(r for r, _ in found),
                                 reasons=tuple(why for _, why in found), n_judgements=counts[pid],
                                 median_response_ms=median, attention_checks=len(passed),
                                 attention_passed=sum(passed))
    return decided


def study_exclusions(study: Study, rules: ExclusionRules | None = None) -> dict[int, Exclusion]:
    """Every participant's decision from the stored rows, under `rules` (default: the study's)."""
    participants = {p["id"]: p for p in study.participants.values("id", "external_id", "excluded",
                                                                  "exclusion_reason")}
    judgements = Judgement.objects.filter(dimension__study=study).values("participant_id", "response_ms")
    checks = AttentionCheck.objects.filter(participant__study=study, passed__isnull=False).values(
        "participant_id", "passed")
    return exclusions_decide(participants, judgements.iterator(chunk_size=5000), checks,
                             rules or study_exclusion_rules(study))
