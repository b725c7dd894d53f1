from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction

from annotations.models import Artwork, Dimension, Judgement, Participant, Study

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def judged(study):
    artwork = Artwork.objects.create(study=study, external_id="a1")
    participant = Participant.objects.create(study=study, external_id="p1")
    dimension = study.dimensions.get(key="style")
    Judgement.objects.create(participant=participant, artwork=artwork, dimension=dimension, value="baroque",
                             created_at=NOW)
    return participant, artwork, dimension


def test_second_judgement_for_same_participant_artwork_dimension_is_refused_by_the_database(judged):
    participant, artwork, dimension = judged
    with pytest.raises(IntegrityError), transaction.atomic():
        Judgement.objects.create(participant=participant, artwork=artwork, dimension=dimension, value="rococo",
                                 created_at=NOW)
    assert Judgement.objects.filter(participant=participant).count() == 1


def test_same_participant_may_judge_another_dimension_of_the_same_artwork(judged):
    participant, artwork, _ = judged
    period = artwork.study.dimensions.get(key="period")
    Judgement.objects.create(participant=participant, artwork=artwork, dimension=period, value="XV century",
                             created_at=NOW)
    assert Judgement.objects.filter(participant=participant).count() == 2


def test_attention_check_rate_above_one_is_refused_by_the_database(db):
    with pytest.raises(IntegrityError):
        Study.objects.create(slug="s", title="s", attention_check_rate=1.5)


def test_rating_dimension_without_a_scale_is_refused_by_the_database(study):
    with pytest.raises(IntegrityError):
        Dimension.objects.create(study=study, key="beauty", question="?", kind="rating", level="interval")


def test_same_image_twice_in_a_study_is_refused_by_the_database(study):
    Artwork.objects.create(study=study, external_id="a", sha256="f" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        Artwork.objects.create(study=study, external_id="b", sha256="f" * 64)
    Artwork.objects.create(study=study, external_id="c")  # no image: no sha256, no clash
    Artwork.objects.create(study=study, external_id="d")


def test_unknown_origin_is_refused_by_the_database(study):
    with pytest.raises(IntegrityError):
        Artwork.objects.create(study=study, external_id="a", origin="alien")


def test_artwork_id_is_unique_within_a_study_only(study):
    other = Study.objects.create(slug="other", title="other")
    Artwork.objects.create(study=study, external_id="same")
    Artwork.objects.create(study=other, external_id="same")
    with pytest.raises(IntegrityError):
        Artwork.objects.create(study=study, external_id="same")
