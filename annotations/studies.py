"""Study files (YAML or JSON) and the study template: read, validate, create.

A study file holds the study's settings and a list of dimensions (see the design's "Interfaces").
Fields this module does not know are kept: on the study in `Study.extra`, on a dimension in
`Dimension.extra`.
"""
import math
import re
import string
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction

from .exclusions import RULES_FIELD, exclusion_rules_problems
from .models import Dimension, Study
from .values import DEFAULT_LEVEL, KINDS, LEVELS

TEMPLATES_DIR = Path(__file__).resolve().parent / "study_templates"
STUDY_FIELDS = {
    "title": str,
    "description": str,
    "instructions": str,
    "consent_text": str,
    "items_per_session": int,
    "target_judgements_per_item": int,
    "attention_check_rate": float,
    "completion_url": str,
    "completion_code": str,
    "screenout_code": str,  # shown, in place of the completion code, to sessions ended by failed checks
    "attention_fail_limit": int,
    "attention_fail_action": str,
    "questionnaire": bool,
}
DIMENSION_FIELDS = {"key", "kind", "question", "labels", "level", "prompts", "scale"}
PLACEHOLDER_COMPLETION_CODE = "CHANGE-ME"  # the template's: a study cannot open with it
KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,49}$")


class StudySpecError(ValueError):
    """A study file that cannot become a study; `errors` lists every problem found."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("invalid study file:\n  " + "\n  ".join(errors))


def template_names() -> list[str]:
    return sorted(path.stem for path in TEMPLATES_DIR.glob("*.yaml"))


class _StudyFileLoader(yaml.SafeLoader):
    """Safe YAML without aliases: a study file never needs them, and aliases of aliases grow
    exponentially once the spec is walked (the "billion laughs")."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in a study file",
                                              self.peek_event().start_mark)
        return super().compose_node(parent, index)


def study_spec_parse(text: str, source: str = "") -> dict:
    """A study file's text (YAML or JSON: YAML is a superset of JSON, so one parser reads both) as
    a dict; StudySpecError saying why not. `source` names the file in the messages."""
    prefix = f"{source}: " if source else ""
    try:
        spec = yaml.load(text, Loader=_StudyFileLoader)
    except yaml.YAMLError as exc:
        raise StudySpecError([f"{prefix}not valid YAML or JSON: {exc}"]) from None
    if not isinstance(spec, dict):
        raise StudySpecError([f"{prefix}expected a mapping with a 'dimensions' list at the top"])
    return spec


def study_spec_load(path: Path | str) -> dict:
    """Read a study file (see study_spec_parse)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StudySpecError([f"cannot read {path}: {exc.strerror}"]) from None
    except UnicodeDecodeError as exc:
        raise StudySpecError([f"{path}: not valid YAML or JSON: {exc}"]) from None
    return study_spec_parse(text, source=str(path))


def study_template_load(name: str) -> dict:
    path = TEMPLATES_DIR / f"{name}.yaml"
    if not path.is_file():
        raise StudySpecError([f"no study template {name!r}; available: {', '.join(template_names())}"])
    return study_spec_load(path)


def _template_fields(template: str) -> set[str] | None:
    """The {fields} a prompt template fills in; None if it is not a valid template (e.g. a lone '{')."""
    try:
        return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    except ValueError:
        return None


def _unstorable(value, path: str) -> list[str]:
    """Why a study file's value cannot be stored as JSON and text (PostgreSQL refuses NUL characters in
    both, JSON has no NaN or infinity, and YAML can also give dates, bytes and sets): one line per place."""
    where = f"field {path!r}" if path else "the study file"
    if isinstance(value, str):
        return [f"{where}: text cannot contain NUL characters"] if "\x00" in value else []
    if isinstance(value, float):
        return [] if math.isfinite(value) else [f"{where}: {value} is not a number that can be stored"]
    if value is None or isinstance(value, (bool, int)):
        return []
    if isinstance(value, list):
        return [problem for i, item in enumerate(value) for problem in _unstorable(item, f"{path}[{i}]")]
    if isinstance(value, dict):
        problems = []
        for key, item in value.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                problems.append(f"{where}: key {key!r} is neither text nor a whole number")
            elif isinstance(key, str) and "\x00" in key:
                problems.append(f"{where}: key {key!r} contains a NUL character")
            else:
                problems += _unstorable(item, f"{path}.{key}" if path else str(key))
        return problems
    return [f"{where}: {type(value).__name__} values cannot be stored; write it as text"]


def _model_problems(instance, exclude: list[str], where: str = "") -> list[str]:
    """The model's own checks (lengths, integer ranges of the database, URLs, choices) as study-file errors."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        return [f"{where}field {field!r}: {' '.join(messages)}" for field, messages in exc.message_dict.items()]
    return []


def _validate_labels(where: str, kind: str, labels, errors: list[str]) -> None:
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) and x.strip() for x in labels):
        errors.append(f"{where}: field 'labels': a {kind} dimension needs a non-empty list of text labels")
        return
    folded = [label.casefold() for label in labels]
    if len(set(folded)) != len(folded):
        errors.append(f"{where}: field 'labels': labels repeat (compared case-insensitively)")
    if kind == "binary" and len(labels) != 2:
        errors.append(f"{where}: field 'labels': a binary dimension has exactly 2 labels, got {len(labels)}")


def _validate_scale(where: str, scale, errors: list[str]) -> None:
    if not isinstance(scale, dict) or not isinstance(scale.get("min"), int) or not isinstance(scale.get("max"), int):
        errors.append(f"{where}: field 'scale': a rating needs scale: {{min: int, max: int}}")
        return
    if scale["min"] >= scale["max"]:
        errors.append(f"{where}: field 'scale': min must be below max")
    for point in scale.get("anchors") or {}:
        if not (isinstance(point, int) and scale["min"] <= point <= scale["max"]):
            errors.append(f"{where}: field 'scale.anchors': {point!r} is not a point of the scale")


def _validate_prompts(where: str, dim: dict, errors: list[str]) -> None:
    prompts = dim.get("prompts", [])
    if not isinstance(prompts, list) or not all(isinstance(p, str) for p in prompts):
        errors.append(f"{where}: field 'prompts': expected a list of text templates")
        return
    for prompt in prompts:
        fields = _template_fields(prompt)
        if fields is None:
            errors.append(f"{where}: field 'prompts': {prompt!r} is not a valid template"
                          " (write {{ and }} for literal braces)")
            continue
        unknown = fields - {"label"}
        if unknown:
            errors.append(f"{where}: field 'prompts': {prompt!r} uses {sorted(unknown)}; only {{label}} is filled in")
    label_prompts = dim.get("label_prompts", {})
    if not isinstance(label_prompts, dict):
        errors.append(f"{where}: field 'label_prompts': expected a mapping label -> list of prompts")
        return
    for label in label_prompts:
        if label not in (dim.get("labels") or []):
            errors.append(f"{where}: field 'label_prompts': {label!r} is not one of the labels")


def study_spec_validate(spec: dict) -> list[dict]:
    """Every problem in the study file at once, as StudySpecError; else the normalised dimensions.

    A file that passes can be stored as it is: the study's and dimensions' fields pass the models'
    checks (lengths, the database's integer ranges) and every value is storable JSON.
    """
    errors = _unstorable(spec, "")
    if errors:
        raise StudySpecError(errors)
    for field, kind in STUDY_FIELDS.items():
        value = spec.get(field)
        if value is not None and not isinstance(value, kind) and not (kind is float and isinstance(value, int)):
            errors.append(f"field {field!r}: expected {kind.__name__}, got {value!r}")
    rate = spec.get("attention_check_rate", 0)
    if isinstance(rate, (int, float)) and not 0 <= rate <= 1:
        errors.append(f"field 'attention_check_rate': {rate} is not between 0 and 1")
    if spec.get("attention_fail_action", "flag") not in ("flag", "end"):
        errors.append(f"field 'attention_fail_action': {spec['attention_fail_action']!r} is not 'flag' or 'end'")
    errors += exclusion_rules_problems(spec.get(RULES_FIELD))
    for field in ("items_per_session", "target_judgements_per_item", "attention_fail_limit"):
        if isinstance(spec.get(field), int) and spec[field] < 1:
            errors.append(f"field {field!r}: must be at least 1")
    dims = spec.get("dimensions")
    if not isinstance(dims, list) or not dims:
        raise StudySpecError(errors + ["field 'dimensions': a study needs a non-empty list of dimensions"])

    normalised, seen = [], set()
    for index, dim in enumerate(dims):
        key = dim.get("key") if isinstance(dim, dict) else None
        where = f"dimensions[{index}]" + (f" ({key})" if key else "")
        if not isinstance(dim, dict):
            errors.append(f"{where}: expected a mapping")
            continue
        if not isinstance(key, str) or not KEY_RE.match(key):
            errors.append(f"{where}: field 'key': lower-case letters, digits, '_' or '-', starting with a letter")
        elif key in seen:
            errors.append(f"{where}: field 'key': {key!r} appears twice")
        seen.add(key)
        kind = dim.get("kind")
        if kind not in KINDS:
            errors.append(f"{where}: field 'kind': {kind!r} is not one of {', '.join(KINDS)}")
            continue
        if not isinstance(dim.get("question"), str) or not dim["question"].strip():
            errors.append(f"{where}: field 'question': the question shown to people is required")
        if kind == "rating":
            _validate_scale(where, dim.get("scale"), errors)
        else:
            _validate_labels(where, kind, dim.get("labels"), errors)
        level = dim.get("level", DEFAULT_LEVEL[kind])
        if level not in LEVELS:
            errors.append(f"{where}: field 'level': {level!r} is not one of {', '.join(LEVELS)}")
        _validate_prompts(where, dim, errors)
        normalised.append({**dim, "level": level})
    if not errors:
        fields = {field: spec[field] for field in STUDY_FIELDS if spec.get(field) is not None}
        errors += _model_problems(Study(**{"slug": "x", "title": "x"} | fields), exclude=["slug", "owner"])
        for position, dim in enumerate(normalised):
            errors += _model_problems(dimension_from_spec(None, position, dim), exclude=["study"],
                                      where=f"dimensions[{position}] ({dim['key']}): ")
    if errors:
        raise StudySpecError(errors)
    return normalised


def dimension_from_spec(study: Study | None, position: int, dim: dict) -> Dimension:
    """An unsaved Dimension from a validated study-file entry (creating a study and editing one alike)."""
    scale = dim.get("scale") or {}
    return Dimension(
        study=study,
        key=dim["key"],
        position=position,
        question=dim["question"].strip(),
        kind=dim["kind"],
        labels=dim.get("labels") or [],
        scale_min=scale.get("min"),
        scale_max=scale.get("max"),
        anchors={str(point): words for point, words in (scale.get("anchors") or {}).items()},
        level=dim["level"],
        prompts=dim.get("prompts") or [],
        extra={k: v for k, v in dim.items() if k not in DIMENSION_FIELDS},
    )


@transaction.atomic
def study_create(spec: dict, slug: str, *, owner=None, template: str = "") -> Study:
    """Create a study and its dimensions from a study file's contents, all or nothing."""
    dims = study_spec_validate(spec)
    try:
        validate_slug(slug)
    except ValidationError:
        raise StudySpecError([f"slug {slug!r}: use letters, digits, '-' or '_' only"]) from None
    if Study.objects.filter(slug=slug).exists():
        raise StudySpecError([f"a study with slug {slug!r} already exists"])
    fields = {field: spec[field] for field in STUDY_FIELDS if spec.get(field) is not None}
    fields.setdefault("title", slug)
    extra = {k: v for k, v in spec.items() if k not in STUDY_FIELDS and k != "dimensions"}
    study = Study.objects.create(slug=slug, owner=owner, template=template, extra=extra, **fields)
    Dimension.objects.bulk_create(dimension_from_spec(study, i, dim) for i, dim in enumerate(dims))
    return study
