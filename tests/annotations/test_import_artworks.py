import functools
import http.server
import threading
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from annotations.imports import artwork_ensure_image, artworks_import
from annotations.models import Artwork, ExpertLabel
from annotations.tables import ImportFailed
from tests.factories import bomb_bytes, image_bytes, write_csv, write_image
from tests.servers import not_http_serving


def run_import(study, *args):
    call_command("import_artworks", study.slug, *args)


@pytest.fixture
def images(tmp_path) -> Path:
    folder = tmp_path / "images"
    write_image(folder, "red.png", (200, 30, 30))
    write_image(folder, "blue.jpg", (30, 30, 200))
    return folder


def error_of(study, tmp_path, images, rows) -> str:
    manifest = write_csv(tmp_path / "manifest.csv", rows)
    with pytest.raises(CommandError) as error:
        run_import(study, "--manifest", str(manifest), "--images", str(images))
    assert not Artwork.objects.exists(), "a manifest that fails validation writes nothing"
    return str(error.value)


def test_the_real_artwork_set_imports_with_metadata_and_checksums(study, shared_artworks):
    run_import(study, "--manifest", str(shared_artworks / "manifest.csv"), "--images", str(shared_artworks / "images"))
    assert study.artworks.count() == 80
    assert study.artworks.filter(origin="ai").count() == 16
    mona = study.artworks.get(external_id="leonardo_mona_lisa.jpg")
    assert (mona.artist, mona.year_start, mona.year_end, mona.period) == (
        "Leonardo da Vinci", 1503, 1519, "Renaissance")
    assert mona.sha256 == "64968f7fcb5cc8f047c29687bad20ae7efc16d4c2f4fcbc043901d93d6774268"  # the manifest's own
    assert (mona.width, mona.height) == (516, 768)
    assert mona.metadata["license_note"] == "public domain: artist died 1519"
    assert mona.image.read()[:2] == b"\xff\xd8"


def test_good_manifest_stores_fields_expert_labels_and_set_values(study, tmp_path, images):
    manifest = write_csv(tmp_path / "m.csv", [
        {"file": "red.png", "title": "Red", "year": "1890", "expert_style": "Impressionism", "museum": "Orsay"},
        {"file": "blue.jpg", "title": "Blue", "year": "", "expert_style": "", "museum": ""},
    ])
    run_import(study, "--manifest", str(manifest), "--images", str(images), "--set", "origin=ai", "--set", "source=lab")
    red = study.artworks.get(external_id="red.png")
    assert (red.title, red.origin, red.source, red.year_start, red.metadata) == (
        "Red", "ai", "lab", 1890, {"museum": "Orsay"})
    assert ExpertLabel.objects.get(artwork=red).value == "impressionism"
    assert study.artworks.get(external_id="blue.jpg").expert_labels.count() == 0


def test_corrupt_truncated_and_non_image_files_each_get_a_row_error(study, tmp_path, images):
    (images / "broken.png").write_bytes(image_bytes()[:60])
    (images / "text.jpg").write_bytes(b"this is not a picture at all")
    message = error_of(study, tmp_path, images, [
        {"file": "red.png"}, {"file": "broken.png"}, {"file": "text.jpg"}, {"file": "missing.png"},
    ])
    assert "row 2, field 'file': corrupt or truncated image" in message
    assert "row 3, field 'file': not an image" in message
    assert "row 4, field 'file': no file 'missing.png'" in message
    assert "3 problem(s); nothing was imported" in message


def test_an_oversized_image_is_refused_before_it_is_decoded(study, tmp_path, images, settings):
    (images / "bomb.png").write_bytes(bomb_bytes(9000))
    message = error_of(study, tmp_path, images, [{"file": "bomb.png"}])
    assert "row 1, field 'file': image is 9000x9000 = 81,000,000 pixels, over the limit of 40,000,000" in message


def test_a_file_over_the_byte_limit_is_refused(study, tmp_path, images, settings):
    settings.IMPORT_MAX_IMAGE_BYTES = 100
    assert "over the limit of 100" in error_of(study, tmp_path, images, [{"file": "red.png"}])


def test_missing_file_and_url_columns_are_named(study, tmp_path, images):
    assert "field 'file or url': one of these columns is required" in error_of(study, tmp_path, images,
                                                                               [{"title": "x"}])


def test_unknown_dimension_and_bad_expert_value_name_row_and_column(study, tmp_path, images):
    message = error_of(study, tmp_path, images, [
        {"file": "red.png", "expert_colour": "red", "expert_style": "baroque", "expert_aesthetic": ""},
        {"file": "blue.jpg", "expert_colour": "", "expert_style": "vaporwave", "expert_aesthetic": "9"},
    ])
    assert "row 1, field 'expert_colour': the study has no dimension 'colour'" in message
    assert "row 2, field 'expert_style': 'vaporwave' is not one of the labels" in message
    assert "row 2, field 'expert_aesthetic': '9' is outside the scale 1-7" in message


def test_bad_origin_and_repeated_id_are_row_errors(study, tmp_path, images):
    message = error_of(study, tmp_path, images, [
        {"id": "a", "file": "red.png", "origin": "martian"}, {"id": "a", "file": "blue.jpg", "origin": "human"},
    ])
    assert "row 1, field 'origin': 'martian' is not 'human' or 'ai'" in message
    assert "row 2, field 'id': 'a' repeats row 1" in message


def test_a_duplicate_image_is_reported_and_stored_once(study, tmp_path, images, capsys):
    write_image(images, "red_copy.png", (200, 30, 30))
    manifest = write_csv(tmp_path / "m.csv", [{"file": "red.png"}, {"file": "red_copy.png"}, {"file": "blue.jpg"}])
    run_import(study, "--manifest", str(manifest), "--images", str(images))
    assert sorted(study.artworks.values_list("external_id", flat=True)) == ["blue.jpg", "red.png"]
    assert "row 2: same image (sha256" in capsys.readouterr().out
    run_import(study, "--manifest", str(manifest), "--images", str(images))  # a rerun adds nothing
    assert study.artworks.count() == 2


def test_skip_bad_rows_imports_the_good_rows_and_lists_the_bad(study, tmp_path, images, capsys):
    (images / "text.jpg").write_bytes(b"nope")
    manifest = write_csv(tmp_path / "m.csv", [{"file": "red.png"}, {"file": "text.jpg"}])
    run_import(study, "--manifest", str(manifest), "--images", str(images), "--skip-bad-rows")
    assert list(study.artworks.values_list("external_id", flat=True)) == ["red.png"]
    assert "skipped: row 2, field 'file': not an image" in capsys.readouterr().err


def test_images_come_from_a_zip_and_paths_outside_it_are_refused(study, tmp_path):
    archive = tmp_path / "images.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("set/red.png", image_bytes())
        zf.writestr("../evil.png", image_bytes((1, 2, 3)))
    manifest = write_csv(tmp_path / "m.csv", [{"file": "set/red.png"}])
    run_import(study, "--manifest", str(manifest), "--images", str(archive))
    assert study.artworks.get().width == 64
    bad = write_csv(tmp_path / "bad.csv", [{"file": "../evil.png"}])
    with pytest.raises(CommandError, match="no file '../evil.png' in the ZIP"):
        run_import(study, "--manifest", str(bad), "--images", str(archive))


def test_a_folder_path_may_not_leave_the_images_folder(study, tmp_path, images):
    write_image(tmp_path, "outside.png")
    assert "points outside the images folder" in error_of(study, tmp_path, images, [{"file": "../outside.png"}])


def test_parquet_manifest_is_read_like_csv(study, tmp_path, images):
    import pandas as pd

    pd.DataFrame({"file": ["red.png"], "title": ["Red"], "year": [1890]}).to_parquet(tmp_path / "m.parquet")
    run_import(study, "--manifest", str(tmp_path / "m.parquet"), "--images", str(images))
    assert study.artworks.get().year_start == 1890


@pytest.fixture
def image_server(tmp_path, settings):
    """A real HTTP server on loopback serving a folder, for URL imports; fetches refuse loopback
    unless the operator allows it, as here for this server's port only."""
    folder = tmp_path / "served"
    write_image(folder, "remote.png", (10, 200, 10))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.FETCH_ALLOW_HOSTS = [f"127.0.0.1:{server.server_address[1]}"]
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_images_are_downloaded_from_urls_and_a_dead_url_is_a_row_error(study, tmp_path, image_server):
    manifest = write_csv(tmp_path / "m.csv", [{"id": "r", "link": f"{image_server}/remote.png"}])
    run_import(study, "--manifest", str(manifest), "--image-url-column", "link")
    artwork = study.artworks.get()
    assert artwork.image and artwork.image_url.endswith("/remote.png") and artwork.width == 64
    dead = write_csv(tmp_path / "d.csv", [{"id": "x", "link": f"{image_server}/gone.png"}])
    with pytest.raises(CommandError, match="row 1, field 'link': could not fetch: HTTP 404$"):
        run_import(study, "--manifest", str(dead), "--image-url-column", "link")


def test_a_url_whose_server_does_not_speak_http_is_a_row_error_and_nothing_is_stored(study, tmp_path, settings):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]  # the server is on loopback, which fetches refuse otherwise
    with not_http_serving() as base:
        manifest = write_csv(tmp_path / "m.csv", [{"id": "x", "url": f"{base}/x.png"}])
        with pytest.raises(CommandError, match="row 1, field 'url': .*fetch"):
            run_import(study, "--manifest", str(manifest))
    assert not study.artworks.exists()


def test_deferred_downloads_keep_the_url_and_fetch_when_first_needed(study, tmp_path, image_server):
    manifest = write_csv(tmp_path / "m.csv", [{"url": f"{image_server}/remote.png", "title": "Later"}])
    run_import(study, "--manifest", str(manifest), "--defer-download")
    artwork = study.artworks.get()
    assert not artwork.image and artwork.image_url
    artwork_ensure_image(artwork)
    artwork.refresh_from_db()
    assert artwork.image and len(artwork.sha256) == 64


def test_the_service_raises_with_every_error_listed(study, tmp_path, images):
    manifest = write_csv(tmp_path / "m.csv", [{"file": "nope1.png"}, {"file": "nope2.png"}])
    with pytest.raises(ImportFailed) as error:
        artworks_import(study, manifest, images=images)
    assert [e.row for e in error.value.errors] == [1, 2]
