"""The API's error answers in one place: the ones every endpoint may give besides its own, how they
are made (`api_exception_handler`) and how the schema documents them (`ApiSchema`).

A view declares what is its own (its 2xx answers and the refusals of its service, e.g. a 409 or a
400 `{"errors": [...]}`); `ApiSchema` (settings: DEFAULT_SCHEMA_CLASS) adds the answers that come
from the framework and the site around the views, judged from the operation itself, so that the
schema lists every status a client can get (tests/test_api_fuzz.py holds the API to it):

- 400 where the operation reads a body or query parameters: DRF's field errors (`FieldErrors`), a
  body that does not parse (`Detail`), or the view's own refusal, the three as `anyOf`;
- 401 everywhere (no or a wrong token; `WWW-Authenticate: Token`);
- 403 on writes: a viewer changing a study, or a browser session without its CSRF token;
- 404 where the path names something (an outsider's study, an unknown id) or a list's page is out of
  range; `Detail`, or the view's own 404 body as well where it declares one;
- 413 on operations that take a body: plain text from config.middleware.request_size_limit (over
  REQUEST_MAX_BYTES), `Detail` from the handler (fields over DATA_UPLOAD_MAX_MEMORY_SIZE); 415 (a
  media type DRF does not parse);
- 429 and 503 carry `Retry-After` wherever they are documented (503: config.middleware, the
  database gone for a moment, on every operation; 429: the token endpoint's login lockout).
"""
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers, views
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import APIException, ParseError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from .errors import Refused

JSON = "application/json"


class DetailSerializer(serializers.Serializer):
    """DRF's answer for an exception: not signed in, not allowed, not found, a body that does not parse."""

    detail = serializers.CharField()


TOO_MANY_REQUESTS = OpenApiResponse(DetailSerializer, description="Too many attempts: wait Retry-After seconds")

# DRF's answer when a serializer refuses the input: each field's messages ("non_field_errors" for the
# body as a whole; a nested field or a list item gives an object). Never an "errors" key, so that a
# view's own {"errors": [...]} is held to the view's declared shape.
FIELD_ERRORS = {
    "type": "object",
    "description": "Each refused field's messages (non_field_errors: the body as a whole)",
    "minProperties": 1,
    "not": {"required": ["errors"]},
    "additionalProperties": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}]},
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer", "minimum": 0}, "required": True,
                               "description": "Seconds to wait before trying again"}}
WWW_AUTHENTICATE = {"WWW-Authenticate": {"schema": {"type": "string", "enum": ["Token"]}, "required": True}}

DESCRIPTIONS = {
    "400": "The request was refused: every problem listed",
    "401": "No token or session, or a wrong one",
    "403": "Not allowed: a viewer changing the study, or a session without its CSRF token",
    "404": "Not found, or not shared with you (outsiders get 404, not 403); a page out of range",
    "413": "The request body is too large: over REQUEST_MAX_BYTES (plain text, refused before it is read), or "
           "over DATA_UPLOAD_MAX_MEMORY_SIZE outside of files",
    "415": "A request body of a media type this operation does not read",
    "429": "Too many attempts",
    "503": "The database is unavailable for a moment: send the request again after Retry-After seconds",
}


class ContentTooLarge(APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "too_large"


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler (settings: EXCEPTION_HANDLER), also for Django's refusals of a body while DRF
    reads it, which DRF leaves to Django's HTML 400 page: JSON `{"detail"}` like the API's other
    refusals, 413 for fields over DATA_UPLOAD_MAX_MEMORY_SIZE, 400 for too many fields or files.
    A service's refusal (annotations.errors.Refused, any app's) is its `answer()` with its `status`."""
    if isinstance(exc, Refused):
        return Response(exc.answer(), status=exc.status)
    if isinstance(exc, RequestDataTooBig):
        exc = ContentTooLarge(f"The request body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes "
                              "(DATA_UPLOAD_MAX_MEMORY_SIZE) outside of files; send files as a multipart upload.")
    elif isinstance(exc, TooManyFieldsSent):
        exc = ParseError(f"The request has over {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} fields "
                         "(DATA_UPLOAD_MAX_NUMBER_FIELDS).")
    elif isinstance(exc, TooManyFilesSent):
        exc = ParseError(f"The request has over {settings.DATA_UPLOAD_MAX_NUMBER_FILES:,} files "
                         "(DATA_UPLOAD_MAX_NUMBER_FILES).")
    return views.exception_handler(exc, context)


class ApiSchema(AutoSchema):
    """drf-spectacular's schema of an operation plus the error answers it shares with the others."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        detail = self._component_ref(DetailSerializer)
        for code, bodies in self._shared_errors(operation, detail).items():
            declared = (responses.get(code, {}).get("content") or {}).get(JSON, {}).get("schema")
            schemas = [declared] if declared else []
            schemas += [body for body in bodies if body not in schemas]
            schema = schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
            response = responses.setdefault(code, {})
            response["description"] = response.get("description") or DESCRIPTIONS[code]
            response["content"] = {**response.get("content", {}), JSON: {"schema": schema}}
        if "requestBody" in operation:
            responses["413"]["content"]["text/plain"] = {"schema": {"type": "string"}}
        responses.setdefault("503", {"description": DESCRIPTIONS["503"],
                                     "content": {"text/plain": {"schema": {"type": "string"}}}})
        for code in ("429", "503"):
            if code in responses:
                responses[code]["headers"] = {**responses[code].get("headers", {}), **RETRY_AFTER}
        if "401" in responses:
            responses["401"]["headers"] = {**responses["401"].get("headers", {}), **WWW_AUTHENTICATE}
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _shared_errors(self, operation: dict, detail: dict) -> dict[str, list[dict]]:
        """Per status, the bodies the framework and the site may answer this operation with."""
        parameters = operation.get("parameters", [])
        body = "requestBody" in operation
        query = any(p["in"] == "query" and p["name"] != "page" for p in parameters)
        paged = any(p["in"] == "query" and p["name"] == "page" for p in parameters)
        errors: dict[str, list[dict]] = {"401": [detail]}
        if body or query:
            errors["400"] = [self._field_errors_ref()] + ([detail] if body else [])
        # A viewer's write is refused in `study_for_user`; any write in a session without its CSRF token by DRF.
        if self.method not in SAFE_METHODS and any(issubclass(a, SessionAuthentication)
                                                   for a in self.view.authentication_classes):
            errors["403"] = [detail]
        if paged or any(p["in"] == "path" for p in parameters):
            errors["404"] = [detail]
        if body:
            errors["413"] = errors["415"] = [detail]
        return errors

    def _component_ref(self, serializer: type[serializers.Serializer]) -> dict:
        return self.resolve_serializer(serializer(), "response").ref

    def _field_errors_ref(self) -> dict:
        component = ResolvedComponent(name="FieldErrors", type=ResolvedComponent.SCHEMA, object="FieldErrors",
                                      schema=FIELD_ERRORS)
        self.registry.register_on_missing(component)
        return component.ref

