"""The participant's comparative trial pages through HTTP: what the page shows and reveals, the answer
by screen slot, the images only to the session they belong to, and the keyboard in real Chromium."""
import re

import pytest
from django.test import Client

from annotations.derivatives import CONTENT_TYPE as DERIVATIVE_TYPE
from annotations.models import ComparativeJudgement, Session, TrialAssignment
from tests.annotations.crowd_cast import session_judging_http
from tests.annotations.test_comparative_sessions import comparative_study
from tests.conftest import IMAGES_LOADED_JS, requests_held


@pytest.fixture
def triplets(db):
    return comparative_study("odd", kind="triplet", artworks=6, items_per_session=2)


def test_the_trial_page_shows_the_artworks_by_slot_and_reveals_no_artwork(client, triplets):
    session_judging_http(client, triplets)
    page = client.get(f"/s/{triplets.slug}/").content.decode()
    assignment = TrialAssignment.objects.order_by("position").first()
    assert len(re.findall(rf'src="/s/{triplets.slug}/trial/{assignment.pk}/\d/"', page)) == 3
    assert "art-0" not in page and "Painting" not in page  # no external id or title reaches the page
    assert re.findall(r'name="choice" value="(\d+)"', page) == ["0", "1", "2"]  # answers name places, not artworks
    image = client.get(f"/s/{triplets.slug}/trial/{assignment.pk}/2/")
    assert image.status_code == 200 and image["Content-Type"] == DERIVATIVE_TYPE  # the derivative, not the upload
    assert "Content-Disposition" not in image
    assert Client().get(f"/s/{triplets.slug}/trial/{assignment.pk}/2/").status_code == 404  # another browser
    assert client.get(f"/s/{triplets.slug}/trial/{assignment.pk}/3/").status_code == 404  # no fourth slot


def test_an_answer_by_slot_is_stored_with_the_screen_order_and_the_next_trial_follows(client, triplets):
    session = session_judging_http(client, triplets)
    client.get(f"/s/{triplets.slug}/")
    first = TrialAssignment.objects.filter(session=session).order_by("position").first()
    answered = client.post(f"/s/{triplets.slug}/judge/", {"trial": first.pk, "choice": "2", "client_ms": "1500"})
    assert answered.status_code == 302
    stored = ComparativeJudgement.objects.get()
    assert (stored.items, stored.choice, stored.client_ms) == (first.order, first.order[2], 1500)
    again = client.post(f"/s/{triplets.slug}/judge/", {"trial": first.pk, "choice": "0"})
    assert again.status_code == 409 and "already answered" in again.content.decode()
    assert ComparativeJudgement.objects.count() == 1
    page = client.get(f"/s/{triplets.slug}/").content.decode()
    assert "Trial <span class=\"count\">2 / 3</span>" in page


def _wait_for_trial(page, position: int, total: int) -> None:
    page.locator("#trial[data-ready] .count").filter(has_text=f"{position} / {total}").wait_for()


@pytest.mark.browser
@pytest.mark.services
def test_a_participant_completes_a_pairwise_and_a_triplet_study_with_the_keyboard(chromium, live_server,
                                                                                 transactional_db, shots):
    studies = {"pairwise": comparative_study("pairs", artworks=6, items_per_session=3, completion_code="PAIRS1"),
               "triplet": comparative_study("odd", kind="triplet", artworks=6, items_per_session=2)}
    keys = {"pairwise": ["ArrowLeft", "2", "ArrowRight", "1"], "triplet": ["3", "1", "2"]}
    for kind, study in studies.items():
        context = chromium.new_context(viewport={"width": 1280, "height": 860})
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error, seen=errors: seen.append(error))
        page.goto(f"{live_server.url}/s/{study.slug}/?participant=kb-{kind}")
        page.get_by_role("button", name="I agree, continue").click()
        page.get_by_role("button", name="Continue").click()
        total = len(keys[kind])
        for position, key in enumerate(keys[kind], start=1):
            _wait_for_trial(page, position, total)
            images = page.locator(".trial-artwork img")
            images.last.wait_for()
            assert images.count() == (2 if kind == "pairwise" else 3)
            if position == 1:
                shots.take(page, f"trial-{kind}.png", full_page=True)
                boxes = [images.nth(i).bounding_box() for i in range(images.count())]
                assert len({round(b["y"]) for b in boxes}) == 1  # side by side
            page.keyboard.press(key)
            if position == 1:
                page.keyboard.press(key)  # a second press while the answer is on its way counts once
        page.get_by_text("PAIRS1" if kind == "pairwise" else "C0DE42").wait_for()
        assert errors == []
        session = Session.objects.get(participant__external_id=f"kb-{kind}")
        assert session.phase == Session.Phase.COMPLETED
        answers = list(ComparativeJudgement.objects.filter(participant=session.participant).order_by("created_at"))
        shown = list(TrialAssignment.objects.filter(session=session).order_by("position"))
        assert [a.items for a in answers] == [s.order for s in shown]  # the positions on screen are stored
        assert [a.repeat for a in answers] == [s.repeat for s in shown] and shown[-1].repeat == 1
        if kind == "pairwise":  # ← is the left artwork, 2 the second, → the right one
            assert [a.choice for a in answers] == [shown[0].order[0], shown[1].order[1], shown[2].order[1],
                                                  shown[3].order[0]]
        else:
            assert [a.choice for a in answers] == [shown[0].order[2], shown[1].order[0], shown[2].order[1]]
        assert all(a.client_ms is not None and a.response_ms is not None for a in answers)
        context.close()
    phone = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    phone.goto(f"{live_server.url}/s/{studies['triplet'].slug}/?participant=phone")
    phone.get_by_role("button", name="I agree, continue").click()
    with requests_held(phone, "**/trial/**"):  # the artworks' images come late
        phone.get_by_role("button", name="Continue").click()
        _wait_for_trial(phone, 1, 3)
        buttons = [phone.locator("button.choose").nth(i).bounding_box() for i in range(3)]
    phone.wait_for_function(IMAGES_LOADED_JS, arg=".trial-artwork img")
    assert [phone.locator("button.choose").nth(i).bounding_box() for i in range(3)] == buttons, \
        "the buttons under the artworks do not move when the images arrive"
    boxes = [phone.locator(".trial-artwork img").nth(i).bounding_box() for i in range(3)]
    assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]  # stacked on a phone
    shots.take(phone, "trial-phone.png", full_page=True)
