"""One mapping from a service's refusal to the API's answer (annotations.errors.Refused and the DRF
exception handler), for every app's refusals."""
import pytest
from rest_framework.test import APIClient

from alignment.bundle import NoReport
from alignment.reports import NothingToReport
from annotations.api_errors import api_exception_handler
from annotations.editing import StudyChangeRefused
from annotations.studies import StudySpecError
from annotations.tables import ImportFailed, RowError
from clipworker.runs import RunRefused


@pytest.mark.parametrize("refusal, status, body", [
    (StudySpecError(["field 'title': expected str"]), 400, {"errors": ["field 'title': expected str"]}),
    (StudyChangeRefused(["a draft cannot become closed"]), 400, {"errors": ["a draft cannot become closed"]}),
    (RunRefused("that model is not offered here"), 400, {"errors": ["that model is not offered here"]}),
    (NothingToReport("no judgements"), 400, {"errors": ["no judgements"]}),
    (NoReport("no stored report"), 404, {"errors": ["no stored report"]}),
    (ImportFailed([RowError(3, "origin", "'martian' is not 'human' or 'ai'")], total=7), 400,
     {"errors": [{"row": 3, "field": "origin", "reason": "'martian' is not 'human' or 'ai'"}], "errors_total": 7}),
])
def test_every_apps_refusal_is_answered_with_its_status_and_reasons(refusal, status, body):
    response = api_exception_handler(refusal, {})
    assert (response.status_code, response.data) == (status, body)


def test_an_error_that_is_no_refusal_is_left_to_the_framework():
    assert api_exception_handler(ValueError("a bug"), {}) is None


def test_the_api_answers_a_services_refusal_without_a_handler_of_its_own(db, owner):
    client = APIClient()
    client.force_authenticate(owner)
    body = {"template": "clip-art-perception", "slug": "twice"}
    assert client.post("/api/studies/", body, format="json").status_code == 201
    response = client.post("/api/studies/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"errors": ["a study with slug 'twice' already exists"]}
