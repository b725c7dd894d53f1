"""The model's scores on comparative dimensions (clipworker/comparative.py), through a real run of the tiny
stand-in CLIP: pairwise and best-worst from the dimension's prompts, a triplet's aspect from its labels."""
import numpy as np
import pytest

from annotations.studies import study_create
from clipworker.exports import predictions_rows
from clipworker.model import STAND_IN_NAME
from clipworker.models import Embedding, Prediction
from clipworker.runs import cliprun_start
from tests.annotations.crowd_cast import artworks_add

SPEC = {"title": "Compared", "dimensions": [
    {"key": "appeal", "kind": "pairwise", "question": "Which is more appealing?",
     "prompts": ["a beautiful painting", "a masterpiece"], "negative_prompts": ["an ugly painting"]},
    {"key": "odd", "kind": "triplet", "question": "Which is the odd one out?", "aspect": "style",
     "labels": ["baroque", "impressionism"], "prompts": ["a {label} painting"]},
    {"key": "plain", "kind": "triplet", "question": "Which is the odd one out?"},
]}


@pytest.fixture
def compared(db, settings, clip_cache):
    settings.VAR_DIR = clip_cache
    study = study_create(SPEC, "compared")
    artworks_add(study, 4)
    return study


def test_a_run_scores_comparative_dimensions_from_their_prompts(compared, clip):
    run = cliprun_start(compared, STAND_IN_NAME)
    assert run.status == "done"
    appeal = Prediction.objects.filter(dimension__key="appeal").order_by("artwork_id")
    assert appeal.count() == 4 and all(p.probs == {} and p.label == "" for p in appeal)
    images = {e.artwork_id: e.array() for e in Embedding.objects.all()}
    positive = clip.embed_texts(["a beautiful painting", "a masterpiece"]).astype(float).mean(axis=0)
    negative = clip.embed_texts(["an ugly painting"])[0].astype(float)
    for p in appeal:  # cos(x, mean of the prompts) - cos(x, the negative prompt)
        expected = images[p.artwork_id] @ (positive / np.linalg.norm(positive)) - images[p.artwork_id] @ negative
        assert p.expected == pytest.approx(float(expected), abs=1e-5)
    odd = Prediction.objects.filter(dimension__key="odd")
    assert odd.count() == 4 and all(set(p.probs) == {"baroque", "impressionism"} for p in odd)
    assert all(sum(p.probs.values()) == pytest.approx(1, abs=1e-5) for p in odd)
    assert not Prediction.objects.filter(dimension__key="plain").exists()  # judged by the embeddings' cosine
    exported = [row for row in predictions_rows(compared) if row[1] == "appeal"]
    assert len(exported) == 4 and all(row[8] is not None and row[9] == "" for row in exported)
