"""The annotator site: one entry URL per study, a page per phase, and the judging form.

Views handle HTTP only: find the participant's session (from the link's parameters, else from the
browser session), call one service, render. A request sent by the page's script (header
`X-Requested-With: fetch`) gets the next item as an HTML fragment, or the error as plain text.
"""
from functools import wraps

from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST

from .assignment import AssignmentBusy
from .crowd import (Phase, SessionError, client_ms_parse, identity_from_params, judgement_record, session_by_id,
                    session_completion_url, session_consent, session_enter, session_find, session_image_artwork,
                    session_instructions_done, session_next_assignment, session_progress, session_questionnaire_save)
from .models import Study
from .questions import BACKGROUND, NOT_SAYING, item_questions

PHASE_TEMPLATES = {
    Phase.CONSENT: "consent", Phase.INSTRUCTIONS: "instructions", Phase.QUESTIONNAIRE: "questionnaire",
    Phase.COMPLETED: "complete", Phase.DECLINED: "declined", Phase.TERMINATED: "terminated",
}
NOT_OPEN = {
    Study.Status.DRAFT: ("Not open yet", "This study has not opened yet. Please try again later."),
    Study.Status.CLOSED: ("Study closed", "This study is closed and takes no more answers. Thank you for your interest."),
}


def _session_key(study: Study) -> str:
    return f"artalign.session.{study.pk}"


def _is_fetch(request) -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _entry_url(study: Study) -> str:
    return reverse("annotations:session_entry", args=[study.slug])


def _message(request, study: Study, title: str, text: str, status: int):
    if _is_fetch(request):
        return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
    return render(request, "annotations/session/message.html", {"study": study, "title": title, "text": text},
                  status=status)


def _item_context(session, assignment, error: str = "") -> dict:
    return {
        "study": session.study, "session": session, "assignment": assignment, "error": error,
        "questions": item_questions(session, assignment), "progress": session_progress(session),
        "image_url": reverse("annotations:session_image", args=[session.study.slug, assignment.pk]),
    }


def _phase_page(request, session, error: str = "", status: int = 200):
    """The page for the step the session is at; judging shows the current item."""
    if session.phase == Phase.JUDGING:
        try:
            assignment = session_next_assignment(session)
        except AssignmentBusy:
            return _message(request, session.study, "One moment", "Many people are starting right now. "
                            "Please reload this page in a few seconds.", 503)
        if assignment is not None:
            return render(request, "annotations/session/judging.html", _item_context(session, assignment, error),
                          status=status)
    context = {"study": session.study, "session": session, "error": error, "background": BACKGROUND,
               "not_saying": NOT_SAYING, "completion_url": session_completion_url(session)}
    return render(request, f"annotations/session/{PHASE_TEMPLATES[session.phase]}.html", context, status=status)


@require_GET
def session_entry(request, slug: str):
    study = get_object_or_404(Study, slug=slug)
    try:
        identity = identity_from_params(request.GET)
    except SessionError as exc:
        return _message(request, study, "Link problem", exc.message, exc.status)
    session = session_find(study, identity) if identity else session_by_id(study, request.session.get(_session_key(study)))
    if study.status != Study.Status.OPEN and not (session and session.phase == Phase.COMPLETED):
        return _message(request, study, *NOT_OPEN[study.status], 403)
    if session is None:
        if identity is None:
            return _message(request, study, "Who are you?", "This link does not say who you are. Please open the "
                            "study from the link on your crowd platform; it carries your participant id.", 400)
        session = session_enter(study, identity)
    request.session[_session_key(study)] = session.pk
    return _phase_page(request, session)


def _posting_session(request, slug: str):
    study = get_object_or_404(Study, slug=slug)
    session = session_by_id(study, request.session.get(_session_key(study)))
    if session is None:
        raise SessionError("Your session could not be found (this browser may block cookies). "
                           "Please open the study link again.", 400)
    if study.status != Study.Status.OPEN:
        raise SessionError(NOT_OPEN[study.status][1], 403)
    return session


def _refused(request, slug: str, exc: SessionError):
    return _message(request, get_object_or_404(Study, slug=slug), "Not saved", exc.message, exc.status)


def posting_session(view):
    """A POST view that receives the browser's session for the study, or refuses with the reason."""
    @require_POST
    @wraps(view)
    def wrapper(request, slug: str):
        try:
            session = _posting_session(request, slug)
        except SessionError as exc:
            return _refused(request, slug, exc)
        return view(request, slug, session)
    return wrapper


@posting_session
def session_consent_view(request, slug: str, session):
    session_consent(session, agree=request.POST.get("choice") == "agree")
    return redirect("annotations:session_entry", slug)


@posting_session
def session_instructions_view(request, slug: str, session):
    session_instructions_done(session)
    return redirect("annotations:session_entry", slug)


@posting_session
def session_questionnaire_view(request, slug: str, session):
    try:
        session_questionnaire_save(session, {key: request.POST.get(f"q-{key}") for key, _, _ in BACKGROUND})
    except SessionError as exc:
        return _phase_page(request, session, error=exc.message, status=exc.status)
    return redirect("annotations:session_entry", slug)


@posting_session
def session_judge_view(request, slug: str, session):
    """One artwork's answers. Plain POST: redirect to the entry, which shows the next item.
    From the page's script: the next item's fragment, or a marker telling it to load the entry."""
    answers = {name[2:]: request.POST.getlist(name) for name in request.POST if name.startswith("d-")}
    try:
        judgement_record(session, request.POST.get("artwork"), answers, client_ms_parse(request.POST.get("client_ms")))
    except SessionError as exc:
        if _is_fetch(request):
            return _refused(request, slug, exc)
        session.refresh_from_db()
        return _phase_page(request, session, error=exc.message, status=exc.status)
    if not _is_fetch(request):
        return redirect("annotations:session_entry", slug)
    session.refresh_from_db()
    try:
        assignment = session_next_assignment(session)
    except AssignmentBusy:
        return _message(request, session.study, "", "Please try again in a few seconds.", 503)
    if assignment is None:
        return HttpResponse(format_html('<div data-redirect="{}"></div>', _entry_url(session.study)))
    return render(request, "annotations/session/_item.html", _item_context(session, assignment))


@require_GET
def session_image(request, slug: str, assignment_id: int):
    """An assigned artwork's image, served under the assignment's id so that no file name,
    title or source reaches the annotator, and only to the session it is assigned to."""
    study = get_object_or_404(Study, slug=slug)
    artwork = session_image_artwork(session_by_id(study, request.session.get(_session_key(study))), assignment_id)
    if artwork is None:
        raise Http404("No such image")
    response = FileResponse(artwork.image.open("rb"))
    response["Cache-Control"] = "private, max-age=3600"
    response.headers.pop("Content-Disposition", None)
    return response
