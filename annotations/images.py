"""Getting image bytes from a folder, a ZIP or a URL, and checking that they are a sound image."""
import hashlib
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from PIL import Image, UnidentifiedImageError

from .fetch import FetchError, fetch_public


class ImageProblem(ValueError):
    """Why one image cannot be used; the message is shown to the user as the row's reason."""


@dataclass(frozen=True)
class ImageInfo:
    sha256: str
    width: int
    height: int
    size: int
    format: str

    @property
    def extension(self) -> str:
        return {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "GIF": ".gif", "TIFF": ".tif"}.get(
            self.format, f".{self.format.lower()}"
        )


@contextmanager
def decoding() -> Iterator[None]:
    """Pillow's errors while opening or decoding an image, as the ImageProblem a researcher reads."""
    try:
        yield
    except ImageProblem:
        raise
    except UnidentifiedImageError:
        raise ImageProblem("not an image (Pillow cannot identify the file format)") from None
    except Image.DecompressionBombError as exc:
        raise ImageProblem(f"refused as a decompression bomb: {exc}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageProblem(f"corrupt or truncated image: {exc}") from None


def inspect_image(data: bytes, *, max_pixels: int) -> ImageInfo:
    """Decode the whole image once; ImageProblem if it is not an image, corrupt, truncated or too big.

    The pixel count is checked from the header before decoding, so a decompression bomb is refused
    without being expanded in memory.
    """
    with decoding(), Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        if width * height > max_pixels:
            raise ImageProblem(
                f"image is {width}x{height} = {width * height:,} pixels, over the limit of {max_pixels:,}"
                " (possible decompression bomb)"
            )
        image_format = image.format or "unknown"
        image.load()
    return ImageInfo(hashlib.sha256(data).hexdigest(), width, height, len(data), image_format)


def _too_big(size: int, max_bytes: int) -> ImageProblem:
    return ImageProblem(f"file is {size:,} bytes, over the limit of {max_bytes:,}")


def _header_pixels(handle) -> int:
    """Width x height from the image's header alone (Pillow opens lazily: nothing is decoded); 0 when
    the file is no image Pillow knows (the import reports that row when it reads it)."""
    try:
        with Image.open(handle) as image:
            return image.width * image.height
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError, EOFError,
            zipfile.BadZipFile):
        return 0


class FolderImages:
    """Images under a folder; a manifest path may not leave it."""

    def __init__(self, root: Path, max_bytes: int):
        self.root = root.resolve()
        self.max_bytes = max_bytes

    def read(self, name: str) -> bytes:
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root):
            raise ImageProblem(f"{name!r} points outside the images folder")
        if not path.is_file():
            raise ImageProblem(f"no file {name!r} in {self.root}")
        if path.stat().st_size > self.max_bytes:
            raise _too_big(path.stat().st_size, self.max_bytes)
        return path.read_bytes()

    def measure(self, name: str) -> tuple[int, int]:
        """(bytes, pixels) of a named image from its size and header, before anything is decoded;
        (0, 0) for a file the import will report as a row error."""
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return 0, 0
        with path.open("rb") as handle:
            return path.stat().st_size, _header_pixels(handle)


class ZipImages:
    """Images inside a ZIP; sizes are checked from the directory before anything is extracted."""

    def __init__(self, path: Path, max_bytes: int):
        try:
            self.archive = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile) as exc:
            raise ImageProblem(f"{path} is not a readable ZIP file: {exc}") from None
        self.max_bytes = max_bytes
        self.members = {}
        for info in self.archive.infolist():
            parts = PurePosixPath(info.filename).parts
            if not info.is_dir() and ".." not in parts and not info.filename.startswith("/"):
                self.members[info.filename] = info
        # A manifest usually names files relative to the ZIP's single top folder, or by bare name.
        self.by_basename = {PurePosixPath(name).name: info for name, info in self.members.items()}

    def measure(self, name: str) -> tuple[int, int]:
        """(bytes, pixels) of a named image from the ZIP's directory (its uncompressed size) and the
        image's header (a few kB inflated), before anything is decoded; (0, 0) if it is not there."""
        info = self.members.get(name) or self.by_basename.get(name)
        if info is None:
            return 0, 0
        try:
            with self.archive.open(info) as handle:
                return info.file_size, _header_pixels(handle)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
            return info.file_size, 0

    def read(self, name: str) -> bytes:
        info = self.members.get(name) or self.by_basename.get(name)
        if info is None:
            raise ImageProblem(f"no file {name!r} in the ZIP")
        if info.file_size > self.max_bytes:
            raise _too_big(info.file_size, self.max_bytes)
        try:
            return self.archive.read(info)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ImageProblem(f"cannot extract {name!r} from the ZIP: {exc}") from None


def open_images(location: Path | str | None, max_bytes: int):
    """A reader for `--images`: a folder or a ZIP file (or None when every row has a URL)."""
    if location is None:
        return None
    path = Path(location)
    if path.is_dir():
        return FolderImages(path, max_bytes)
    if path.is_file():
        return ZipImages(path, max_bytes)
    raise ImageProblem(f"--images {location}: no such folder or ZIP file")


def fetch_url(url: str, *, timeout: float, max_bytes: int) -> bytes:
    """Download through the one guarded fetch (annotations.fetch): public or allowed addresses only,
    with timeout and max_bytes holding for the whole download, and a generic reason on failure."""
    try:
        return fetch_public(url, max_bytes=max_bytes, total_timeout_s=timeout)
    except FetchError as exc:
        raise ImageProblem(str(exc)) from None
