"""The participant's comparative trial: the page, its answer and its images (HTTP only).

`crowd_views` finds and checks the participant's session and hands it here for a study whose
dimensions are comparative. The page shows the trial's artworks side by side (stacked on a phone),
in the order drawn for this showing; an answer names screen slots (`choice`, or `best` and
`worst`), never artwork ids, and the images are served under the assignment's id and slot, as
display derivatives, so nothing on the page says which artwork is which.
"""
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import parse_etags, quote_etag

from .assignment import AssignmentBusy
from .comparative import TrialRefused, session_next_trial, trial_answer_record, trial_image_artwork
from .derivatives import CONTENT_TYPE as DERIVATIVE_TYPE
from .derivatives import artwork_derivatives_make, derivative_hash
from .images import ImageProblem
from .throttles import throttle_wait

KEYS = "12345"
PROMPTS = {"pairwise": "Click the artwork, or press its number (or \u2190 / \u2192).",
           "triplet": "Click the odd one out, or press its number.",
           "best_worst": "First choose the most, then the least: click, or press the numbers."}


def _message(request, study, title: str, text: str, status: int):
    return render(request, "annotations/session/message.html", {"study": study, "title": title, "text": text},
                  status=status)


def trial_page(request, session, error: str = "", status: int = 200, resume_url: str = ""):
    """The session's current trial; None when there is none (completed, or nothing to give yet)."""
    try:
        item = session_next_trial(session)
    except AssignmentBusy:
        return _message(request, session.study, "One moment", "Many people are starting right now. "
                        "Please reload this page in a few seconds.", 503)
    if item is None:
        return None
    dimension, assignment = item.dimension, item.assignment
    slug = session.study.slug
    slots = [{"index": i, "key": KEYS[i],
              "url": reverse("annotations:session_trial_image", args=[slug, assignment.pk, i])}
             for i in range(len(assignment.order))]
    context = {"study": session.study, "session": session, "assignment": assignment, "dimension": dimension,
               "kind": dimension.kind, "aspect": dimension.extra.get("aspect", ""), "slots": slots,
               "progress": item.progress, "error": error, "hint": PROMPTS[dimension.kind], "resume_url": resume_url}
    return render(request, "annotations/session/trial.html", context, status=status)


def trial_answer(request, session, resume_url: str = ""):
    """One trial's answer (a plain POST): stored, then back to the entry, which shows the next trial;
    refused: the same trial again with the reason, nothing stored."""
    fields = {name: request.POST.get(name) for name in ("choice", "best", "worst")}
    try:
        trial_answer_record(session, request.POST.get("trial"), fields, _client_ms(request.POST.get("client_ms")))
    except TrialRefused as exc:
        session.refresh_from_db()
        page = trial_page(request, session, error=exc.message, status=exc.status, resume_url=resume_url)
        return page or _message(request, session.study, "Not saved", exc.message, exc.status)
    return redirect("annotations:session_entry", session.study.slug)


def _client_ms(raw) -> int | None:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if 0 <= value <= 24 * 3600 * 1000 else None


def trial_image(request, session, assignment_id: int, slot: int):
    """The display derivative in one screen slot of one of the session's trials (ETag: its hash)."""
    artwork = trial_image_artwork(session, assignment_id, slot)
    if artwork is None:
        raise Http404("No such image")
    if wait := throttle_wait("annotator", request, session.pk):
        response = HttpResponse("Too many requests; please wait.", status=429, content_type="text/plain")
        response["Retry-After"] = str(wait)
        return response
    if not artwork.display_image:
        try:
            artwork_derivatives_make(artwork)
        except ImageProblem:
            raise Http404("No such image") from None
    etag = quote_etag(derivative_hash(artwork.display_image.name))
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        response = HttpResponseNotModified()
    else:
        response = FileResponse(artwork.display_image.open("rb"), content_type=DERIVATIVE_TYPE)
        response.headers.pop("Content-Disposition", None)
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=86400"
    return response
