"""Project-wide request guards: a cap on request bodies, and a clear, retryable answer while the
database is unreachable (restarting, failing over) instead of a bare 500."""
import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse

logger = logging.getLogger("artalign.requests")

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
