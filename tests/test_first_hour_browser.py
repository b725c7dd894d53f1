"""The operator's and the researcher's first hour (issue 15), in real headless Chromium against real
server processes sharing the test database (PostgreSQL):

- production profile (gunicorn, DEBUG off): the README's account command makes the first researcher,
  `/healthz` answers a probe whatever its Host, she logs in and creates a study from the template;
- embedded profile (`make demo`'s: runserver with DEBUG on and one Celery worker on kombu's filesystem
  transport): "Start the run" returns at once and the run page's bar reaches 100%; the alignment view
  of the demo fits 1366×900 and 390×844, its confusion matrices draw every label inside the SVG, and the
  exported HTML report, opened from disk, draws the same charts per dimension.

Screenshots go to $ARTALIGN_SCREENSHOTS (when set; none are taken otherwise).
"""
import io
import json
import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from alignment.figures import KINDS
from annotations.models import Study
from bench.server import free_port, server_env, server_stop, server_wait
from tests.conftest import PROJECT_ROOT, require
from tests.servers import gunicorn_serving, server_database_url

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.filterwarnings("ignore::ResourceWarning")]

# Every element's box, except inside a table's scroll box, within the viewport; the page itself does
# not scroll sideways. Returns what sticks out (empty: it fits).
OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  const page = document.documentElement.scrollWidth;
  if (page > width) out.push(`page scrolls sideways: ${page} > ${width}`);
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.table-box') && !el.classList.contains('table-box')) continue;
    if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const name = `${el.tagName.toLowerCase()}#${el.id}.${el.className.baseVal ?? el.className}`;
    if (r.left < -0.5 || r.right > width + 0.5) out.push(`${name}: ${Math.round(r.left)}..${Math.round(r.right)}`);
  }
  return out;
}"""

# Each text of each confusion matrix against its SVG's box: the labels that are not wholly inside.
LABELS_OUTSIDE_JS = """() => {
  const out = [];
  for (const svg of document.querySelectorAll('#confusions svg')) {
    const box = svg.getBoundingClientRect();
    for (const t of svg.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5)
        out.push(t.textContent);
    }
  }
  return out;
}"""


# The charts of alignment/figures.py (other report sections draw their own, checked by their tests).
OUR_CHARTS = ", ".join(f"figure.chart-figure[data-kind={kind}]" for kind in KINDS)
SCROLLING_TABLES_JS = ("() => [...document.querySelectorAll('.table-box')]"
                       ".filter(b => b.scrollWidth > b.clientWidth + 1).length")


def _log_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Studies").wait_for()


def _probe(base: str, host: str) -> tuple[int, dict]:
    request = urllib.request.Request(f"{base}/healthz", headers={"Host": host})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def test_a_new_operator_creates_the_first_researcher_who_logs_in_and_creates_a_study(
        chromium, transactional_db, tmp_path, collected_static, settings, shots):
    require(connection.vendor == "postgresql", "the server shares the test database: set DATABASE_URL to PostgreSQL")
    env = {**server_env(settings.MEDIA_ROOT, tmp_path / "var", collected_static), "CELERY_BROKER_URL": "",
           "DATABASE_URL": server_database_url(), "ALLOWED_HOSTS": "artalign.example.org,127.0.0.1"}
    # The README's deployment section: the account (password from the environment), then a first study.
    made = subprocess.run([sys.executable, "manage.py", "create_researcher", "--username", "alice", "--email",
                           "alice@example.org", "--admin"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env={**env, "RESEARCHER_PASSWORD": "a-long-Password-42"})
    assert made.returncode == 0, made.stderr
    assert "created researcher and admin 'alice'" in made.stdout
    again = subprocess.run([sys.executable, "manage.py", "create_researcher", "--username", "alice"],
                           cwd=PROJECT_ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                           env={**env, "RESEARCHER_PASSWORD": "another-long-Password-43"})
    assert again.returncode != 0 and "exists already" in again.stderr
    subprocess.run([sys.executable, "manage.py", "create_study", "--template", "clip-art-perception", "--slug",
                    "first-study", "--owner", "alice"], cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)

    with gunicorn_serving(tmp_path, collected_static, settings.MEDIA_ROOT, DATABASE_URL=server_database_url(),
                          ALLOWED_HOSTS="artalign.example.org,127.0.0.1") as base:
        for host in ("10.0.0.7", "localhost", "10.0.0.7:8000"):  # a load balancer's or container's probe
            assert _probe(base, host) == (200, {"database": "ok"}), host
        page = chromium.new_context(viewport={"width": 1366, "height": 900}).new_page()
        page.goto(f"{base}/accounts/login/")
        assert page.locator(".login button").evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(138, 59, 18)"
        _log_in(page, base, "alice", "a-long-Password-42")
        row = page.locator("#study-list tbody tr").filter(has_text="first-study")
        assert [" ".join(cell.split()) for cell in row.locator("td").all_inner_texts()[1:5]] == [
            "Draft", "0", "0 / 0", "0% 5 people per artwork"]
        page.get_by_role("link", name="New study").click()
        page.get_by_label("Slug").fill("her-second-study")
        page.get_by_label("Template").select_option("clip-art-perception")
        page.get_by_role("button", name="Create study").click()
        page.get_by_role("heading", name="Does CLIP perceive art the way we do?").wait_for()
        page.goto(f"{base}/studies/")
        assert page.locator("#study-list tbody tr").count() == 2
        shots.take(page, "study-list.jpg", type="jpeg", quality=70, full_page=True)
    assert Study.objects.get(slug="her-second-study").owner.username == "alice"


@contextmanager
def embedded_serving(tmp_path: Path, var_dir: Path, media_root: Path):
    """`make demo`'s processes: runserver (DEBUG on) and one Celery worker on the filesystem transport,
    both on the test database; yields the base URL."""
    env = {**os.environ, "DEBUG": "true", "DATABASE_URL": server_database_url(), "VAR_DIR": str(var_dir),
           "MEDIA_ROOT": str(media_root), "CELERY_BROKER_URL": "filesystem://",
           "CELERY_BROKER_FOLDER": str(tmp_path / "broker"), "CLIP_MODEL": "artalign/tiny-clip",
           "DJANGO_SETTINGS_MODULE": "config.settings"}
    port = free_port()
    with (tmp_path / "worker.log").open("w") as log:
        worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default,clip",
                                   "-c", "1", "--prefetch-multiplier", "1", "-n", f"demo-{port}@%h", "-l", "warning"],
                                  cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    with (tmp_path / "web.log").open("w") as log:
        web = subprocess.Popen([sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                               cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        server_wait(base, web, timeout=60)
        yield base
    finally:
        server_stop(web)
        server_stop(worker)


def test_the_embedded_profile_runs_clip_on_its_worker_and_the_alignment_view_fits_a_laptop_and_a_phone(
        chromium, transactional_db, clip_cache, tmp_path, settings, shots):
    require(connection.vendor == "postgresql", "the servers share the test database: set DATABASE_URL to PostgreSQL")
    from alignment.reports import ReportOptions, report_create

    with override_settings(DEBUG=True, VAR_DIR=tmp_path / "var"):  # the demo's login exists only with DEBUG
        call_command("seed_demo", "--no-clip", stdout=io.StringIO())
    study = Study.objects.get(slug="demo")
    with embedded_serving(tmp_path, clip_cache, settings.MEDIA_ROOT) as base:
        page = chromium.new_context(viewport={"width": 1366, "height": 900}).new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(error))
        _log_in(page, base, "demo", "demo")
        page.goto(f"{base}/studies/demo/clip/")
        assert page.get_by_label("Model").input_value() == "artalign/tiny-clip"  # the offline stand-in by default
        started = time.monotonic()
        page.get_by_role("button", name="Start the run").click()
        page.wait_for_url("**/clip/*/")
        page.locator(".run-status").wait_for()
        assert time.monotonic() - started < 1.0, "starting a run waited for the run"
        page.locator(".run-status[data-status=done]").wait_for(timeout=90_000)
        assert float(page.locator("#run-progress [role=progressbar]").get_attribute("aria-valuenow")) == 100
        assert "24 scored, 0 failed of 24" in page.locator(".run-counts").inner_text()

        page.goto(f"{base}/studies/")
        row = page.locator("#study-list tbody tr").filter(has_text="demo")
        assert " ".join(row.locator("td").nth(2).inner_text().split()) == "24"  # the demo's artworks
        shots.take(page, "study-list-demo.jpg", type="jpeg", quality=70, full_page=True)

        report = report_create(study, ReportOptions(n_boot=50, min_stratum_items=4))
        keys = list(report.content["dimensions"])
        charts = {}
        for key in keys:  # the alignment view's charts per dimension, at 1366×900
            page.goto(f"{base}/studies/demo/alignment/?dimension={key}")
            charts[key] = page.locator(OUR_CHARTS).evaluate_all("figures => figures.map(f => f.dataset.kind)")
            assert page.evaluate(OVERFLOW_JS) == [], key
            assert page.evaluate(LABELS_OUTSIDE_JS) == [], key
            assert page.evaluate(SCROLLING_TABLES_JS) == 0, key  # at 1366 px every table fits its box
        assert charts["style"].count("confusion") == 1 and charts["content"].count("confusion") > 1
        page.goto(f"{base}/studies/demo/alignment/?dimension=style")
        page.evaluate("() => document.querySelectorAll('img[loading=lazy]').forEach(img => { img.loading = 'eager'; })")
        page.wait_for_load_state("networkidle")
        shots.take(page, "alignment-1366.jpg", type="jpeg", quality=70, full_page=True)

        phone = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
        _log_in(phone, base, "demo", "demo")
        for key in ("style", "period", "content"):
            phone.goto(f"{base}/studies/demo/alignment/?dimension={key}")
            assert phone.evaluate(OVERFLOW_JS) == [], key
        phone.goto(f"{base}/studies/demo/alignment/?dimension=style")
        shots.take(phone, "alignment-390.jpg", type="jpeg", quality=70, full_page=True)

        # The exported report, opened from disk: the same charts, dimension by dimension.
        exported = page.request.get(f"{base}/studies/demo/exports/report-html/")
        assert exported.ok
        (tmp_path / "report.html").write_bytes(exported.body())
        page.goto((tmp_path / "report.html").as_uri())
        on_disk = page.evaluate("""charts => Object.fromEntries([...document.querySelectorAll('section.dimension')].map(
            s => [s.dataset.dimension, [...s.querySelectorAll(charts)].map(f => f.dataset.kind)]))""", OUR_CHARTS)
        assert on_disk == charts
        assert page.evaluate(LABELS_OUTSIDE_JS.replace("#confusions svg", "figure[data-kind=confusion] svg")) == []
        assert errors == []
