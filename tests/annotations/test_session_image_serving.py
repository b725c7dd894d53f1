"""How an annotator's image is sent: the derivative's bytes with an ETag (its hash) and private
caching, a 304 on revisit, one query to find it, and with MEDIA_ACCEL_REDIRECT the same checks
followed by nginx's internal redirect instead of the bytes; judging an artwork and marking the next
one served are one transaction."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations.crowd import session_next_assignment
from annotations.models import Assignment, Judgement
from tests.annotations.crowd_cast import answers_valid, form_data, session_judging_http, study_open


@pytest.fixture
def judging(client, study):
    study_open(study, artworks=4, items_per_session=2, attention_check_rate=0)
    session = session_judging_http(client, study, "p1")
    assignment = session_next_assignment(session)
    return client, session, assignment, reverse("annotations:session_image", args=[study.slug, assignment.pk])


def test_the_image_is_the_derivative_with_its_hash_as_etag_private_caching_and_a_304_on_revisit(judging):
    client, _, assignment, url = judging
    client.get(url)  # the first request makes the derivative of an artwork stored before derivatives existed
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    body = b"".join(response.streaming_content)
    assignment.artwork.refresh_from_db()
    derivative = assignment.artwork.display_image
    with derivative.open("rb") as handle:
        assert body == handle.read() and body[:4] == b"RIFF"
    assert response["Content-Type"] == "image/webp" and "Content-Disposition" not in response
    assert response["ETag"] == f'"{derivative.name.rsplit("/", 1)[-1].removesuffix(".webp")}"'
    assert response["Cache-Control"] == "private, max-age=86400"
    assert len(queries) == 1  # the session, its study and the assignment's artwork in one query
    again = client.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304 and again["ETag"] == response["ETag"] and again.content == b""


def test_behind_nginx_the_app_checks_the_session_and_nginx_sends_the_file(judging, settings, client):
    settings.MEDIA_ACCEL_REDIRECT = "/_protected_media/"
    _, _, assignment, url = judging
    response = client.get(url)
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/_protected_media/{assignment.artwork.display_image.name}"
    assert response["Content-Type"] == "image/webp" and response["Cache-Control"] == "private, max-age=86400"
    client.cookies.clear()  # another browser: refused before any redirect is given
    refused = client.get(url)
    assert refused.status_code == 404 and "X-Accel-Redirect" not in refused


def test_judging_an_artwork_and_serving_the_next_is_one_transaction(judging):
    client, session, assignment, _ = judging
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("annotations:session_judge", args=[session.study.slug]),
                               form_data(assignment, answers_valid(session, assignment)), HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 200
    # Under the test's own transaction the service's transaction is a savepoint: there is one, and the
    # next item is marked served inside it (outside a test: one COMMIT for both).
    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    assert statements.count("SAVEPOINT") == 1 and statements.count("RELEASE") == 1, statements
    inside = statements[statements.index("SAVEPOINT"):statements.index("RELEASE")]
    # the judgements; one UPDATE marking this artwork done and the next one served
    assert inside.count("INSERT") == 1 and inside.count("UPDATE") == 1, statements
    stored = Judgement.objects.filter(session=session, artwork=assignment.artwork).count()
    assert stored == session.study.dimensions.count()
    assert Assignment.objects.get(pk=assignment.pk).status == "done"
    following = Assignment.objects.get(session=session, status="held")
    assert following.served_at is not None
