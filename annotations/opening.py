"""Opening a study: the rules it must meet, and the worker side of its deferred downloads.

`study_open_problems` lists every reason a study cannot open; `study_deferred_images_fetch` (run by
the task `annotations.tasks.study_images_fetch`) fetches the images imported as URLs, then decides
the open request. The web side (asking to open, queueing the task) is `annotations.editing`'s; this
module never imports it, nor the tasks, so a worker and a page meet only through the task.
"""
from http.client import HTTPException

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from .images import ImageProblem, fetch_url, inspect_image
from .imports import artwork_image_store
from .models import Artwork, Study
from .studies import PLACEHOLDER_COMPLETION_CODE

NO_IMAGE = Q(image="")
TO_FETCH = Q(image="") & ~Q(image_url="") & Q(fetch_error="")  # a deferred download not yet tried in this round
LISTED = 20  # artworks named one by one in a refusal; the rest are counted


def study_open_problems(study: Study, missing: Q = NO_IMAGE) -> list[str]:
    """Why the study cannot be opened as it stands, every reason at once (empty: it can); `missing`
    says which artworks count as lacking an image (asking to open leaves out those whose URL is still to
    be fetched: they get their chance first).

    A study without a real completion code sends participants away without one, so the platform never
    pays them; an artwork without an image would let sessions complete with nothing judged.
    """
    problems = []
    code = study.completion_code.strip()
    if str(study.extra.get("completion", "")).strip().lower() != "none" and code in ("", PLACEHOLDER_COMPLETION_CODE):
        what = f"still the template's placeholder {code!r}" if code else "empty"
        problems.append(f"the completion code is {what}: set completion_code in the study file to the code your"
                        " platform gives you (Prolific: your study > Completion paths), or write `completion: none`"
                        " in the study file if no platform pays the participants")
    if not study.artworks.exists():
        problems.append("the study has no artworks yet: upload some before opening it")
    lacking = study.artworks.filter(missing).order_by("id")
    shown = list(lacking[:LISTED])
    for artwork in shown:
        reason = artwork.fetch_error or ("its download has not been tried yet" if artwork.image_url
                                         else "no image and no URL to fetch one from")
        problems.append(f"artwork {artwork.external_id!r} (id {artwork.pk}) has no image: {reason}")
    if len(shown) == LISTED and (more := lacking.count() - LISTED):
        problems.append(f"and {more} more artworks without an image")
    if shown:
        problems.append("remove those artworks (the study page removes failed downloads in one click) or give"
                        " them images, then open the study again")
    return problems


def study_deferred_images_fetch(study_id: int) -> Study:
    """Fetch every deferred download of the study, then decide its open request (study_status_set).

    Idempotent and safe to run twice at once (two clicks, a redelivered task): each artwork is claimed
    with SKIP LOCKED while it downloads, so no image is fetched twice; a failure is kept in
    `fetch_error` and not retried until the next open request; the run that finds nothing left to
    fetch decides, under the study's row lock, and a second decision finds nothing to do.
    """
    while _artwork_fetch_next(study_id):
        pass
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study_id)
        if not study.open_requested or study.artworks.filter(TO_FETCH).exists():
            return study  # nothing asked for, or another run still fetches (it decides)
        study.open_requested = False
        if not study_open_problems(study):
            study.status = Study.Status.OPEN
        study.save(update_fields=["status", "open_requested"])
    return study


def _artwork_fetch_next(study_id: int) -> bool:
    """Fetch one artwork that nobody else is fetching; False when none is left."""
    # The row stays locked during the download (at most IMPORT_URL_TIMEOUT_S): that is the claim.
    with transaction.atomic():
        artwork = (Artwork.objects.filter(TO_FETCH, study_id=study_id).order_by("id")
                   .select_for_update(skip_locked=True).first())
        if artwork is None:
            return False
        try:
            with transaction.atomic():
                _artwork_fetch(artwork)
        except (ImageProblem, HTTPException) as exc:
            reason = str(exc) or type(exc).__name__  # never empty: an empty reason would be fetched again
            Artwork.objects.filter(pk=artwork.pk).update(fetch_error=reason[:300])
    return True


def _artwork_fetch(artwork: Artwork) -> None:
    data = fetch_url(artwork.image_url, timeout=settings.IMPORT_URL_TIMEOUT_S,
                     max_bytes=settings.IMPORT_MAX_IMAGE_BYTES)
    info = inspect_image(data, max_pixels=settings.IMPORT_MAX_IMAGE_PIXELS)
    twin = (Artwork.objects.filter(study_id=artwork.study_id, sha256=info.sha256).exclude(pk=artwork.pk)
            .values_list("external_id", flat=True).first())
    if twin is not None:
        raise ImageProblem(f"the same image (sha256 {info.sha256[:12]}) as artwork {twin!r}; a study stores it once")
    artwork_image_store(artwork, data, info)  # as an import stores it: the file, its checksum, its derivatives
