"""What the services refuse, and how a refusal is answered over HTTP: one place for every app.

A service raises a `Refused` (or a subclass of its own) with every reason it found, having changed
nothing. The API answers it through DRF's exception handler (annotations.api_errors) with
`{"errors": [...]}` and the refusal's `status`; pages with a form show `errors` beside it, other
pages' actions through `refusals_as_messages`; commands print them as a CommandError. Apps above
annotations subclass it, so the mapping needs no import of them.
"""
from functools import wraps

from django.contrib import messages
from django.shortcuts import redirect


class Refused(Exception):
    """A request a service cannot take as asked; nothing was changed. `errors`: every reason, in
    words for the researcher; `status`: the HTTP status the API answers with."""

    status = 400

    def __init__(self, errors: list[str] | str, message: str | None = None):
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        super().__init__(message or "; ".join(self.errors))

    def answer(self) -> dict:
        """The API's body for this refusal."""
        return {"errors": self.errors}


def refusals_as_messages(back: str, prefix: str = ""):
    """A page's action (a view of a study's `slug`, mostly a POST) whose service may refuse: each reason becomes
    an error message, `prefix` before it, and the browser goes back to the page named `back`. Pages
    with a form catch `Refused` themselves, to show its errors beside the form they re-render."""
    def decorate(view):
        @wraps(view)
        def guarded(request, slug: str, *args, **kwargs):
            try:
                return view(request, slug, *args, **kwargs)
            except Refused as exc:
                for error in exc.errors:
                    messages.error(request, prefix + error)
                return redirect(back, slug)
        return guarded
    return decorate
