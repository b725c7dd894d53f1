"""What the services refuse, and how a refusal is answered over HTTP: one place for every app.

A service raises a `Refused` (or a subclass of its own) with every reason it found, having changed
nothing. The API answers it through DRF's exception handler (annotations.api_errors) with
`{"errors": [...]}` and the refusal's `status`; pages show `errors` beside the form; commands print
them as a CommandError. Apps above annotations subclass it, so the mapping needs no import of them.
"""


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
