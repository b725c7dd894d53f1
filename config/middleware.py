"""Project-wide request guards: a request id on every request and its log lines, security headers
(CSP, no caching of researcher data), a cap on request bodies, the answer to a login lockout, and a
clear, retryable answer while the database is unreachable (restarting, failing over) instead of a bare 500."""
import logging
import uuid
from contextvars import ContextVar

from django.conf import settings
from django.core.signals import request_finished
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

logger = logging.getLogger("artalign.requests")

_request_id: ContextVar[str] = ContextVar("request_id", default="")


def request_id(get_response):
    """Give each request an id, sent back as X-Request-ID and written on every log line made while
    it runs, so that a user who reports "it failed, id 3f9c…" leads straight to the traceback.

    The id is cleared when the response is finished, not when this middleware returns: Django logs
    4xx answers ("Bad Request: …") after the middleware chain, and those lines carry it too."""
    def middleware(request):
        rid = uuid.uuid4().hex
        _request_id.set(rid)
        response = get_response(request)
        response["X-Request-ID"] = rid
        return response
    return middleware


@receiver(request_finished)
def _request_id_clear(**kwargs) -> None:
    _request_id.set("")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to log records: the web request's id, else the Celery task's id, else "-"."""

    def filter(self, record: logging.LogRecord) -> bool:
        rid = _request_id.get()
        if not rid:
            from celery import current_task  # a worker's log lines carry the id of the task they belong to

            rid = (current_task.request.id if current_task else None) or "-"
        record.request_id = rid
        return True


def security_headers(get_response):
    """Content-Security-Policy on every answer, and `Cache-Control: no-store` on every answer that
    does not set its own caching: researcher pages, API answers and exports hold study data that
    must not stay in a browser's or a proxy's cache. Static files (WhiteNoise, placed before this)
    and images (annotations.media, the annotator's image view) set their own."""
    def middleware(request):
        response = get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        if "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        return response
    return middleware


def client_address(request: HttpRequest) -> str:
    """The client's address for login throttling, read as the API's throttles read it (NUM_PROXIES)."""
    from rest_framework.throttling import BaseThrottle

    return BaseThrottle().get_ident(request)


LOCKED_OUT = "Too many failed logins from this address or for this username. Try again in {minutes} minutes."


def login_locked_out(request: HttpRequest, response: HttpResponse | None = None, credentials: dict | None = None):
    """django-axes' answer once a login is locked out: 429 with Retry-After, JSON for the API's token
    endpoint, a page with the message elsewhere. The password is not checked (no PBKDF2 work)."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    message = LOCKED_OUT.format(minutes=max(1, round(seconds / 60)))
    if request.path.startswith("/api/"):
        locked = JsonResponse({"detail": message}, status=429)
    else:
        locked = render(request, "registration/locked_out.html", {"message": message}, status=429)
    locked["Retry-After"] = str(seconds)
    return locked

DB_UNAVAILABLE = ("The database is unavailable for a moment (it may be restarting), so your last answers may not "
                  "have been saved. Please send them again in a few seconds; everything saved before is kept.")


def request_size_limit(get_response):
    """Refuse (413) a request whose declared body is over REQUEST_MAX_BYTES, before reading any of it.

    Django itself refuses form fields over DATA_UPLOAD_MAX_MEMORY_SIZE, but not files: without
    this an upload could fill the disk. A body sent without a length is read as empty by Django.
    """
    def middleware(request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse("Bad Content-Length.", status=400, content_type="text/plain; charset=utf-8")
        if length > settings.REQUEST_MAX_BYTES:
            return HttpResponse(f"The request is too large: {length} bytes, at most {settings.REQUEST_MAX_BYTES}.",
                                status=413, content_type="text/plain; charset=utf-8")
        return get_response(request)
    return middleware


class DatabaseUnavailableMiddleware:
    """A view that loses the database connection answers 503 with Retry-After and a message.

    The transaction it was in is rolled back, so a participant's retry of the same submission
    either stores it or (if it had committed just before) is taken as an exact repeat.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.warning("database unavailable during %s %s: %s", request.method, request.path, exception)
        response = HttpResponse(DB_UNAVAILABLE, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "5"
        return response
