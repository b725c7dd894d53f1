"""Researcher-side changes to a study: its study file (edit as YAML), its status (opening fetches the
deferred downloads first), its members, and the participant link. The pages, the REST API and the
commands call these; they never write models themselves.
"""

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q

from .comparative import comparative_judged_keys
from .errors import Refused
from .models import Artwork, Dimension, Judgement, Study, StudyMember
from .opening import (
    LISTED,
    NO_IMAGE,
    study_deferred_images_fetch,  # noqa: F401  (re-exported: the worker side moved to .opening)
    study_open_problems,
)
from .studies import STUDY_FIELDS, StudySpecError, dimension_from_spec, study_spec_validate

PROLIFIC_QUERY = "PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"
STATUS_MOVES = {"draft": {"open"}, "open": {"closed"}, "closed": {"open"}}
FAILED = Q(image="") & ~Q(image_url="") & ~Q(fetch_error="")


class StudyChangeRefused(Refused, ValueError):
    """A change the study cannot take as asked; `errors` lists every reason."""


# The study file ---------------------------------------------------------------------------------------
def dimension_spec(dim: Dimension) -> dict:
    """The dimension as an entry of a study file's `dimensions`."""
    spec = {"key": dim.key, "kind": dim.kind, "question": dim.question}
    if dim.kind == "rating":
        scale = {"min": dim.scale_min, "max": dim.scale_max}
        if dim.anchors:
            scale["anchors"] = {int(point): words for point, words in dim.anchors.items()}
        spec["scale"] = scale
    else:
        spec["labels"] = list(dim.labels)
    spec["level"] = dim.level
    if dim.prompts:
        spec["prompts"] = list(dim.prompts)
    return spec | dim.extra


def study_spec_dump(study: Study) -> dict:
    """The study as a study file (the shape `create_study --from-file` reads)."""
    spec = {field: getattr(study, field) for field in STUDY_FIELDS}
    spec |= study.extra
    spec["dimensions"] = [dimension_spec(dim) for dim in study.dimensions.order_by("position", "id")]
    return spec


def study_spec_yaml(study: Study) -> str:
    return yaml.safe_dump(study_spec_dump(study), sort_keys=False, allow_unicode=True, width=110)


def study_spec_from_json(spec: dict) -> dict:
    """A study file that came as JSON, whose object keys are always text: scale anchors back to numbers."""
    dims = spec.get("dimensions")
    for dim in dims if isinstance(dims, list) else []:  # anything else is study_spec_validate's to refuse
        scale = dim.get("scale") if isinstance(dim, dict) else None
        anchors = scale.get("anchors") if isinstance(scale, dict) else None
        if isinstance(anchors, dict):
            dim["scale"]["anchors"] = {int(k) if isinstance(k, str) and k.lstrip("-").isdecimal() and len(k) < 10
                                       else k: v for k, v in anchors.items()}
    return spec


def _stored_values(dim: Dimension) -> set:
    values = set()
    for value in Judgement.objects.filter(dimension=dim).values_list("value", flat=True).distinct():
        values.update(value if isinstance(value, list) else [value])
    return values


def _check_against_judgements(study: Study, dims: list[dict]) -> list[str]:
    """What a new study file would break in the judgements already stored."""
    errors = []
    stored = {d.key: d for d in study.dimensions.all()}
    judged = set(Judgement.objects.filter(dimension__study=study).values_list("dimension__key", flat=True).distinct())
    judged |= comparative_judged_keys(study)  # trial answers count as judgements: never removed or re-kinded
    wanted = {d["key"]: d for d in dims}
    for key in sorted(judged - wanted.keys()):
        errors.append(f"dimension {key!r}: it has judgements and cannot be removed")
    for key in sorted(judged & wanted.keys()):
        new, old = wanted[key], stored[key]
        if new["kind"] != old.kind:
            errors.append(f"dimension {key!r}: field 'kind': it has judgements as {old.kind!r}; the kind cannot change")
            continue
        values = _stored_values(old)
        if old.kind == "rating":
            scale = new.get("scale") or {}
            numbers = [v for v in values if isinstance(v, (int, float))]
            if numbers and (min(numbers) < scale.get("min", min(numbers))
                            or max(numbers) > scale.get("max", max(numbers))):
                errors.append(f"dimension {key!r}: field 'scale': stored judgements range from {min(numbers)} to"
                              f" {max(numbers)}; the scale must cover them")
        else:
            lost = sorted(str(v) for v in values - set(new.get("labels") or []))
            if lost:
                errors.append(f"dimension {key!r}: field 'labels': stored judgements use {', '.join(map(repr, lost))};"
                              " keep these labels")
    return errors


@transaction.atomic
def study_update(study: Study, spec: dict) -> Study:
    """Apply an edited study file: settings, dimensions (matched by key), labels, prompts.

    Every problem at once: StudySpecError for an invalid file, StudyChangeRefused for a change the
    stored judgements forbid (removing a judged dimension, changing its kind, dropping a used label).
    """
    dims = study_spec_validate(spec)
    refused = _check_against_judgements(study, dims)
    if refused:
        raise StudyChangeRefused(refused)
    for field in STUDY_FIELDS:
        if spec.get(field) is not None:
            setattr(study, field, spec[field])
    study.title = study.title or study.slug
    study.extra = {k: v for k, v in spec.items() if k not in STUDY_FIELDS and k != "dimensions"}
    try:
        study.full_clean(exclude=["slug", "owner"], validate_unique=False)
    except ValidationError as exc:
        raise StudySpecError([f"field {field!r}: {' '.join(messages)}"
                              for field, messages in exc.message_dict.items()]) from None
    study.save()
    existing = {d.key: d for d in study.dimensions.all()}
    for position, dim_spec in enumerate(dims):
        new = dimension_from_spec(study, position, dim_spec)
        old = existing.pop(new.key, None)
        if old is not None:
            new.pk = old.pk
        new.save()
    for leftover in existing.values():
        leftover.delete()  # never judged (checked above); its predictions go with it
    return study


# Status, link, members -----------------------------------------------------------------------------------
def study_status_set(study: Study, status: str) -> Study:
    """Open, close or reopen a study; the page, the API and `create_study --open` all come here.

    Opening is refused with every reason at once (study_open_problems). When artworks still wait for
    their deferred download, the study is not opened yet: `open_requested` is set and the task
    `study_images_fetch` fetches them, then opens the study if every rule holds. Where tasks run
    eagerly (the embedded profile) that has happened by the time this returns, so a failed download
    comes back here as StudyChangeRefused naming the artwork and its reason.
    """
    if status not in Study.Status.values:
        raise StudyChangeRefused([f"{status!r} is not one of {', '.join(Study.Status.values)}"])
    if status == study.status:
        return study
    if status not in STATUS_MOVES[study.status]:
        raise StudyChangeRefused([f"a {study.status} study cannot become {status}"])
    if status == Study.Status.OPEN:
        refused = study_open_problems(study, missing=NO_IMAGE & Q(image_url=""))  # URLs get their chance first
        if refused:
            raise StudyChangeRefused(refused)
        if study.artworks.filter(NO_IMAGE).exists():
            return _open_request(study)
    Study.objects.filter(pk=study.pk).update(status=status, open_requested=False)
    study.status, study.open_requested = status, False
    return study


# Opening: the rules, and deferred downloads fetched first --------------------------------------------------
def _open_request(study: Study) -> Study:
    """Ask for the study to open once its deferred downloads are in; the task decides (and may refuse)."""
    with transaction.atomic():
        study.artworks.filter(FAILED).update(fetch_error="")  # a new request tries failed downloads again
        Study.objects.filter(pk=study.pk).update(open_requested=True)
        transaction.on_commit(lambda: _fetch_enqueue(study.pk))
    study.refresh_from_db(fields=["status", "open_requested"])
    if study.open_requested or study.status == Study.Status.OPEN:
        return study  # fetching (or, eagerly, fetched and opened)
    raise StudyChangeRefused(study_open_problems(study) or ["the study's images could not all be fetched"])


def _fetch_enqueue(study_id: int) -> None:
    from .tasks import study_images_fetch

    try:
        study_images_fetch.delay(study_id)
    except Exception as exc:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise  # in-process: the task's own error, not a broker problem
        Study.objects.filter(pk=study_id).update(open_requested=False)
        raise StudyChangeRefused([f"cannot queue the image downloads: the broker did not accept them"
                                  f" ({type(exc).__name__}: {exc}); the study stays a draft, try again"]) from exc


def study_fetch_progress(study: Study) -> dict:
    """The study's images from URLs as the study page and the API show them: k of n fetched, whether
    an open request is fetching now, and each failed download with its reason (the first LISTED)."""
    from_urls = study.artworks.exclude(image_url="")
    counts = from_urls.aggregate(total=Count("id"), fetched=Count("id", filter=~NO_IMAGE),
                                 failed=Count("id", filter=FAILED))
    failed = from_urls.filter(FAILED).order_by("id")[:LISTED]
    return {"fetching": study.open_requested, **counts,
            "failures": [{"id": a.pk, "external_id": a.external_id, "url": a.image_url, "reason": a.fetch_error}
                         for a in failed]}


def study_failed_artworks_remove(study: Study) -> int:
    """Delete the artworks whose download failed, so that the study can open without them; how many.

    Artworks that have judgements (imported ones) are kept: deleting them would delete the judgements.
    """
    doomed = study.artworks.filter(FAILED, judgements__isnull=True)
    return doomed.delete()[1].get(Artwork._meta.label, 0)


def participant_link(entry_url: str) -> str:
    """The study's entry URL with Prolific's placeholders, as Prolific expects it in a study's URL."""
    return f"{entry_url}?{PROLIFIC_QUERY}"


def study_member_set(study: Study, username: str, role: str = StudyMember.Role.VIEWER) -> StudyMember:
    if role not in StudyMember.Role.values:
        raise StudyChangeRefused([f"role {role!r} is not one of {', '.join(StudyMember.Role.values)}"])
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise StudyChangeRefused([f"no active user {username!r}"])
    if user.pk == study.owner_id:
        raise StudyChangeRefused([f"{username!r} owns the study already"])
    member, _ = StudyMember.objects.update_or_create(study=study, user=user, defaults={"role": role})
    return member


def study_member_remove(study: Study, username: str) -> bool:
    return StudyMember.objects.filter(study=study, user__username=username).delete()[0] > 0
