"""The annotator site: one entry URL per study, a page per phase, and the judging form.

Views handle HTTP only: find the participant's session (from the link's parameters, else from the
browser's cookie for the study), call one service, render. A request sent by the page's script
(header `X-Requested-With: fetch`) gets the next item as an HTML fragment, or the error as plain text.

The browser keeps its session id for a study in a signed cookie (HMAC with SECRET_KEY, bound to the
cookie's name, HTTP-only, Secure in production, sent only to the study's own URLs): it says
nothing but which session is this browser's, and reading it costs no database query.
"""
import math
from functools import wraps

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import parse_etags, quote_etag
from django.views.decorators.http import require_GET, require_POST

from . import comparative_views
from .assignment import AssignmentBusy
from .comparative import study_is_comparative
from .crowd import (
    Phase,
    SessionError,
    SessionRefused,
    client_ms_parse,
    identity_from_params,
    judgement_record,
    session_allocate_ahead,
    session_completion_url,
    session_consent,
    session_enter,
    session_exit_code,
    session_for_browser,
    session_image_name,
    session_instructions_done,
    session_judge,
    session_next_item,
    session_questionnaire_save,
    session_resume,
)
from .derivatives import CONTENT_TYPE as DERIVATIVE_TYPE
from .derivatives import derivative_hash
from .models import Artwork, Study
from .questions import BACKGROUND, NOT_SAYING, item_questions, study_dimensions
from .throttles import throttle_wait

PHASE_TEMPLATES = {
    Phase.CONSENT: "consent", Phase.INSTRUCTIONS: "instructions", Phase.QUESTIONNAIRE: "questionnaire",
    Phase.COMPLETED: "complete", Phase.DECLINED: "declined", Phase.TERMINATED: "terminated",
}
DISPLAY_STORAGE = Artwork._meta.get_field("display_image").storage
CLOSED = ("Study closed", "This study is closed and takes no more answers. Thank you for your interest.")
NOTHING_TO_JUDGE = ("Nothing to judge right now", "There is no artwork for you to judge at the moment: the study's "
                    "artworks are all taken by other participants or not ready yet. Please come back later through "
                    "the same link, or return the study on your crowd platform. You get a completion code only "
                    "after judging artworks, so nothing is lost by coming back.")


COOKIE_PREFIX = "artalign_s"
COOKIE_SALT = "artalign.annotator-session"
COOKIE_MAX_AGE = 60 * 60 * 24 * 30


def _browser_sessions(request) -> dict[int, int]:
    """Study id -> session id, from the browser's valid session cookies (a forged one is ignored)."""
    found = {}
    for name in request.COOKIES:
        if name.startswith(COOKIE_PREFIX) and name[len(COOKIE_PREFIX):].isdigit():
            value = request.get_signed_cookie(name, default="", salt=COOKIE_SALT, max_age=COOKIE_MAX_AGE)
            if value.isdigit():
                found[int(name[len(COOKIE_PREFIX):])] = int(value)
    return found


def _remember_session(response, study: Study, session) -> None:
    response.set_signed_cookie(f"{COOKIE_PREFIX}{study.pk}", str(session.pk), salt=COOKIE_SALT,
                               max_age=COOKIE_MAX_AGE, path=_entry_url(study), secure=settings.SESSION_COOKIE_SECURE,
                               httponly=True, samesite="Lax")


def _is_fetch(request) -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _entry_url(study: Study) -> str:
    return reverse("annotations:session_entry", args=[study.slug])


def _public_study(slug: str) -> Study:
    """The study at `slug` for a participant. A draft answers 404 as an unknown slug does, so that
    guessing links tells nothing about studies not yet opened (a draft never has sessions)."""
    return get_object_or_404(Study.objects.exclude(status=Study.Status.DRAFT), slug=slug)


def _message(request, study: Study, title: str, text: str, status: int, session=None):
    """A page saying `text` (plain text to the page's script); with `session`, its resume code shows."""
    if _is_fetch(request):
        return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
    context = {"study": study, "title": title, "text": text, "session": session,
               "resume_url": _resume_url(request, session)}
    return render(request, "annotations/session/message.html", context, status=status)


def _resume_url(request, session) -> str:
    """The link that continues `session` in any browser, shown with its resume code on every page."""
    if session is None or not session.resume_code:
        return ""
    return request.build_absolute_uri(f"{_entry_url(session.study)}?resume={session.resume_code}")


def _slow_down(request, study: Study, wait: int):
    """429 with Retry-After: the session (or the address, for new sessions) used up its rate."""
    when = f"{wait} seconds" if wait < 120 else f"{math.ceil(wait / 60)} minutes"
    response = _message(request, study, "Please slow down", "Too many requests came in a short time. "
                        f"Please wait {when}, then try again; nothing you already answered is lost.", 429)
    response["Retry-After"] = str(wait)
    return response


QUESTION_HTML: dict[tuple, str] = {}  # per process: rendered question -> HTML
QUESTION_HTML_MAX = 4096


def _render_key(q) -> tuple:
    """Everything `_question.html` shows of a question: equal keys render the same HTML."""
    return (q.key, q.kind, q.text, q.instruction, q.required, q.when, q.parent_field,
            tuple((o.value, o.text, o.key, o.anchor) for o in q.options), q.severity and _render_key(q.severity))


def _question_html(q) -> str:
    """A question's HTML, rendered once per process: the same few questions are asked of every
    artwork, and rendering them is most of the cost of serving the next item."""
    key = _render_key(q)
    html = QUESTION_HTML.get(key)
    if html is None:
        if len(QUESTION_HTML) >= QUESTION_HTML_MAX:
            QUESTION_HTML.clear()
        html = QUESTION_HTML[key] = render_to_string("annotations/session/_question.html", {"q": q})
    return html


def _item_context(session, item, error: str = "", dimensions=None) -> dict:
    questions = item_questions(session, item.assignment, dimensions)
    return {
        "study": session.study, "session": session, "assignment": item.assignment, "error": error,
        "questions": questions, "questions_html": [_question_html(q) for q in questions], "progress": item.progress,
        "image_url": reverse("annotations:session_image", args=[session.study.slug, item.assignment.pk]),
    }


def _phase_page(request, session, error: str = "", status: int = 200):
    """The page for the step the session is at; judging shows the current item (a comparative
    study's: its current trial, comparative_views)."""
    if session.phase == Phase.JUDGING and study_is_comparative(session.study):
        page = comparative_views.trial_page(request, session, error, status, _resume_url(request, session))
        if page is not None:
            return page
        if session.phase == Phase.JUDGING:
            return _message(request, session.study, *NOTHING_TO_JUDGE, 200, session)
    if session.phase == Phase.JUDGING:
        try:
            item = session_next_item(session)
        except AssignmentBusy:
            return _message(request, session.study, "One moment", "Many people are starting right now. "
                            "Please reload this page in a few seconds.", 503)
        if item is not None:
            return render(request, "annotations/session/judging.html",
                          _item_context(session, item, error) | {"resume_url": _resume_url(request, session)},
                          status=status)
        if session.phase == Phase.JUDGING:
            return _message(request, session.study, *NOTHING_TO_JUDGE, 200, session)
    context = {"study": session.study, "session": session, "error": error, "background": BACKGROUND,
               "not_saying": NOT_SAYING, "resume_url": _resume_url(request, session),
               "exit_code": session_exit_code(session), "completion_url": session_completion_url(session)}
    return render(request, f"annotations/session/{PHASE_TEMPLATES[session.phase]}.html", context, status=status)


@require_GET
def session_entry(request, slug: str):
    # After each step the page comes from the link without parameters, in the browser that holds the
    # session: its session and study in one query. Anything else goes through session_resume.
    identity = None
    session = None if request.GET else session_for_browser(slug, _browser_sessions(request))
    study = session.study if session else _public_study(slug)
    if session is None:
        try:
            identity = identity_from_params(request.GET)
        except SessionError as exc:
            return _message(request, study, "Link problem", exc.message, exc.status)
        code = request.GET.get("resume", "")
        if code and (wait := throttle_wait("new_session", request)):  # by address, before the code is looked at
            return _slow_down(request, study, wait)
        try:
            session = session_resume(study, identity, _browser_sessions(request).get(study.pk), code)
        except SessionRefused as exc:
            return _resume_refused(request, study, exc, counted=bool(code))
    if study.status != Study.Status.OPEN and not (session and session.phase == Phase.COMPLETED):
        return _message(request, study, *CLOSED, 403)
    if session is None:
        if identity is None:
            return _message(request, study, "Who are you?", "This link does not say who you are. Please open the "
                            "study from the link on your crowd platform; it carries your participant id.", 400)
        if wait := throttle_wait("new_session", request):
            return _slow_down(request, study, wait)
        session = session_enter(study, identity)
    elif wait := throttle_wait("annotator", request, session.pk):
        return _slow_down(request, study, wait)
    response = _phase_page(request, session)
    _remember_session(response, study, session)
    return response


def _resume_refused(request, study: Study, exc: SessionRefused, counted: bool):
    """Why the session cannot be continued here, and a form for its resume code. The attempt counts
    against the address's rate (never the session's: the real participant must not be slowed down);
    nothing of the session is shown or changed."""
    if study.status != Study.Status.OPEN:
        return _message(request, study, *CLOSED, 403)
    if not counted and (wait := throttle_wait("new_session", request)):
        return _slow_down(request, study, wait)
    title = "Resume code not recognised" if exc.wrong_code else "This session was started in another browser"
    return render(request, "annotations/session/resume.html", {
        "study": study, "title": title, "text": exc.message, "wrong_code": exc.wrong_code,
        "entry_url": _entry_url(study)}, status=exc.status)


def _posting_session(request, slug: str):
    session = session_for_browser(slug, _browser_sessions(request))
    if session is None:
        _public_study(slug)
        raise SessionError("Your session could not be found (this browser may block cookies). "
                           "Please open the study link again.", 400)
    if session.study.status != Study.Status.OPEN:
        raise SessionError(CLOSED[1], 403)
    return session


def _refused(request, slug: str, exc: SessionError):
    return _message(request, _public_study(slug), "Not saved", exc.message, exc.status)


def posting_session(view):
    """A POST view that receives the browser's session for the study, or refuses with the reason."""
    @require_POST
    @wraps(view)
    def wrapper(request, slug: str):
        try:
            session = _posting_session(request, slug)
        except SessionError as exc:
            return _refused(request, slug, exc)
        if wait := throttle_wait("annotator", request, session.pk):
            return _slow_down(request, session.study, wait)
        return view(request, slug, session)
    return wrapper


@posting_session
def session_consent_view(request, slug: str, session):
    session_consent(session, agree=request.POST.get("choice") == "agree")
    return redirect("annotations:session_entry", slug)


@posting_session
def session_instructions_view(request, slug: str, session):
    session_instructions_done(session)
    response = redirect("annotations:session_entry", slug)
    _after_response(response, lambda: session_allocate_ahead(session))
    return response


def _after_response(response, work) -> None:
    """Run `work` once `response` has been sent: the WSGI server closes a response after writing
    it (Django's test client too), and Django runs the response's closers first. The participant
    waits for none of it; the worker process is busy meanwhile, as with any request."""
    response._resource_closers.append(work)


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
    From the page's script: the next item's fragment, or a marker telling it to load the entry.
    A comparative trial's answer (it names a `trial`) is comparative_views'."""
    if "trial" in request.POST:
        return comparative_views.trial_answer(request, session, _resume_url(request, session))
    answers = {name[2:]: request.POST.getlist(name) for name in request.POST if name.startswith("d-")}
    artwork, client_ms = request.POST.get("artwork"), client_ms_parse(request.POST.get("client_ms"))
    if not _is_fetch(request):
        try:
            judgement_record(session, artwork, answers, client_ms)
        except SessionError as exc:
            session.refresh_from_db()
            return _phase_page(request, session, error=exc.message, status=exc.status)
        return redirect("annotations:session_entry", slug)
    dimensions = study_dimensions(session.study)  # read once for the answers and the next item
    try:
        item = session_judge(session, artwork, answers, client_ms, dimensions=dimensions)
    except SessionError as exc:
        return _message(request, session.study, "Not saved", exc.message, exc.status)
    if item is None:
        return HttpResponse(format_html('<div data-redirect="{}"></div>', _entry_url(session.study)))
    return render(request, "annotations/session/_item.html", _item_context(session, item, dimensions=dimensions))


@require_GET
def session_trial_image(request, slug: str, assignment_id: int, slot: int):
    """The artwork in one screen slot of one of the browser's session's trials (comparative_views)."""
    session = session_for_browser(slug, _browser_sessions(request))
    if session is None:
        raise Http404("No such image")
    return comparative_views.trial_image(request, session, assignment_id, slot)


@require_GET
def session_image(request, slug: str, assignment_id: int):
    """An assigned artwork's display derivative (never the uploaded file), served under the
    assignment's id so that no file name, title or source reaches the annotator, and only to the
    session it is assigned to. The ETag is the derivative's hash: a revisit costs a 304, and the
    browser keeps the image a day (private: this participant's browser only, never a shared cache).
    With MEDIA_ACCEL_REDIRECT, nginx sends the file once the app has said who may have it."""
    found = session_image_name(slug, _browser_sessions(request), assignment_id)
    if found is None:
        raise Http404("No such image")
    session_id, name = found
    if wait := throttle_wait("annotator", request, session_id):
        return _slow_down(request, _public_study(slug), wait)
    etag = quote_etag(derivative_hash(name))
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        response = HttpResponseNotModified()
    elif settings.MEDIA_ACCEL_REDIRECT:  # nginx sends the file (an internal location over MEDIA_ROOT)
        response = HttpResponse(content_type=DERIVATIVE_TYPE)
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_REDIRECT + name
    else:
        response = FileResponse(DISPLAY_STORAGE.open(name, "rb"), content_type=DERIVATIVE_TYPE)
        response.headers.pop("Content-Disposition", None)  # FileResponse would name the stored file
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=86400"
    return response
