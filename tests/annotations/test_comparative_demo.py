"""The demo's comparative part (annotations/comparative_demo.py, seed_demo): a second study on the same
images with simulated trial answers, open for a participant, reported with its comparative section."""
from alignment.reports import ReportOptions, report_build
from annotations.comparative import session_next_trial
from annotations.models import ComparativeJudgement, Study
from tests.annotations.crowd_cast import session_judging


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
