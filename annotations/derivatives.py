"""What participants and researcher pages see of an image: a derivative, never the uploaded file.

An uploaded file can answer the study's question by itself: EXIF and XMP name the artist and the
title, Stable Diffusion and ComfyUI write the prompt, sampler and model into PNG text chunks, and
the format (PNG from a generator, JPEG from a museum scan) correlates with origin. So every image
shown is decoded and re-encoded the same way: EXIF orientation applied, colour converted to sRGB,
transparency flattened on a neutral grey, the longest edge bounded, and written as lossy WebP at a
fixed quality with no metadata block at all (no EXIF, XMP, IPTC, ICC, text or comment).

WebP, because one format must serve every artwork and WebP is both universal in current browsers
and about a quarter to a third smaller than JPEG at the same visual quality, which is most of the
annotator's download. Without an ICC profile a browser renders WebP as sRGB, which is what it holds.

The same bytes in give the same bytes out (same Pillow and libwebp): no time, random or per-call
state enters. Derivative files are named by their own sha256, so the same image in two studies is
stored once and a name says nothing about where the image came from.
"""
import hashlib
import io

from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image, ImageCms, ImageOps

from .images import ImageProblem, decoding
from .models import Artwork

FORMAT, CONTENT_TYPE, EXTENSION = "WEBP", "image/webp", ".webp"
QUALITY = 85  # visually indistinguishable from the source at screen size for paintings and photos alike
WEBP_METHOD = 4  # libwebp's default speed/size trade-off, named so that it never changes silently
WEBP_MAX_EDGE = 16383  # the format's limit
BACKGROUND = (128, 128, 128)  # transparency is flattened on mid grey: neither a light nor a dark bias
SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N", "I")
ICC_SPACE = {"RGB": "RGB ", "CMYK": "CMYK", "L": "GRAY"}  # our working mode -> the profile's colour space
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def derivative_bytes(data: bytes, max_edge: int, quality: int = QUALITY) -> bytes:
    """`data` (any image Pillow reads) as a metadata-free sRGB WebP whose longest edge is at most
    `max_edge` (never enlarged). ImageProblem if it is not a readable image or has more pixels
    than IMPORT_MAX_IMAGE_PIXELS; ValueError for a max_edge WebP cannot hold."""
    if not 1 <= max_edge <= WEBP_MAX_EDGE:
        raise ValueError(f"max_edge={max_edge}: expected 1 to {WEBP_MAX_EDGE} pixels (WebP's limit)")
    image = _decoded(data, max_edge)
    if max(image.size) > max_edge:
        scale = max_edge / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    # A fresh image: nothing of the source's `info` (EXIF, ICC, text chunks) can travel with it.
    clean = Image.frombytes("RGB", image.size, image.tobytes())
    out = io.BytesIO()
    clean.save(out, FORMAT, quality=quality, method=WEBP_METHOD, exact=False)
    return out.getvalue()


def _decoded(data: bytes, max_edge: int) -> Image.Image:
    """The first frame as 8-bit sRGB "RGB", upright; a JPEG is decoded at a reduced scale when that
    still leaves at least `max_edge` on its shorter side (much less work for the same result)."""
    limit = settings.IMPORT_MAX_IMAGE_PIXELS
    with decoding(), Image.open(io.BytesIO(data)) as image:
        if image.width * image.height > limit:
            raise ImageProblem(f"image is {image.width}x{image.height} = {image.width * image.height:,} pixels,"
                               f" over the limit of {limit:,}")
        image.draft(None, (max_edge, max_edge))
        image.load()
        icc = image.info.get("icc_profile")
        upright = ImageOps.exif_transpose(image)
        return _srgb(upright, icc)


def _srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """8-bit "RGB" in sRGB: palette, grey, 16-bit, CMYK and alpha modes are brought to one of
    L/RGB/CMYK, the embedded ICC profile (if it fits that mode) converts to sRGB, and any alpha is
    flattened on BACKGROUND."""
    alpha = None
    if image.mode in ("P", "PA", "LA", "La", "RGBA", "RGBa"):
        image = image.convert("LA" if image.mode in ("LA", "La") else "RGBA")
        alpha = image.getchannel("A")
        image = image.convert("L" if image.mode == "LA" else "RGB")
    elif image.mode in SIXTEEN_BIT:
        image = image.convert("I").point(lambda v: v * (1 / 256)).convert("L")  # 16 bits -> 8 by scaling
    elif image.mode not in ICC_SPACE:
        image = image.convert("RGB")  # 1, F, YCbCr, LAB, HSV, RGBX
    rgb = _icc_to_srgb(image, icc) or image.convert("RGB")
    if alpha is not None:
        flat = Image.new("RGB", rgb.size, BACKGROUND)
        flat.paste(rgb, mask=alpha)
        rgb = flat
    return rgb


def _icc_to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image | None:
    """`image` converted to sRGB through its embedded profile; None without a usable one (then the
    pixels are taken as sRGB already, which is what an untagged image means on the web)."""
    if not icc:
        return None
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if source.profile.xcolor_space != ICC_SPACE[image.mode]:
            return None
        return ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None


def derivative_store(field, data: bytes) -> tuple[str, bool]:
    """Store `data` in `field`'s folder under its sha256 (once: an existing file of that name is the
    same bytes); returns (name, whether this call wrote it)."""
    name = field.field.generate_filename(field.instance, hashlib.sha256(data).hexdigest() + EXTENSION)
    if field.storage.exists(name):
        return name, False
    return field.storage.save(name, ContentFile(data)), True


def derivative_hash(name: str) -> str:
    """The sha256 a derivative's stored name carries (its ETag)."""
    return name.rsplit("/", 1)[-1].removesuffix(EXTENSION)


def artwork_derivatives_make(artwork: Artwork, data: bytes | None = None) -> None:
    """Make the artwork's `display_image` (DISPLAY_IMAGE_MAX_EDGE) and `thumbnail`
    (THUMBNAIL_MAX_EDGE) from its original (`data`, else `artwork.image` read from storage) and save
    those two fields only. ImageProblem if the original cannot be read or decoded."""
    artwork_derivatives_attach(artwork, data)
    artwork.save(update_fields=["display_image", "thumbnail"])


def artwork_derivatives_attach(artwork: Artwork, data: bytes | None = None) -> list[str]:
    """`artwork_derivatives_make` without the save, for an artwork its caller writes itself (the
    import stores its artworks in one bulk insert). Returns the names of the files this call wrote,
    which the caller removes if its own write fails (a file already there may be another's)."""
    if data is None:
        if not artwork.image:
            raise ImageProblem(f"artwork {artwork.external_id!r} has no image")
        try:
            with artwork.image.open("rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise ImageProblem(f"cannot read the stored image of {artwork.external_id!r}: {exc}") from None
    written = []
    for attname, max_edge in (("display_image", settings.DISPLAY_IMAGE_MAX_EDGE),
                              ("thumbnail", settings.THUMBNAIL_MAX_EDGE)):
        name, wrote = derivative_store(getattr(artwork, attname), derivative_bytes(data, max_edge))
        setattr(artwork, attname, name)
        if wrote:
            written.append(name)
    return written
