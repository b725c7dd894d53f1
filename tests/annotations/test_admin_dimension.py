"""A dimension edited in the Django admin passes the study file's checks, as the editor's and the API's
edits do: one the judging page could not ask is refused with the reason and nothing is stored."""
import html
import json

import pytest

from annotations.models import Dimension


def change_form(dim: Dimension, **changes) -> dict:
    """The admin change form's fields for `dim`, with `changes` (JSON fields as the form sends them)."""
    fields = {"study": dim.study_id, "key": dim.key, "position": dim.position, "question": dim.question,
              "kind": dim.kind, "labels": dim.labels, "scale_min": dim.scale_min or "",
              "scale_max": dim.scale_max or "", "anchors": dim.anchors, "level": dim.level,
              "prompts": dim.prompts, "extra": dim.extra} | changes
    return {name: json.dumps(value) if isinstance(value, list | dict) else value for name, value in fields.items()}


@pytest.mark.parametrize("extra, reason", [
    ({"severity": {"min": "barely", "max": 5}}, "severity.min"),
    ({"severity": {"min": 5, "max": 1}}, "min must be below max"),
    ({"severity": {"min": 1, "max": 5, "when": "maybe"}}, "'maybe' is not one of the labels"),
    (["severity"], "expected a JSON object"),
])
def test_a_severity_the_judging_page_could_not_ask_is_refused_with_the_reason(admin_client, study, extra, reason):
    dim = study.dimensions.get(key="deformation")
    before = dim.extra
    response = admin_client.post(f"/admin/annotations/dimension/{dim.pk}/change/", change_form(dim, extra=extra))
    assert response.status_code == 200 and reason in html.unescape(response.content.decode())
    dim.refresh_from_db()
    assert dim.extra == before


def test_a_binary_with_a_third_label_is_refused_and_a_valid_change_is_stored(admin_client, study):
    dim = study.dimensions.get(key="deformation")
    url = f"/admin/annotations/dimension/{dim.pk}/change/"
    refused = admin_client.post(url, change_form(dim, labels=["no", "yes", "maybe"]))
    assert "a binary dimension has exactly 2 labels" in html.unescape(refused.content.decode())
    severity = dim.extra["severity"] | {"max": 7}
    assert admin_client.post(url, change_form(dim, extra=dim.extra | {"severity": severity})).status_code == 302
    dim.refresh_from_db()
    assert dim.labels == ["no", "yes"] and dim.extra["severity"]["max"] == 7
