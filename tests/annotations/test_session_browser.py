"""A whole annotator session in real headless Chromium, answered with the keyboard only.

Screenshots of the consent page and judging pages go to $ARTALIGN_SCREENSHOTS (when set;
none are taken otherwise).
"""
import io

import numpy as np
import pytest
from django.core.files.base import ContentFile

from annotations.demo import PAINTERS
from annotations.models import Artwork, AttentionCheck, Judgement, Participant, Session, Study
from tests.conftest import IMAGES_LOADED_JS, requests_held

PID = "60c0ffee60c0ffee60c0ffee"
# Keys pressed per question on a plain artwork (the template's dimensions), and what they mean.
KEYS = {
    "content": (["1", "3", "Enter"], ["persons", "landscape"]),
    "scene": (["2"], "seascape"),
    "style": (["b"], "naive"),  # 1-9 then a, b: the eleventh label
    "period": (["4"], "XVIII century"),
    "deformation": (["2", "3"], "yes"),  # yes, then severity 3
    "origin": (["1"], "human"),
    "aesthetic": (["6", "Enter"], 6),  # the last question: Enter sends
}


@pytest.fixture
def browser_study(transactional_db, study):
    Study.objects.filter(pk=study.pk).update(status="open", items_per_session=3, attention_check_rate=0.34,
                                             completion_code="ARTC0DE7")
    rng = np.random.default_rng(3)
    for i, paint in enumerate(PAINTERS.values()):
        buffer = io.BytesIO()
        paint(rng).save(buffer, "PNG")
        artwork = Artwork(study=study, external_id=f"secret-name-{i}.png", title=f"Secret title {i}")
        artwork.image.save(f"secret-name-{i}.png", ContentFile(buffer.getvalue()), save=False)
        artwork.save()
    return Study.objects.get(pk=study.pk)


@pytest.fixture
def page(chromium):
    return chromium.new_context(viewport={"width": 1280, "height": 860}).new_page()


def wait_for_item(page, position: int, total: int) -> None:
    """Until artwork `position` is on screen and the page's script listens to the keys."""
    page.locator("#judging[data-ready] .count").filter(has_text=f"{position} / {total}").wait_for()


def answer_with_keys(page, session) -> None:
    """Answer the item on screen with the keyboard: as KEYS says, or as the attention check asks."""
    artwork_id = int(page.locator("input[name=artwork]").input_value())
    assignment = session.assignments.get(artwork_id=artwork_id)
    if assignment.is_attention_check:
        expected = str(AttentionCheck.objects.get(assignment=assignment).expected)
        key = page.locator(f"fieldset.question input[value='{expected}']").get_attribute("data-key")
        page.keyboard.press(key)
        page.keyboard.press("Enter")
        return
    for keys, _ in KEYS.values():
        for key in keys:
            page.keyboard.press(key)


@pytest.mark.browser
def test_a_participant_walks_a_whole_session_with_the_keyboard_and_can_reload_anywhere(
        page, live_server, browser_study, shots):
    entry = f"{live_server.url}/s/{browser_study.slug}/"
    script_errors = []
    page.on("pageerror", lambda error: script_errors.append(error))
    sent = []  # how the page's script sends each artwork's answers
    page.on("request", lambda r: sent.append(r.headers.get("content-type")) if r.url.endswith("/judge/") else None)
    page.goto(f"{entry}?PROLIFIC_PID={PID}&STUDY_ID=prolific-study&SESSION_ID=prolific-session")
    assert page.get_by_role("button", name="I agree, continue").is_visible()
    shots.take(page, "consent.png", full_page=True)
    page.get_by_role("button", name="I agree, continue").click()
    page.get_by_role("button", name="Continue").click()  # instructions
    page.get_by_text("Some: courses, workshops or self-taught").click()
    page.get_by_text("A few times a year").click()
    page.get_by_role("button", name="Continue").click()  # questionnaire
    page.locator("#judging[data-ready]").wait_for()

    session = Session.objects.get(participant__external_id=PID)
    assert session.participant.expertise == {"art_training": "some", "museum_visits": "several"}
    total = session.assignments.count()
    assert total == 4 and session.assignments.filter(is_attention_check=True).count() == 1
    # The first artwork: zoom, a half-answered form for the screenshot, back and forth, the rest.
    assert page.locator(".count").inner_text() == f"1 / {total}"
    page.evaluate("window.stillTheSamePage = true")
    page.keyboard.press("+")
    assert page.locator(".artwork.zoomed").count() == 1
    shots.take(page, "zoom.png")
    page.keyboard.press("Escape")
    assert page.locator(".artwork.zoomed").count() == 0
    for key in ["1", "3", "Enter", "2", "b", "4", "2"]:  # content, scene, style, period, deformation: yes
        page.keyboard.press(key)
    assert page.locator("fieldset.follow-up").is_visible(), "yes asks for the severity"
    shots.take(page, "judging.png")
    shots.take(page, "judging-full.png", full_page=True)
    for _ in range(5):
        page.keyboard.press("Backspace")
    assert page.locator("fieldset.question.active").get_attribute("data-question") == "content"
    assert page.locator("input[name=d-content][value=landscape]").is_checked()
    for key in ["Enter"] * 5 + ["3", "1", "6", "Enter"]:  # on to the severity: 3, origin, aesthetic, send
        page.keyboard.press(key)

    wait_for_item(page, 2, total)
    assert page.evaluate("window.stillTheSamePage") is True, "the next artwork came without a page load"
    assert sent and set(sent) == {"application/x-www-form-urlencoded;charset=UTF-8"}, "as a form posts, not multipart"
    before = page.locator("input[name=artwork]").input_value()
    page.reload()  # a reload mid-session lands on the same next item
    assert page.locator("input[name=artwork]").input_value() == before
    for position in range(2, total + 1):
        wait_for_item(page, position, total)
        answer_with_keys(page, session)

    code = page.locator("#completion-code")
    code.wait_for()
    assert code.inner_text() == "ARTC0DE7"
    page.reload()
    assert page.locator("#completion-code").inner_text() == "ARTC0DE7"

    session.refresh_from_db()
    assert session.phase == Session.Phase.COMPLETED
    plain = session.assignments.filter(is_attention_check=False)
    judgements = Judgement.objects.filter(session=session)
    assert judgements.count() == plain.count() * browser_study.dimensions.count()
    for key, (_, value) in KEYS.items():
        assert list(judgements.filter(dimension__key=key).values_list("value", flat=True)) == [value] * 3, key
    assert set(judgements.filter(dimension__key="deformation").values_list("severity", flat=True)) == {3}
    assert all(j.client_ms is not None and j.response_ms is not None for j in judgements)
    assert AttentionCheck.objects.get(participant__external_id=PID).passed is True
    assert not Participant.objects.get(external_id=PID).excluded
    assert script_errors == []


@pytest.mark.browser
def test_the_judging_page_fits_a_phone_screen(page, live_server, browser_study, shots):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/s/{browser_study.slug}/?participant=phone-user")
    page.get_by_role("button", name="I agree, continue").click()
    page.get_by_role("button", name="Continue").click()
    page.get_by_text("No", exact=True).click()
    page.get_by_text("Never or almost never").click()
    with requests_held(page, "**/image/**"):  # the artwork's image comes late
        page.get_by_role("button", name="Continue").click()
        page.locator("#judging[data-ready]").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, "nothing sticks out sideways"
        answer = page.get_by_text("landscape", exact=True).first
        before = answer.bounding_box()
    page.wait_for_function(IMAGES_LOADED_JS, arg=".artwork img")
    assert answer.bounding_box() == before, "the answers do not move when the image arrives"
    image = page.locator(".artwork img").bounding_box()
    assert image["width"] >= 340
    answer.click()  # tapping works as well as keys
    assert page.locator("input[name=d-content][value=landscape]").is_checked()
    shots.take(page, "judging-phone.png", full_page=False)
