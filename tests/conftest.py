"""Shared fixtures: the cast (owner, outsider), the real data folders, and service requirements.

Under CI (`CI=true`, set by .ci/run) a missing service or data folder is a failure, not a skip.
"""
import fcntl
import io
import os
import warnings
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.management import call_command
from django.db import transaction

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ARTALIGN_SHARED", PROJECT_ROOT.parent / "shared"))
UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def worker_redis_url(second: bool = False) -> str:
    """TEST_REDIS_URL moved to this pytest-xdist worker's own Redis databases, so that workers never
    share one: worker i has the URL's database minus 2i (a broker's, which `redis_url()` empties) and,
    with `second`, the one below it (a cache's). "" when TEST_REDIS_URL is not set."""
    url = os.environ.get("TEST_REDIS_URL", "")
    if not url:
        return ""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdecimal() else 0
    parts = urlsplit(url)
    db = (int(parts.path.strip("/") or 0) - 2 * index - int(second)) % 16
    return urlunsplit(parts._replace(path=f"/{db}"))


_turn_held = False  # this worker holds its turn (a test or a fixture's set-up); set-ups nest


@contextmanager
def _locked(path: Path, mode: int):
    with path.open("a") as handle:
        fcntl.flock(handle, mode)  # let go when the file closes
        yield


@contextmanager
def _turn(run: Path | None, alone: bool = False):
    """This worker's turn on the machine (see xdist_turns); nothing when not under pytest-xdist."""
    global _turn_held
    if run is None or _turn_held:
        yield
        return
    with ExitStack() as held:
        if alone:
            held.enter_context(_locked(run / "gate.lock", fcntl.LOCK_EX))
            held.enter_context(_locked(run / "machine.lock", fcntl.LOCK_EX))
        else:
            with _locked(run / "gate.lock", fcntl.LOCK_EX):
                held.enter_context(_locked(run / "machine.lock", fcntl.LOCK_SH))
        _turn_held = True
        try:
            yield
        finally:
            _turn_held = False


def _run_folder(config) -> Path | None:
    """The folder the workers of this pytest-xdist run share (None when not under xdist)."""
    basetemp = getattr(config.option, "basetemp", None)
    return Path(basetemp).parent if os.environ.get("PYTEST_XDIST_WORKER") and basetemp else None


LONG_MARKERS = ("browser", "services", "alone", "long")


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist a file runs on one worker and the files are handed out in collection order:
    the long ones (real processes, browsers, timed tests, or marked `long`) go first, so that the run
    does not end with one worker still busy on one of them while the other has nothing left."""
    long_files = {item.path for item in items if any(item.get_closest_marker(m) for m in LONG_MARKERS)}
    items.sort(key=lambda item: item.path not in long_files)  # stable: each file's own order is kept


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """A fixture built once per session or module (a test database, module data) is work too: it takes
    a turn like a test, so that an `alone` test never runs beside it."""
    if fixturedef.scope == "function":
        return (yield)
    with _turn(_run_folder(request.config)):
        return (yield)


@pytest.fixture(autouse=True)
def xdist_turns(request):
    """What the pytest-xdist workers (`make test`: -n auto --dist loadfile) take turns at. A test marked
    `alone` (it measures response times) runs while no other test does: it takes the gate, so no test
    starts meanwhile, then waits for the running ones. Each worker has its own test database
    (pytest-django), which the servers and workers it starts use (tests/servers.py: server_database_url),
    and its own Redis databases (`worker_redis_url`)."""
    with _turn(_run_folder(request.config), alone=request.node.get_closest_marker("alone") is not None):
        yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, and before it is dropped, any connection to it still open (a
    test's thread or a server process that did not close its own) is ended and named in a warning:
    PostgreSQL would wait 5 s for it and then refuse to drop the database."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT pid, application_name, state, left(query, 120) FROM pg_stat_activity"
                       " WHERE datname = current_database() AND pid <> pg_backend_pid()")
        for pid, *seen in cursor.fetchall():
            warnings.warn(f"a connection to the test database was left open: {seen}", stacklevel=1)
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    connection.close()


@pytest.fixture(scope="module")
def module_db(django_db_setup, django_db_blocker):
    """For data built once per test module and only read by its tests: module-scoped fixtures that
    take this one write inside a transaction that stays open for the module and is rolled back at
    its end. Each test's own transaction (`db`) is a savepoint inside it, so what a test writes is
    gone for the next. For `db` tests only: another connection (a transactional test, a server or
    worker process) never sees this data."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)


def require(condition: bool, reason: str) -> None:
    """Skip on a user's machine without the thing; fail under CI, where it must be there."""
    if condition:
        return
    if UNDER_CI:
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def shared_artworks() -> Path:
    folder = SHARED / "artworks"
    require((folder / "manifest.csv").is_file(), f"the real artwork set is not at {folder}")
    return folder


@pytest.fixture(scope="session")
def realdata() -> Path:
    folder = SHARED / "realdata" / "ai-pastiche-nga"
    require((folder / "ai_pastiche.parquet").is_file(), f"the AI-Pastiche/NGA data is not at {folder}")
    return folder


@pytest.fixture(scope="session")
def clip_cache(tmp_path_factory) -> Path:
    """A folder holding the tiny stand-in CLIP, built once per test session (use as VAR_DIR)."""
    from clipworker.tiny import build_tiny_clip

    cache = tmp_path_factory.mktemp("clip-cache")
    build_tiny_clip(cache / "tiny-clip")
    return cache


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Every test writes images into its own folder, never into the project's."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture(autouse=True)
def throttle_counts_cleared():
    """Request counts (the annotator site's rates) start from zero in every test: all its clients share 127.0.0.1."""
    from django.core.cache import cache

    cache.clear()


def perception_study(slug: str = "perception"):
    """The `study` fixture's study (the clip-art-perception template), for module-scoped data too."""
    from annotations.studies import study_create, study_template_load

    return study_create(study_template_load("clip-art-perception"), slug, template="clip-art-perception")


def researcher(name: str):
    """A researcher's account: `name`, password `<name>-pass-1` (the cast's owner, outsider, viewer)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(name, password=f"{name}-pass-1")


@pytest.fixture
def rates(settings):
    """Set some of the annotator site's rates for this test."""
    def set_rates(**rates):
        framework = settings.REST_FRAMEWORK
        settings.REST_FRAMEWORK = {**framework,
                                   "DEFAULT_THROTTLE_RATES": {**framework["DEFAULT_THROTTLE_RATES"], **rates}}
    return set_rates


@pytest.fixture
def study(db):
    return perception_study()


@pytest.fixture
def owner(db):
    return researcher("owner")


@pytest.fixture
def outsider(db):
    return researcher("outsider")


@pytest.fixture(scope="module")
def demo_seeded(module_db, tmp_path_factory) -> Path:
    """The demo study, seeded once per test module (module_db); returns its folder (media, var)."""
    from django.test import override_settings

    folder = tmp_path_factory.mktemp("demo")
    # DEBUG: the demo's known login exists only in the embedded (DEBUG) mode.
    with override_settings(DEBUG=True, VAR_DIR=folder / "var", MEDIA_ROOT=folder / "media"):
        call_command("seed_demo", "--no-clip", stdout=io.StringIO())
    return folder


@pytest.fixture
def demo_study(demo_seeded, db, settings):
    from annotations.models import Study

    settings.MEDIA_ROOT = demo_seeded / "media"  # the demo's images, read only
    return Study.objects.get(slug="demo")


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory) -> Path:
    """collectstatic once per test session, for servers started with DEBUG off (manifest storage)."""
    from bench.server import server_env, static_collect

    root = tmp_path_factory.mktemp("static")
    static_collect(server_env(root / "media", root / "var", root))
    return root


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture
def chromium(monkeypatch):
    """Debian's headless Chromium, driven by Playwright."""
    require(CHROMIUM.exists(), "Debian's chromium is not installed at /usr/bin/chromium")
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in the test's thread, where the test also queries the
    # database: allowed for this test only (a variable left set would reach subprocesses, e.g. check --deploy).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
    connections.close_all()  # the test body's queries ran beside Playwright's loop, on their own connection


@contextmanager
def requests_held(page, pattern: str):
    """The page's requests for URLs matching `pattern` held back, as on a slow connection, until the
    block ends (at least one must have been made by then); later ones go through at once."""
    held: list = []

    def hold(route):
        held.append(route) if held[-1:] != [None] else route.continue_()
    page.route(pattern, hold)
    yield
    for _ in range(500):  # ten seconds at most
        if held:
            break
        page.wait_for_timeout(20)
    assert held, f"the page asked for nothing matching {pattern}"
    for route in held:
        route.continue_()
    held.append(None)


IMAGES_LOADED_JS = "selector => [...document.querySelectorAll(selector)].every(img => img.naturalWidth > 0)"


class Shots:
    """A browser test's screenshots, taken into $ARTALIGN_SCREENSHOTS when it is set (to look at) and
    not at all otherwise: a full-page capture costs about half a second, and nobody looks at a tmp folder."""

    def __init__(self, folder: str):
        self.folder = Path(folder) if folder else None
        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)

    def take(self, target, name: str, **options) -> Path | None:
        """`target` (a page or a locator) saved as `name`; returns the file, None when not taken."""
        if self.folder is None:
            return None
        target.screenshot(path=self.folder / name, **options)
        return self.folder / name


@pytest.fixture
def shots() -> Shots:
    return Shots(os.environ.get("ARTALIGN_SCREENSHOTS", ""))
