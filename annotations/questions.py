"""What an annotator is asked about one artwork, and how their answers are read.

The same Question objects render the form and are stored in `Judgement.shown`, so every
judgement records the wording and label order that were on screen. A dimension may ask for its
labels in a per-person random order (`shuffle_labels: true` in the study file), and a binary one
for a follow-up scale when its last label is chosen (`severity: {min, max, anchors}`, as the
template's deformation does). A dimension may show its labels under other words
(`display: {ai: "AI-generated"}`): the option reads the display text, the value stored stays the
label, and `shown` records both. Nothing here reads expert
labels, predictions or other people's judgements: a question is built from the dimension, the
session's seed and, for an attention check, its instruction only.
"""
import random
from dataclasses import dataclass, field

from .models import Assignment, AttentionCheck, Dimension, Session, Study
from .values import parse_value

KEYS = "123456789abcdefghijklmnopqrstuvwxyz"
BACKGROUND = (
    ("art_training", "Have you had any training in art or art history?", (
        ("none", "No"),
        ("some", "Some: courses, workshops or self-taught"),
        ("degree", "Yes: a degree, or I work in art"),
    )),
    ("museum_visits", "How often do you visit art museums or galleries?", (
        ("never", "Never or almost never"),
        ("yearly", "About once a year"),
        ("several", "A few times a year"),
        ("monthly", "Monthly or more"),
    )),
)
NOT_SAYING = ("unsaid", "Prefer not to say")


@dataclass
class Option:
    value: str
    text: str
    key: str = ""
    anchor: str = ""


@dataclass
class Question:
    key: str
    kind: str
    text: str
    options: list[Option]
    dimension_id: int | None = None
    instruction: str = ""
    required: bool = True
    severity: "Question | None" = None
    when: str = ""  # for a follow-up question: the parent answer that asks it
    when_text: str = ""  # ... as the participant saw it (its display text)
    parent_field: str = ""
    shown: dict = field(default_factory=dict)

    @property
    def input_name(self) -> str:
        return f"d-{self.key}"

    @property
    def input_type(self) -> str:
        return "checkbox" if self.kind == "multi" else "radio"


def _keys(values: list) -> list[str]:
    """Shortcut keys: the digit itself on a 0-9 scale, else 1-9 then a-z in order shown."""
    if all(isinstance(v, int) and 0 <= v <= 9 for v in values) and values:
        return [str(v) for v in values]
    return [KEYS[i] if i < len(KEYS) else "" for i in range(len(values))]


def label_display(dimension: Dimension) -> dict[str, str]:
    """Label -> the words a participant sees for it (`display:` in the study file, kept in
    `Dimension.extra`); labels it does not name are shown as they are."""
    names = dimension.extra.get("display")
    if not isinstance(names, dict):
        return {}
    return {str(label): str(text).strip() for label, text in names.items()
            if isinstance(text, (str, int, float)) and str(text).strip()}


def _scale(key: str, text: str, low: int, high: int, anchors: dict) -> Question:
    points = list(range(low, high + 1))
    options = [Option(str(p), str(p), k, str(anchors.get(str(p), ""))) for p, k in zip(points, _keys(points))]
    return Question(key, "rating", text, options)


def dimension_question(dimension: Dimension, session: Session, artwork_id: int, check: AttentionCheck | None = None
                       ) -> Question:
    """The question as shown; for an attention check, with its instruction and without follow-ups.

    A question the same for every artwork and session (no check, labels not shuffled) is made once
    per dimension object: `study_dimensions` keeps those per process and questions version, and
    every submission asks for two artworks' questions. Shared between requests: read, never change it.
    """
    same_for_all = check is None and not (dimension.extra.get("shuffle_labels") and dimension.kind != "binary")
    if same_for_all and (made := dimension.__dict__.get("_question_made")) is not None:
        return made
    question = _question_make(dimension, session, artwork_id, check)
    if same_for_all:
        dimension.__dict__["_question_made"] = question
    return question


def _question_make(dimension: Dimension, session: Session, artwork_id: int, check: AttentionCheck | None) -> Question:
    instruction = check.instruction if check else ""
    if dimension.kind == "rating":
        question = _scale(dimension.key, dimension.question, dimension.scale_min, dimension.scale_max,
                          dimension.anchors)
    else:
        labels = list(dimension.labels)
        if dimension.extra.get("shuffle_labels") and dimension.kind != "binary":
            random.Random(f"{session.seed}:{artwork_id}:{dimension.key}").shuffle(labels)
        display = label_display(dimension)
        options = [Option(label, display.get(label, label), key) for label, key in zip(labels, _keys(labels))]
        question = Question(dimension.key, dimension.kind, dimension.question, options,
                            required=dimension.kind != "multi")
        for option in options:  # an instructed check names the label; the participant sees the display text
            if option.text != option.value:
                instruction = instruction.replace(f"\u201c{option.value}\u201d", f"\u201c{option.text}\u201d")
    question.dimension_id = dimension.id
    question.instruction = instruction
    severity = dimension.extra.get("severity") if dimension.kind == "binary" and check is None else None
    if isinstance(severity, dict):
        anchors = {str(point): words for point, words in (severity.get("anchors") or {}).items()}
        question.severity = _scale(f"{dimension.key}.severity", severity.get("question", "How severe?"),
                                   int(severity["min"]), int(severity["max"]), anchors)
        question.severity.when = str(severity.get("when", dimension.labels[-1]))
        question.severity.when_text = next((o.text for o in question.options if o.value == question.severity.when),
                                           question.severity.when)
        question.severity.parent_field = question.input_name
    question.shown = {"question": question.text, "kind": question.kind, "labels": [o.value for o in question.options]}
    if any(o.text != o.value for o in question.options):
        question.shown["display"] = {o.value: o.text for o in question.options if o.text != o.value}
    if dimension.kind == "rating":
        question.shown["anchors"] = {o.value: o.anchor for o in question.options if o.anchor}
    if instruction:
        question.shown["instruction"] = instruction
    if question.severity:
        question.shown["severity"] = {"question": question.severity.text, "when": question.severity.when,
                                      "points": [o.value for o in question.severity.options]}
    return question


DIMENSIONS: dict[tuple, list[Dimension]] = {}  # per process: (study, its questions version) -> dimensions
DIMENSIONS_MAX = 256


def study_dimensions(study: Study) -> list[Dimension]:
    """The study's dimensions in the order they are asked, read once per process and version of the
    study's questions (saving or deleting a dimension moves `Study.questions_version`), so serving
    an item costs no query for them. Shared between requests: read, never change them."""
    key = (study.pk, study.created_at, study.questions_version)
    dimensions = DIMENSIONS.get(key)
    if dimensions is None:
        if len(DIMENSIONS) >= DIMENSIONS_MAX:
            DIMENSIONS.clear()
        dimensions = DIMENSIONS[key] = list(Dimension.objects.filter(study_id=study.pk).order_by("position", "id"))
    return dimensions


def item_questions(session: Session, assignment: Assignment, dimensions: list[Dimension] | None = None
                   ) -> list[Question]:
    """Every dimension of the study (`dimensions`, if the caller has read them); for an attention
    check, only the checked question."""
    if assignment.is_attention_check:
        check = assignment.attention_check
        return [dimension_question(check.dimension, session, assignment.artwork_id, check)]
    if dimensions is None:
        dimensions = study_dimensions(session.study)
    return [dimension_question(d, session, assignment.artwork_id) for d in dimensions]


def answers_parse(questions: list[Question], answers: dict[str, list[str]]) -> tuple[dict, list[str]]:
    """The canonical value (and severity) per question key, and every problem found, in words.

    `answers` maps a question key to the values posted for it (a list; one item except for multi).
    """
    values, problems = {}, []
    for q in questions:
        given = [a for a in answers.get(q.key, []) if a.strip()]
        if q.kind != "multi" and len(given) != 1:
            problems.append(f"Please give one answer to \u201c{q.text}\u201d." if not given
                            else f"\u201c{q.text}\u201d takes one answer, not {len(given)}.")
            continue
        labels = [o.value for o in q.options]
        low, high = (int(labels[0]), int(labels[-1])) if q.kind == "rating" else (None, None)
        try:
            value = parse_value(q.kind, labels, low, high, given if q.kind == "multi" else given[0])
            if q.kind == "rating" and not isinstance(value, int):
                raise ValueError(f"{given[0]!r} is not a point of the scale {low}-{high}")
        except ValueError as exc:
            problems.append(f"\u201c{q.text}\u201d: {exc}.")
            continue
        severity = None
        if q.severity and value == q.severity.when:
            follow_up, more = answers_parse([q.severity], answers)
            severity = follow_up.get(q.severity.key, (None, None))[0]
            problems.extend(more)
        values[q.key] = (value, severity)
    return values, problems
