"""Load benchmark of the annotator site: simulated participants run whole sessions over HTTP.

    .venv/bin/python -m bench.load [--annotators 50] [--duration 30] [--pause 0]
        [--artworks 200] [--workers 4] [--threads 1] [--no-images] [--image-dir DIR|none]
        [--url http://127.0.0.1:8000] [--keep]

Needs DATABASE_URL pointing at a PostgreSQL database it may write to (use a scratch one: the
benchmark migrates it, adds a study `loadbench-<time>` and deletes that study afterwards unless
--keep). It starts gunicorn on a free loopback port with the production profile (bench.server: DEBUG
off, static files collected into a temporary folder, plain HTTP since it is loopback), or targets
--url, a server on the same database. Each simulated annotator opens the study's link with Prolific's
parameters, consents, reads the instructions, answers the questionnaire, then judges artwork after
artwork with the POST the judging page's script sends (every dimension of one artwork per request;
attention checks answered as instructed), then starts over as a new participant. As a browser does,
it fetches each artwork's display image (the session's WebP derivative, served under the assignment's
id) before answering; the artworks' images are the real paintings of ../shared/artworks/images (up
to 768 px, re-encoded as derivatives by the same code as an import), used in turn. Before each POST
(each step and each submission) it waits a random pause (exponential, mean --pause seconds; 0:
none), and with a pause the annotators arrive spread over the first --pause seconds. It stops
itself after --duration seconds: no new request starts after that, and requests in flight finish.

It prints submissions and judgements per second, each request kind's latency percentiles (entry,
steps, the judging page, image, submission, completion) and errors, the SQL statements each kind
costs (one more session sent in this process after the run, with the server's settings), then reads
the database: every judgement acknowledged (2xx) is stored, nothing else is,
there is no duplicate, no participant had an artwork twice, and artwork loads (judged or held)
differ by at most one. The exit status is 1 if any of these fails, or if any request failed.

It also prints where the CPU went per submission (gunicorn's processes, the database's backends,
this client; Linux /proc; a database connection that closed during the run, e.g. at DB_CONN_MAX_AGE,
takes its CPU time with it) and how busy the machine was, including other people's processes: the
rates are only comparable between runs on an otherwise idle machine. Before the run it times 150
single-row commits, apart from the application: the disk's flush is part of every request that
stores something, and on a disk with slow flushes it sets the tail latency of those requests.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import io
import os
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.server import free_port, gunicorn_start, server_env, server_stop, server_wait, static_collect

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ARTWORK_RE = re.compile(r'<input type="hidden" name="artwork" value="(\d+)">')
FIELDSET_RE = re.compile(r'<fieldset class="question kind-(\w+)( follow-up)?" data-question="([^"]+)"'
                         r'(?: data-for="([^"]+)" data-when="([^"]*)")?>(.*?)</fieldset>', re.S)
INPUT_RE = re.compile(r'<input type="(?:radio|checkbox)" name="([^"]+)" value="([^"]*)"')
INSTRUCTION_RE = re.compile(r'<p class="instruction">[^<]*?(?:choose|tick only) (?:\u201c(.*?)\u201d|(\d+))\.</p>')
IMAGE_RE = re.compile(r'<img src="([^"]+)"')
REDIRECT_RE = re.compile(r'data-redirect="([^"]+)"')


# The client ------------------------------------------------------------------------------------------
# What a browser asks for, in the order a participant meets it: the study link, the consent and
# instructions steps (each a POST and the redirect's GET), the questionnaire's POST whose redirect
# shows the judging page with the first artwork, each artwork's display image, each submission
# (answered with the next item's fragment), and the completion page.
KINDS = ("entry", "step", "judging page", "image", "submission", "completion")


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # seconds, accepted submissions only
    kinds: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in KINDS})  # seconds, 2xx
    image_bytes: int = 0
    artworks: int = 0  # accepted submissions of an artwork (not attention checks)
    checks: int = 0
    judgements: int = 0
    accepted: set = field(default_factory=set)  # (participant, artwork id) acknowledged
    errors: Counter = field(default_factory=Counter)
    other_requests: int = 0
    other_errors: Counter = field(default_factory=Counter)
    busy_reloads: int = 0  # 503 "please reload in a few seconds" at the start of judging, reloaded
    sessions_started: int = 0
    sessions_completed: int = 0


@dataclass
class Item:
    artwork: int
    form: dict[str, list[str]]
    dimensions: int
    is_check: bool
    image: str


def item_parse(page: str, rng: random.Random) -> Item | None:
    """The judging form on a page or fragment, filled with answers as a participant would."""
    artwork = ARTWORK_RE.search(page)
    if artwork is None:
        return None
    form: dict[str, list[str]] = {}
    chosen: dict[str, str] = {}
    dimensions = 0
    instruction = INSTRUCTION_RE.search(page)
    for kind, follow_up, _key, parent, when, body in FIELDSET_RE.findall(page):
        inputs = [(name, html.unescape(value)) for name, value in INPUT_RE.findall(body)]
        if not inputs:
            continue
        name = inputs[0][0]
        values = [value for _, value in inputs]
        if follow_up:
            if chosen.get(parent) != html.unescape(when):
                continue
            form[name] = [rng.choice(values)]
            continue
        dimensions += 1
        if instruction is not None:
            form[name] = [html.unescape(instruction.group(1) or instruction.group(2))]
        elif kind == "multi":
            form[name] = rng.sample(values, rng.randint(0, min(3, len(values))))
        else:
            form[name] = [rng.choice(values)]
        if form[name]:
            chosen[name] = form[name][0]
    csrf = CSRF_RE.search(page)
    form["csrfmiddlewaretoken"] = [csrf.group(1)] if csrf else []
    form["artwork"] = [artwork.group(1)]
    form["client_ms"] = [str(rng.randint(1500, 9000))]
    image = IMAGE_RE.search(page)
    return Item(int(artwork.group(1)), form, dimensions, instruction is not None, image.group(1) if image else "")


def _form_body(form: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, values in form.items() for value in values]


class Annotator:
    """One simulated participant after another, until the deadline."""

    def __init__(self, number: int, base: str, slug: str, tally: Tally, connector, deadline: float, pause: float,
                 images: bool, timeout_s: float = 30):
        self.number, self.base, self.slug, self.tally = number, base.rstrip("/"), slug, tally
        self.connector, self.deadline, self.pause, self.images = connector, deadline, pause, images
        self.rng = random.Random(number)
        self.timeout_s = timeout_s
        self.sessions = 0

    def _time_left(self) -> bool:
        return time.monotonic() < self.deadline

    async def _wait(self) -> bool:
        """The participant's pause before answering; False if the benchmark ends meanwhile."""
        if self.pause > 0:
            delay = self.rng.expovariate(1 / self.pause)
            if time.monotonic() + delay >= self.deadline:
                await asyncio.sleep(max(0.0, self.deadline - time.monotonic()))
                return False
            await asyncio.sleep(delay)
        return self._time_left()

    async def _other(self, http, kind: str, method: str, url: str, **kwargs) -> str | None:
        self.tally.other_requests += 1
        started = time.perf_counter()
        try:
            async with http.request(method, url, **kwargs) as response:
                body = await response.read()  # an image, or a page
                text = body.decode("utf-8", "replace") if response.content_type.startswith("text/") else ""
                if response.status == 503 and "reload this page" in text and self._time_left():
                    # What the page asks a person to do when many start at once: reload shortly.
                    self.tally.busy_reloads += 1
                    await asyncio.sleep(self.rng.uniform(1, 3))
                    return await self._other(http, kind, "GET", str(response.url))
                if response.status >= 400:
                    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()
                    self.tally.other_errors[f"{kind}: {method} {response.status}: {text[:100]}"] += 1
                    return None
                self.tally.kinds[kind].append(time.perf_counter() - started)
                if kind == "image":
                    if not response.content_type.startswith("image/") or not body:
                        self.tally.other_errors[f"image: {response.content_type}, {len(body)} bytes"] += 1
                        return None
                    self.tally.image_bytes += len(body)
                    return "image"
                return text
        except (TimeoutError, OSError, self._client_errors) as exc:
            self.tally.other_errors[f"{method} {type(exc).__name__}"] += 1
            return None

    async def run(self) -> None:
        import aiohttp

        self._client_errors = aiohttp.ClientError
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        if self.pause > 0:  # people arrive over time, not all in the same instant
            await asyncio.sleep(self.rng.uniform(0, self.pause))
        while self._time_left():
            self.sessions += 1
            jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1, a new participant each time
            async with aiohttp.ClientSession(connector=self.connector, connector_owner=False, cookie_jar=jar,
                                             timeout=timeout) as http:
                await self._session(http, f"bench-{self.number:03d}-{self.sessions:04d}")

    async def _session(self, http, participant: str) -> None:
        entry = f"{self.base}/s/{self.slug}/"
        page = await self._other(http, "entry", "GET", entry, params={
            "PROLIFIC_PID": participant, "STUDY_ID": "loadbench", "SESSION_ID": f"s-{participant}"})
        if page is None:
            return
        self.tally.sessions_started += 1
        for step, data in (("consent", {"choice": "agree"}), ("instructions", {}),
                           ("questionnaire", {"q-art_training": "some", "q-museum_visits": "yearly"})):
            if not await self._wait():  # a person reads each page first
                return
            csrf = CSRF_RE.search(page)
            page = await self._other(http, "judging page" if step == "questionnaire" else "step", "POST",
                                     f"{entry}{step}/",
                                     data={**data, "csrfmiddlewaretoken": csrf.group(1) if csrf else ""})
            if page is None:
                return
        judge = f"{entry}judge/"
        while (item := item_parse(page, self.rng)) is not None:
            if self.images and item.image and await self._other(http, "image", "GET",
                                                                f"{self.base}{item.image}") is None:
                return
            if not await self._wait():
                return
            started = time.perf_counter()
            try:
                async with http.post(judge, data=_form_body(item.form), headers={"X-Requested-With": "fetch"},
                                     allow_redirects=False) as response:
                    page = await response.text()
                    status = response.status
            except (TimeoutError, OSError, self._client_errors) as exc:
                self.tally.errors[type(exc).__name__] += 1
                return
            if status >= 300:
                self.tally.errors[f"HTTP {status}: {page[:80]}"] += 1
                return
            self.tally.latencies.append(time.perf_counter() - started)
            self.tally.kinds["submission"].append(self.tally.latencies[-1])
            if item.is_check:
                self.tally.checks += 1
            else:
                self.tally.artworks += 1
                self.tally.judgements += item.dimensions
                self.tally.accepted.add((participant, item.artwork))
        redirect = REDIRECT_RE.search(page)
        if redirect and self._time_left():
            done = await self._other(http, "completion", "GET", f"{self.base}{html.unescape(redirect.group(1))}")
            if done is not None and 'id="completion-code"' in done:
                self.tally.sessions_completed += 1


async def annotators_run(base: str, slug: str, annotators: int, duration: float, pause: float,
                         images: bool) -> tuple[Tally, float]:
    import aiohttp

    tally = Tally()
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    started = time.monotonic()
    deadline = started + duration
    try:
        await asyncio.gather(*(Annotator(n, base, slug, tally, connector, deadline, pause, images).run()
                               for n in range(annotators)))
    finally:
        await connector.close()
    return tally, time.monotonic() - started


# Where the CPU went -----------------------------------------------------------------------------------
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (Linux /proc), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def machine_busy_s() -> float:
    """CPU seconds every core of the machine spent busy (all processes, anyone's)."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / CLOCK_TICKS


@dataclass
class CpuMeter:
    """CPU seconds spent by gunicorn (master and workers), the database's backends and this client."""
    server_pid: int | None
    start: dict = field(default_factory=dict)

    def _database_pids(self) -> list[int]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid()")
            pids = [row[0] for row in cursor.fetchall()]
        connection.close()
        return pids

    def read(self) -> dict:
        server = [self.server_pid, *children(self.server_pid)] if self.server_pid else []
        return {"server": {pid: process_cpu_s(pid) for pid in server},
                "database": {pid: process_cpu_s(pid) for pid in self._database_pids()},
                "client": sum(os.times()[:2]), "machine": machine_busy_s(), "at": time.monotonic()}

    def begin(self) -> None:
        self.start = self.read()

    def spent(self) -> dict:
        end = self.read()
        used = {"client": end["client"] - self.start["client"]}
        for part in ("server", "database"):
            used[part] = sum(cpu - self.start[part].get(pid, 0.0) for pid, cpu in end[part].items())
        used["machine"] = end["machine"] - self.start["machine"]
        used["wall"] = end["at"] - self.start["at"]
        return used


def commit_latency(commits: int = 150, gap: float = 0.02) -> list[float]:
    """Milliseconds of `commits` one-row inserts, each its own transaction whose WAL PostgreSQL flushes
    to disk before answering (as every stored answer's): the disk's part of any request that stores
    something, measured apart from the application (a scratch table, dropped afterwards)."""
    from django.db import connection

    times = []
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_commit_probe (at timestamptz)")
        try:
            for _ in range(commits):
                started = time.perf_counter()
                cursor.execute("INSERT INTO bench_commit_probe VALUES (now())")  # autocommit: one commit each
                times.append((time.perf_counter() - started) * 1000)
                time.sleep(gap)
        finally:
            cursor.execute("DROP TABLE bench_commit_probe")
    return sorted(times)


def server_settle(process: subprocess.Popen, workers: int, timeout: float = 60) -> None:
    """Wait until every worker has booted (its CPU time stops growing), so boot is not counted."""
    deadline, last = time.monotonic() + timeout, -1.0
    while time.monotonic() < deadline:
        pids = children(process.pid)
        total = sum(process_cpu_s(pid) for pid in pids)
        if len(pids) >= workers and total - last < 0.02:
            return
        last = total
        time.sleep(0.5)


def server_warm(base: str, slug: str, requests: int) -> None:
    """A few requests for the study's page before the clock starts, so that each worker's first
    request (URLs, templates and code loaded on first use) is not counted: the link without a
    participant id, which answers 400 "who are you?" and writes nothing."""
    import urllib.error
    import urllib.request

    for _ in range(requests):
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(f"{base}/s/{slug}/", timeout=30).close()


# The study ------------------------------------------------------------------------------------------
SHARED_ARTWORKS = Path(__file__).resolve().parents[2] / "shared" / "artworks" / "images"


def image_sources(folder: Path | None) -> list[tuple[str, bytes]]:
    """(name, bytes) of the real paintings in `folder` (JPEG, PNG or WebP), or, without a folder, small
    generated images (--image-dir none: the cost of the path without real image sizes)."""
    if folder is None:
        from PIL import Image

        rng = random.Random(0)
        made = []
        for i in range(16):
            buffer = io.BytesIO()
            Image.new("RGB", (48, 36), tuple(rng.randrange(256) for _ in range(3))).save(buffer, "PNG")
            made.append((f"generated-{i:02d}.png", buffer.getvalue()))
        return made
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"))
    if not files:
        raise SystemExit(f"no images (.jpg, .png, .webp) in {folder}")
    return [(p.name, p.read_bytes()) for p in files]


def study_make(artworks: int, items: int, sources: list[tuple[str, bytes]]):
    """An open study from the template with `artworks` artworks, their images taken in turn from
    `sources`, with their dimensions read as an import reads them (an Artwork loaded without them
    opens its file to read them), each with its display derivative and thumbnail made as an import
    makes them (an image used by several artworks is re-encoded once: derivatives are stored by
    content)."""
    from django.conf import settings
    from django.core.files.base import ContentFile

    from annotations.derivatives import artwork_derivatives_attach
    from annotations.images import inspect_image
    from annotations.models import Artwork, Study
    from annotations.studies import study_create, study_template_load

    slug = f"loadbench-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
    study = study_create(study_template_load("clip-art-perception"), slug, template="clip-art-perception")
    Study.objects.filter(pk=study.pk).update(status=Study.Status.OPEN, items_per_session=items,
                                             completion_code="BENCH", title="Load benchmark")
    derived: dict[int, tuple[str, str]] = {}  # source -> (display image, thumbnail) names
    infos = [inspect_image(data, max_pixels=settings.IMPORT_MAX_IMAGE_PIXELS) for _, data in sources]
    for i in range(artworks):
        name, data = sources[i % len(sources)]
        artwork = Artwork(study=study, external_id=f"bench-{i:04d}", title=f"Bench {i}")
        artwork.image.save(f"bench-{i:04d}{Path(name).suffix.lower()}", ContentFile(data), save=False)
        artwork.width, artwork.height = infos[i % len(sources)].width, infos[i % len(sources)].height
        if i % len(sources) not in derived:
            artwork_derivatives_attach(artwork, data)
            derived[i % len(sources)] = (artwork.display_image.name, artwork.thumbnail.name)
        artwork.display_image.name, artwork.thumbnail.name = derived[i % len(sources)]
        artwork.save()
    study.refresh_from_db()
    return study


def study_verify(study, tally: Tally) -> list[tuple[str, bool]]:
    """What the database holds against what the server acknowledged: (line, ok) pairs."""
    from django.db.models import Count
    from django.utils import timezone

    from annotations.assignment import artwork_loads
    from annotations.models import Assignment, AttentionCheck, Judgement

    judgements = Judgement.objects.filter(artwork__study=study)
    stored = judgements.count()
    duplicates = (judgements.values("participant", "artwork", "dimension").annotate(n=Count("id"))
                  .filter(n__gt=1).count())
    stored_pairs = set(judgements.values_list("participant__external_id", "artwork_id").distinct())
    lost = tally.accepted - stored_pairs
    unacknowledged = stored_pairs - tally.accepted
    checks = AttentionCheck.objects.filter(participant__study=study, answered_at__isnull=False).count()
    twice = (Assignment.objects.filter(session__study=study).values("session", "artwork").annotate(n=Count("id"))
             .filter(n__gt=1).count())
    loads = artwork_loads(list(study.artworks.values_list("id", flat=True)), timezone.now())
    low, high = min(loads.values()), max(loads.values())
    return [
        (f"judgements stored {stored}, acknowledged {tally.judgements}", stored == tally.judgements),
        (f"artworks acknowledged but not stored: {len(lost)}; stored but not acknowledged: {len(unacknowledged)}",
         not lost and not unacknowledged),
        (f"duplicate judgements (participant, artwork, dimension): {duplicates}", duplicates == 0),
        (f"attention-check answers stored {checks}, acknowledged {tally.checks}", checks == tally.checks),
        (f"participants given an artwork twice: {twice}", twice == 0),
        (f"artwork loads (judged or held) from {low} to {high}: differ by {high - low}", high - low <= 1),
    ]


def queries_per_request(slug: str) -> str:
    """SQL statements per request kind over one participant's whole session, sent in this process
    through Django's test client with the server's settings (after the timed run, so that it counts
    nothing of it): what each request costs the database, independent of load."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    counts: dict[str, list[int]] = {kind: [] for kind in KINDS}

    def call(kind: str, method: str, url: str, data=None, **extra):
        with CaptureQueriesContext(connection) as queries:
            response = getattr(client, method)(url, data, **extra)
        counts[kind].append(len(queries))
        return response.content.decode("utf-8", "replace") if response["Content-Type"].startswith("text/") else ""

    entry, rng = f"/s/{slug}/", random.Random(-1)
    page = call("entry", "get", entry, {"PROLIFIC_PID": "bench-queries", "STUDY_ID": "loadbench",
                                        "SESSION_ID": "s-bench-queries"})
    for step, data in (("consent", {"choice": "agree"}), ("instructions", {}),
                       ("questionnaire", {"q-art_training": "some", "q-museum_visits": "yearly"})):
        page = call("judging page" if step == "questionnaire" else "step", "post", f"{entry}{step}/", data,
                    follow=True)
    while (item := item_parse(page, rng)) is not None:
        if item.image:
            call("image", "get", item.image)
        page = call("submission", "post", f"{entry}judge/", item.form, HTTP_X_REQUESTED_WITH="fetch")
    if redirect := REDIRECT_RE.search(page):
        call("completion", "get", html.unescape(redirect.group(1)))
    connection.close()
    parts = []
    for kind, numbers in counts.items():
        if numbers:
            low, high = min(numbers), max(numbers)
            parts.append(f"{kind} {low}" if low == high else
                         f"{kind} {low}-{high} (mean {statistics.fmean(numbers):.1f})")
    return "SQL statements per request (one whole session, in this process): " + ", ".join(parts)


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def report(args, tally: Tally, elapsed: float, server: str, cpu: dict, checks: list[tuple[str, bool]],
           queries: str, commits: list[float]) -> bool:
    lat = sorted(x * 1000 for x in tally.latencies)
    submissions = tally.artworks + tally.checks
    errors = sum(tally.errors.values())
    print(f"server: {server}")
    print(f"annotators {args.annotators}, duration {elapsed:.1f} s, mean pause {args.pause:g} s, "
          f"images fetched: {'yes' if args.images else 'no'} ({args.image_dir})")
    print(f"sessions: {tally.sessions_started} started, {tally.sessions_completed} completed")
    print(f"submissions: {submissions} accepted ({tally.artworks} artworks, {tally.checks} attention checks), "
          f"{errors} errors")
    print(f"rate: {tally.artworks / elapsed:.1f} artwork submissions/s, {submissions / elapsed:.1f} submissions/s, "
          f"{tally.judgements / elapsed:.1f} judgements/s")
    print("latency by request kind, ms (answered 2xx; a step or the judging page is a POST and its redirect):")
    print(f"  {'kind':<13} {'count':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}")
    for kind in KINDS:
        times = sorted(x * 1000 for x in tally.kinds[kind])
        if times:
            print(f"  {kind:<13} {len(times):>7} {percentile(times, 50):7.1f} {percentile(times, 95):7.1f} "
                  f"{percentile(times, 99):7.1f} {times[-1]:7.1f}")
    if lat:
        print(f"submission latency ms: p50 {percentile(lat, 50):.1f}  p95 {percentile(lat, 95):.1f}  "
              f"p99 {percentile(lat, 99):.1f}  max {lat[-1]:.1f}  mean {statistics.fmean(lat):.1f}")
    for reason, n in tally.errors.most_common():
        print(f"  submission error x{n}: {reason}")
    if tally.kinds["image"]:
        fetched = len(tally.kinds["image"])
        print(f"images: {fetched} fetched, mean {tally.image_bytes / fetched / 1024:.0f} KiB, "
              f"{tally.image_bytes * 8 / elapsed / 1e6:.1f} Mbit/s")
    kinds = "entry, consent, instructions, questionnaire, completion" + (", images" if args.images else "")
    print(f"other requests ({kinds}): {tally.other_requests}, errors {sum(tally.other_errors.values())}")
    if tally.busy_reloads:
        print(f"  503 'many people are starting, please reload' at the start of judging: {tally.busy_reloads}, "
              f"reloaded after 1-3 s as the page asks")
    for reason, n in tally.other_errors.most_common():
        print(f"  other error x{n}: {reason}")
    if submissions:
        per = {part: 1000 * cpu[part] / submissions for part in ("server", "database", "client")}
        print(f"CPU per submission (ms, all requests of the run counted): web {per['server']:.1f}, "
              f"database {per['database']:.1f}, client {per['client']:.1f}")
    print(queries)
    print(f"database commit alone (one-row insert, WAL flushed to disk; {len(commits)} before the run), ms: "
          f"p50 {percentile(commits, 50):.1f}  p99 {percentile(commits, 99):.1f}  max {commits[-1]:.1f}"
          " (the disk's share of every request that stores something)")
    cores = os.cpu_count() or 1
    ours = cpu["server"] + cpu["database"] + cpu["client"]
    print(f"machine: {cores} cores busy {100 * cpu['machine'] / (cores * cpu['wall']):.0f}% during the run, "
          f"other processes {100 * max(0.0, cpu['machine'] - ours) / (cores * cpu['wall']):.0f}%")
    ok = errors == 0 and not tally.other_errors
    for line, passed in checks:
        print(f"check: {line}: {'ok' if passed else 'FAILED'}")
        ok = ok and passed
    print(f"RESULT: {'ok' if ok else 'FAILED'}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--annotators", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds (default 30)")
    parser.add_argument("--pause", type=float, default=0.0, help="mean pause before each submission, seconds")
    parser.add_argument("--artworks", type=int, default=200)
    parser.add_argument("--items", type=int, default=20, help="artworks per session (default 20)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker; > 1 uses gthread workers")
    parser.add_argument("--images", action=argparse.BooleanOptionalAction, default=True,
                        help="fetch each item's display image, as a browser does (default; --no-images: not)")
    parser.add_argument("--image-dir", default=str(SHARED_ARTWORKS),
                        help="the artworks' images, used in turn (default: the real paintings in "
                             "../shared/artworks/images); 'none': small generated images")
    parser.add_argument("--url", default="", help="target this running server (same DATABASE_URL) instead")
    parser.add_argument("--keep", action="store_true", help="keep the study and its rows afterwards")
    args = parser.parse_args(argv)
    if args.annotators < 1 or args.duration <= 0 or args.pause < 0:
        parser.error("--annotators >= 1, --duration > 0 and --pause >= 0")

    scratch = Path(tempfile.mkdtemp(prefix="artalign-loadbench-"))
    media_root = Path(os.environ["MEDIA_ROOT"]) if args.url and os.environ.get("MEDIA_ROOT") else scratch / "media"
    env = server_env(media_root, scratch / "var", scratch / "static")
    # This process reads and writes the database with the server's settings (DEBUG off, loopback
    # hosts, the benchmark's rates), so that its count of statements per request is the server's.
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        parser.error("set DATABASE_URL to a scratch PostgreSQL database (e.g. postgres://postgres@127.0.0.1/bench)")
    process = None
    study = None
    try:
        call_command("migrate", verbosity=0)
        commits = commit_latency()
        sources = image_sources(None if args.image_dir == "none" else Path(args.image_dir))
        study = study_make(args.artworks, args.items, sources)
        connection.close()
        if args.url:
            base, server = args.url.rstrip("/"), f"{args.url} (started elsewhere)"
            static_collect(env)  # for the statement count, made in this process
        else:
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            process = gunicorn_start(env, port, args.workers, args.threads, scratch / "gunicorn.log")
            kind = f"gthread x{args.threads}" if args.threads > 1 else "sync"
            server = f"gunicorn {args.workers} {kind} workers on {base}, DEBUG off, PostgreSQL " \
                     f"{connection.settings_dict['HOST'] or 'local'}:{connection.settings_dict['PORT'] or 5432}; " \
                     f"rates: annotator {env['THROTTLE_ANNOTATOR']}, new sessions {env['THROTTLE_NEW_SESSION']}, " \
                     f"counted in {env.get('CACHE_URL') or 'each process'}"
        server_wait(base, process)
        if process is not None:
            server_settle(process, args.workers)
        server_warm(base, study.slug, 4 * args.workers)
        meter = CpuMeter(process.pid if process is not None else None)
        meter.begin()
        tally, elapsed = asyncio.run(annotators_run(base, study.slug, args.annotators, args.duration, args.pause,
                                                    args.images))
        cpu = meter.spent()
        if process is not None:
            server_stop(process)
        print(f"study {study.slug}: {args.artworks} artworks, {study.dimensions.count()} dimensions, "
              f"{args.items} artworks per session, attention-check rate {study.attention_check_rate:g}")
        checks = study_verify(study, tally)
        ok = report(args, tally, elapsed, server, cpu, checks, queries_per_request(study.slug), commits)
        return 0 if ok else 1
    finally:
        if process is not None:
            server_stop(process)
        if study is not None and not args.keep:
            study.delete()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
