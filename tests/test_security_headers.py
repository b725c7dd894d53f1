"""What every browser receives besides the page: a Content-Security-Policy that allows no inline
script (and no page has one), no caching of researcher data, no password reset without mail, API
docs that load nothing from the internet, and a request id."""
import importlib
import re

import pytest
from django.urls import clear_url_caches, reverse

from annotations.crowd import session_next_assignment
from tests.annotations.crowd_cast import session_judging_http, study_open
from tests.researcher_cast import aligned_study

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:json|ld\+json)\")[^>]*>", re.I)
HANDLER_ATTRIBUTE = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
EXTERNAL_HOST = re.compile(r"(?:https?:)?//(?!127\.0\.0\.1|localhost|testserver)[a-z0-9.-]+\.[a-z]{2,}", re.I)


@pytest.fixture
def researcher(client, owner, study, tmp_path):
    study.owner = owner
    study.save()
    aligned_study(study, tmp_path, n=6)
    client.force_login(owner)
    return client


def researcher_pages(study) -> list[str]:
    slug = study.slug
    return ["/studies/", "/studies/new/", f"/studies/{slug}/", f"/studies/{slug}/edit/", f"/studies/{slug}/upload/",
            f"/studies/{slug}/progress/", f"/studies/{slug}/clip/", f"/studies/{slug}/alignment/",
            f"/studies/{slug}/exports/", "/api/", "/api/docs/", "/api/redoc/"]


def assert_no_inline_script(url: str, html: str) -> None:
    assert not INLINE_SCRIPT.findall(html), f"{url} has an inline script: {INLINE_SCRIPT.findall(html)}"
    assert not HANDLER_ATTRIBUTE.findall(html), (f"{url} has an event handler attribute: "
                                                 f"{HANDLER_ATTRIBUTE.findall(html)}")


def test_researcher_pages_have_the_csp_no_inline_script_and_are_not_cached(researcher, study):
    for url in researcher_pages(study):
        response = researcher.get(url)
        assert response.status_code == 200, url
        csp = response["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "object-src 'none'" in csp and "frame-ancestors 'none'" in csp, url
        assert "script-src" not in csp or "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0], url
        assert response["Cache-Control"] == "no-store", url
        assert_no_inline_script(url, response.content.decode())


def test_participant_pages_have_the_csp_and_no_inline_script(client, study):
    study_open(study, artworks=3, items_per_session=2, attention_check_rate=0)
    entry = reverse("annotations:session_entry", args=[study.slug])
    pages = [client.get(entry, {"PROLIFIC_PID": "p1"})]
    session = session_judging_http(client, study, "p2")
    judging = client.get(entry)  # the entry link shows where the session is: the first artwork to judge
    image_url = reverse("annotations:session_image", args=[study.slug, session_next_assignment(session).pk])
    assert image_url in judging.content.decode()
    pages.append(judging)
    for page in pages:
        assert page.status_code == 200
        assert "default-src 'self'" in page["Content-Security-Policy"]
        assert_no_inline_script(page.request["PATH_INFO"], page.content.decode())
    image = client.get(image_url)
    assert image.status_code == 200 and image["Cache-Control"].startswith("private, max-age=")  # its own caching


def test_login_and_admin_login_have_no_inline_script(client, db):
    for url in ("/accounts/login/", "/admin/login/"):
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Security-Policy"]
        assert_no_inline_script(url, response.content.decode())


def test_api_answers_and_exports_are_not_cached_and_media_keeps_its_own_caching(researcher, study):
    api = researcher.get(f"/api/studies/{study.slug}/artworks/")
    assert api.status_code == 200 and api["Cache-Control"] == "no-store"
    export = researcher.get(reverse("alignment:export_download", args=[study.slug, "judgements"]))
    assert export.status_code == 200 and export["Content-Disposition"].startswith("attachment")
    assert export["Cache-Control"] == "no-store"
    image_url = study.artworks.exclude(image="").first().image.url
    image = researcher.get(image_url)
    assert image.status_code == 200 and image["Cache-Control"].startswith("private, max-age=")


def test_every_answer_carries_a_fresh_request_id(client, db):
    first, second = client.get("/accounts/login/"), client.get("/no/such/page/")
    assert re.fullmatch(r"[0-9a-f]{32}", first["X-Request-ID"]) and second.status_code == 404
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_the_api_docs_name_no_host_on_the_internet(researcher):
    for url in ("/api/docs/", "/api/redoc/"):
        html = researcher.get(url).content.decode()
        assert not EXTERNAL_HOST.findall(html), f"{url}: {EXTERNAL_HOST.findall(html)}"
        assert "/static/drf_spectacular_sidecar/" in html
    script = researcher.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


@pytest.fixture
def account_urls(settings):
    """The URLconf read again after a test changes PASSWORD_RESET, and read again afterwards."""
    import config.urls

    def reload():
        clear_url_caches()
        importlib.reload(config.urls)

    yield reload
    settings.PASSWORD_RESET = False
    reload()


def test_password_reset_is_not_found_without_mail_and_served_with_it(client, db, settings, account_urls):
    assert client.get("/accounts/password_reset/").status_code == 404
    assert client.get("/accounts/reset/MQ/set-password/").status_code == 404
    assert client.get("/accounts/login/").status_code == 200
    settings.PASSWORD_RESET = True
    account_urls()
    assert client.get("/accounts/password_reset/").status_code == 200
