"""Blinding: nothing an annotator can reach shows CLIP's predictions, expert labels, an artwork's
metadata or other people's judgements."""
import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from annotations.crowd import session_next_assignment
from annotations.models import Artwork, Assignment, ExpertLabel, Judgement, Participant
from clipworker.models import Prediction
from tests.annotations.crowd_cast import session_judging, study_open

SECRETS = ("Hidden Master", "The Secret Supper", "secret-generator", "secret prompt words", "curators-secret-source",
           "secret-clip-model", "0.9731", "art-00", ".png")


@pytest.fixture
def annotator(client, study):
    study_open(study, artworks=4, items_per_session=2, attention_check_rate=0)
    Artwork.objects.filter(study=study).update(artist="Hidden Master", title="The Secret Supper", style="baroque",
                                               generator="secret-generator", prompt="secret prompt words",
                                               metadata={"note": "curators-secret-source"})
    client.get(reverse("annotations:session_entry", args=[study.slug]), {"participant": "annotator"})
    session = session_judging(study, "annotator")
    return client, session, session_next_assignment(session)


def reveal_everything(study, artwork) -> None:
    """Expert labels, CLIP's predictions and another person's judgements for the artwork on screen."""
    style = study.dimensions.get(key="style")
    ExpertLabel.objects.create(artwork=artwork, dimension=style, value="rococo", source="curators-secret-source",
                               is_gold=False)
    Prediction.objects.create(artwork=artwork, dimension=style, model_name="secret-clip-model",
                              probs={"rococo": 0.9731}, label="rococo", prompts_hash="h")
    other = Participant.objects.create(study=study, external_id="other-person")
    Judgement.objects.create(participant=other, artwork=artwork, dimension=style, value="rococo",
                             created_at=datetime(2026, 1, 1, tzinfo=UTC))


def without_tokens(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_the_judging_page_is_the_same_whatever_experts_clip_and_others_said(annotator):
    client, session, assignment = annotator
    entry = reverse("annotations:session_entry", args=[session.study.slug])
    before = without_tokens(client.get(entry).content.decode())
    reveal_everything(session.study, assignment.artwork)
    after = without_tokens(client.get(entry).content.decode())
    assert after == before
    for secret in SECRETS:
        assert secret not in after


def test_every_annotator_page_and_fragment_leaves_out_metadata_and_predictions(annotator):
    client, session, assignment = annotator
    reveal_everything(session.study, assignment.artwork)
    slug = session.study.slug
    pages = [client.get(reverse("annotations:session_entry", args=[slug])).content.decode()]
    data = {"artwork": assignment.artwork_id, "d-scene": "landscape", "d-style": "baroque", "d-period": "XV century",
            "d-deformation": "no", "d-origin": "human", "d-aesthetic": "4"}
    pages.append(client.post(reverse("annotations:session_judge", args=[slug]), data,
                             HTTP_X_REQUESTED_WITH="fetch").content.decode())
    assert pages[1].startswith('<section class="item"')
    for page in pages:
        for secret in SECRETS:
            assert secret not in page


def test_the_image_is_reached_under_the_assignment_not_the_file_name(annotator):
    client, session, assignment = annotator
    page = client.get(reverse("annotations:session_entry", args=[session.study.slug])).content.decode()
    assert assignment.artwork.image.url not in page
    assert f'src="/s/{session.study.slug}/image/{assignment.pk}/"' in page


def test_ids_of_other_sessions_artworks_and_images_are_answered_like_ids_that_do_not_exist(annotator):
    """No enumeration: another participant's image, or an artwork of the study not on one's own list, gets
    the same refusal as a made-up id, so trying ids tells an annotator nothing."""
    client, session, _ = annotator
    study = session.study
    theirs = session_next_assignment(session_judging(study, "someone-else"))
    not_mine = Artwork.objects.filter(study=study).exclude(assignments__session=session).first()
    unknown = Assignment.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000
    image = [client.get(reverse("annotations:session_image", args=[study.slug, pk])) for pk in (theirs.pk, unknown)]
    assert [r.status_code for r in image] == [404, 404] and image[0].content == image[1].content
    judge = reverse("annotations:session_judge", args=[study.slug])
    refusals = [client.post(judge, {"artwork": str(pk), "d-style": "baroque"}, HTTP_X_REQUESTED_WITH="fetch")
                for pk in (not_mine.pk, Artwork.objects.order_by("-pk").first().pk + 1000)]
    assert [r.status_code for r in refusals] == [409, 409]
    assert without_tokens(refusals[0].content.decode()) == without_tokens(refusals[1].content.decode())
    assert not Judgement.objects.exists()
