import json

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotations.models import Study

TEMPLATE_KEYS = ["content", "scene", "style", "period", "deformation", "origin", "aesthetic"]


def test_create_study_from_the_template_has_the_seven_dimensions_with_labels_levels_and_prompts(db):
    call_command("create_study", "--template", "clip-art-perception", "--slug", "s1")
    study = Study.objects.get(slug="s1")
    dims = {d.key: d for d in study.dimensions.all()}
    assert list(dims) == TEMPLATE_KEYS
    assert len(dims["style"].labels) == 19 and "impressionism" in dims["style"].labels
    assert dims["period"].level == "ordinal" and dims["period"].labels[0] == "XV century"
    assert dims["origin"].kind == "binary" and dims["origin"].extra["label_prompts"]["ai"]
    assert (dims["aesthetic"].scale_min, dims["aesthetic"].scale_max, dims["aesthetic"].level) == (1, 7, "interval")
    assert dims["content"].kind == "multi" and "{label}" in dims["content"].prompts[0]
    assert study.template == "clip-art-perception" and study.status == "draft"


@pytest.mark.parametrize("dump,suffix", [(yaml.safe_dump, ".yaml"), (json.dumps, ".json")])
def test_create_study_from_a_file_keeps_its_settings_and_extra_fields(db, tmp_path, dump, suffix):
    spec = {
        "title": "Two questions", "items_per_session": 10, "lab_notes": "pilot",
        "attention_fail_action": "end", "attention_fail_limit": 3, "questionnaire": False,
        "dimensions": [
            {"key": "style", "kind": "single", "question": "Style?", "labels": ["renaissance", "baroque"],
             "prompts": ["a {label} painting"]},
            {"key": "beauty", "kind": "rating", "question": "How beautiful?", "scale": {"min": 1, "max": 5}},
        ],
    }
    path = tmp_path / f"study{suffix}"
    path.write_text(dump(spec))
    call_command("create_study", "--from-file", str(path), "--slug", "two")
    study = Study.objects.get(slug="two")
    assert (study.title, study.items_per_session, study.extra) == ("Two questions", 10, {"lab_notes": "pilot"})
    assert (study.attention_fail_action, study.attention_fail_limit, study.questionnaire) == ("end", 3, False)
    style, beauty = study.dimensions.all()
    assert style.level == "nominal" and beauty.level == "interval"  # defaults follow the kind
    assert (beauty.scale_min, beauty.scale_max) == (1, 5)


def test_a_bad_study_file_lists_every_problem_and_creates_nothing(db, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"attention_check_rate": 2, "attention_fail_action": "explode", "dimensions": [
        {"key": "style", "kind": "single", "question": "Style?", "labels": []},
        {"key": "style", "kind": "colour", "question": "?"},
        {"key": "origin", "kind": "binary", "question": "Who?", "labels": ["human", "ai", "both"],
         "prompts": ["a {lable} image"]},
        {"key": "beauty", "kind": "rating", "question": "?", "scale": {"min": 5, "max": 1}},
    ]}))
    with pytest.raises(CommandError) as error:
        call_command("create_study", "--from-file", str(path), "--slug", "bad")
    message = str(error.value)
    for expected in ["attention_check_rate", "'explode' is not 'flag' or 'end'",
                     "dimensions[0] (style): field 'labels'", "'style' appears twice", "'colour' is not one of",
                     "exactly 2 labels", "['lable']", "min must be below max"]:
        assert expected in message
    assert not Study.objects.exists()


def test_an_unknown_template_names_the_available_ones(db):
    with pytest.raises(CommandError, match="available: clip-art-perception"):
        call_command("create_study", "--template", "nope", "--slug", "x")


def test_a_second_study_with_the_same_slug_is_refused(db):
    call_command("create_study", "--template", "clip-art-perception", "--slug", "dup")
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_study", "--template", "clip-art-perception", "--slug", "dup")


DIMENSION = "dimensions:\n- {key: style, kind: single, question: Style, labels: [a, b]}\n"


@pytest.mark.parametrize("text, problem", [
    ("title: " + "x" * 201 + "\n" + DIMENSION, "field 'title': Ensure this value has at most 200 characters"),
    ("completion_code: " + "x" * 65 + "\n" + DIMENSION, "field 'completion_code': Ensure this value has at most 64"),
    ("items_per_session: 100000000000000000000000\n" + DIMENSION, "field 'items_per_session': Ensure this value is"),
    ('title: "a\\0b"\n' + DIMENSION, "field 'title': text cannot contain NUL characters"),
    ('lab_notes: {"k\\0": 1}\n' + DIMENSION, "key 'k\\x00' contains a NUL character"),
    ("lab_notes: 2024-01-01\n" + DIMENSION, "field 'lab_notes': date values cannot be stored"),
    ("lab_notes: [1, .nan]\n" + DIMENSION, "field 'lab_notes[1]': nan is not a number"),
    ("lab_notes: !!binary aGVsbG8=\n" + DIMENSION, "field 'lab_notes': bytes values cannot be stored"),
    ("dimensions:\n- {key: r, kind: rating, question: How, scale: {min: 1, max: 10000000000000000000000}}\n",
     "dimensions[0] (r): field 'scale_max': Ensure this value is less than or equal to"),
    ('dimensions:\n- {key: s, kind: single, question: Style, labels: [a, b], prompts: ["a {"]}\n',
     "'a {' is not a valid template"),
])
def test_a_study_file_that_the_database_could_not_store_is_refused_with_the_reason(db, tmp_path, text, problem):
    """The same errors on SQLite and PostgreSQL, before anything is written (PostgreSQL refuses NUL
    characters, over-long text and out-of-range integers; JSON has no NaN and no dates)."""
    path = tmp_path / "study.yaml"
    path.write_text(text)
    with pytest.raises(CommandError) as error:
        call_command("create_study", "--from-file", str(path), "--slug", "unstorable")
    assert problem in str(error.value)
    assert not Study.objects.exists()


BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)) + DIMENSION


def test_a_study_file_with_aliases_is_refused_before_they_are_expanded(db, tmp_path):
    """Nine levels of ten aliases each would be 10^9 values once walked: refused at the first alias."""
    path = tmp_path / "study.yaml"
    path.write_text(BILLION_LAUGHS)
    with pytest.raises(CommandError) as error:
        call_command("create_study", "--from-file", str(path), "--slug", "laughs")
    assert "aliases (*name) are not allowed in a study file" in str(error.value) and "line 2" in str(error.value)
    assert not Study.objects.exists()


def test_the_api_refuses_a_study_file_with_aliases(client, owner, study):
    study.owner = owner
    study.save()
    client.force_login(owner)
    response = client.put(f"/api/studies/{study.slug}/spec/", {"yaml": BILLION_LAUGHS}, content_type="application/json")
    assert response.status_code == 400 and "aliases (*name) are not allowed" in response.content.decode()


def test_create_study_with_an_owner_shows_it_to_that_researcher_and_refuses_an_unknown_one(db, owner, client):
    call_command("create_study", "--template", "clip-art-perception", "--slug", "owned", "--owner", "owner")
    study = Study.objects.get(slug="owned")
    assert study.owner == owner and study.status == Study.Status.DRAFT
    client.force_login(owner)
    assert client.get(reverse("annotations:study_detail", args=["owned"])).status_code == 200
    with pytest.raises(CommandError, match="--owner 'nobody': no active user"):
        call_command("create_study", "--template", "clip-art-perception", "--slug", "orphan", "--owner", "nobody")
    assert not Study.objects.filter(slug="orphan").exists()
