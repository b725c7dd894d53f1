"""Progress: judgements against the target, people per artwork, and who is likely to be excluded."""
import pytest
from django.urls import reverse
from django.utils import timezone

from annotations.imports import judgements_import
from annotations.models import Assignment, AttentionCheck, Participant, Session, Study
from annotations.progress import participants_progress, study_progress
from tests.factories import write_csv
from tests.researcher_cast import PEOPLE, aligned_study


@pytest.fixture
def judged(study, owner, tmp_path):
    Study.objects.filter(pk=study.pk).update(owner=owner, target_judgements_per_item=5, status="open")
    study.refresh_from_db()
    return aligned_study(study, tmp_path, n=6, predictions=False)


def test_progress_counts_people_per_artwork_against_the_target(judged):
    progress = study_progress(judged)
    people = len(PEOPLE) + 2
    assert progress["n_artworks"] == 6 and progress["target_per_artwork"] == 5
    assert progress["judgements"] == 6 * 7 * people
    assert progress["judgements_target"] == 6 * 5 * 7
    assert progress["artwork_judges"] == 6 * 5 and progress["percent"] == 100.0
    assert progress["artworks_at_target"] == 6
    assert {d["key"]: d["judgements"] for d in progress["dimensions"]}["style"] == 6 * people
    assert progress["histogram"][people] == {"judges": people, "artworks": 6}
    assert sum(b["artworks"] for b in progress["histogram"]) == 6


def test_the_too_fast_and_the_flagged_are_excluded_and_a_failed_check_is_a_warning(judged):
    speedy = Participant.objects.get(study=judged, external_id="speedy")
    session = Session.objects.create(study=judged, participant=speedy, seed=1, phase="judging")
    now = timezone.now()
    assignment = Assignment.objects.create(session=session, artwork=judged.artworks.first(), position=99,
                                           status="done", completed_at=now, is_attention_check=True)
    AttentionCheck.objects.create(assignment=assignment, participant=speedy,
                                  dimension=judged.dimensions.get(key="origin"), kind="instructed",
                                  expected="ai", answer="human", passed=False, answered_at=now)
    rows = {r["participant"]: r for r in participants_progress(judged)}
    assert rows["speedy"]["excluded"] and rows["speedy"]["median_response_ms"] == 150
    assert rows["speedy"]["exclusion_rules"] == ["too_fast"]
    assert rows["speedy"]["exclusion_reasons"] == ["median response time 150 ms is below 500 ms"]
    # The study's rules have no attention pass rate: a failed check is a warning, not an exclusion.
    assert rows["speedy"]["warnings"] == ["failed 1 of 1 attention checks"]
    assert rows["speedy"]["likely_exclusion"] and rows["speedy"]["reasons"] == [
        "median response time 150 ms is below 500 ms", "failed 1 of 1 attention checks"]
    assert rows["speedy"]["phase"] == "judging" and rows["speedy"]["attention_passed"] == 0
    assert rows["flagged"]["excluded"] and rows["flagged"]["exclusion_rules"] == ["flagged"]
    assert rows["flagged"]["reasons"] == ["failed 2 attention checks"]
    careful = rows[PEOPLE[0]]
    assert not careful["excluded"] and not careful["likely_exclusion"]
    assert careful["judgements"] == 6 * 7 and careful["artworks"] == 6
    assert 0.5 < careful["agreement"] <= 1 and careful["agreement_n"] == 6 * 7
    assert careful["phase"] == "imported"


def test_the_progress_page_polls_a_json_endpoint_while_the_study_is_open(client, owner, judged):
    client.force_login(owner)
    page = client.get(reverse("annotations:study_progress", args=[judged.slug])).content.decode()
    assert 'data-poll="/studies/perception/progress.json"' in page and 'data-active="true"' in page
    assert "<svg" in page and "speedy" in page
    data = client.get(reverse("annotations:study_progress_json", args=[judged.slug])).json()
    assert data["active"] is True and data["progress"]["n_artworks"] == 6
    assert "<svg" in data["html"] and len(data["participants"]) == len(PEOPLE) + 2
    Study.objects.filter(pk=judged.pk).update(status="closed")
    assert client.get(reverse("annotations:study_progress_json", args=[judged.slug])).json()["active"] is False


@pytest.mark.parametrize("others, rating, agrees", [
    ([3, 3, 3, 3], 4, True),   # one scale point above the others' mean: within the tolerance
    ([3, 3, 3, 3], 2, True),   # one below
    ([3, 3, 3, 4], 4, True),   # 0.75 above
    ([3, 3, 3, 4], 2, False),  # 1.25 below: just outside
    ([2, 3, 3, 3], 4, False),  # 1.25 above
])
def test_a_rating_agrees_when_within_one_scale_point_of_the_others_mean(study, tmp_path, others, rating, agrees):
    rows = [{"participant": f"other-{i}", "artwork": "art-000", "dimension": "aesthetic", "value": value}
            for i, value in enumerate(others)]
    rows.append({"participant": "rater", "artwork": "art-000", "dimension": "aesthetic", "value": rating})
    judgements_import(study, write_csv(tmp_path / "judgements.csv", rows), create_artworks=True)
    rater = {r["participant"]: r for r in participants_progress(study)}["rater"]
    assert rater["agreement_n"] == 1
    assert rater["agreement"] == (1.0 if agrees else 0.0)
