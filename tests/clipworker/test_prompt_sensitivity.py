"""Prompt sensitivity (issue 16, item 4): a run keeps each prompt template's own answer beside the
ensemble; the report gives per dimension and model the figures per template and their spread."""
import io
import json

import numpy as np
import pytest
from django.core.management import call_command

from clipworker.model import STAND_IN_NAME
from clipworker.models import Prediction
from clipworker.prompt_variants import score_variants, template_variants
from clipworker.runs import cliprun_start
from clipworker.scoring import DimensionSpec
from tests.conftest import perception_study
from tests.factories import write_csv, write_image

PEOPLE = ["p1", "p2", "p3"]


def test_each_template_alone_is_a_softmax_over_its_own_label_embeddings():
    spec = DimensionSpec(key="style", kind="single", labels=("baroque", "cubism"),
                         prompts=("a {label} painting", "art in the {label} style"))
    variants = template_variants(spec)
    assert list(variants) == ["a {label} painting", "art in the {label} style"]
    rng = np.random.default_rng(0)
    texts = [t.format(label=label) for t in spec.prompts for label in spec.labels]
    lookup = {t: v / np.linalg.norm(v) for t, v in zip(texts, rng.standard_normal((4, 8)))}
    images = rng.standard_normal((3, 8))
    images /= np.linalg.norm(images, axis=1, keepdims=True)
    scored = score_variants([spec], images, lookup, 20.0)
    for template in spec.prompts:
        labels = np.stack([lookup[template.format(label=label)] for label in spec.labels])
        logits = 20.0 * images @ labels.T
        expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        got = np.array([[item["style"][template]["probs"][label] for label in spec.labels] for item in scored])
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_label_prompts_vary_together_and_uneven_ones_are_not_compared():
    spec = DimensionSpec(key="origin", kind="binary", labels=("human", "ai"),
                         label_prompts={"human": ["h1", "h2"], "ai": ["a1", "a2"]})
    assert {name: dict(v.label_prompts) for name, v in template_variants(spec).items()} == {
        "h1 / a1": {"human": ["h1"], "ai": ["a1"]}, "h2 / a2": {"human": ["h2"], "ai": ["a2"]}}
    uneven = DimensionSpec(key="origin", kind="binary", labels=("human", "ai"),
                           label_prompts={"human": ["h1", "h2"], "ai": ["a1"]})
    assert template_variants(uneven) == {}


@pytest.fixture(scope="module")
def sensitivity(module_db, tmp_path_factory, clip_cache):
    from django.test import override_settings

    folder = tmp_path_factory.mktemp("prompts")
    study = perception_study("prompt-sensitivity")
    images = folder / "images"
    rows = [{"id": f"a{i}", "file": write_image(images, f"img{i}.png", (30 * i, 200 - 20 * i, 90), (64, 64)).name}
            for i in range(8)]
    judgements = [{"participant": p, "artwork": f"a{i}", "dimension": "origin",
                   "value": "ai" if (i + j) % 3 else "human"} for i in range(8) for j, p in enumerate(PEOPLE)]
    quiet = {"stdout": io.StringIO(), "stderr": io.StringIO()}
    with override_settings(VAR_DIR=clip_cache, MEDIA_ROOT=folder / "media", CELERY_TASK_ALWAYS_EAGER=True):
        call_command("import_artworks", study.slug, "--manifest", str(write_csv(folder / "m.csv", rows)),
                     "--images", str(images), **quiet)
        call_command("import_judgements", study.slug, str(write_csv(folder / "j.csv", judgements)), **quiet)
        cliprun_start(study, STAND_IN_NAME)
        call_command("alignment_report", study.slug, "--format", "json", "--out", str(folder / "r.json"),
                     "--bootstrap", "50", **quiet)
    return study, json.loads((folder / "r.json").read_text())


def test_the_report_gives_each_templates_figures_and_their_spread(sensitivity, db):
    study, report = sensitivity
    origin = report["dimensions"]["origin"]
    section = origin["prompt_sensitivity"]["models"][STAND_IN_NAME]
    stored = {p.artwork.external_id: p for p in Prediction.objects.filter(dimension__key="origin",
                                                                           dimension__study=study)}
    templates = sorted(next(iter(stored.values())).by_template)
    assert section["n_templates"] == len(templates) == 2 and set(section["templates"]) == {"ensemble", *templates}
    votes = {f"a{i}": ["ai" if (i + j) % 3 else "human" for j in range(3)] for i in range(8)}
    majority = {a: max(set(v), key=v.count) for a, v in votes.items()}
    for template in templates:
        accuracy = np.mean([stored[a].by_template[template]["label"] == majority[a] for a in majority])
        assert section["templates"][template]["accuracy_vs_majority"]["value"] == pytest.approx(accuracy)
    assert section["templates"]["ensemble"]["accuracy_vs_majority"]["value"] == pytest.approx(
        origin["models"][STAND_IN_NAME]["vs_majority"]["accuracy"])
    values = [section["templates"][t]["accuracy_vs_majority"]["value"] for t in templates]
    assert section["spread"]["accuracy_vs_majority"] == pytest.approx(max(values) - min(values))


def test_the_report_says_how_the_runs_scores_became_probabilities(sensitivity, db):
    _, report = sensitivity
    scoring = report["dimensions"]["origin"]["models"][STAND_IN_NAME]["scoring"]
    assert scoring == {"family": "clip", "scores": "softmax", "normalisation": "softmax",
                       "how": "softmax over labels of s·cos"}
