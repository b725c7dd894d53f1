import json
import re

from django.core.management import call_command
from PIL import Image

from alignment.models import Report
from alignment.reports import ReportOptions, report_build
from annotations.comparative import session_next_trial
from annotations.models import ComparativeJudgement, ExpertLabel, Judgement, Study
from clipworker.models import Prediction
from tests.annotations.crowd_cast import session_judging


def test_the_demo_set_is_synthetic_labelled_and_has_deformed_variants(demo_study):
    artworks = list(demo_study.artworks.all())
    assert len(artworks) == 24
    assert all(a.metadata["synthetic"] == "yes" and "not a real painting" in a.source for a in artworks)
    deformed = [a for a in artworks if "deformed" in a.title]
    assert len(deformed) == 8 and all(a.origin == "ai" for a in deformed)
    assert ExpertLabel.objects.filter(dimension__key="deformation", value="yes").count() == 8


def test_the_demo_images_differ_in_look(demo_study):
    means = {}
    for artwork in demo_study.artworks.exclude(title__contains="deformed"):
        look = artwork.external_id.split("_")[1]
        with Image.open(artwork.image.path) as image:
            means.setdefault(look, []).append(image.convert("L").resize((1, 1)).getpixel((0, 0)))
    assert len(means) == 4
    assert max(sum(v) / len(v) for v in means.values()) - min(sum(v) / len(v) for v in means.values()) > 40


def test_simulated_judgements_cover_every_artwork_and_are_marked_simulated(demo_study):
    assert Judgement.objects.filter(artwork__study=demo_study).values("artwork").distinct().count() == 24
    participants = set(demo_study.participants.values_list("external_id", flat=True))
    assert participants == {f"simulated-{i:02d}" for i in range(1, 9)}


def test_the_whole_demo_job_runs_the_stand_in_clip_and_writes_a_report(db, settings, tmp_path, clip_cache, capsys):
    settings.VAR_DIR = clip_cache  # where the stand-in model is built once per test session
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", "--slug", "full-demo")
    out = capsys.readouterr().out
    assert re.search(r"run \d+ done: 24 scored, 0 failed of 24", out) and "stand-in CLIP" in out
    assert Prediction.objects.filter(artwork__study__slug="full-demo").count() == 24 * 7
    report = Report.objects.get(study__slug="full-demo")
    assert json.loads(report.content_json)["dimensions"]["style"]["models"]["artalign/tiny-clip"]["is_stand_in"]
    assert "Alignment report" in (clip_cache / "full-demo-report.html").read_text()


# The demo's comparative part (issue 18): a second study on the same images, simulated trial answers.
def test_the_demo_has_a_comparative_study_with_answers_and_a_report(demo_seeded, db):
    study = Study.objects.get(slug="demo-compare")
    assert study.status == Study.Status.OPEN and study.owner is not None
    assert study.artworks.count() == Study.objects.get(slug="demo").artworks.count()
    answers = ComparativeJudgement.objects.filter(trial__dimension__study=study)
    assert answers.filter(trial__dimension__key="appeal").count() == 70  # 6 trials and a repeat each
    assert answers.filter(repeat=1).count() == 10
    assert answers.filter(trial__dimension__key="odd").count() == 40
    report = report_build(study, ReportOptions(n_boot=50))
    appeal = report["comparative"]["appeal"]
    scores = {s["artwork"]: s["theta"] for s in appeal["humans"]["scores"]}
    deformed = [v for k, v in scores.items() if "deformed" in k]
    plain = [v for k, v in scores.items() if "deformed" not in k]
    assert sum(plain) / len(plain) > sum(deformed) / len(deformed)  # the simulated people's preference
    assert report["comparative"]["odd"]["humans"]["noise_ceiling"]["value"] > 0.5
    item = session_next_trial(session_judging(study, "demo-visitor"))
    assert item is not None and len(item.assignment.order) in (2, 3)
