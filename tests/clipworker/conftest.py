"""The tiny CLIP of the real architecture (its folder, `clip_cache`, is built in tests/conftest.py)."""
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from clipworker.model import STAND_IN_NAME, get_clip


@pytest.fixture(scope="session")
def tiny_folder(clip_cache) -> Path:
    return clip_cache / "tiny-clip"


@pytest.fixture(scope="session")
def clip(clip_cache):
    return get_clip(STAND_IN_NAME, device="cpu", cache_dir=clip_cache)


def make_image(seed: int, size=(96, 72)) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def jpeg_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


@pytest.fixture
def images():
    return [make_image(seed, size) for seed, size in enumerate([(96, 72), (64, 64), (50, 120)])]
