"""Reports built from the database: every section, reproducibility, exclusions, storage."""
import hashlib

import numpy as np
import pytest
from django.utils import timezone

from alignment import stats
from alignment.models import Report
from alignment.render_report import report_csv, report_html
from alignment.reports import NothingToReport, ReportOptions, report_build, report_create, report_json
from annotations.imports import judgements_import
from annotations.models import (
    Artwork,
    Assignment,
    AttentionCheck,
    ExpertLabel,
    Judgement,
    Participant,
    Session,
    Study,
)
from clipworker.models import Prediction
from tests.conftest import perception_study
from tests.factories import write_csv
from tests.researcher_cast import STAND_IN, judgement_rows, probs_around, stand_in_predictions, truths

FAST = ReportOptions(n_boot=200, min_stratum_items=6)
PEOPLE = [f"p{i:02d}" for i in range(1, 9)]


@pytest.fixture(scope="module")
def aligned(module_db, tmp_path_factory) -> int:
    """24 artworks (12 human, 12 AI from two generators), 8 people (two backgrounds) plus one flagged
    and one too-fast participant on every dimension, expert style labels, AI-Pastiche-like shares
    for origin, and a stand-in CLIP's zero-shot predictions (plus a probe for origin): built once for
    the module (module_db), each test's changes rolled back."""
    study = perception_study("reported")
    tmp_path = tmp_path_factory.mktemp("reports")
    rng = np.random.default_rng(7)
    truth = truths(study, 24, rng)
    Artwork.objects.bulk_create(
        Artwork(study=study, external_id=art, origin=t["origin"], style=t["style"], period=t["period"],
                generator="" if t["origin"] == "human" else f"gen-{'ab'[i % 4 // 2]}",
                metadata={"authenticity": round(float(rng.uniform(0.1, 0.9)), 2)} if t["origin"] == "ai" else {})
        for i, (art, t) in enumerate(truth.items()))
    judgements_import(study, write_csv(tmp_path / "judgements.csv", judgement_rows(study, truth, rng, PEOPLE)))
    for person in PEOPLE:
        Participant.objects.filter(study=study, external_id=person).update(
            expertise={"art_training": "yes" if person <= "p04" else "no"})
    Participant.objects.filter(study=study, external_id="flagged").update(
        excluded=True, exclusion_reason="failed consent check")
    style, origin = study.dimensions.get(key="style"), study.dimensions.get(key="origin")
    by_id = {a.external_id: a for a in study.artworks.all()}
    ExpertLabel.objects.bulk_create(ExpertLabel(artwork=by_id[a], dimension=style, value=t["style"])
                                    for a, t in truth.items())
    stand_in_predictions(study, truth, rng)
    probes = [(art, probs_around(["human", "ai"], t["origin"], rng, sharp=0.8)) for art, t in truth.items()]
    Prediction.objects.bulk_create(
        Prediction(artwork=by_id[art], dimension=origin, model_name=STAND_IN, revision="r1", method="probe",
                   probs=probs, label=max(probs, key=probs.get), prompts_hash="b" * 64) for art, probs in probes)
    return study.pk


@pytest.fixture
def aligned_study(aligned, db):
    return Study.objects.get(pk=aligned)


@pytest.fixture(scope="module")
def fast_report(aligned, module_db) -> dict:
    """The study's report with FAST options, built once for the tests that only read it."""
    return report_build(Study.objects.get(pk=aligned), FAST)


def _differences(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for key in a.keys() | b.keys():
            yield from _differences(a.get(key), b.get(key), f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            yield from _differences(x, y, f"{path}[{i}]")
    elif a != b:
        yield path


def test_report_of_a_study_with_judgements_and_predictions_shows_every_section(aligned_study, fast_report):
    report = fast_report
    assert set(report) == {"schema", "study", "options", "inputs", "exclusions", "attention_checks", "dimensions",
                           "comparative", "embedding_maps"}
    assert list(report["dimensions"]) == ["content", "scene", "style", "period", "deformation", "origin", "aesthetic"]
    for key, dim in report["dimensions"].items():
        alpha = dim["humans"]["alpha"]
        assert set(alpha) >= {"value", "ci", "level"} and alpha["level"] == dim["level"], key
        assert alpha["ci"][0] <= alpha["value"] <= alpha["ci"][1], key
        model = dim["models"][STAND_IN]
        assert model["is_stand_in"] is True and model["prompts_hash"] == "a" * 64
        assert (model["model_name"], model["revision"], model["method"]) == (STAND_IN, "r1", "zero-shot")
        assert model["as_annotator"]["with"]["value"] is not None and model["human_ceiling"]["percentile"] is not None
        assert dim["strata"]["origin"]["ai"]["humans"]["alpha"]["value"] is not None
        assert STAND_IN in dim["strata"]["expertise.art_training"]["yes"]["models"]
    style = report["dimensions"]["style"]
    assert style["humans"]["fleiss_kappa"]["value"] is not None  # 8 judges on every artwork after exclusions
    assert style["humans"]["pairwise_cohen_kappa"] > 0 and len(style["humans"]["leave_one_out"]["participants"]) == 8
    vs = style["models"][STAND_IN]["vs_majority"]
    assert vs["confusion"]["labels"] == style["labels"] and np.sum(vs["confusion"]["matrix"]) == vs["n"] == 24
    assert {"accuracy", "macro_f1", "cohen_kappa"} <= set(vs)
    assert style["experts"]["sources"] == {"expert_labels": 24} and style["experts"]["humans"]["accuracy"] > 0.8
    assert style["models"][STAND_IN]["vs_experts"]["n"] == 24
    top = style["models"][STAND_IN]["divergence"]["top"]
    assert top[0]["artwork"].startswith("art") and top[0]["value"] >= top[-1]["value"]
    origin = report["dimensions"]["origin"]
    assert origin["positive_label"] == "ai" and origin["experts"]["sources"] == {"artwork.origin": 24}
    assert {"hit_rate", "false_alarm_rate", "d_prime", "auc"} <= set(origin["humans"]["signal_detection"])
    assert origin["models"][STAND_IN]["signal_detection"]["auc"] > 0.5
    assert origin["models"][f"{STAND_IN} (probe)"]["method"] == "probe"
    assert origin["models"][STAND_IN]["vs_human_mean"]["spearman"]["ci"][0] is not None
    shares = origin["shares"]
    assert shares["field"] == "authenticity" and shares["n_artworks"] == 12
    assert "cannot be computed" in shares["note"]
    assert set(shares["models"][STAND_IN]["strata"]["generator"]) == {"gen-a", "gen-b"}
    aesthetic = report["dimensions"]["aesthetic"]
    assert aesthetic["models"][STAND_IN]["vs_majority"] is None
    human_mean = aesthetic["models"][STAND_IN]["vs_human_mean"]
    assert human_mean["human_split_half"] == aesthetic["humans"]["split_half"]["value"]
    content = report["dimensions"]["content"]
    assert set(content["humans"]["tags"]) == set(aligned_study.dimensions.get(key="content").labels)
    assert content["humans"]["alpha"]["of"] == "mean over tags"
    assert set(content["models"][STAND_IN]["tags"]) == set(content["humans"]["tags"])


def test_multi_label_alpha_is_the_mean_of_the_tags_alphas(fast_report):
    content = fast_report["dimensions"]["content"]["humans"]
    tags = [t["alpha"]["value"] for t in content["tags"].values() if t["alpha"]["value"] is not None]
    assert content["alpha"]["value"] == pytest.approx(np.mean(tags))
    assert content["alpha"]["ci"][0] < content["alpha"]["value"] < content["alpha"]["ci"][1]


def test_rerunning_with_the_same_seed_gives_identical_json(aligned_study, fast_report):
    assert report_json(report_build(aligned_study, FAST)) == report_json(fast_report)


def test_another_seed_changes_only_interval_bounds(aligned_study, fast_report):
    first = fast_report
    second = report_build(aligned_study, ReportOptions(seed=99, n_boot=200, min_stratum_items=6))
    changed = list(_differences(first, second))
    assert changed and all(p.endswith((".ci[0]", ".ci[1]")) or p in (".options.seed", ".inputs.seed") for p in changed)
    assert any(".ci[" in p for p in changed)


def test_excluded_and_too_fast_participants_are_listed_and_their_judgements_do_not_count(aligned_study,
                                                                                       fast_report):
    report = fast_report
    listed = {p["participant"]: p for p in report["exclusions"]["participants"]}
    assert set(listed) == {"flagged", "speedy"}
    assert listed["flagged"]["rules"] == ["flagged"] and listed["flagged"]["reasons"] == ["failed consent check"]
    assert listed["speedy"]["rules"] == ["too_fast"] and listed["speedy"]["median_response_ms"] == 150
    judgements = report["inputs"]["judgements"]
    assert judgements["used"] == judgements["count"] - report["exclusions"]["n_judgements"]
    style = aligned_study.dimensions.get(key="style")
    people = sorted(PEOPLE)
    arts = sorted(aligned_study.artworks.values_list("external_id", flat=True))
    data = np.full((len(people), len(arts)), np.nan)
    for p, a, v in Judgement.objects.filter(dimension=style, participant__external_id__in=people).values_list(
            "participant__external_id", "artwork__external_id", "value"):
        data[people.index(p), arts.index(a)] = style.labels.index(v)
    assert report["dimensions"]["style"]["humans"]["n_participants"] == 8
    assert report["dimensions"]["style"]["humans"]["alpha"]["value"] == pytest.approx(stats.alpha(data, "nominal"))


def test_the_too_fast_rule_can_be_turned_off(aligned_study):
    report = report_build(aligned_study, ReportOptions(n_boot=50, exclude_fast_ms=0, min_stratum_items=6))
    assert [p["participant"] for p in report["exclusions"]["participants"]] == ["flagged"]
    assert report["exclusions"]["rules"]["too_fast"] is None
    assert report["dimensions"]["style"]["humans"]["n_participants"] == 9


def test_a_rule_that_excludes_everyone_gives_a_report_without_figures_not_an_error(aligned_study):
    report = report_build(aligned_study, ReportOptions(n_boot=20, exclude_fast_ms=10**9, min_stratum_items=6))
    assert len(report["exclusions"]["participants"]) == len(PEOPLE) + 2
    content = report["dimensions"]["content"]
    assert content["humans"]["n_judgements"] == 0
    assert content["models"][STAND_IN]["as_annotator"] is None


def test_failed_attention_checks_are_counted_and_can_exclude(aligned_study):
    style = aligned_study.dimensions.get(key="style")
    art = aligned_study.artworks.get(external_id="art-000")
    now = timezone.now()
    for person, answer in (("p01", "baroque"), ("p02", "cubism")):
        participant = Participant.objects.get(study=aligned_study, external_id=person)
        session = Session.objects.create(study=aligned_study, participant=participant, seed=1)
        assignment = Assignment.objects.create(session=session, artwork=art, position=0, is_attention_check=True,
                                               status="done", completed_at=now)
        AttentionCheck.objects.create(assignment=assignment, participant=participant, dimension=style, kind="gold",
                                      expected="baroque", answer=answer, passed=answer == "baroque", answered_at=now)
    report = report_build(aligned_study, ReportOptions(n_boot=50, min_attention_pass=1.0, min_stratum_items=6))
    assert report["attention_checks"] == {
        "n_checks": 2, "n_passed": 1, "pass_rate": 0.5, "n_participants_checked": 2, "n_participants_failing_any": 1,
        "by_kind": {"gold": {"n_checks": 2, "n_passed": 1}}}
    p02 = next(p for p in report["exclusions"]["participants"] if p["participant"] == "p02")
    assert p02["rules"] == ["attention"] and p02["attention_pass_rate"] == 0
    assert report["dimensions"]["style"]["humans"]["n_participants"] == 7


def test_the_report_records_its_inputs(aligned_study, fast_report):
    inputs = fast_report["inputs"]
    assert inputs["judgements"]["count"] == Judgement.objects.filter(dimension__study=aligned_study).count()
    assert len(inputs["judgements"]["sha256"]) == 64 and (inputs["seed"], inputs["n_boot"]) == (0, 200)
    assert {m["key"] for m in inputs["models"]} == {STAND_IN, f"{STAND_IN} (probe)"}
    probe = next(m for m in inputs["models"] if m["method"] == "probe")
    assert probe["is_stand_in"] is True and probe["prompts_hash"] == "b" * 64  # its run is found by model and revision
    assert {"numpy", "scipy", "scikit-learn", "krippendorff"} <= set(inputs["versions"])


def test_a_changed_judgement_changes_the_judgement_hash(aligned_study):
    before = report_build(aligned_study, ReportOptions(n_boot=20))["inputs"]["judgements"]["sha256"]
    Judgement.objects.filter(participant__external_id="p01", artwork__external_id="art-000",
                             dimension__key="style").update(value="cubism", created_at=timezone.now())
    assert report_build(aligned_study, ReportOptions(n_boot=20))["inputs"]["judgements"]["sha256"] != before


def test_the_report_is_stored_with_its_json_and_inputs(aligned_study, fast_report):
    report = report_create(aligned_study, FAST)
    stored = Report.objects.get(pk=report.pk)
    assert stored.study == aligned_study and (stored.seed, stored.n_boot) == (0, 200)
    assert stored.content_json == report_json(fast_report)
    assert stored.content_sha256 == hashlib.sha256(stored.content_json.encode("utf-8")).hexdigest()
    assert stored.inputs == stored.content["inputs"] and list(stored.content)[0] == "schema"
    assert "created_at" not in stored.content_json


def test_json_never_contains_nan(aligned_study):
    Prediction.objects.filter(dimension__key="scene").delete()  # a dimension with undefined model figures
    text = report_json(report_build(aligned_study, ReportOptions(n_boot=20)))
    assert "NaN" not in text and "Infinity" not in text


def test_a_study_without_judgements_or_shares_has_nothing_to_report(study):
    with pytest.raises(NothingToReport, match="no judgements and no aggregated human shares"):
        report_build(study)


def test_csv_and_html_of_a_full_report_show_models_shares_and_strata(fast_report):
    content = fast_report
    rows = [line.split(",") for line in report_csv(content).splitlines()[1:]]
    sections = {(row[0], row[1]) for row in rows}
    assert {("style", "humans"), ("style", "models"), ("style", "strata"), ("origin", "shares")} <= sections
    persons_alpha = next(r[:5] for r in rows if r[4] == "tags.persons.alpha")
    assert persons_alpha == ["content", "humans", "", "", "tags.persons.alpha"]
    assert any(r[1:4] == ["shares", STAND_IN, "generator=gen-a"] and r[4] == "spearman" for r in rows)
    html = report_html(content)
    assert STAND_IN in html and "authenticity" in html and "generator = gen-a" in html and "cannot be computed" in html
    assert "http" not in html and "<script" not in html


def test_a_models_figures_in_a_stratum_have_the_overall_names_and_definitions(aligned_study):
    """A stratum holding every artwork gives a model the overall figures it shares with the report's
    `models.<name>`: the same keys, the same numbers (one definition per figure)."""
    from alignment.coding import dimension_arrays
    from alignment.loader import study_rows
    from alignment.report_figures import leave_one_out, model_figures
    from alignment.report_strata import stratum_figures

    rows = study_rows(aligned_study)
    for key in ("style", "origin", "aesthetic"):
        sub = dimension_arrays(aligned_study.dimensions.get(key=key), rows).subs[0]
        overall = model_figures(sub, sub.models[0], leave_one_out(sub), n_boot=50, seed=3, split_half=None)
        in_stratum = stratum_figures([sub.sub(units=np.ones(len(sub.units), bool))], n_boot=50, seed=3)
        figures = in_stratum["models"][sub.models[0].key]
        assert set(figures) == {"n_artworks", "vs_majority", "vs_human_mean", "vs_experts"} <= set(overall)
        assert figures["n_artworks"] == overall["n_artworks"]
        assert figures["vs_experts"] == overall["vs_experts"]
        if key == "aesthetic":  # a rating: no majority label
            assert figures["vs_majority"] is None is overall["vs_majority"]
        else:
            assert figures["vs_majority"] == {k: v for k, v in overall["vs_majority"].items() if k != "confusion"}
        if overall["vs_human_mean"] is not None:
            assert figures["vs_human_mean"] == {k: v for k, v in overall["vs_human_mean"].items()
                                                if k != "human_split_half"}
        assert any(figures[k] is not None for k in ("vs_majority", "vs_human_mean"))
