"""The participant's pages for everyone, in real headless Chromium: an axe-core audit of every page
at desktop and phone widths, a whole session tapped through on a phone, and a whole session done
with the keyboard alone, where every answer must land on the question that has focus.

axe-core comes from npm (`npm ci` at the project root; package.json pins it) and is injected
into each page. Screenshots go to $ARTALIGN_SCREENSHOTS (when set; none are taken otherwise).
"""
import pytest

from annotations.models import AttentionCheck, Judgement, Session, Study
from annotations.studies import study_create
from tests.annotations.crowd_cast import artworks_add
from tests.conftest import PROJECT_ROOT, require

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}
SPEC = {
    "title": "Looking at paintings",
    "items_per_session": 2,
    "attention_check_rate": 0.5,  # one check: 2 artworks and 1 check per session
    "attention_fail_limit": 1,
    "attention_fail_action": "end",
    "completion_code": "A11Y-C0DE",
    "dimensions": [
        {"key": "origin", "kind": "binary", "question": "Who made this image?", "labels": ["human", "ai"],
         "display": {"human": "A person", "ai": "AI-generated"}},
        {"key": "style", "kind": "single", "question": "Which style is it closest to?",
         "labels": ["realism", "impressionism", "abstract"]},
        {"key": "aesthetic", "kind": "rating", "question": "How appealing do you find it?",
         "scale": {"min": 1, "max": 7, "anchors": {1: "very unappealing", 4: "neither", 7: "very appealing"}}},
    ],
}


@pytest.fixture
def small_study(transactional_db):
    study = study_create(SPEC, "looking")
    Study.objects.filter(pk=study.pk).update(status=Study.Status.OPEN)
    study.refresh_from_db()
    artworks_add(study, 3)
    return study


@pytest.fixture
def axe_file():
    require(AXE.is_file(), f"axe-core is not installed at {AXE} (run `npm ci` in the project root)")
    return AXE


def audited_page(chromium, viewport):
    """A page that takes axe's script: the site's CSP allows no injected script, so this browser
    context (only) bypasses it."""
    return chromium.new_context(viewport=viewport, bypass_csp=True).new_page()


def serious_violations(page, axe_file) -> list[str]:
    """axe-core's critical and serious findings on the page as it is now, one line each."""
    page.add_script_tag(path=str(axe_file))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in ("critical", "serious")]


def entry_url(live_server, study, participant: str) -> str:
    return f"{live_server.url}/s/{study.slug}/?participant={participant}"


def to_judging(page, tap: bool = False) -> None:
    """From the consent page to the first artwork, by clicks (or taps on a touch screen)."""
    press = (lambda locator: locator.tap()) if tap else (lambda locator: locator.click())
    press(page.get_by_role("button", name="I agree, continue"))
    press(page.get_by_role("button", name="Continue"))
    press(page.get_by_text("No", exact=True))
    press(page.get_by_text("Never or almost never"))
    press(page.get_by_role("button", name="Continue"))
    page.locator("#judging[data-ready]").wait_for()


def item_on_screen(page, session: Session):
    """The assignment of the artwork on screen (its check loaded, if it is one)."""
    artwork_id = int(page.locator("input[name=artwork]").input_value())
    return session.assignments.select_related("attention_check").get(artwork_id=artwork_id)


def expected_answer(assignment) -> str:
    return str(AttentionCheck.objects.get(assignment=assignment).expected)


def wait_for_next(page, position: int) -> None:
    """The item is on screen with its image loaded: a tap aimed at an answer while the image is still
    coming in can land on the image (it pushes the answers down), which opens the zoom."""
    page.locator(f"#judging[data-ready] h1[data-position='{position}']").wait_for()
    page.locator(".artwork img").evaluate(
        "img => img.complete || new Promise((done) => img.addEventListener('load', done, {once: true}))")


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366px", "390px"])
def test_axe_finds_nothing_serious_on_any_participant_page(chromium, live_server, small_study, axe_file, viewport):
    page = audited_page(chromium, viewport)
    found = {}
    page.goto(f"{live_server.url}/s/{small_study.slug}/")
    found["message (no id in the link)"] = serious_violations(page, axe_file)
    page.goto(entry_url(live_server, small_study, "audited"))
    found["consent"] = serious_violations(page, axe_file)
    page.get_by_role("button", name="I agree, continue").click()
    found["instructions"] = serious_violations(page, axe_file)
    page.get_by_role("button", name="Continue").click()
    found["questionnaire"] = serious_violations(page, axe_file)
    page.get_by_text("No", exact=True).click()
    page.get_by_text("Never or almost never").click()
    page.get_by_role("button", name="Continue").click()
    page.locator("#judging[data-ready]").wait_for()
    found["judging"] = serious_violations(page, axe_file)
    assert page.locator("h1").count() == 1
    assert page.locator("input:invalid, [aria-invalid=true]").count() == 0, "nothing is invalid before a send"
    assert page.get_by_role("radio", name="1 very unappealing", exact=True).count() == 1, "the key is not spoken"
    page.get_by_role("button", name="Next artwork").click()  # nothing answered: the send fails
    page.locator(".form-error:not([hidden])").wait_for()
    found["judging, after a failed send"] = serious_violations(page, axe_file)
    assert page.locator("fieldset[data-question=style] input[aria-invalid=true]").count() == 3
    session = Session.objects.get(participant__external_id="audited")
    for position in (1, 2, 3):
        wait_for_next(page, position)
        assignment = item_on_screen(page, session)
        if assignment.is_attention_check:
            page.locator(f"fieldset.question label.opt:has(input[value='{expected_answer(assignment)}'])").click()
        else:
            for fieldset in page.locator("fieldset.question").all():
                fieldset.locator("label.opt").first.click()
            found[f"judging, artwork {position} answered"] = serious_violations(page, axe_file)
        page.locator("form.item-form button[type=submit]").click()
    page.locator("#completion-code").wait_for()
    found["completion"] = serious_violations(page, axe_file)

    declining = audited_page(chromium, viewport)
    declining.goto(entry_url(live_server, small_study, "declining"))
    declining.get_by_role("button", name="I do not agree").click()
    found["declined"] = serious_violations(declining, axe_file)
    declining.goto(entry_url(live_server, small_study, "audited"))  # a session started in another browser
    declining.get_by_label("Resume code").fill("NOT-A-CODE")
    declining.get_by_role("button", name="Continue my session").click()
    declining.get_by_role("heading", name="Resume code not recognised").wait_for()
    found["resume code refused"] = serious_violations(declining, axe_file)
    failing = audited_page(chromium, viewport)
    failing.goto(entry_url(live_server, small_study, "failing"))
    to_judging(failing)
    session = Session.objects.get(participant__external_id="failing")
    while not item_on_screen(failing, session).is_attention_check:
        for fieldset in failing.locator("fieldset.question").all():
            fieldset.locator("label.opt").first.click()
        position = int(failing.locator("h1[data-position]").get_attribute("data-position"))
        failing.locator("form.item-form button[type=submit]").click()
        wait_for_next(failing, position + 1)
    expected = expected_answer(item_on_screen(failing, session))
    failing.locator(f"label.opt:not(:has(input[value='{expected}']))").first.click()
    failing.locator("form.item-form button[type=submit]").click()
    failing.get_by_text("This session has ended").wait_for()
    found["terminated"] = serious_violations(failing, axe_file)
    Study.objects.filter(pk=small_study.pk).update(status=Study.Status.CLOSED)
    failing.goto(entry_url(live_server, small_study, "late"))
    found["message (study closed)"] = serious_violations(failing, axe_file)

    assert {name: problems for name, problems in found.items() if problems} == {}
    for audited in (page, declining, failing):  # every page: a language, a title, a main landmark
        assert audited.locator("html").get_attribute("lang") == "en"
        assert audited.title().strip() and audited.locator("main").count() == 1


def options_fit(page) -> list[str]:
    """Every answer option whose text spills out of its box, as 'question: text'."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('fieldset.question:not([hidden]) label.opt'))
        .flatMap((label) => {
            const box = label.getBoundingClientRect();
            return Array.from(label.querySelectorAll('.text, small')).filter((part) => {
                const r = part.getBoundingClientRect();
                if (r.width <= 1 || r.height <= 1) return false;  // not shown (a spoken-only part)
                return r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5
                    || r.bottom > box.bottom + 0.5 || part.scrollWidth > part.clientWidth + 1;
            }).map((part) => label.closest('fieldset').dataset.question + ': ' + part.textContent);
        })""")


@pytest.mark.browser
def test_a_whole_session_on_a_phone_by_tapping(chromium, live_server, small_study, shots, capsys):
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = context.new_page()
    page.goto(entry_url(live_server, small_study, "on-the-phone"))
    to_judging(page, tap=True)
    session = Session.objects.get(participant__external_id="on-the-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "nothing sticks out sideways"
    hints = page.locator(".keys-help, label.opt kbd, .shortcuts-switch").all()
    assert hints and not any(hint.is_visible() for hint in hints), "no keyboard hints on a touch screen"
    note = page.locator(".progress-note").inner_text()
    assert "2 artworks" in note and "1 attention check" in note, note
    origin = page.locator("fieldset[data-question=origin]")
    assert origin.locator("label.opt").all_inner_texts() == ["A person", "AI-generated"]

    taps = {1: {"origin": "AI-generated", "style": "impressionism", "aesthetic": "6"},
            2: {"origin": "A person", "style": "abstract", "aesthetic": "2"}}
    judged = {}
    for position in (1, 2, 3):
        wait_for_next(page, position)
        assignment = item_on_screen(page, session)
        if assignment.is_attention_check:
            page.locator(f"label.opt:has(input[value='{expected_answer(assignment)}'])").tap()
        else:
            answers = taps[len(judged) + 1]
            for key, text in answers.items():
                page.locator(f"fieldset[data-question={key}] label.opt").filter(
                    has=page.locator(".text", has_text=text)).first.tap()
            assert options_fit(page) == [], "option text stays inside its box"
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            if not judged:
                scale = page.locator("fieldset[data-question=aesthetic]")
                scale.scroll_into_view_if_needed()
                path = shots.take(scale, "phone-rating-scale.png")
                shots.take(page, "phone-judging.png")  # a full-page capture drops the touch emulation
                if path:
                    with capsys.disabled():
                        print(f"\nthe rating scale on a 390 px phone: {path}")
            judged[assignment.artwork_id] = answers
        page.locator("form.item-form button[type=submit]").tap()
    page.locator("#completion-code").wait_for()
    assert page.locator("#completion-code").inner_text() == "A11Y-C0DE"

    stored = {(j.artwork_id, j.dimension.key): j.value
              for j in Judgement.objects.filter(session=session).select_related("dimension")}
    values = {"AI-generated": "ai", "A person": "human"}  # the display name is shown, the label stored
    assert stored == {(artwork, key): (int(text) if key == "aesthetic" else values.get(text, text))
                      for artwork, answers in judged.items() for key, text in answers.items()}


def focused(page) -> dict:
    """Where the keyboard focus is: the question it is in, or the element's tag and text."""
    return page.evaluate("""() => {
        const element = document.activeElement;
        const question = element.closest('fieldset.question');
        return {question: question ? question.dataset.question : null, tag: element.tagName.toLowerCase(),
                text: element.textContent.trim(), position: element.dataset.position || null};
    }""")


def tab_to(page, predicate, limit: int = 40, back: bool = False) -> None:
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if predicate(focused(page)):
            return
    raise AssertionError(f"Tab never reached it; focus is on {focused(page)}")


def tab_into(page, question: str) -> None:
    """Tab (or Shift+Tab, when it lies above the focus) until the focus is in `question`."""
    order = page.eval_on_selector_all("fieldset.question", "all => all.map((q) => q.dataset.question)")
    now = focused(page)["question"]
    back = now in order and order.index(question) < order.index(now)
    tab_to(page, lambda where: where["question"] == question, back=back)


def key_of(page, question: str, value: str) -> str:
    return page.locator(f"fieldset[data-question={question}] input[value='{value}']").get_attribute("data-key")


def chosen_stands_out_in_forced_colours(page) -> bool:
    """In forced-colours (High Contrast) mode, whether a chosen answer looks unlike the others."""
    page.emulate_media(forced_colors="active")
    looks = page.evaluate("""() => Array.from(document.querySelectorAll('fieldset[data-question=style] label.opt'))
        .map((label) => { const s = getComputedStyle(label);
                          return [label.querySelector('input').checked, s.backgroundColor, s.outlineStyle]
                              .join(' '); })""")
    page.emulate_media(forced_colors="none")
    chosen = {look.split(" ", 1)[1] for look in looks if look.startswith("true")}
    others = {look.split(" ", 1)[1] for look in looks if look.startswith("false")}
    return len(chosen) == 1 and not chosen & others


@pytest.mark.browser
def test_a_whole_session_with_the_keyboard_where_answers_land_on_the_focused_question(
        chromium, live_server, small_study, shots):
    page = chromium.new_context(viewport=DESKTOP).new_page()
    script_errors = []
    page.on("pageerror", lambda error: script_errors.append(error))
    page.goto(entry_url(live_server, small_study, "keyboard-only"))
    tab_to(page, lambda where: where["text"] == "I agree, continue")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="How this works").wait_for()
    tab_to(page, lambda where: where["text"] == "Continue")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Two short questions").wait_for()
    for _ in range(2):  # the questionnaire: the first answer of each question, chosen with Space
        tab_to(page, lambda where: where["tag"] == "input" and not page.evaluate("document.activeElement.checked"))
        page.keyboard.press("Space")
    tab_to(page, lambda where: where["text"] == "Continue")
    page.keyboard.press("Enter")
    page.locator("#judging[data-ready]").wait_for()
    session = Session.objects.get(participant__external_id="keyboard-only")

    # Zoom is a button: Enter opens it, Escape closes it.
    tab_to(page, lambda where: where["tag"] == "button" and "zoom" in where["text"].lower())
    page.keyboard.press("Enter")
    assert page.locator(".artwork.zoomed").count() == 1
    page.keyboard.press("Escape")
    assert page.locator(".artwork.zoomed").count() == 0

    # Single-key shortcuts can be turned off (and stay off); native keys still answer then.
    tab_to(page, lambda where: where["tag"] == "input" and where["question"] is None)
    page.keyboard.press("Space")
    assert page.evaluate("localStorage.getItem('artalign.shortcuts')") == "off"
    tab_to(page, lambda where: where["question"] == "style", back=True)
    page.keyboard.press("2")
    assert page.locator("fieldset.question input:checked").count() == 0, "no shortcut while they are off"
    page.reload()
    page.locator("#judging[data-ready]").wait_for()
    assert not page.locator("#shortcuts").is_checked()
    page.locator("#shortcuts").check()  # on again for the rest

    plan = [{"style": "abstract", "origin": "ai", "aesthetic": "3"},
            {"aesthetic": "7", "style": "realism", "origin": "human"}]
    judged = {}
    for position in (1, 2, 3):
        wait_for_next(page, position)
        if position > 1:
            where = focused(page)
            assert where["tag"] == "h1" and where["position"] == str(position), "focus moves to the new artwork"
            assert page.title().startswith(f"Artwork {position} of 3")
            assert page.locator("#judging-status").inner_text() == "Answers saved."
        assignment = item_on_screen(page, session)
        if assignment.is_attention_check:
            question = assignment.attention_check.dimension.key
            tab_into(page, question)
            page.keyboard.press(key_of(page, question, expected_answer(assignment)))
        else:
            answers = plan[len(judged)]
            for question, value in answers.items():  # out of the page's order, to catch a wrong target
                tab_into(page, question)
                page.keyboard.press(key_of(page, question, value))
                answered = page.locator("fieldset.question:has(input:checked)")
                assert page.locator(f"fieldset[data-question={question}] input[value='{value}']").is_checked()
                assert focused(page)["question"] == question, "focus stays on the question answered"
            assert answered.count() == 3
            judged[assignment.artwork_id] = answers
            if position == 1:
                shots.take(page, "keyboard-judging.png")
                assert chosen_stands_out_in_forced_colours(page)
        tab_to(page, lambda where: where["tag"] == "button" and where["text"] in ("Next artwork", "Finish"))
        page.keyboard.press("Enter")
    page.locator("#completion-code").wait_for()

    stored = {(j.artwork_id, j.dimension.key): j.value
              for j in Judgement.objects.filter(session=session).select_related("dimension")}
    assert stored == {(artwork, key): int(value) if key == "aesthetic" else value
                      for artwork, answers in judged.items() for key, value in answers.items()}
    assert AttentionCheck.objects.get(participant__external_id="keyboard-only").passed is True
    assert script_errors == []
