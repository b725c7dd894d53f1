"""Images for participants are derivatives: what a generator or a camera wrote into the file (PNG text
chunks, EXIF, XMP, ICC) and the file's own format never reach an annotator, whose every image is a
metadata-free sRGB WebP of bounded size; researchers keep the original."""
import io
import re
import struct
import zlib

import pytest
from django.core.management import call_command
from django.urls import reverse
from PIL import ExifTags, Image
from PIL.PngImagePlugin import PngInfo

from annotations.crowd import session_next_assignment
from annotations.derivatives import derivative_bytes
from annotations.images import ImageProblem
from annotations.models import Artwork, Session, Study
from tests.annotations.crowd_cast import answers_valid, artworks_add, form_data, session_judging_http, study_open
from tests.factories import bomb_bytes, image_bytes, write_csv

PNG_FILE, JPEG_FILE = "comfy_00042_baroque.png", "rembrandt_selfportrait_scan.jpg"
PROMPT = "parameters: a baroque portrait, Steps: 30, Sampler: DPM++ 2M, Model: sd_xl_base_1.0"
SECRETS = ("a baroque portrait", "DPM++ 2M", "sd_xl_base_1.0", "ComfyUI", "Steps: 30",
           "Rembrandt van Rijn", "Self-portrait with two circles", "Kenwood House scan", "xmp-secret-credit",
           "adobe:ns:meta", "Secret Scanner Profile", "comfy_00042", "rembrandt_selfportrait", ".png", ".jpg")
WEBP_SIMPLE = re.compile(rb"^RIFF....WEBPVP8 ", re.S)  # a lossy WebP with no room for EXIF, XMP or ICC chunks


def leaky_png() -> bytes:
    """What ComfyUI and Stable Diffusion web UIs write: the prompt and settings in text chunks."""
    info = PngInfo()
    info.add_text("parameters", PROMPT)
    info.add_itxt("Software", "ComfyUI", lang="en", tkey="Software")
    info.add_text("prompt", '{"3": {"class_type": "KSampler", "inputs": {"sampler_name": "DPM++ 2M"}}}')
    buffer = io.BytesIO()
    Image.new("RGB", (96, 64), (150, 90, 40)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def icc_profile(description: str, swap_red_blue: bool = False) -> bytes:
    """A minimal ICC v2 RGB matrix/TRC profile (gamma 2.2, sRGB's D50 primaries). With swap_red_blue its
    red and blue primaries trade places, so a correct conversion to sRGB turns the file's red into blue."""
    red, green, blue = (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)
    if swap_red_blue:
        red, blue = blue, red

    def xyz(values):
        return b"XYZ \0\0\0\0" + b"".join(struct.pack(">i", round(v * 65536)) for v in values)

    ascii_text = description.encode("ascii") + b"\0"
    tags = [(b"desc", b"desc\0\0\0\0" + struct.pack(">I", len(ascii_text)) + ascii_text + bytes(4 + 4 + 2 + 1 + 67)),
            (b"wtpt", xyz((0.9642, 1.0, 0.8249))), (b"rXYZ", xyz(red)), (b"gXYZ", xyz(green)), (b"bXYZ", xyz(blue))]
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(2.2 * 256)) + b"\0\0"
    tags += [(b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve)]
    offset, table, body = 128 + 4 + 12 * len(tags), b"", b""
    for signature, data in tags:
        data += bytes(-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = (struct.pack(">I", size) + bytes(4) + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ " + bytes(12)
              + b"acsp" + bytes(24) + struct.pack(">I", 0) + struct.pack(">iii", 63190, 65536, 54061) + bytes(48))
    return header + struct.pack(">I", len(tags)) + table + body


def leaky_jpeg() -> bytes:
    """A museum scan: EXIF artist, description and Windows title, an XMP packet, a named ICC profile."""
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = "Rembrandt van Rijn"
    exif[ExifTags.Base.ImageDescription] = "Self-portrait with two circles"
    exif[ExifTags.Base.XPTitle] = "Kenwood House scan".encode("utf-16-le") + b"\0\0"
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:rights="xmp-secret-credit"/>'
           b"</rdf:RDF></x:xmpmeta>")
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), (60, 70, 140)).save(buffer, "JPEG", exif=exif, xmp=xmp,
                                                     icc_profile=icc_profile("Secret Scanner Profile"))
    return buffer.getvalue()


def png16_rgba(width: int = 8, height: int = 4) -> bytes:
    """A 16-bit RGBA PNG (Pillow cannot write one): left half transparent red, right half opaque green."""
    rows = b""
    for _ in range(height):
        row = [struct.pack(">4H", 65535, 0, 0, 0) if x < width // 2 else struct.pack(">4H", 0, 65535, 0, 65535)
               for x in range(width)]
        rows += b"\0" + b"".join(row)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 16, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_a_clean_webp(data: bytes) -> None:
    assert WEBP_SIMPLE.match(data), data[:16]
    for secret in SECRETS:
        assert secret.encode() not in data and secret.encode("utf-16-le") not in data, secret


@pytest.fixture
def leaky_import(study, tmp_path):
    """The PNG and the JPEG imported through `import_artworks`, as a researcher imports them."""
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / PNG_FILE).write_bytes(leaky_png())
    (folder / JPEG_FILE).write_bytes(leaky_jpeg())
    manifest = write_csv(tmp_path / "manifest.csv", [{"file": PNG_FILE, "origin": "ai"},
                                                     {"file": JPEG_FILE, "origin": "human"}])
    call_command("import_artworks", study.slug, "--manifest", str(manifest), "--images", str(folder))
    return folder


def test_the_test_files_do_carry_the_secrets(leaky_import):
    """The check below can fail: the originals hold every string it looks for."""
    png, jpeg = (leaky_import / PNG_FILE).read_bytes(), (leaky_import / JPEG_FILE).read_bytes()
    for secret in SECRETS[:5]:
        assert secret.encode() in png
    assert b"Rembrandt van Rijn" in jpeg and b"xmp-secret-credit" in jpeg and b"Secret Scanner Profile" in jpeg
    assert "Kenwood House scan".encode("utf-16-le") in jpeg


def test_an_annotator_receives_no_byte_of_the_files_metadata_or_names(client, study, leaky_import):
    study_open(study, artworks=0, items_per_session=2, attention_check_rate=0)
    session_judging_http(client, study, "annotator")
    session = Session.objects.get(participant__external_id="annotator")
    entry, judge = (reverse(f"annotations:{name}", args=[study.slug]) for name in ("session_entry", "session_judge"))
    responses, images = [client.get(entry)], []
    while (assignment := session_next_assignment(session)) is not None:
        page = responses[-1].content.decode()
        image_url = reverse("annotations:session_image", args=[study.slug, assignment.pk])
        assert f'src="{image_url}"' in page
        images.append(client.get(image_url))
        responses.append(client.post(judge, form_data(assignment, answers_valid(session, assignment)),
                                     HTTP_X_REQUESTED_WITH="fetch"))
        session.refresh_from_db()
    responses.append(client.get(entry))
    assert "C0DE42" in responses[-1].content.decode(), "the session reached its completion page"
    assert len(images) == 2
    bodies = {response: response.getvalue() for response in responses + images}  # streamed bodies read once
    for response, body in bodies.items():
        assert response.status_code == 200
        received = b"".join([body, *(f"{k}: {v}".encode() for k, v in response.items())])
        for secret in SECRETS:
            assert secret.encode() not in received and secret.encode("utf-16-le") not in received, secret
    for image in images:
        assert image["Content-Type"] == "image/webp"
        assert "Content-Disposition" not in image
        assert image["Cache-Control"].startswith("private, max-age=")
        assert_a_clean_webp(bodies[image])


def test_a_revisit_of_the_image_costs_a_304_by_its_etag(client, study, leaky_import):
    study_open(study, artworks=0, items_per_session=1, attention_check_rate=0)
    session = session_judging_http(client, study, "annotator")
    url = reverse("annotations:session_image", args=[study.slug, session_next_assignment(session).pk])
    first = client.get(url)
    assert first["ETag"].strip('"') == Artwork.objects.get(pk=session_next_assignment(session).artwork_id) \
        .display_image.name.removeprefix("display/").removesuffix(".webp")
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == first["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH='"another"').status_code == 200


def test_the_same_file_gives_the_same_derivative_stored_once_for_two_studies(study, leaky_import, tmp_path):
    png = (leaky_import / PNG_FILE).read_bytes()
    assert derivative_bytes(png, 2048) == derivative_bytes(png, 2048)
    other = Study.objects.create(slug="other", title="Other")
    manifest = write_csv(tmp_path / "again.csv", [{"file": PNG_FILE}, {"file": JPEG_FILE}])
    call_command("import_artworks", other.slug, "--manifest", str(manifest), "--images", str(leaky_import))
    for name in (PNG_FILE, JPEG_FILE):
        first, second = (Artwork.objects.get(study=s, external_id=name) for s in (study, other))
        assert first.display_image.name == second.display_image.name
        assert first.thumbnail.name == second.thumbnail.name
        assert re.fullmatch(r"display/[0-9a-f]{64}\.webp", first.display_image.name)
    stored = list((tmp_path / "media" / "display").iterdir())
    assert len(stored) == 2, "each image's display derivative is stored once"


def test_the_owner_still_downloads_the_original_and_sees_thumbnails(client, study, leaky_import, owner, outsider):
    Study.objects.filter(pk=study.pk).update(owner=owner)
    artwork = Artwork.objects.get(study=study, external_id=JPEG_FILE)
    original = reverse("media", args=[artwork.image.name])
    client.force_login(owner)
    assert client.get(original).getvalue() == (leaky_import / JPEG_FILE).read_bytes()
    page = client.get(reverse("annotations:study_detail", args=[study.slug])).content.decode()
    assert f'src="/media/{artwork.thumbnail.name}"' in page
    thumbnail = client.get(f"/media/{artwork.thumbnail.name}")
    assert thumbnail.status_code == 200 and WEBP_SIMPLE.match(thumbnail.getvalue())
    client.force_login(outsider)
    assert client.get(original).status_code == 404
    assert client.get(f"/media/{artwork.thumbnail.name}").status_code == 404


def test_the_longest_edge_is_bounded_and_small_images_are_not_enlarged(study, tmp_path):
    wide = encoded(Image.new("RGB", (2600, 1300), (10, 120, 30)), "JPEG")
    assert decoded(derivative_bytes(wide, 2048)).size == (2048, 1024)
    assert decoded(derivative_bytes(wide, 400)).size == (400, 200)
    assert decoded(derivative_bytes(image_bytes(size=(64, 48)), 2048)).size == (64, 48)
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "wide.jpg").write_bytes(wide)
    manifest = write_csv(tmp_path / "m.csv", [{"file": "wide.jpg"}])
    call_command("import_artworks", study.slug, "--manifest", str(manifest), "--images", str(folder))
    artwork = Artwork.objects.get(study=study)
    assert decoded(artwork.display_image.read()).size == (2048, 1024)
    assert decoded(artwork.thumbnail.read()).size == (400, 200)
    assert (artwork.width, artwork.height) == (2600, 1300), "the original is kept as it was"


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # the camera was turned: the picture is shown rotated 90 degrees
    assert decoded(derivative_bytes(encoded(Image.new("RGB", (80, 40)), "JPEG", exif=exif), 2048)).size == (40, 80)


def test_the_embedded_icc_profile_converts_the_colours_to_srgb():
    swapped = icc_profile("Swapped primaries", swap_red_blue=True)
    red_in_file = encoded(Image.new("RGB", (32, 32), (220, 0, 0)), "PNG", icc_profile=swapped)
    r, g, b = decoded(derivative_bytes(red_in_file, 2048)).getpixel((16, 16))
    assert b > 150 and r < 80, (r, g, b)
    untagged = encoded(Image.new("RGB", (32, 32), (220, 0, 0)), "PNG")
    r, g, b = decoded(derivative_bytes(untagged, 2048)).getpixel((16, 16))
    assert r > 180 and b < 60, "an untagged image is taken as sRGB"


def test_cmyk_16_bit_alpha_palette_and_grey_images_convert():
    cmyk_red = encoded(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), "JPEG")
    r, g, b = decoded(derivative_bytes(cmyk_red, 2048)).getpixel((16, 16))
    assert r > 200 and g < 60 and b < 60, (r, g, b)

    flat = decoded(derivative_bytes(png16_rgba(64, 16), 2048))
    assert flat.mode == "RGB" and flat.size == (64, 16)
    assert all(abs(c - 128) < 12 for c in flat.getpixel((8, 8))), "transparency is flattened on neutral grey"
    r, g, b = flat.getpixel((56, 8))
    assert g > 200 and r < 60 and b < 60

    grey16 = encoded(Image.new("I;16", (32, 32), 0x8080), "PNG")
    assert all(abs(c - 128) < 8 for c in decoded(derivative_bytes(grey16, 2048)).getpixel((16, 16)))

    palette = Image.new("P", (32, 32), 1)
    palette.putpalette([0, 0, 0, 0, 0, 255])
    assert decoded(derivative_bytes(encoded(palette, "GIF", transparency=0), 2048)).getpixel((16, 16))[2] > 200
    for data in (cmyk_red, png16_rgba(), grey16, encoded(palette, "PNG")):
        assert_a_clean_webp(derivative_bytes(data, 2048))


def test_what_is_not_an_image_or_too_big_is_refused_with_the_reason(settings):
    with pytest.raises(ImageProblem, match="not an image"):
        derivative_bytes(b"GIF89a but not really", 2048)
    settings.IMPORT_MAX_IMAGE_PIXELS = 1_000_000
    with pytest.raises(ImageProblem, match="over the limit of 1,000,000"):
        derivative_bytes(bomb_bytes(2000), 2048)


def test_artworks_stored_before_derivatives_get_one_when_first_served(client, study):
    study_open(study, artworks=2, items_per_session=1, attention_check_rate=0)
    assert not Artwork.objects.exclude(display_image="").exists()
    session = session_judging_http(client, study, "annotator")
    assignment = session_next_assignment(session)
    image = client.get(reverse("annotations:session_image", args=[study.slug, assignment.pk]))
    assert image["Content-Type"] == "image/webp" and WEBP_SIMPLE.match(image.getvalue())
    artwork = Artwork.objects.get(pk=assignment.artwork_id)
    assert artwork.display_image and artwork.thumbnail


def test_make_derivatives_builds_what_is_missing(study):
    artworks_add(study, 3)
    out = io.StringIO()
    call_command("make_derivatives", study.slug, stdout=out)
    assert "3 made, 0 failed" in out.getvalue()
    assert not Artwork.objects.filter(display_image="").exists()
    call_command("make_derivatives", stdout=out)
    assert "0 made, 0 failed" in out.getvalue()
