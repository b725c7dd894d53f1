"""What an annotator downloads per artwork, before (the uploaded file) and after (its display derivative).

    .venv/bin/python -m bench.images [--artworks ../shared/artworks] [--rounds 5]

Bytes: every image of the set, original file vs `derivative_bytes(data, DISPLAY_IMAGE_MAX_EDGE)`.
Serving time: the set is imported into a throwaway test database (SQLite in memory unless
DATABASE_URL says otherwise) and one session is given every artwork; each image is then fetched
through the real annotator view (`session_image`) with Django's test client, `rounds` times. "Before"
is the same view with the display field pointing at the original file, so the two differ only in
the file served. Request throttling is turned off for the run. Nothing is written outside a
temporary folder.
"""
import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

MBIT = 10  # a slow mobile connection, to put the bytes in seconds
SHARED_ARTWORKS = Path(__file__).resolve().parents[2] / "shared" / "artworks"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.images", description=__doc__.splitlines()[0])
    parser.add_argument("--artworks", type=Path, default=SHARED_ARTWORKS,
                        help="a folder with manifest.csv and images/ (default: ../shared/artworks)")
    parser.add_argument("--rounds", type=int, default=5, help="fetches of every image per variant (default 5)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "true")  # a local measurement: development settings, plain HTTP
    os.environ["THROTTLE_ANNOTATOR"] = os.environ["THROTTLE_NEW_SESSION"] = "off"
    with tempfile.TemporaryDirectory() as media:
        os.environ["MEDIA_ROOT"] = media
        import django

        django.setup()
        sizes, make_ms = _sizes(args.artworks / "images")
        serve_ms = _serve_times(args.artworks, args.rounds)
    _report(sizes, make_ms, serve_ms)


def _sizes(folder: Path) -> tuple[dict, list[float]]:
    from django.conf import settings

    from annotations.derivatives import derivative_bytes

    sizes, make_ms = {"before": [], "after": []}, []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        data = path.read_bytes()
        start = time.perf_counter()
        derivative = derivative_bytes(data, settings.DISPLAY_IMAGE_MAX_EDGE)
        derivative_bytes(data, settings.THUMBNAIL_MAX_EDGE)
        make_ms.append((time.perf_counter() - start) * 1000)
        sizes["before"].append(len(data))
        sizes["after"].append(len(derivative))
    return sizes, make_ms


def _serve_times(artworks: Path, rounds: int) -> dict[str, list[float]]:
    """Median ms per image request through the annotator view, serving the original vs the derivative."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from annotations.imports import artworks_import
    from annotations.models import Artwork, Assignment, Session, Study
    from annotations.studies import study_create, study_template_load

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0)
    try:
        study = study_create(study_template_load("clip-art-perception"), "bench-images", template="clip-art-perception")
        artworks_import(study, artworks / "manifest.csv", images=artworks / "images")
        Study.objects.filter(pk=study.pk).update(status=Study.Status.OPEN, items_per_session=study.artworks.count(),
                                                 attention_check_rate=0, questionnaire=False, completion_code="BENCH")
        client, entry = Client(), reverse("annotations:session_entry", args=[study.slug])
        client.get(entry, {"PROLIFIC_PID": "bench", "STUDY_ID": "S", "SESSION_ID": "bench-session"})
        client.post(entry + "consent/", {"choice": "agree"})
        client.post(entry + "instructions/")
        client.get(entry)  # allocates every artwork to the session
        session = Session.objects.get(participant__external_id="bench")
        urls = [reverse("annotations:session_image", args=[study.slug, pk])
                for pk in Assignment.objects.filter(session=session).values_list("pk", flat=True)]
        derivatives = dict(Artwork.objects.filter(study=study).values_list("pk", "display_image"))
        times = {}
        for variant in ("before", "after"):
            for artwork in Artwork.objects.filter(study=study):
                name = artwork.image.name if variant == "before" else derivatives[artwork.pk]
                Artwork.objects.filter(pk=artwork.pk).update(display_image=name)
            per_request = []
            for _ in range(rounds):
                for url in urls:
                    start = time.perf_counter()
                    response = client.get(url)
                    body = response.getvalue()
                    per_request.append((time.perf_counter() - start) * 1000)
                    assert response.status_code == 200 and body, url
            times[variant] = per_request
        return times
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def _report(sizes: dict, make_ms: list[float], serve_ms: dict) -> None:
    n = len(sizes["before"])
    rows = [
        ("bytes per image, median", *(f"{statistics.median(sizes[v]) / 1024:,.1f} KiB" for v in ("before", "after"))),
        ("bytes, total", *(f"{sum(sizes[v]) / 1024 / 1024:,.2f} MiB" for v in ("before", "after"))),
        (f"download at {MBIT} Mbit/s, median", *(f"{statistics.median(sizes[v]) * 8 / (MBIT * 1e6) * 1000:,.0f} ms"
                                                 for v in ("before", "after"))),
        ("serve one image (view), median", *(f"{statistics.median(serve_ms[v]):.2f} ms" for v in ("before", "after"))),
        ("serve one image (view), p90", *(f"{statistics.quantiles(serve_ms[v], n=10)[-1]:.2f} ms"
                                          for v in ("before", "after"))),
    ]
    print(f"{n} images; derivative: WebP, longest edge at most the display setting, no metadata")
    print(f"{'':34} {'before (original)':>18} {'after (derivative)':>19}")
    for label, before, after in rows:
        print(f"{label:34} {before:>18} {after:>19}")
    ratio = sum(sizes["after"]) / sum(sizes["before"])
    print(f"after/before bytes: {ratio:.2f}; making both derivatives once per artwork: median "
          f"{statistics.median(make_ms):.0f} ms, max {max(make_ms):.0f} ms")


if __name__ == "__main__":
    main()
