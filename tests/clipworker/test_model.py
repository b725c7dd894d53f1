import os
import shutil

import numpy as np
import pytest

from clipworker.model import (
    STAND_IN_NAME,
    ModelUnavailable,
    forget_loaded,
    get_clip,
    keep_loaded,
    load_clip,
    loaded_checkpoints,
)
from clipworker.scoring import DimensionSpec, score_dimension

LABELS = ["baroque", "impressionism", "cubism", "still life"]


def test_zero_shot_probabilities_equal_the_transformers_pipeline(clip, tiny_folder, images):
    from transformers import pipeline

    classifier = pipeline("zero-shot-image-classification", model=str(tiny_folder), device="cpu")
    spec = DimensionSpec("style", "single", labels=tuple(LABELS),
                         prompts=("This is a photo of {label}.",))
    ours = score_dimension(spec, clip.embed_images(images), clip.embed_texts, clip.logit_scale)
    theirs = classifier(images, candidate_labels=LABELS)  # default "This is a photo of {}."
    for mine, reference in zip(ours, theirs, strict=True):
        for entry in reference:
            assert mine["probs"][entry["label"]] == pytest.approx(entry["score"], abs=1e-5)
    spread = max(max(r["probs"].values()) - min(r["probs"].values()) for r in ours)
    assert spread > 1e-3  # the comparison means something: probabilities are not all equal


def test_image_and_text_embeddings_are_unit_float32_rows(clip, images):
    image_emb = clip.embed_images(images)
    text_emb = clip.embed_texts(["a baroque painting", "a cubist painting"])
    assert image_emb.shape == (3, clip.dim) and text_emb.shape == (2, clip.dim)
    assert image_emb.dtype == np.float32 and text_emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(image_emb, axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(text_emb, axis=1), 1, atol=1e-5)


def test_image_embeddings_do_not_depend_on_the_batch(clip, images):
    np.testing.assert_allclose(clip.embed_images(images, batch_size=1),
                               clip.embed_images(images, batch_size=32), atol=1e-5)


def test_text_embeddings_are_computed_once_per_text(clip):
    first = clip.embed_texts(["a painting of fog", "a painting of snow"])
    cached = clip._text_cache["a painting of fog"]
    again = clip.embed_texts(["a painting of snow", "a painting of fog", "a painting of fog"])
    assert clip._text_cache["a painting of fog"] is cached
    np.testing.assert_array_equal(again[1], first[0])
    np.testing.assert_array_equal(again[0], first[1])


def test_stand_in_is_loaded_once_per_process_and_says_so(clip, clip_cache):
    assert get_clip(STAND_IN_NAME, device="cpu", cache_dir=clip_cache) is clip
    assert clip.is_stand_in
    assert clip.revision.startswith("sha256:")
    assert clip.logit_scale == pytest.approx(1 / 0.07, rel=1e-3)  # CLIP's initial temperature
    assert str(clip.device) == "cpu" and str(clip.dtype) == "torch.float32"


def test_local_folder_loads_with_a_revision_from_its_files(tiny_folder, clip_cache, clip):
    loaded = load_clip(str(tiny_folder), device="cpu", cache_dir=clip_cache)
    assert loaded.is_stand_in  # the folder carries the stand-in marker
    assert loaded.revision == clip.revision


def test_unknown_hub_model_offline_is_unavailable_and_named(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    with pytest.raises(ModelUnavailable, match="nobody/no-such-clip") as raised:
        load_clip("nobody/no-such-clip", device="cpu", cache_dir=tmp_path)
    assert "CLIP_MODEL" in str(raised.value) and "HF_HOME" in str(raised.value)


def test_missing_local_folder_is_unavailable_and_named(tmp_path):
    missing = tmp_path / "no-such-folder"
    with pytest.raises(ModelUnavailable, match="no-such-folder"):
        load_clip(str(missing), device="cpu", cache_dir=tmp_path)


def test_at_most_max_loaded_models_stay_loaded_and_the_least_recently_used_goes_first(clip, clip_cache, tiny_folder,
                                                                                     tmp_path):
    a, b, c = (shutil.copytree(tiny_folder, tmp_path / name) for name in "abc")  # three checkpoints on disk
    forget_loaded()
    try:
        def load(folder):
            return get_clip(str(folder), device="cpu", cache_dir=clip_cache, max_loaded=2)

        first_a = load(a)
        load(b)
        assert load(a) is first_a  # used again: b is now the least recently used
        load(c)
        assert loaded_checkpoints() == [(str(a.resolve()), "cpu"), (str(c.resolve()), "cpu")]
        assert load(b) is not first_a and loaded_checkpoints() == [(str(c.resolve()), "cpu"), (str(b.resolve()), "cpu")]
        assert load(a) is not first_a  # it was dropped: loaded afresh
    finally:
        forget_loaded()
        keep_loaded(clip, cache_dir=clip_cache)  # the session's stand-in, for the tests after this one


def test_every_spelling_of_one_checkpoint_is_one_loaded_copy(clip, clip_cache, tmp_path):
    folder = clip_cache / "tiny-clip"
    (tmp_path / "linked").symlink_to(folder)
    spellings = [STAND_IN_NAME, str(folder), f"{folder}/", f"{folder}/../tiny-clip", str(tmp_path / "linked"),
                 os.path.relpath(folder)]
    assert all(get_clip(name, device="cpu", cache_dir=clip_cache) is clip for name in spellings)
    assert loaded_checkpoints().count((str(folder.resolve()), "cpu")) == 1
