"""Builders for the researcher-side tests (pages, API, exports, browser): a study with images,
simulated people's judgements (one too fast, one flagged), and a stand-in model's predictions."""
from pathlib import Path

import numpy as np
from django.core.files.base import ContentFile
from django.test import override_settings
from rest_framework.test import APIClient

from annotations.imports import judgements_import
from annotations.models import Artwork, Participant, Study, StudyMember
from clipworker.models import ClipRun, Prediction
from tests.factories import image_bytes, write_csv

STAND_IN = "artalign/tiny-clip"
PEOPLE = [f"person-{i}" for i in range(1, 7)]
STYLES = ["baroque", "impressionism", "cubism"]


def probs_around(labels: list[str], truth: str, rng, sharp: float = 0.6) -> dict:
    """A model's p per label: `sharp` on the truth most of the time (else on a random label), the rest spread."""
    p = (1 - sharp) * rng.dirichlet(np.ones(len(labels)))
    hit = truth if rng.random() < 0.7 else labels[int(rng.integers(len(labels)))]
    p[labels.index(hit)] += sharp
    return {label: float(x) for label, x in zip(labels, p)}


def truths(study: Study, n: int, rng) -> dict[str, dict]:
    dims = {d.key: d for d in study.dimensions.all()}
    out = {}
    for i in range(n):
        origin = "human" if i % 2 == 0 else "ai"
        out[f"art-{i:03d}"] = {
            "content": [t for t in dims["content"].labels[:4] if rng.random() < 0.4],
            "scene": dims["scene"].labels[i % 4], "style": STYLES[i % 3], "period": dims["period"].labels[i % 6],
            "deformation": "yes" if origin == "ai" and i % 3 else "no", "origin": origin,
            "aesthetic": int(rng.integers(2, 7)),
        }
    return out


def artworks_with_images(study: Study, n: int = 12) -> list[Artwork]:
    made = []
    for i in range(n):
        origin = "human" if i % 2 == 0 else "ai"
        artwork = Artwork(study=study, external_id=f"art-{i:03d}", title=f"Painting {i}", origin=origin,
                          style=STYLES[i % 3], generator="" if origin == "human" else "gen-a",
                          metadata={"authenticity": round(0.1 + 0.07 * i, 2)} if origin == "ai" else {})
        artwork.image.save(f"art-{i:03d}.png", ContentFile(image_bytes((i * 19 % 255, 40 + i * 9, 160), (80, 60))),
                           save=False)
        artwork.save()
        made.append(artwork)
    return made


def judgement_rows(study: Study, truth: dict, rng, people=PEOPLE) -> list[dict]:
    dims = {d.key: d for d in study.dimensions.all()}
    rows = []
    for person in [*people, "speedy", "flagged"]:
        for art, answers in truth.items():
            for key, right in answers.items():
                dim = dims[key]
                if key == "aesthetic":
                    value = int(np.clip(right + rng.integers(-1, 2), 1, 7))
                elif key == "content":
                    value = ";".join(t for t in dim.labels[:4] if (t in right) != (rng.random() < 0.15))
                else:
                    value = right if rng.random() < 0.8 else dim.labels[int(rng.integers(len(dim.labels)))]
                ms = 150 if person == "speedy" else int(rng.integers(1500, 6000))
                rows.append({"participant": person, "artwork": art, "dimension": key, "value": value,
                             "response_ms": ms})
    return rows


def stand_in_predictions(study: Study, truth: dict, rng) -> ClipRun:
    dims = {d.key: d for d in study.dimensions.all()}
    by_id = {a.external_id: a for a in study.artworks.all()}
    run = ClipRun.objects.create(study=study, model_name=STAND_IN, revision="r1", is_stand_in=True, status="done",
                                 total=len(truth), done=len(truth))
    predictions = []
    for art, answers in truth.items():
        for key, right in answers.items():
            dim = dims[key]
            if key == "content":
                probs = {t: float(np.clip((0.7 if t in right else 0.3) + rng.normal(0, 0.2), 0.01, 0.99))
                         for t in dim.labels}
                label, expected = [t for t in dim.labels if probs[t] >= 0.5], None
            elif key == "aesthetic":
                probs = probs_around([str(v) for v in range(1, 8)], str(right), rng)
                expected = sum(int(k) * p for k, p in probs.items())
                label = max(probs, key=probs.get)
            else:
                probs = probs_around(dim.labels, right, rng)
                label, expected = max(probs, key=probs.get), None
            predictions.append(Prediction(run=run, artwork=by_id[art], dimension=dim, model_name=STAND_IN,
                                          revision="r1", probs=probs, label=label, expected=expected,
                                          prompts_hash="a" * 64))
    Prediction.objects.bulk_create(predictions)
    return run


def aligned_study(study: Study, tmp_path, *, n: int = 12, seed: int = 5, predictions: bool = True) -> Study:
    """`study` with n artworks (images), 6 people + one too-fast + one flagged on every dimension,
    background answers for two expertise groups, and a stand-in model's predictions."""
    rng = np.random.default_rng(seed)
    artworks_with_images(study, n)
    truth = truths(study, n, rng)
    judgements_import(study, write_csv(tmp_path / "judgements.csv", judgement_rows(study, truth, rng)))
    for i, person in enumerate(PEOPLE):
        Participant.objects.filter(study=study, external_id=person).update(
            expertise={"art_training": "yes" if i < 3 else "no"})
    Participant.objects.filter(study=study, external_id="flagged").update(
        excluded=True, exclusion_reason="failed 2 attention checks")
    if predictions:
        stand_in_predictions(study, truth, rng)
    return study


def viewer_of(study: Study, user) -> StudyMember:
    return StudyMember.objects.create(study=study, user=user, role=StudyMember.Role.VIEWER)


def api_clients(study: Study, **users) -> dict:
    """An API client per role: each of `users` (name=user) logged in, `anonymous`, and `annotator`,
    a crowd participant's browser that entered the study through its link (a session, never a login)."""
    clients = {}
    for name, user in users.items():
        clients[name] = APIClient()
        clients[name].force_authenticate(user)
    clients["anonymous"] = APIClient()
    annotator = APIClient()
    page = annotator.get(f"/s/{study.slug}/?participant=crowd-1")
    assert page.status_code == 200 and Participant.objects.filter(study=study, external_id="crowd-1").exists()
    clients["annotator"] = annotator
    return clients


def reported_study_build(folder: Path, options) -> Path:
    """The template study with its owner, judged and predicted (`aligned_study`) and reported with
    `options`, its files under `folder`; returns its MEDIA_ROOT. For module fixtures (module_db)."""
    from alignment.reports import report_create
    from tests.conftest import perception_study, researcher

    with override_settings(MEDIA_ROOT=folder / "media"):
        study = perception_study()
        study.owner = researcher("owner")
        study.save()
        aligned_study(study, folder)
        report_create(study, options)
    return folder / "media"
