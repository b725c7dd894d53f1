"""The operator's list of models researchers may run (CLIP_MODELS) and the loaded-model bound, as settings."""
import os
import subprocess
import sys

import pytest

from config.settings import env_models
from tests.conftest import PROJECT_ROOT
from tests.test_settings import settings_in_subprocess

DEFAULT = {"artalign/tiny-clip": "artalign/tiny-clip"}


@pytest.mark.parametrize("raw, models", [
    ("", DEFAULT),
    ("L/14=/srv/models/clip-l, B/32=openai/clip-vit-base-patch32", {
        "L/14": "/srv/models/clip-l", "B/32": "openai/clip-vit-base-patch32"}),
    ("artalign/tiny-clip,openai/clip-vit-base-patch32", {  # a bare hub id is its own name
        "artalign/tiny-clip": "artalign/tiny-clip", "openai/clip-vit-base-patch32": "openai/clip-vit-base-patch32"}),
    ('{"ViT-L/14, 336px": "/srv/models/clip-l"}', {"ViT-L/14, 336px": "/srv/models/clip-l"}),
])
def test_the_model_list_is_read_from_pairs_or_json(monkeypatch, raw, models):
    monkeypatch.setenv("CLIP_MODELS", raw)
    assert env_models("CLIP_MODELS", DEFAULT) == models


@pytest.mark.parametrize("raw", ["a=x,a=y", "=x", "x=", '{"a": 1}', '{"a": "x"', '{"a": " "}', f"{'n' * 201}=x"])
def test_a_bad_model_list_fails_loudly_naming_the_variable(tmp_path, raw):
    result = settings_in_subprocess(VAR_DIR=str(tmp_path), DEBUG="1", CLIP_MODELS=raw)
    assert result.returncode != 0 and f"CLIP_MODELS={raw!r}: expected display name=hub id or folder" in result.stderr


def test_clip_model_is_always_offered_a_folder_under_its_own_name(tmp_path):
    code = "import config.settings as s; print(s.CLIP_MODELS)"
    env = {**os.environ, "VAR_DIR": str(tmp_path), "DEBUG": "1", "CLIP_MODELS": "tiny=artalign/tiny-clip",
           "CLIP_MODEL": "/srv/models/clip-l"}
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert result.stdout.strip() == str({"tiny": "artalign/tiny-clip", "clip-l": "/srv/models/clip-l"}), result.stderr


def test_at_least_one_model_stays_loaded(tmp_path):
    result = settings_in_subprocess(VAR_DIR=str(tmp_path), DEBUG="1", CLIP_MAX_LOADED_MODELS="0")
    assert result.returncode != 0 and "CLIP_MAX_LOADED_MODELS=0: expected 1 or more" in result.stderr
