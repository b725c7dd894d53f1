"""The load benchmark's parts that decide its verdict: the form it fills from the judging page, and the
durability checks it runs on the database afterwards. Its rates come from running it, never from tests."""
import ast
import random
from pathlib import Path

from django.db import connection
from django.urls import reverse

from bench.load import Tally, commit_latency, item_parse, study_verify
from tests.annotations.crowd_cast import session_judging_http, study_open
from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]


def test_no_app_imports_the_benchmarks():
    offenders = []
    for app in ("annotations", "clipworker", "alignment", "config"):
        for path in (ROOT / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
                offenders += [f"{path.relative_to(ROOT)}: {name}" for name in names
                              if name == "bench" or name.startswith("bench.")]
    assert offenders == []


def test_what_the_benchmark_sends_is_stored_and_its_checks_catch_a_lost_write(client, study):
    study_open(study, artworks=4, items_per_session=2, attention_check_rate=0)
    session_judging_http(client, study, "bench-001-0001")
    page = client.get(reverse("annotations:session_entry", args=[study.slug])).content.decode()  # the judging page
    item = item_parse(page, random.Random(0))
    assert item is not None and not item.is_check and item.dimensions == study.dimensions.count()

    response = client.post(reverse("annotations:session_judge", args=[study.slug]), item.form,
                           HTTP_X_REQUESTED_WITH="fetch")

    assert response.status_code == 200
    acknowledged = Tally(artworks=1, judgements=item.dimensions, accepted={("bench-001-0001", item.artwork)})
    assert [ok for _, ok in study_verify(study, acknowledged)] == [True] * 6
    other = study.artworks.exclude(pk=item.artwork).first()
    lost = Tally(artworks=2, judgements=2 * item.dimensions,
                 accepted={("bench-001-0001", item.artwork), ("bench-001-0001", other.pk)})
    failed = [line for line, ok in study_verify(study, lost) if not ok]
    assert failed == [f"judgements stored {item.dimensions}, acknowledged {2 * item.dimensions}",
                      "artworks acknowledged but not stored: 1; stored but not acknowledged: 0"]


def test_the_commit_probe_times_each_commit_on_its_own_table_and_drops_it(db):
    require(connection.vendor == "postgresql", "the probe times PostgreSQL's commits (DATABASE_URL)")
    times = commit_latency(commits=5, gap=0)
    assert len(times) == 5 and times == sorted(times) and times[0] > 0
    assert "bench_commit_probe" not in connection.introspection.table_names()
