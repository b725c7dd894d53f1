"""Small builders for test inputs: images (good and broken) and CSV manifests."""
import csv
import io
from pathlib import Path

from PIL import Image


def image_bytes(colour=(200, 30, 30), size=(64, 48), fmt="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, fmt)
    return buffer.getvalue()


def write_image(folder: Path, name: str, colour=(200, 30, 30), size=(64, 48)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(image_bytes(colour, size, "JPEG" if name.endswith(".jpg") else "PNG"))
    return path


def bomb_bytes(side: int = 9000) -> bytes:
    """A tiny PNG that decodes to side x side pixels: the shape of a decompression bomb."""
    buffer = io.BytesIO()
    Image.new("1", (side, side)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def write_csv(path: Path, rows: list[dict], fieldnames: list[str] | None = None) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames or list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path
