"""Least privilege on the annotator site: a participant reaches their own session's items and nothing
else, not other studies' artworks or images, nor expert labels, predictions, other participants or
any researcher page; every form carries a CSRF token; image files are never a public folder."""
import re

import pytest
from django.test import Client
from django.urls import reverse

from annotations.crowd import session_next_assignment
from annotations.crowd_views import COOKIE_PREFIX
from annotations.models import Artwork, Judgement, Session, Study
from annotations.studies import study_create, study_template_load
from tests.annotations.crowd_cast import answers_valid, form_data, study_open
from tests.conftest import PROJECT_ROOT


@pytest.fixture
def two_studies(study, owner):
    """`study` (owned by `owner`) and another open study, each with images."""
    Study.objects.filter(pk=study.pk).update(owner=owner)
    study.refresh_from_db()
    other = study_create(study_template_load("clip-art-perception"), "other-study", template="clip-art-perception")
    return (study_open(study, artworks=4, items_per_session=2, attention_check_rate=0),
            study_open(other, artworks=4, items_per_session=2, attention_check_rate=0))


def judging_client(study, participant: str) -> tuple[Client, Session]:
    client = Client()
    entry = reverse("annotations:session_entry", args=[study.slug])
    client.get(entry, {"PROLIFIC_PID": participant})
    client.post(entry + "consent/", {"choice": "agree"})
    client.post(entry + "instructions/")
    client.post(entry + "questionnaire/", {"q-art_training": "none", "q-museum_visits": "never"})
    client.get(entry)
    return client, Session.objects.get(study=study, participant__external_id=participant)


def test_an_annotator_gets_no_image_of_another_session_or_another_study(two_studies):
    mine, other = two_studies
    me, my_session = judging_client(mine, "me")
    _, their_session = judging_client(other, "them")
    _, neighbour = judging_client(mine, "neighbour")
    for slug, assignment in ((mine.slug, session_next_assignment(their_session)),
                             (other.slug, session_next_assignment(their_session)),
                             (mine.slug, session_next_assignment(neighbour))):
        assert me.get(reverse("annotations:session_image", args=[slug, assignment.pk])).status_code == 404
    own = session_next_assignment(my_session)
    assert me.get(reverse("annotations:session_image", args=[mine.slug, own.pk])).status_code == 200


def test_an_annotator_cannot_answer_for_an_artwork_of_another_study_or_not_assigned_to_them(two_studies):
    mine, other = two_studies
    me, my_session = judging_client(mine, "me")
    own = session_next_assignment(my_session)
    answers = answers_valid(my_session, own)
    not_mine = [Artwork.objects.filter(study=other).first(),
                Artwork.objects.filter(study=mine).exclude(assignments__session=my_session).first()]
    for artwork in not_mine:
        response = me.post(reverse("annotations:session_judge", args=[mine.slug]), {**form_data(own, answers),
                           "artwork": str(artwork.pk)}, HTTP_X_REQUESTED_WITH="fetch")
        assert response.status_code == 409 and "not one of yours" in response.content.decode()
    assert not Judgement.objects.exists()


def test_a_session_cookie_of_one_study_opens_nothing_in_another(two_studies):
    mine, other = two_studies
    me, my_session = judging_client(mine, "me")
    signed = me.cookies[f"{COOKIE_PREFIX}{mine.pk}"].value
    me.cookies[f"{COOKIE_PREFIX}{other.pk}"] = signed  # a valid signature, but for the other cookie's name
    response = me.post(reverse("annotations:session_judge", args=[other.slug]), {"artwork": "1"},
                       HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 400 and "session could not be found" in response.content.decode()
    page = me.get(reverse("annotations:session_entry", args=[other.slug])).content.decode()
    assert "This link does not say who you are" in page


def test_an_annotator_reaches_no_researcher_page_export_api_or_image_file(two_studies):
    mine, _ = two_studies
    me, my_session = judging_client(mine, "me")
    artwork = session_next_assignment(my_session).artwork
    slug = mine.slug
    urls = [reverse("annotations:study_list"), reverse("annotations:study_detail", args=[slug]),
            reverse("annotations:study_progress", args=[slug]), reverse("annotations:study_progress_json", args=[slug]),
            reverse("annotations:study_edit", args=[slug]), reverse("clipworker:run_list", args=[slug]),
            reverse("alignment:dashboard", args=[slug]), reverse("alignment:exports", args=[slug]),
            reverse("alignment:export_download", args=[slug, "judgements"]), "/admin/",
            "/api/studies/", f"/api/studies/{slug}/", f"/api/studies/{slug}/artworks/",
            f"/api/studies/{slug}/participants/", f"/api/studies/{slug}/judgements/", "/api/schema/",
            artwork.image.url]
    for url in urls:
        response = me.get(url)
        assert response.status_code in (302, 401, 403, 404), (url, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith((reverse("login"), "/admin/login/")), url


def test_image_files_are_served_to_the_study_s_researchers_only_and_by_database_key(two_studies, outsider, owner):
    mine, other = two_studies
    artwork = Artwork.objects.filter(study=mine).first()
    url = artwork.image.url
    assert Client().get(url).status_code == 302  # anonymous: to the login page
    researcher = Client()
    researcher.force_login(outsider)
    assert researcher.get(url).status_code == 404
    researcher.force_login(owner)
    response = researcher.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == artwork.image.open("rb").read()
    for sneaky in ("../../config/settings.py", "..%2F..%2Fconfig%2Fsettings.py", "/etc/passwd",
                   Artwork.objects.filter(study=other).first().image.name):
        assert researcher.get(f"/media/{sneaky}").status_code == 404, sneaky


def test_every_post_form_in_the_templates_carries_a_csrf_token():
    forms = []
    for template in (PROJECT_ROOT / "templates").rglob("*.html"):
        for form in re.findall(r"<form\b[^>]*>.*?</form>", template.read_text(), re.S | re.I):
            if re.search(r'method="post"', form, re.I):
                forms.append((template.name, "{% csrf_token %}" in form))
    assert forms and all(ok for _, ok in forms), [name for name, ok in forms if not ok]
    script = (PROJECT_ROOT / "annotations/static/annotations/session.js").read_text()
    assert "body: new URLSearchParams(new FormData(itemForm))" in script  # the form's token goes with the answers


def test_a_post_without_the_csrf_token_is_refused(study):
    study_open(study, artworks=2, items_per_session=1, attention_check_rate=0)
    browser = Client(enforce_csrf_checks=True)
    entry = reverse("annotations:session_entry", args=[study.slug])
    browser.get(entry, {"PROLIFIC_PID": "p1"})
    assert browser.post(entry + "consent/", {"choice": "agree"}).status_code == 403
    token = browser.cookies["csrftoken"].value
    assert browser.post(entry + "consent/", {"choice": "agree", "csrfmiddlewaretoken": token}).status_code == 302
