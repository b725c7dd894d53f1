"""The researcher's whole path in real headless Chromium: log in, create a study from the template,
upload a manifest with one bad row and see that row's error, fix it, open the study, run the stand-in
CLIP and see it finish, compute a report and read the alignment view with its charts; then an
outsider researcher gets 404 and an annotator's browser gets nothing from /api/.

Screenshots go to $ARTALIGN_SCREENSHOTS (when set; none are taken otherwise).
"""
import csv
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from annotations.demo import PAINTERS, deform
from annotations.models import Study
from clipworker.models import ClipRun
from tests.researcher_cast import judgement_rows, truths

STYLES = ["baroque", "impressionism", "cubism"]


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    """A ZIP of 12 synthetic paintings (odd ones 'AI', deformed), a manifest with a bad row 3, its fix."""
    rng = np.random.default_rng(11)
    painters = list(PAINTERS.values())
    rows, buffer = [], io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(12):
            image = painters[i % 4](rng)
            if i % 2:
                image = deform(image, rng)
            png = io.BytesIO()
            image.save(png, "PNG")
            archive.writestr(f"paintings/art-{i:03d}.png", png.getvalue())
            rows.append({"id": f"art-{i:03d}", "file": f"art-{i:03d}.png", "title": f"Synthetic {i}",
                         "origin": "ai" if i % 2 else "human", "style": STYLES[i % 3],
                         "generator": "gen-a" if i % 2 else ""})
    (tmp_path / "paintings.zip").write_bytes(buffer.getvalue())

    def write(name, table):
        with (tmp_path / name).open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(table[0]))
            writer.writeheader()
            writer.writerows(table)
        return tmp_path / name

    bad = [dict(r) for r in rows]
    bad[2]["origin"] = "martian"
    return {"zip": tmp_path / "paintings.zip", "bad": write("manifest-bad.csv", bad),
            "good": write("manifest.csv", rows)}


def _judgements(tmp_path: Path, study: Study) -> Path:
    rng = np.random.default_rng(4)
    rows = judgement_rows(study, truths(study, 12, rng), rng)
    path = tmp_path / "judgements.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _log_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Studies").wait_for()


def _tab(page, name: str) -> None:
    page.get_by_role("navigation", name="Study pages").get_by_role("link", name=name, exact=True).click()


@pytest.mark.browser
def test_a_researcher_sets_up_a_study_runs_clip_and_reads_the_alignment_view(
        chromium, live_server, transactional_db, django_user_model, settings, clip_cache, files, tmp_path, shots):
    settings.VAR_DIR = clip_cache
    django_user_model.objects.create_user("researcher", password="researcher-pass-1")
    django_user_model.objects.create_user("outsider", password="outsider-pass-1")
    base = live_server.url
    errors = []
    page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.on("pageerror", lambda error: errors.append(error))

    _log_in(page, base, "researcher", "researcher-pass-1")
    page.get_by_role("link", name="New study").click()
    page.get_by_label("Slug").fill("browser-study")
    page.get_by_label("Template").select_option("clip-art-perception")
    page.get_by_role("button", name="Create study").click()
    page.get_by_role("heading", name="Does CLIP perceive art the way we do?").wait_for()
    study = Study.objects.get(slug="browser-study")
    assert study.owner.username == "researcher"

    # Upload a manifest with one bad row: that row's error, and nothing imported.
    _tab(page, "Upload")
    form = page.locator("#artworks-form")
    form.get_by_label("Manifest").set_input_files(str(files["bad"]))
    form.get_by_label("Images").set_input_files(str(files["zip"]))
    form.get_by_role("button", name="Upload artworks").click()
    errors_table = page.locator("#import-errors")
    errors_table.wait_for()
    assert errors_table.locator("tr.row-error").count() == 1
    error_row = " ".join(errors_table.locator("tr.row-error").inner_text().split())
    assert "3 origin 'martian' is not 'human' or 'ai'" in error_row
    shots.take(page, "upload-error.png", full_page=True)
    assert study.artworks.count() == 0
    form = page.locator("#artworks-form")
    form.get_by_label("Manifest").set_input_files(str(files["good"]))
    form.get_by_label("Images").set_input_files(str(files["zip"]))
    form.get_by_role("button", name="Upload artworks").click()
    page.locator("#import-result").filter(has_text="Imported 12 artworks").wait_for()
    jform = page.locator("#judgements-form")
    jform.get_by_label("Judgements").set_input_files(str(_judgements(tmp_path, study)))
    jform.get_by_role("button", name="Upload judgements").click()
    page.locator("#import-result").filter(has_text="Imported 672 judgements").wait_for()

    # Opening is refused while the completion code is the template's placeholder; set the real one
    # in the study file, then open. The participant link is there to copy.
    _tab(page, "Overview")
    page.get_by_role("button", name="Open the study").click()
    page.get_by_text("the completion code is still the template's placeholder").wait_for()
    assert Study.objects.get(pk=study.pk).status == Study.Status.DRAFT
    _tab(page, "Study file")
    spec = page.locator("textarea")
    spec.fill(spec.input_value().replace("completion_code: CHANGE-ME", "completion_code: C4B2PROLIFIC"))
    page.get_by_role("button", name="Save the study file").click()
    _tab(page, "Overview")
    page.get_by_role("button", name="Open the study").click()
    page.locator(".messages").filter(has_text="The study is open").wait_for()
    link = page.locator("#participant-link").input_value()
    assert link == (f"{base}/s/browser-study/?PROLIFIC_PID={{{{%PROLIFIC_PID%}}}}&STUDY_ID={{{{%STUDY_ID%}}}}"
                    "&SESSION_ID={{%SESSION_ID%}}")

    # A CLIP run with the stand-in model, seen to finish.
    _tab(page, "CLIP runs")
    page.get_by_role("button", name="artalign/tiny-clip (stand-in, random weights)").click()
    page.get_by_role("button", name="Start the run").click()
    page.locator(".run-status[data-status=done]").wait_for(timeout=60_000)
    assert "12 scored, 0 failed of 12" in page.locator(".run-counts").inner_text()
    assert page.locator("#run-progress .standin").inner_text() == "stand-in model, random weights"
    shots.take(page, "clip-run.png", full_page=True)
    assert ClipRun.objects.get(study=study).status == "done"

    # Compute the report; the alignment view draws its charts.
    _tab(page, "Alignment")
    page.get_by_label("Bootstrap resamples").fill("200")
    page.get_by_label("Min. artworks per stratum").fill("4")
    page.get_by_role("button", name="Compute report").click()
    page.locator("#report-meta").wait_for()
    assert page.locator(".forest svg circle").count() == 7  # one alpha per dimension
    shots.take(page, "alignment-overview.png", full_page=True)
    page.locator("#dimension-tabs").get_by_role("link", name="style").click()
    page.locator("#confusions svg").first.wait_for()
    assert page.locator("#ceiling-chart svg circle").count() == 7  # seven people; the too-fast one is excluded
    assert page.locator("#ceiling-chart svg path").count() == 1  # CLIP: one diamond among them
    shots.take(page, "alignment-style.png", full_page=True)
    page.locator("#dimension-tabs").get_by_role("link", name="origin").click()
    page.locator("#scatters svg").first.wait_for()
    assert page.locator("#scatters svg circle").count() == 12
    thumbs = page.locator("#disagreements img")
    assert thumbs.count() == 10 and all(thumbs.nth(i).evaluate("img => img.naturalWidth > 0") for i in range(10))
    shots.take(page, "alignment-origin.png", full_page=True)
    page.locator("#strata").get_by_role("link", name="ai", exact=True).click()
    page.locator("#scatters svg").first.wait_for()
    assert page.locator("#scatters svg circle").count() == 6
    shots.take(page, "alignment-origin-ai.png", full_page=True)
    assert errors == []

    # An outsider researcher: 404 on every page of the study.
    outsider = chromium.new_context().new_page()
    _log_in(outsider, base, "outsider", "outsider-pass-1")
    for path in ("", "alignment/", "clip/", "progress/", "exports/bundle/"):
        assert outsider.goto(f"{base}/studies/browser-study/{path}").status == 404, path
    assert outsider.request.get(f"{base}/api/studies/browser-study/").status == 404

    # An annotator: a crowd session, and nothing from /api/ (nor from the researcher pages).
    annotator = chromium.new_context().new_page()
    annotator.goto(f"{base}/s/browser-study/?PROLIFIC_PID=5f00ba4&STUDY_ID=s1&SESSION_ID=x1")
    assert annotator.get_by_role("button", name="I agree, continue").is_visible()
    for path in ("/api/", "/api/studies/", "/api/studies/browser-study/", "/api/studies/browser-study/exports/bundle/",
                 "/api/schema/", "/api/docs/"):
        response = annotator.request.get(f"{base}{path}")
        assert response.status == 401 and "browser-study" not in response.text(), path
    annotator.goto(f"{base}/studies/browser-study/alignment/")
    assert "/accounts/login/" in annotator.url


@pytest.mark.browser
def test_a_queued_run_page_follows_the_run_without_a_reload_by_hand(chromium, live_server, transactional_db,
                                                                      django_user_model, study):
    from django.utils import timezone

    owner = django_user_model.objects.create_user("researcher", password="researcher-pass-1")
    Study.objects.filter(pk=study.pk).update(owner=owner)
    run = ClipRun.objects.create(study=study, model_name="some/queued-model", total=4)  # no worker picks it up
    page = chromium.new_context().new_page()
    _log_in(page, live_server.url, "researcher", "researcher-pass-1")
    page.goto(f"{live_server.url}/studies/{study.slug}/clip/{run.pk}/")
    assert page.locator(".run-status").get_attribute("data-status") == "queued"
    now = timezone.now()
    ClipRun.objects.filter(pk=run.pk).update(status="running", started_at=now, done=2)
    page.locator(".run-counts").filter(has_text="2 scored, 0 failed of 4").wait_for(timeout=10_000)
    ClipRun.objects.filter(pk=run.pk).update(status="done", done=4, finished_at=now)
    page.locator(".run-status[data-status=done]").wait_for(timeout=10_000)
    page.get_by_role("link", name="Alignment view →").wait_for()  # the page reloaded itself once done
