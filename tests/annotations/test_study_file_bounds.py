"""Study files bounded and typed (issue 13, items 2 and 6): a hostile or careless file gets its clear
answer fast, through the command, the editor page and the API, and nothing is stored."""
import json
import time

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotations.editing import study_spec_dump
from annotations.models import Study
from annotations.studies import StudySpecError, study_spec_parse
from tests.annotations.crowd_cast import session_judging_http, study_open

DIMENSION = "dimensions:\n- {key: style, kind: single, question: Style, labels: [a, b]}\n"
FLAT_LIST = "lab_notes:\n" + "- 1\n" * 1_150_000 + DIMENSION  # 2.3 MB: issue 13's file, under the body limit
DEEP_YAML = "lab_notes: " + "[" * 5000 + "]" * 5000 + "\n" + DIMENSION
DEEP_BLOCK_YAML = "lab_notes:\n" + "".join("  " * i + "- \n" for i in range(30)) + DIMENSION
DEEP_JSON = '{"lab_notes": ' + "[" * 5000 + "]" * 5000 + ', "dimensions": []}'
FLAT_FORM = "lab_notes:\n" + "- 1\n" * 150_000 + DIMENSION  # 600 kB: an editor form under the form-field limit
MANY_NODES = "lab_notes: [" + "1, " * 30_000 + "1]\n" + DIMENSION  # 90 kB: under the size limit

TOO_BIG = "over the limit of 262,144 bytes (STUDY_FILE_MAX_BYTES)"
TOO_DEEP = "nested more than"


def dim(**fields) -> str:
    """A study file of one dimension with `fields` (as YAML flow values) on top of a valid single one."""
    base = {"key": "style", "kind": "single", "question": "Style", "labels": "[a, b]"} | fields
    return "dimensions:\n- {" + ", ".join(f"{k}: {v}" for k, v in base.items()) + "}\n"


BINARY = {"key": "origin", "kind": "binary", "labels": "['no', 'yes']"}
RATING = {"key": "beauty", "kind": "rating", "labels": "null", "scale": "{min: 1, max: 7}"}

# (study file text, what the refusal says); every one was a 500, an unanswerable question or a hang
REFUSED = [
    pytest.param(DEEP_YAML, "not valid YAML or JSON", id="deep-flow-yaml"),
    pytest.param(DEEP_BLOCK_YAML, "line 21, column 39: nested more than 20 levels deep", id="deep-block-yaml"),
    pytest.param("lab_notes: " + "[" * 25 + "]" * 25 + "\n" + DIMENSION, "nested more than 20 levels deep",
                 id="yaml-past-the-depth-limit"),
    pytest.param(MANY_NODES, "more than 10,000 keys and values", id="many-values"),
    pytest.param("lab_notes: " + "7" * 5000 + "\n" + DIMENSION, "not a study file: Exceeds the limit",
                 id="huge-integer"),
    pytest.param(dim(**BINARY, severity="{min: a, max: 5}"),
                 "dimensions[0] (origin): field 'severity.min': expected a whole number, got 'a'", id="severity-type"),
    pytest.param(dim(**BINARY, severity="5"), "field 'severity': expected a mapping, got 5", id="severity-not-mapping"),
    pytest.param(dim(**BINARY, severity="{min: 1, max: 5, when: maybe}"),
                 "field 'severity.when': 'maybe' is not one of the labels", id="severity-when"),
    pytest.param(dim(severity="{min: 1, max: 5}"),
                 "field 'severity': only a binary dimension asks a severity follow-up", id="severity-not-binary"),
    pytest.param(dim(**BINARY, severity="{min: -1, max: 5}"),
                 "a severity is stored as a whole number from 0 to 32767", id="severity-range"),
    pytest.param(dim(**BINARY, severity="{min: 1, max: 5, anchors: {9: huge}}"),
                 "field 'severity': anchors 9 are not points of the scale 1-5", id="severity-anchors"),
    pytest.param(dim(**BINARY, severity="{min: 1, max: 5, anchor: {1: x}}"),
                 "field 'severity.anchor': not a field here", id="severity-typo"),
    pytest.param(dim(**RATING | {"scale": "[1, 7]"}),
                 "dimensions[0] (beauty): field 'scale': expected a mapping, got [1, 7]", id="scale-list"),
    pytest.param(dim(**RATING | {"scale": "{min: '1', max: 7}"}), "field 'scale.min': expected a whole number, got '1'",
                 id="scale-text"),
    pytest.param(dim(**RATING | {"scale": "{min: 1, max: 7, anchors: [1, 7]}"}),
                 "field 'scale.anchors': expected a mapping, got [1, 7]", id="anchors-list"),
    pytest.param(dim(labels="'a, b'"), "dimensions[0] (style): field 'labels': expected a list, got 'a, b'",
                 id="labels-text"),
    pytest.param(dim(labels="{a: 1}"), "field 'labels': expected a list, got {'a': 1}", id="labels-mapping"),
    pytest.param(dim(labels="[1, b]"), "field 'labels[0]': expected text, got 1", id="labels-numbers"),
    pytest.param(dim(labels="[' baroque', rococo]"),
                 "field 'labels[0]': ' baroque' has spaces at its start or end, so no answer can match it;"
                 " write 'baroque'", id="labels-spaces"),
    pytest.param(dim(labels="[Baroque, baroque, rococo]"),
                 "field 'labels': labels repeat (compared case-insensitively): 'Baroque', 'baroque'",
                 id="labels-repeat"),
    pytest.param(dim(**BINARY, display="{yes: Yes!}"), "key True is neither text nor a whole number (YAML reads yes",
                 id="display-yaml-boolean"),
    pytest.param(dim(display="{c: See}"), "field 'display': 'c' is not one of the labels", id="display-unknown-label"),
    pytest.param(dim(display="{a: 3}"), "field 'display.a': expected text, got 3", id="display-words"),
    pytest.param(dim(label_prompts="{a: a painting}"), "field 'label_prompts.a': expected a list, got 'a painting'",
                 id="label-prompts-type"),
    pytest.param(dim(prompts="'a {label}'"), "field 'prompts': expected a list, got 'a {label}'", id="prompts-type"),
    pytest.param(dim(shuffle_labels="'yes'"), "field 'shuffle_labels': expected true or false, got 'yes'",
                 id="shuffle-labels"),
    pytest.param("completion: paid\n" + DIMENSION, "field 'completion': 'paid': the only value is 'none'",
                 id="completion"),
    pytest.param("screenout_code: [1]\n" + DIMENSION, "field 'screenout_code': expected text, got [1]", id="screenout"),
    pytest.param("items_per_session: 1.5\n" + DIMENSION, "field 'items_per_session': expected a whole number, got 1.5",
                 id="items-float"),
    pytest.param("questionnaire: 'no'\n" + DIMENSION, "field 'questionnaire': expected true or false, got 'no'",
                 id="questionnaire"),
    pytest.param("exclusions: {too_fast_ms: -1}\n" + DIMENSION,
                 "field 'exclusions.too_fast_ms': expected a whole number of milliseconds", id="exclusions"),
]


def command_refusal(tmp_path, text: str, suffix: str = ".yaml") -> str:
    path = tmp_path / f"study{suffix}"
    path.write_text(text)
    with pytest.raises(CommandError) as error:
        call_command("create_study", "--from-file", str(path), "--slug", "refused")
    assert not Study.objects.filter(slug="refused").exists()
    return str(error.value)


@pytest.mark.parametrize("text, problem", REFUSED)
def test_create_study_refuses_the_file_with_the_reason_and_stores_nothing(db, tmp_path, text, problem):
    assert problem in command_refusal(tmp_path, text)


def test_a_flat_list_of_a_million_items_is_refused_by_its_size_before_it_is_parsed(db, tmp_path):
    """Issue 13: four of these kept every gunicorn worker parsing for 60 s."""
    assert len(FLAT_LIST.encode()) > 2_300_000
    started = time.perf_counter()
    assert TOO_BIG in command_refusal(tmp_path, FLAT_LIST)
    assert time.perf_counter() - started < 1.0  # unbounded, parsing it takes 10-80 s


def test_a_deeply_nested_json_study_file_is_refused(db, tmp_path):
    assert "not valid YAML or JSON" in command_refusal(tmp_path, DEEP_JSON, ".json")


def test_the_size_limit_is_a_setting(db, tmp_path, settings):
    settings.STUDY_FILE_MAX_BYTES = 100
    assert "over the limit of 100 bytes" in command_refusal(tmp_path, "title: " + "x" * 100 + "\n" + DIMENSION)
    with pytest.raises(StudySpecError, match="over the limit of 100 bytes"):
        study_spec_parse("é" * 60)  # 60 characters, 120 bytes


def test_the_limits_leave_room_for_real_study_files(db, tmp_path):
    """The template, and a study file with long label lists and notes, pass as before."""
    labels = ", ".join(f"label-{i}" for i in range(300))
    text = "lab_notes: {a: {b: {c: {d: [1, 2, 3]}}}}\n" + dim(labels=f"[{labels}]") + yaml.safe_dump(
        {"description": "x" * 50_000})
    path = tmp_path / "study.yaml"
    path.write_text(text)
    call_command("create_study", "--from-file", str(path), "--slug", "long")
    assert len(Study.objects.get(slug="long").dimensions.get().labels) == 300


def test_a_valid_severity_sent_as_json_is_asked_on_the_judging_page(client, owner, db):
    """JSON's object keys are text: the severity's anchors "0", "3" are the scale's points 0 and 3."""
    client.force_login(owner)
    spec = yaml.safe_load(dim(**BINARY, severity="{min: 0, max: 3, question: How much, when: 'yes'}"))
    spec["dimensions"][0]["severity"]["anchors"] = {"0": "not at all", "3": "everywhere"}
    response = client.post("/api/studies/", {"slug": "severe", "spec": spec}, content_type="application/json")
    assert response.status_code == 201, response.content
    study = study_open(Study.objects.get(slug="severe"), artworks=2, attention_check_rate=0)
    session_judging_http(client, study)
    page = client.get(reverse("annotations:session_entry", args=[study.slug])).content.decode()
    assert "How much" in page and "everywhere" in page


# The editor page and the API: one validation, the same messages ------------------------------------------
EDITOR_CASES = [REFUSED[i] for i in (0, 1, 3, 5, 12, 15, 18, 19)]


@pytest.fixture
def mine(study, owner):
    study.owner = owner
    study.save()
    return study


def assert_unchanged(study) -> None:
    study.refresh_from_db()
    assert study.title == "Does CLIP perceive art the way we do?" and study.dimensions.count() == 7
    assert "lab_notes" not in study.extra


@pytest.mark.parametrize("text, problem", EDITOR_CASES + [pytest.param(FLAT_FORM, TOO_BIG, id="flat-list")])
def test_the_editor_page_answers_400_with_the_reason_and_changes_nothing(client, owner, mine, text, problem):
    client.force_login(owner)
    response = client.post(reverse("annotations:study_edit", args=[mine.slug]), {"spec": text})
    assert response.status_code == 400 and any(problem in e for e in response.context["errors"])
    assert_unchanged(mine)


def test_an_uploaded_study_file_over_the_limit_is_refused_unread(client, owner, db):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(owner)
    upload = SimpleUploadedFile("huge.yaml", FLAT_LIST.encode(), content_type="application/yaml")
    response = client.post(reverse("annotations:study_create"), {"slug": "huge", "template": "clip-art-perception",
                                                                 "study_file": upload})
    assert response.status_code == 400 and f"huge.yaml: the study file is {TOO_BIG}" in response.content.decode()
    assert not Study.objects.filter(slug="huge").exists()


def api_put(client, study, body: str):
    return client.put(f"/api/studies/{study.slug}/spec/", body, content_type="application/json")


@pytest.mark.parametrize("text, problem", EDITOR_CASES)
def test_the_api_answers_400_with_the_reason_for_yaml_and_for_json(client, owner, mine, text, problem):
    client.force_login(owner)
    response = api_put(client, mine, json.dumps({"yaml": text}))
    assert response.status_code == 400 and any(problem in e for e in response.json()["errors"])
    try:  # the same file as JSON, where JSON can hold it
        spec = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError):  # PyYAML's pure-Python loader recurses where libyaml refuses
        spec = None
    if isinstance(spec, dict):
        response = api_put(client, mine, json.dumps({"spec": spec}))
        assert response.status_code == 400, response.content
        if "YAML" not in problem and "line" not in problem:
            assert any(problem in e for e in response.json()["errors"])
    assert_unchanged(mine)


def test_the_api_refuses_json_nested_past_the_limits_with_a_400(client, owner, mine):
    client.force_login(owner)
    too_deep_for_a_study = {"lab_notes": json.loads("[" * 30 + "]" * 30), **yaml.safe_load(DIMENSION)}
    response = api_put(client, mine, json.dumps({"spec": too_deep_for_a_study}))
    assert response.status_code == 400
    assert response.json() == {
        "errors": ["the study file is nested more than 20 levels deep; a study file needs about 5"]}
    for depth in (100, 990, 5000):  # past DRF's limit, near and past Python's recursion limit: never a 500
        body = '{"spec": {"lab_notes": ' + "[" * depth + "]" * depth + ', "dimensions": []}}'
        response = api_put(client, mine, body)
        assert response.status_code == 400 and "nested more than 64 levels deep" in response.json()["detail"]
        response = client.post("/api/studies/", body.replace('{"spec"', '{"slug": "deep", "spec"', 1),
                               content_type="application/json")
        assert response.status_code == 400
    assert_unchanged(mine)
    assert not Study.objects.filter(slug="deep").exists()


def test_the_api_refuses_a_body_over_twice_the_limit_before_parsing_it(client, owner, mine):
    client.force_login(owner)
    spec = study_spec_dump(mine) | {"lab_notes": list(range(100_000))}  # 700 kB of JSON
    response = api_put(client, mine, json.dumps({"spec": spec}))
    assert response.status_code == 400 and TOO_BIG in response.json()["errors"][0]
    response = api_put(client, mine, json.dumps({"yaml": FLAT_LIST}))
    assert response.status_code == 400 and TOO_BIG in response.json()["errors"][0]
    response = client.post("/api/studies/", json.dumps({"slug": "flat", "spec": spec}), content_type="application/json")
    assert response.status_code == 400 and TOO_BIG in response.json()["errors"][0]
    assert_unchanged(mine)
    assert not Study.objects.filter(slug="flat").exists()


def test_the_api_measures_the_json_study_file_itself(client, owner, mine, settings):
    """A body under twice the limit whose study file is over it: refused after parsing, by its text."""
    settings.STUDY_FILE_MAX_BYTES = 20_000
    client.force_login(owner)
    spec = study_spec_dump(mine) | {"lab_notes": "x" * 25_000}
    response = api_put(client, mine, json.dumps({"spec": spec}))
    assert response.status_code == 400 and response.json()["errors"] == [
        "the study file is over the limit of 20,000 bytes (STUDY_FILE_MAX_BYTES); a study file is usually a few kB"]
    assert_unchanged(mine)


@pytest.mark.parametrize("path", ["/media/%00", "/media/a%00b.png", "/media/%00/../x", "/media/%ff%fe",
                                  "/media/" + "a" * 5000])
def test_odd_media_paths_answer_404(client, owner, db, path):
    client.force_login(owner)
    assert client.get(path).status_code == 404


# Participants keep their answers fast while researchers post hostile study files -------------------------
FLAT_UNDER_THE_BODY_LIMIT = "lab_notes:\n" + "- 1\n" * 80_000 + DIMENSION  # 320 kB: parsed as JSON, then measured
WORST_UNDER_THE_LIMITS = "lab_notes: [" + "1, " * 9_900 + "1]\n" + dim(labels="[' a', a]")  # parsed in full


def timed(request, path: str) -> float:
    started = time.perf_counter()
    status, page, _ = request(path)
    assert status == 200 and "Which artistic style" in page  # the judging page, as the participant reloads it
    return time.perf_counter() - started


@pytest.mark.services
@pytest.mark.alone  # timed: no other test runs meanwhile
def test_participants_are_answered_within_a_second_while_four_hostile_study_files_are_posted(
        transactional_db, study, owner, tmp_path, collected_static, settings):
    """Issue 13: four 2.3 MB study files kept all four gunicorn workers parsing for 60 s and the
    participant site stopped answering. Now each is refused in milliseconds."""
    import threading
    import urllib.request

    from django.db import connection

    from tests.conftest import require
    from tests.servers import Browser, gunicorn_serving, server_database_url

    require(connection.vendor == "postgresql", "the server shares the test database: set DATABASE_URL to PostgreSQL")
    study.owner = owner
    study.save()
    study_open(study, artworks=4, items_per_session=4, attention_check_rate=0)
    bodies = [json.dumps({"yaml": FLAT_UNDER_THE_BODY_LIMIT}), json.dumps({"yaml": DEEP_YAML}),
              json.dumps({"yaml": MANY_NODES}), json.dumps({"yaml": WORST_UNDER_THE_LIMITS}),
              DEEP_JSON.replace('{"lab_notes"', '{"spec": {"lab_notes"') + "}"]
    with gunicorn_serving(tmp_path, collected_static, settings.MEDIA_ROOT, workers=4,
                          DATABASE_URL=server_database_url()) as base:
        participant = Browser(base)
        entry = f"/s/{study.slug}/"
        status, page, _ = participant.request(entry, params={"PROLIFIC_PID": "p1"})
        for step, data in (("consent/", {"choice": "agree"}), ("instructions/", {}),
                           ("questionnaire/", {"q-art_training": "none", "q-museum_visits": "never"})):
            token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
            status, page, _ = participant.request(entry + step, {**data, "csrfmiddlewaretoken": token})
        status, page, _ = participant.request(entry)
        assert status == 200 and "Which artistic style" in page  # the judging page, as the participant reloads it

        status, text, _ = Browser(base).request("/api/auth/token/", {"username": "owner", "password": "owner-pass-1"})
        assert status == 200, text
        token = json.loads(text)["token"]
        quiet = sorted(timed(participant.request, entry) for _ in range(10))
        stop, answers = threading.Event(), []

        def post_forever(n: int) -> None:
            while not stop.is_set():
                body = bodies[n % len(bodies)].encode()
                request = urllib.request.Request(f"{base}/api/studies/{study.slug}/spec/", data=body, method="PUT",
                                                 headers={"Authorization": f"Token {token}",
                                                          "Content-Type": "application/json"})
                started = time.perf_counter()
                try:
                    urllib.request.urlopen(request, timeout=60)
                    answers.append((n % len(bodies), 200, time.perf_counter() - started))
                except urllib.error.HTTPError as exc:
                    answers.append((n % len(bodies), exc.code, time.perf_counter() - started))
                n += 4

        posters = [threading.Thread(target=post_forever, args=(n,)) for n in range(4)]
        for poster in posters:
            poster.start()
        latencies = []
        try:
            time.sleep(0.5)
            deadline = time.monotonic() + 4
            while time.monotonic() < deadline:
                latencies.append(timed(participant.request, entry))
        finally:
            stop.set()
            for poster in posters:
                poster.join(timeout=90)
    latencies.sort()
    median, p90 = latencies[len(latencies) // 2], latencies[len(latencies) * 9 // 10]
    refusals = sorted(seconds for _, _, seconds in answers)
    print(f"\nparticipant page: alone median {quiet[5]:.3f} s; during {len(answers)} hostile study files (refused in"
          f" median {refusals[len(refusals) // 2]:.3f} s, slowest {refusals[-1]:.3f} s): median {median:.3f} s,"
          f" 90th percentile {p90:.3f} s, slowest {latencies[-1]:.3f} s over {len(latencies)} requests")
    assert sorted({(body, code) for body, code, _ in answers}) == [(n, 400) for n in range(len(bodies))]
    # Under 1 s as issue 13 asks, for the typical request; the slowest is printed, not asserted: on a
    # shared 2-core test machine it waits behind the posts for a worker and a core.
    assert median < 1.0
    study.refresh_from_db()
    assert study.dimensions.count() == 7 and "lab_notes" not in study.extra
