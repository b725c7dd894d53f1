"""Study files (YAML or JSON) and the study template: read, validate, create.

A study file holds the study's settings and a list of dimensions (see the design's "Interfaces").
Fields this module does not know are kept: on the study in `Study.extra`, on a dimension in
`Dimension.extra`.
"""
import math
import re
import string
from collections import Counter
from pathlib import Path
from typing import Annotated, BinaryIO

import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, model_validator
from pydantic import ValidationError as SchemaError
from pydantic_core import PydanticCustomError

from .comparative import comparative_dimension_problems, is_comparative
from .errors import Refused
from .exclusions import COMPETENCE_FIELD, RULES_FIELD, competence_field_problems, exclusion_rules_problems
from .models import Dimension, Study
from .values import DEFAULT_LEVEL, KINDS, LEVELS

TEMPLATES_DIR = Path(__file__).resolve().parent / "study_templates"
DIMENSION_FIELDS = {"key", "kind", "question", "labels", "level", "prompts", "scale"}
PLACEHOLDER_COMPLETION_CODE = "CHANGE-ME"  # the template's: a study cannot open with it
KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,49}$")
MAX_DEPTH = 20  # nesting of mappings and lists in a study file; the template needs 5
MAX_NODES = 10_000  # keys and values in a study file; the template has about 300
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser where PyYAML was built with it


class StudySpecError(Refused, ValueError):
    """A study file that cannot become a study; `errors` lists every problem found."""

    def __init__(self, errors: list[str]):
        super().__init__(errors, "invalid study file:\n  " + "\n  ".join(errors))


def template_names() -> list[str]:
    return sorted(path.stem for path in TEMPLATES_DIR.glob("*.yaml"))


# Reading: bounded before anything is built ------------------------------------------------------------
def study_file_size_problems(size: int, source: str = "") -> list[str]:
    """Why a study file of `size` bytes is refused unread (empty if it is not): a real one is a few kB,
    and a large one only costs the worker that parses it."""
    limit = settings.STUDY_FILE_MAX_BYTES
    if size <= limit:
        return []
    prefix = f"{source}: " if source else ""
    reason = "a study file is usually a few kB"
    return [f"{prefix}the study file is over the limit of {limit:,} bytes (STUDY_FILE_MAX_BYTES); {reason}"]


def _yaml_shape_check(text: str, prefix: str) -> None:
    """Refuse a YAML text from its parser events, before any value is built: aliases (aliases of
    aliases grow exponentially once walked, the "billion laughs"), nesting deeper than MAX_DEPTH
    (building it recurses), more than MAX_NODES keys and values. libyaml's events are cheap to walk."""
    loader = _Loader(text)
    depth = nodes = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.AliasEvent):
                raise _shape_refused(prefix, event, "aliases (*name) are not allowed in a study file")
            if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
                nodes += 1
                if nodes > MAX_NODES:
                    raise _shape_refused(prefix, event, f"more than {MAX_NODES:,} keys and values; a study file"
                                                        " has a few hundred")
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _shape_refused(prefix, event, f"nested more than {MAX_DEPTH} levels deep; a study"
                                                        " file needs about 5")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    finally:
        loader.dispose()


def _shape_refused(prefix: str, event, reason: str) -> StudySpecError:
    mark = event.start_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return StudySpecError([f"{prefix}{where}{reason}"])


def study_spec_parse(text: str | bytes, source: str = "") -> dict:
    """A study file's text (YAML or JSON: YAML is a superset of JSON, so one parser reads both) as
    a dict; StudySpecError saying why not. `source` names the file in the messages.

    The size is checked before parsing, and the shape (aliases, depth, number of values) from the
    parser's events before any value is built, so a hostile file costs milliseconds."""
    prefix = f"{source}: " if source else ""
    size = len(text)
    if isinstance(text, str) and size <= settings.STUDY_FILE_MAX_BYTES:
        size = len(text.encode("utf-8", "surrogatepass"))
    if problems := study_file_size_problems(size, source):
        raise StudySpecError(problems)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StudySpecError([f"{prefix}not UTF-8 text: {exc}"]) from None
    try:
        _yaml_shape_check(text, prefix)
        spec = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise StudySpecError([f"{prefix}not valid YAML or JSON: {exc}"]) from None
    except StudySpecError:
        raise
    except (ValueError, RecursionError) as exc:  # e.g. an integer of more than 4,300 digits
        raise StudySpecError([f"{prefix}not a study file: {exc}"]) from None
    if not isinstance(spec, dict):
        raise StudySpecError([f"{prefix}expected a mapping with a 'dimensions' list at the top"])
    return spec


def study_spec_read(stream: BinaryIO, source: str = "") -> dict:
    """A study file from an open binary file (an upload, a file on disk): no more than the size
    limit is ever read (see study_spec_parse)."""
    return study_spec_parse(stream.read(settings.STUDY_FILE_MAX_BYTES + 1), source)


def study_spec_load(path: Path | str) -> dict:
    """Read a study file (see study_spec_parse)."""
    path = Path(path)
    try:
        with path.open("rb") as stream:
            return study_spec_read(stream, source=str(path))
    except OSError as exc:
        raise StudySpecError([f"cannot read {path}: {exc.strerror}"]) from None


def study_template_load(name: str) -> dict:
    path = TEMPLATES_DIR / f"{name}.yaml"
    if not path.is_file():
        raise StudySpecError([f"no study template {name!r}; available: {', '.join(template_names())}"])
    return study_spec_load(path)


def _shape_problems(spec) -> list[str]:
    """The limits of study_spec_parse for a study file that came already parsed (JSON through the
    API): nesting depth, number of keys and values, amount of text. Walked without recursion."""
    stack, nodes, size = [(spec, 1)], 0, 0
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return [f"the study file is nested more than {MAX_DEPTH} levels deep; a study file needs about 5"]
        if isinstance(value, dict):
            nodes += 2 * len(value)
            size += sum(len(key) for key in value if isinstance(key, str))
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            nodes += len(value)
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            size += len(value)
        if nodes > MAX_NODES:
            return [f"the study file has more than {MAX_NODES:,} keys and values; a study file has a few hundred"]
    return study_file_size_problems(size)


# Validating: a schema for types, then the checks between fields ------------------------------------------
def _refuse(reason: str):
    """A validator's refusal, in the study file's words (the message is taken as it is)."""
    raise PydanticCustomError("study_file", "{reason}", {"reason": reason})


def _one_of(choices) -> AfterValidator:
    def check(value: str) -> str:
        if value not in choices:
            _refuse(f"{value!r} is not one of {', '.join(choices)}")
        return value
    return AfterValidator(check)


def _required_text(value: str) -> str:
    if not value.strip():
        _refuse("cannot be empty")
    return value


def _key_check(key: str) -> str:
    if not KEY_RE.match(key):
        _refuse("lower-case letters, digits, '_' or '-', starting with a letter")
    return key


def _label_check(label: str) -> str:
    """Labels are compared exactly (an answer, an expert label, an imported judgement); a label with
    spaces around it could never be answered, and silently stripping it would make the stored label
    differ from the file's. Refused, naming the fix."""
    if not label.strip():
        _refuse("a label cannot be empty")
    if label != label.strip():
        _refuse(f"{label!r} has spaces at its start or end, so no answer can match it; write {label.strip()!r}")
    return label


def _labels_check(labels: list[str]) -> list[str]:
    counts = Counter(label.casefold() for label in labels)
    repeated = [label for label in dict.fromkeys(labels) if counts[label.casefold()] > 1]
    if repeated:
        _refuse(f"labels repeat (compared case-insensitively): {', '.join(map(repr, repeated))}")
    return labels


def _template_check(prompt: str) -> str:
    fields = _template_fields(prompt)
    if fields is None:
        _refuse(f"{prompt!r} is not a valid template (write {{{{ and }}}} for literal braces)")
    if fields - {"label"}:
        _refuse(f"{prompt!r} uses {sorted(fields - {'label'})}; only {{label}} is filled in")
    return prompt


def _point(key):
    """A scale point as a whole number: JSON's object keys are always text."""
    return int(key) if isinstance(key, str) and key.lstrip("-").isdecimal() and len(key) < 10 else key


def _at_least_one(value: int) -> int:
    if value < 1:
        _refuse("must be at least 1")
    return value


def _rate(value: float) -> float:
    if not 0 <= value <= 1:
        _refuse(f"{value} is not between 0 and 1")
    return value


def _fail_action(value: str) -> str:
    if value not in ("flag", "end"):
        _refuse(f"{value!r} is not 'flag' or 'end'")
    return value


def _completion(value: str) -> str:
    if value.strip().lower() != "none":
        _refuse(f"{value!r}: the only value is 'none' (no completion code: a study that pays no one through a"
                " platform); leave the field out otherwise")
    return value


Label = Annotated[str, AfterValidator(_label_check)]
Template = Annotated[str, AfterValidator(_template_check)]
Point = Annotated[int, BeforeValidator(_point)]
Count1 = Annotated[int, AfterValidator(_at_least_one)]


class _Schema(BaseModel):
    # strict: a YAML `yes` is not a label, 1.5 is not a number of items, "3" is not a scale point
    model_config = ConfigDict(strict=True, extra="forbid")


class ScaleSchema(_Schema):
    """A rating's scale: whole-number points from min to max, some with words."""

    min: int
    max: int
    anchors: dict[Point, str] | None = None

    @model_validator(mode="after")
    def _points_fit(self):
        if self.min >= self.max:
            _refuse("min must be below max")
        outside = [point for point in self.anchors or {} if not self.min <= point <= self.max]
        if outside:
            _refuse(f"anchors {', '.join(map(str, outside))} are not points of the scale {self.min}-{self.max}")
        return self


class SeveritySchema(ScaleSchema):
    """A binary dimension's follow-up scale (questions.py), asked when the answer is `when` (by default
    the last label); stored in Judgement.severity, a whole number from 0 to 32767."""

    question: Annotated[str, AfterValidator(_required_text)] | None = None
    when: str | None = None

    @model_validator(mode="after")
    def _storable(self):
        if self.min < 0 or self.max > 32767:
            _refuse("a severity is stored as a whole number from 0 to 32767")
        return self


class DimensionSchema(BaseModel):
    """One dimension; fields it does not name are kept in Dimension.extra."""

    model_config = ConfigDict(strict=True, extra="allow")
    key: Annotated[str, AfterValidator(_key_check)]
    kind: Annotated[str, _one_of(KINDS)]
    question: Annotated[str, AfterValidator(_required_text)]
    labels: Annotated[list[Label], AfterValidator(_labels_check)] | None = None
    scale: ScaleSchema | None = None
    level: Annotated[str, _one_of(LEVELS)] | None = None
    prompts: list[Template] | None = None
    label_prompts: dict[str, list[str]] | None = None
    severity: SeveritySchema | None = None
    display: dict[str, Annotated[str, AfterValidator(_required_text)]] | None = None
    shuffle_labels: bool | None = None


class StudySchema(BaseModel):
    """The study's own fields (STUDY_FIELDS are the Study model's); others are kept in Study.extra.
    `dimensions` are checked one by one (DimensionSchema), `exclusions` by exclusions.py."""

    model_config = ConfigDict(strict=True, extra="allow")
    title: str | None = None
    description: str | None = None
    instructions: str | None = None
    consent_text: str | None = None
    items_per_session: Count1 | None = None
    target_judgements_per_item: Count1 | None = None
    attention_check_rate: Annotated[float, AfterValidator(_rate)] | None = None
    completion_url: str | None = None
    completion_code: str | None = None
    screenout_code: str | None = None  # shown, in place of the completion code, to sessions ended by failed checks
    attention_fail_limit: Count1 | None = None
    attention_fail_action: Annotated[str, AfterValidator(_fail_action)] | None = None
    questionnaire: bool | None = None
    completion: Annotated[str, AfterValidator(_completion)] | None = None  # not a Study field: kept in extra


STUDY_FIELDS = tuple(name for name in StudySchema.model_fields if name != "completion")
EXPECTED = {"string_type": "text", "int_type": "a whole number", "float_type": "a number", "bool_type": "true or false",
            "list_type": "a list", "dict_type": "a mapping", "model_type": "a mapping"}


def _schema_problems(exc: SchemaError, where: str = "") -> list[str]:
    """The schema's errors in the study file's words: "dimensions[2] (style): field 'labels[0]': reason"."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = list(error["loc"])
        key = loc.pop(-2) if loc and loc[-1] == "[key]" else None
        if key is not None:
            loc.pop()
        path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
        value = error.get("input")
        if error["type"] in EXPECTED:
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
            reason = f"expected {EXPECTED[error['type']]}, got {shown}"
            if isinstance(value, bool) and error["type"] == "string_type":
                reason += " (YAML reads yes, no, on and off as true or false: quote them)"
        elif error["type"] == "missing":
            reason = "required"
        elif error["type"] == "extra_forbidden":
            reason = "not a field here"
        else:
            reason = error["msg"]
        problems.append(f"{where}field {path!r}: " + (f"key {key!r}: " if key is not None else "") + reason)
    return problems


def _dimension_problems(dim: DimensionSchema) -> list[str]:
    """What the schema cannot see alone: the fields of a dimension that depend on its kind and labels."""
    problems, labels = [], dim.labels or []
    if is_comparative(dim.kind):
        problems += comparative_dimension_problems(dim.kind, dim.model_extra or {}, labels)
    elif dim.kind == "rating":
        if dim.scale is None:
            problems.append("field 'scale': a rating needs scale: {min: int, max: int}")
    elif not labels:
        problems.append(f"field 'labels': a {dim.kind} dimension needs a non-empty list of text labels")
    elif dim.kind == "binary" and len(labels) != 2:
        problems.append(f"field 'labels': a binary dimension has exactly 2 labels, got {len(labels)}")
    for field in ("label_prompts", "display"):
        problems += [f"field {field!r}: {label!r} is not one of the labels"
                     for label in getattr(dim, field) or {} if label not in labels]
    if dim.severity is not None:
        if dim.kind != "binary":
            problems.append("field 'severity': only a binary dimension asks a severity follow-up")
        elif labels and (dim.severity.when or labels[-1]) not in labels:
            problems.append(f"field 'severity.when': {dim.severity.when!r} is not one of the labels")
    return problems


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
                hint = " (YAML reads yes, no, on and off as true or false: quote them)" if isinstance(key, bool) else ""
                problems.append(f"{where}: key {key!r} is neither text nor a whole number{hint}")
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


def study_spec_validate(spec: dict) -> list[dict]:
    """Every problem in the study file at once, as StudySpecError; else the normalised dimensions.

    The one validation for YAML and JSON files, the editor and the API. A file that passes can be
    stored as it is: every field has its type (the schemas above), the study's and dimensions' fields
    pass the models' checks (lengths, the database's integer ranges) and every value is storable JSON.
    """
    if not isinstance(spec, dict):
        raise StudySpecError(["expected a mapping with a 'dimensions' list at the top"])
    try:
        return _spec_validate(spec)
    except RecursionError:  # the shape check bounds the depth; this is the last guard, never a 500
        raise StudySpecError([f"the study file is nested more than {MAX_DEPTH} levels deep"]) from None


def _spec_validate(spec: dict) -> list[dict]:
    errors = _shape_problems(spec) or _unstorable(spec, "")
    if errors:
        raise StudySpecError(errors)
    try:
        StudySchema.model_validate({k: v for k, v in spec.items() if k not in ("dimensions", RULES_FIELD)})
    except SchemaError as exc:
        errors += _schema_problems(exc)
    errors += exclusion_rules_problems(spec.get(RULES_FIELD))
    errors += competence_field_problems(spec.get(COMPETENCE_FIELD))
    dims = spec.get("dimensions")
    if not isinstance(dims, list) or not dims:
        raise StudySpecError(errors + ["field 'dimensions': a study needs a non-empty list of dimensions"])

    normalised, seen = [], set()
    for index, dim in enumerate(dims):
        key = dim.get("key") if isinstance(dim, dict) else None
        where = f"dimensions[{index}]" + (f" ({key})" if isinstance(key, str) and key else "")
        if not isinstance(dim, dict):
            errors.append(f"{where}: expected a mapping")
            continue
        if isinstance(key, str) and key in seen:
            errors.append(f"{where}: field 'key': {key!r} appears twice")
        seen.add(key if isinstance(key, str) else None)
        try:
            checked, failed = DimensionSchema.model_validate(dim), set()
        except SchemaError as exc:
            errors += _schema_problems(exc, f"{where}: ")
            failed = {error["loc"][0] for error in exc.errors() if error["loc"]}
            try:  # the checks between fields, for the fields that passed (every problem at once)
                checked = DimensionSchema.model_validate({k: v for k, v in dim.items() if k not in failed})
            except SchemaError:
                continue
        errors += [f"{where}: {problem}" for problem in _dimension_problems(checked)
                   if not any(problem.startswith(f"field '{field}") for field in failed)]
        normalised.append({**dim, "level": checked.level or DEFAULT_LEVEL[checked.kind]})
    if len({is_comparative(dim["kind"]) for dim in normalised}) > 1:
        errors.append("field 'dimensions': a study judges either one artwork at a time or trials of artworks"
                      " (pairwise, best_worst, triplet); make a second study for the other kind")
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
