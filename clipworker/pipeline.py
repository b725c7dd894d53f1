"""The worker's inner loop: image bytes in, embeddings (and dimension scores) out, model kept busy.

Decoding and preprocessing run in a thread pool a few batches ahead of the forward (PIL and torch
both release the GIL for the heavy parts), so the model waits as little as possible for input. A
corrupt or missing image becomes an error result for that item; the rest of the batch goes on.

    for result in embed_items(clip, [(artwork_id, jpeg_bytes_or_path), ...], specs=specs):
        if result.error: ...            # record the reason, nothing else
        else: result.embedding, result.scores[dimension_key]

No Django here: the caller turns artworks into (id, bytes or path) pairs and stores the results.
"""
from __future__ import annotations

import io
import itertools
from collections import deque
from collections.abc import Hashable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from clipworker.model import LoadedClip
from clipworker.scoring import DimensionSpec, all_prompt_texts, score_dimensions

ImageSource = bytes | bytearray | memoryview | str | Path | Image.Image


@dataclass
class ItemResult:
    id: Hashable
    embedding: np.ndarray | None = None  # (d,) float32, unit norm
    error: str | None = None  # why there is no embedding
    scores: dict[str, dict] = field(default_factory=dict)  # dimension key -> scoring result

    @property
    def ok(self) -> bool:
        return self.error is None


def open_image(source: ImageSource) -> Image.Image:
    """Bytes, a path or a PIL image -> a fully decoded RGB PIL image (raises on a bad image)."""
    if isinstance(source, Image.Image):
        image = source
    elif isinstance(source, (bytes, bytearray, memoryview)):
        image = Image.open(io.BytesIO(bytes(source)))
    else:
        image = Image.open(Path(source))
    image.load()  # decode now, in the worker thread, so a truncated file fails here
    return image.convert("RGB")


def _prepare(clip: LoadedClip, chunk: list[tuple[Hashable, ImageSource]]):
    """Decode and preprocess one batch: (results in input order, pixel values of the good ones)."""
    results, pixels = [], []
    for item_id, source in chunk:
        result = ItemResult(item_id)
        try:
            pixels.append(clip.preprocess([open_image(source)])[0])
        except Exception as exc:  # noqa: BLE001 - any undecodable input is that item's error only
            result.error = f"cannot read image: {type(exc).__name__}: {exc}"
        results.append(result)
    return results, (torch.stack(pixels) if pixels else None)


def prepare_texts(clip: LoadedClip, specs: Sequence[DimensionSpec]) -> None:
    """Embed (and cache in `clip`) every prompt of `specs`; embed_items calls it first."""
    clip.embed_texts(all_prompt_texts(specs))


def embed_items(clip: LoadedClip, items: Iterable[tuple[Hashable, ImageSource]], *,
                specs: Sequence[DimensionSpec] = (), batch_size: int = 32, prefetch: int = 2,
                workers: int = 2) -> Iterator[ItemResult]:
    """Yield one ItemResult per (id, image) item, in input order, batch by batch.

    `items` is consumed lazily, `prefetch` batches ahead of the forward. With `specs`, each good
    item's `scores` holds every dimension's result (see clipworker.scoring); prompts are embedded
    once up front and cached in `clip`.
    """
    if specs:
        prepare_texts(clip, specs)
    iterator = iter(items)
    chunks = iter(lambda: list(itertools.islice(iterator, batch_size)), [])
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="clip-decode") as pool:
        pending = deque(pool.submit(_prepare, clip, chunk)
                        for chunk in itertools.islice(chunks, prefetch + 1))
        while pending:
            results, pixels = pending.popleft().result()
            for chunk in itertools.islice(chunks, 1):  # keep the pool `prefetch` batches ahead
                pending.append(pool.submit(_prepare, clip, chunk))
            if pixels is not None:
                good = [r for r in results if r.ok]
                embeddings = clip.embed_pixels(pixels)
                scores = (score_dimensions(specs, embeddings, clip.embed_texts, clip.logit_scale)
                          if specs else [{}] * len(good))
                for result, embedding, item_scores in zip(good, embeddings, scores):
                    result.embedding, result.scores = embedding, item_scores
            yield from results
